/**
 * How a task is retried: the task activity's retry policy (batch-page.ts: 1 s, doubling, at most 1 minute), and the
 * same backoff applied per row by the batch activity (run-task-batch.ts), so a row retries as a single task would.
 * Sandbox-safe.
 */
export const TASK_RETRY = { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 } as const;

/** The wait before attempt `attempt + 1` after attempt `attempt` failed (Temporal's backoff: no jitter). */
export function taskRetryDelayMs(attempt: number): number {
  const { initialIntervalMs, backoffCoefficient, maximumIntervalMs } = TASK_RETRY;
  return Math.min(maximumIntervalMs, initialIntervalMs * backoffCoefficient ** (attempt - 1));
}
