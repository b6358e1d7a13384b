/** Task results for failed activities: shared by the per-task modes (batch-page.ts) and Batch mode. Sandbox-safe. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { truncate, type TaskResult } from '../shared/types';

/** A task whose activity failed for good (the activity itself turns S3 errors into results, so this is rare). */
export function failureOf(err: unknown): TaskResult {
  if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
    return { status: 'failed', errorCode: 'TaskTimedOut', message: truncate(err.cause.message) };
  }
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    const details = err.cause.details?.[0] as { httpStatus?: number } | undefined;
    return {
      status: 'failed',
      errorCode: err.cause.type ?? 'TaskFailed',
      httpStatus: details?.httpStatus,
      message: truncate(err.cause.message),
    };
  }
  return { status: 'failed', errorCode: 'TaskFailed', message: truncate(err instanceof Error ? err.message : String(err)) };
}
