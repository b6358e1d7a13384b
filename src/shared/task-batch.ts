/**
 * Batch mode (Extensions.TaskExecution "Batch"): what crosses between a page and its batch activities. Sandbox-safe.
 */
import type { TaskResult } from './types';

/**
 * What one batch activity has done: per input row, in input order, its result, or null when the row has not run.
 * The activity's heartbeat details (so a retry resumes after the rows already recorded) and its result.
 */
export interface TaskBatchProgress {
  results: (TaskResult | null)[];
}

/** Heartbeat details or a cancellation's details, when they are a batch's progress for `rows` rows. */
export function batchProgressOf(details: unknown, rows: number): TaskBatchProgress | undefined {
  const results = (details as Partial<TaskBatchProgress> | undefined)?.results;
  return Array.isArray(results) && results.length === rows ? { results } : undefined;
}
