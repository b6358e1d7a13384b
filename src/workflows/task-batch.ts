/**
 * Batch mode (Extensions.TaskExecution "Batch"): a page runs its rows in batch activities of up to BatchSize rows
 * (src/activities/run-task-batch.ts) instead of one activity per row. Each row is still its own task: the batch
 * returns one result per row, and the page records each once, from the batch's result in history.
 *
 * Concurrency: a page keeps enough batches in flight to fill its MaxConcurrentTasksPerPage, and two more; the worker
 * runs at most MaxConcurrentTasksPerPage of the page's rows at once, whichever batches they belong to. A pause or stop cancels the batches in flight; each sees it on
 * its next heartbeat, starts no further row, lets its rows in flight finish, and returns what finished. Rows a batch
 * did not run go back to the front of the page's queue: run after a resume, never after a stop. With a rate limit
 * (Extensions.MaxTasksPerSecond), a batch holds no more rows than the page's credit allows at that moment.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  proxyActivities,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { PageMode } from '../shared/messages';
import type { PageJobContext } from '../shared/page-context';
import { batchProgressOf } from '../shared/task-batch';
import { TASK_RETRY } from '../shared/task-retry';
import { truncate, type TaskResult, type TaskRow } from '../shared/types';
import { failureOf } from './task-failure';

type Activities = ReturnType<typeof createActivities>;

/**
 * Batches a page keeps in flight beyond what its MaxConcurrentTasksPerPage needs: while one batch's answer and the
 * next one's dispatch travel through Temporal, the others keep the page's rows flowing. The worker holds all of a
 * page's batches to MaxConcurrentTasksPerPage rows at once (src/activities/page-lanes.ts).
 */
const BATCHES_AHEAD = 2;

/** A batch's worker is thought lost after this long without a heartbeat (it beats every second). */
const BATCH_HEARTBEAT_TIMEOUT = '10 seconds';

/** The page's side of its batches: its rows, its state, and what to do with each row's result. */
export interface PageBatches {
  jobId: string;
  pageIndex: number;
  job: PageJobContext;
  rows: TaskRow[];
  /** The manifest line of rows[0] (absent in jobs prepared before line numbers): batches are named by line. */
  firstLine?: number;
  /** This run's rows: [cursor, end). */
  cursor: number;
  end: number;
  mode(): PageMode;
  priorityKey(): number;
  /** A row's result, exactly once per row: recorded (or, for a requested restore, awaited) by the page. */
  settle(row: TaskRow, result: TaskResult): void;
  /** The page has nothing in flight while paused: tell the job. */
  reportPaused(): Promise<void>;
  /**
   * Extensions.MaxTasksPerSecond, the page's share: how many task starts its credit allows now (Infinity without a
   * limit), what a batch takes of it (one per row), and a wait until it grows (or the page's mode changes).
   */
  pace: { available(): number; take(rows: number): void; waitForCredit(): Promise<void> };
}

/**
 * Runs rows [cursor, end) in batches until they are all settled, the page stops, or Temporal suggests continue-as-new
 * (then it returns early, with nothing in flight and nothing owed). Returns the next row this run did not start.
 */
export async function runRowsInBatches(page: PageBatches): Promise<number> {
  const { job, rows, cursor, end } = page;
  const size = job.batch?.size ?? 50;
  const batchesAtOnce = Math.ceil(job.maxConcurrentTasks / size) + BATCHES_AHEAD;
  /** Rows a cancelled batch did not run: run first. */
  const again: number[] = [];
  const running = new Set<CancellationScope>();
  let next = cursor;
  let pauseReported = false;

  const take = (most: number): number[] => {
    const batch = again.splice(0, most);
    while (batch.length < most && next < end) {
      const row = rows[next]!;
      // A bad row is no task: it fails here, without an S3 call, as in the other modes.
      if (row.error !== undefined) page.settle(row, { status: 'failed', errorCode: 'InvalidManifestRow', message: row.error });
      else batch.push(next);
      next++;
    }
    return batch;
  };

  const start = (batch: number[]) => {
    const scope = new CancellationScope();
    running.add(scope);
    const settle = (results: (TaskResult | null)[]) => {
      running.delete(scope);
      batch.forEach((index, i) => {
        const result = results[i];
        if (result) page.settle(rows[index]!, result);
        else again.push(index);
      });
      again.sort((a, b) => a - b);
    };
    void scope.run(() => runBatch(page, batch, batchesAtOnce)).then(
      (progress) => settle(progress.results),
      (err) => settle(resultsAfterFailure(err, batch.length, scope.consideredCancelled))
    );
  };

  for (;;) {
    const mode = page.mode();
    if (mode !== 'run') {
      // Each batch in flight hears of it on its next heartbeat and returns what it finished.
      for (const scope of running) scope.cancel();
    }
    if (mode === 'stop') break;
    if (mode === 'pause') {
      await condition(() => running.size === 0 || page.mode() !== 'pause');
      if (page.mode() === 'pause' && !pauseReported) {
        pauseReported = true;
        await page.reportPaused();
      }
      await condition(() => page.mode() !== 'pause');
      pauseReported = false;
      continue;
    }
    if (again.length === 0 && next >= end) {
      // All started: wait for the batches; rows that one gave back (its worker shut down) run again.
      await condition(() => running.size === 0 || page.mode() !== 'run');
      if (running.size === 0 && again.length === 0) break;
      continue;
    }
    if (running.size >= batchesAtOnce) {
      await condition(() => page.mode() !== 'run' || running.size < batchesAtOnce);
      continue;
    }
    // Within budget, unless Temporal asks for a fresh run sooner: then this run ends at `next`, once nothing is owed.
    if (workflowInfo().continueAsNewSuggested && next > cursor && again.length === 0) {
      await condition(() => running.size === 0 || page.mode() !== 'run');
      if (running.size === 0 && again.length === 0 && page.mode() === 'run') break;
      continue;
    }
    // A rate limit makes batches no larger than the credit: a batch starts its rows at once.
    const credit = page.pace.available();
    if (credit < 1) {
      await page.pace.waitForCredit();
      continue;
    }
    const batch = take(Math.min(size, Math.floor(credit)));
    if (batch.length > 0) {
      page.pace.take(batch.length);
      start(batch);
    }
  }
  // A stop: the batches in flight were cancelled; their finished rows are recorded when they answer.
  await condition(() => running.size === 0);
  return next;
}

