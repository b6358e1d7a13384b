/**
 * The batch activity (Extensions.TaskExecution "Batch"): up to BatchSize rows of a page in one regular activity, each
 * row still its own task. A row's attempts go through runTaskAttempt, as a single task's do, with the task retry
 * policy's backoff and the job's attempt timeout, so its errors, retries and result are a single task's.
 *
 * The activity heartbeats the results of its finished rows. A retry (worker crash, lost worker after the heartbeat
 * timeout) starts from the last heartbeat that reached Temporal and runs only the rows without a result there. When
 * the page cancels the batch (pause, cancel, failure threshold; seen on the next heartbeat), no further row starts;
 * the rows in flight run to their answer, and the activity returns what finished: the page runs the rest later, or
 * never if the job stops.
 */
import { Context } from '@temporalio/activity';
import { msToNumber, type Duration } from '@temporalio/common';
import { batchProgressOf, type TaskBatchProgress } from '../shared/task-batch';
import { taskRetryDelayMs } from '../shared/task-retry';
import { truncate, type TaskResult } from '../shared/types';
import type { TaskObject } from './operations/operation';
import type { PageLanes } from './page-lanes';
import { runTaskAttempt, type RunTaskInput, type TaskDeps } from './run-task';

/** How often the batch tells Temporal its progress (the SDK sends at most one per 0.8 × the heartbeat timeout). */
const HEARTBEAT_MS = 1_000;

export interface TaskBatchRow {
  /** Identifies the manifest row within the job, stable across retries (its byte offset). */
  taskId: string;
  object: TaskObject;
}

export interface RunTaskBatchInput extends Omit<RunTaskInput, 'taskId' | 'object'> {
  rows: TaskBatchRow[];
  /** Rows of this batch's page run at once on this worker, by all its batches together (MaxConcurrentTasksPerPage). */
  concurrency: number;
  /** How long one attempt of one row may take (the job's TaskTimeoutSeconds). */
  taskTimeout: Duration;
}

export async function runTaskBatch(deps: TaskDeps & { lanes: PageLanes }, input: RunTaskBatchInput): Promise<TaskBatchProgress> {
  const ctx = Context.current();
  // Rows recorded by an earlier attempt of this batch ran: they are not run again.
  const recorded = batchProgressOf(ctx.info.heartbeatDetails, input.rows.length);
  const results: (TaskResult | null)[] = recorded?.results ?? input.rows.map(() => null);
  const todo = results.flatMap((result, i) => (result === null ? [i] : []));
  const beat = () => ctx.heartbeat({ results } satisfies TaskBatchProgress);
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  const attemptPrefix = `${ctx.info.workflowExecution?.workflowId ?? input.jobId}/${ctx.info.activityId}.${ctx.info.attempt}`;
  const { rows, concurrency, taskTimeout, ...task } = input;
  const timeoutMs = msToNumber(taskTimeout);
  const lanes = deps.lanes.join(ctx.info.workflowExecution?.workflowId ?? input.jobId, concurrency);
  let taken = 0;
  const lane = async () => {
    for (;;) {
      await lanes.acquire();
      // A cancelled batch starts no further row; a row already started runs to its answer.
      if (taken >= todo.length || ctx.cancellationSignal.aborted) return lanes.release();
      const i = todo[taken++]!;
      const { taskId, object } = rows[i]!;
      try {
        results[i] = await runRow(deps, { ...task, taskId, object }, timeoutMs, `${attemptPrefix}/${taskId}`);
      } finally {
        lanes.release();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, lane));
  } finally {
    clearInterval(timer);
    lanes.leave();
  }
  return { results };
}

/** One row as a task: its attempts, retried with the task backoff, until a result. */
async function runRow(deps: TaskDeps, input: RunTaskInput, timeoutMs: number, attemptPrefix: string): Promise<TaskResult> {
  for (let attempt = 1; ; attempt++) {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      // A retryable error on an attempt that is not the last comes back as `retry`; anything else is the result.
      const outcome = await runTaskAttempt(deps, input, { attempt, signal, attemptId: `${attemptPrefix}/${attempt}` });
      if (!('retry' in outcome)) return outcome;
    } catch {
      // Only the attempt's timeout aborts it: a timed-out attempt is retried, as Temporal retries a task's.
      if (attempt >= input.maxAttempts) {
        const message = `the task's attempt timed out after ${timeoutMs / 1000} s (gave up after ${attempt} attempts)`;
        return { status: 'failed', errorCode: 'TaskTimedOut', message: truncate(message) };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, taskRetryDelayMs(attempt)));
  }
}
