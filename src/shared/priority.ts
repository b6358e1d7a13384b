/**
 * Job priority (S3 Control: 0 to 2,147,483,647, higher runs first, best effort) as Temporal task priority
 * (priorityKey 1..levels, lower runs first; needs the server's new matcher, `matching.useNewMatcher=true`, and
 * `matching.priorityLevels`). A log scale keeps common small priorities (10, 20, 100) apart while covering the
 * whole range. Sandbox-safe.
 */

/** The levels the local stack's server is started with; the worker config says what a given server has. */
export const TEMPORAL_PRIORITY_LEVELS = 32;

export function priorityKeyFor(priority: number, levels: number): number {
  const bucket = Math.floor(Math.log2(Math.max(0, priority) + 1)); // 0..31
  const key = levels - Math.floor((bucket * levels) / 32);
  return Math.min(levels, Math.max(1, key));
}