function runBatch(page: PageBatches, batch: number[], batchesAtOnce: number) {
  const { job, rows } = page;
  const timeoutSeconds = job.batch?.taskTimeoutSeconds ?? 300;
  // Worst case: every row spends all its attempts and backoffs, its page's lanes shared by all its batches in flight.
  // A lost worker is noticed by the heartbeat timeout, long before.
  const rounds = Math.ceil((batch.length * batchesAtOnce) / job.maxConcurrentTasks);
  const maxBackoffSeconds = TASK_RETRY.maximumIntervalMs / 1000;
  const { runTaskBatch } = proxyActivities<Activities>({
    startToCloseTimeout: `${rounds * job.maxAttemptsPerTask * (timeoutSeconds + maxBackoffSeconds)} seconds`,
    heartbeatTimeout: BATCH_HEARTBEAT_TIMEOUT,
    // The batch answers a cancel with the rows it finished: wait for that answer, do not drop it.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: TASK_RETRY.initialIntervalMs,
      backoffCoefficient: TASK_RETRY.backoffCoefficient,
      maximumInterval: TASK_RETRY.maximumIntervalMs,
      maximumAttempts: job.maxAttemptsPerTask,
    },
    priority: { priorityKey: page.priorityKey() },
    summary: batchSummary(page, batch),
  });
  return runTaskBatch({
    jobId: page.jobId,
    connection: job.connection,
    lambdaConnection: job.lambdaConnection,
    ...(job.role ? { role: job.role } : {}),
    operation: job.operation,
    maxAttempts: job.maxAttemptsPerTask,
    priorityKey: page.priorityKey(),
    taskTimeout: `${timeoutSeconds} seconds`,
    concurrency: job.maxConcurrentTasks,
    rows: batch.map((index) => {
      const row = rows[index]!;
      return { taskId: String(row.offset), object: { bucket: row.bucket, key: row.key!, versionId: row.versionId } };
    }),
  });
}

/** Temporal Web lists a batch by its operation and its rows' manifest lines (or page rows, for older jobs). */
function batchSummary(page: PageBatches, batch: number[]): string {
  const operation = page.job.operation;
  const label = operation.name === 'CustomOperation' ? operation.params.Name : operation.name;
  const first = batch[0]!;
  const last = batch[batch.length - 1]!;
  const span = last - first + 1 === batch.length ? '' : ` (${batch.length} tasks)`;
  const where =
    page.firstLine !== undefined
      ? `lines ${page.firstLine + first}-${page.firstLine + last}`
      : `page ${page.pageIndex} rows ${first + 1}-${last + 1}`;
  return truncate(`${label} ${where}${span}`, 190);
}

/**
 * What a batch that did not answer with its results leaves: the rows recorded by its last heartbeat keep their
 * results (they ran); the rest run again if the page cancelled the batch (they never started, or the batch was
 * cancelled between attempts, when Temporal keeps no details, or its worker was lost while it was being cancelled),
 * else they fail as tasks whose activity failed for good.
 */
function resultsAfterFailure(err: unknown, rows: number, cancelled: boolean): (TaskResult | null)[] {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const details =
    cause instanceof TimeoutFailure ? cause.lastHeartbeatDetails : cause instanceof CancelledFailure ? cause.details?.[0] : undefined;
  const recorded = batchProgressOf(details, rows)?.results ?? Array.from({ length: rows }, () => null);
  if (cancelled || isCancellation(err)) return recorded;
  const failure = failureOf(err);
  return recorded.map((result) => result ?? failure);
}
