/**
 * batchPageWorkflow: one page of a job's manifest (a byte range; a row belongs to the page its first byte is in).
 * Reads its rows, runs one task activity per row with bounded concurrency, writes its report shard, and reports
 * counts to the job by signal (by workflow id, so the signal reaches whichever run of the job is current).
 *
 * A page run handles at most `TasksPerPageRun` tasks (fewer when Temporal suggests continue-as-new): then it drains
 * in-flight tasks, writes that part's shard, reports that part and continues as new from the next row. The rows each
 * run handles are therefore fixed by the page's bytes and the cursor, so shard keys and counts are deterministic.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { LocalActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { pageModeSignal, pagePausedSignal, pageProgressSignal, pageWaitingSignal, type PageMode } from '../shared/messages';
import type { PageJobContext } from '../shared/page-context';
import { RestoreWaits, type RestoreWait } from './restore-waits';
import { addFailures, truncate, type FailureCounts, type ReportRow, type TaskResult, type TaskRow } from '../shared/types';

type Activities = ReturnType<typeof createActivities>;

const { readPage, writeReportShard } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 20 },
});

export interface PageInput {
  jobId: string;
  job: PageJobContext;
  pageIndex: number;
  /** The page's bytes; `firstRow`: the line number of its first row (absent in jobs prepared before row numbers). */
  range: { start: number; end: number; firstRow?: number };
  mode: PageMode;
  /** Continue-as-new state: the next row to run and the part this run writes. */
  cursor?: number;
  part?: number;
  /** Continue-as-new state: objects still waiting for their restore (Extensions.WaitForRestore). */
  restoreWaits?: RestoreWait[];
}

export async function batchPageWorkflow(input: PageInput): Promise<void> {
  const { job, pageIndex } = input;
  const part = input.part ?? 0;
  let mode: PageMode = input.mode;
  let priorityKey = input.job.priorityKey;
  setHandler(pageModeSignal, ({ mode: next, priorityKey: nextKey }) => {
    // A stop is final: a late pause or run signal must not restart a cancelled page.
    if (mode !== 'stop') mode = next;
    if (nextKey !== undefined) priorityKey = nextKey;
  });

  const parentId = workflowInfo().parent?.workflowId;
  if (!parentId) throw ApplicationFailure.nonRetryable('batchPageWorkflow runs only as a child of batchJobWorkflow');
  const parent = getExternalWorkflowHandle(parentId);

  const { rows } = await readPage({ manifest: job.manifest, range: input.range });
  const cursor = input.cursor ?? 0;
  const runBudget = job.tasksPerPageRun;
  const end = Math.min(rows.length, cursor + runBudget);

  const results: ReportRow[] = [];
  let succeeded = 0;
  let failed = 0;
  const failures: FailureCounts = {};
  // Live progress: an interim report every tenth of the run (at least every 10 tasks), fire and forget.
  const interimEvery = Math.max(10, Math.ceil((end - cursor) / 10));
  const record = (row: TaskRow, result: TaskResult) => {
    if (result.status === 'succeeded') succeeded++;
    else {
      failed++;
      addFailures(failures, { [result.errorCode ?? 'Unknown']: 1 });
    }
    results.push({ bucket: row.bucket, key: row.rawKey, versionId: row.versionId ?? '', result });
    if (results.length % interimEvery === 0) {
      void parent
        .signal(pageProgressSignal, { pageIndex, part, succeeded, failed, failures: {}, done: false, interim: true })
        .catch(() => undefined);
    }
  };

  // Restores that were requested and are awaited (WaitForRestore): off the task slots, settled in rounds.
  const waits = job.waitForRestore ? new RestoreWaits(job, job.waitForRestore, record, input.restoreWaits) : undefined;
  waits?.start(() => mode === 'stop');

  let inFlight = 0;
  let next = cursor;
  let pauseReported = false;

  // One scope for every task of this run: a stop cancels them together (and one scope per task would cost a
  // scope's promises per task, which the sandbox's promise tracking makes expensive).
  const tasks = new CancellationScope();
  const startTask = (row: TaskRow, key: number) => {
    inFlight++;
    void runOneTask(input.jobId, job, row, key).then(
      (result) => {
        inFlight--;
        if (waits && result.status === 'succeeded') waits.add(row);
        else record(row, result);
      },
      (err) => {
        inFlight--;
        // A task cancelled by a job cancel did not finish: it is neither counted nor reported.
        if (!isCancellation(err)) record(row, failureOf(err));
      }
    );
  };

  await tasks.run(async () => {
    while (next < end && mode !== 'stop') {
      if (mode === 'pause') {
        await condition(() => inFlight === 0 || mode !== 'pause');
        if (mode === 'pause' && !pauseReported) {
          pauseReported = true;
          await parent.signal(pagePausedSignal, { pageIndex });
        }
        await condition(() => mode !== 'pause');
        pauseReported = false;
        continue;
      }
      // Wait only when no slot is free: a free slot starts its task without an await, so a burst of answers refills
      // the window in one go, and no promise (each one costs a stack capture in the sandbox) is made per task.
      if (mode !== 'run' || inFlight >= job.maxConcurrentTasks) {
        await condition(() => mode !== 'run' || inFlight < job.maxConcurrentTasks);
        continue;
      }
      // Within budget, unless Temporal asks for a fresh run sooner: then this run ends at `next`.
      if (workflowInfo().continueAsNewSuggested && next > cursor) break;
      const row = rows[next++]!;
      if (row.error !== undefined) record(row, { status: 'failed', errorCode: 'InvalidManifestRow', message: row.error });
      else startTask(row, priorityKey);
    }
  });
  // Drain outside the task scope: cancelling it must not cut the wait for the tasks' answers.
  if (mode === 'stop') tasks.cancel();
  await condition(() => inFlight === 0);
  const allStarted = next >= rows.length;
  let carried: RestoreWait[] | undefined;
  if (waits && (allStarted || mode === 'stop')) {
    // Only waiting is left: free this page's place in the job's window, so later pages request their restores.
    if (mode !== 'stop' && waits.size > 0) await parent.signal(pageWaitingSignal, { pageIndex });
    await waits.drain();
  } else if (waits) {
    carried = await waits.carry();
  }

  if (job.report && results.length > 0) {
    await writeReportShard({ jobId: input.jobId, report: job.report, pageIndex, part, rows: results });
  }
  const done = allStarted || mode === 'stop';
  await parent.signal(pageProgressSignal, { pageIndex, part, succeeded, failed, failures, done });
  if (!done) {
    await continueAsNew<typeof batchPageWorkflow>({
      ...input,
      job: { ...job, priorityKey },
      mode,
      cursor: next,
      part: part + 1,
      restoreWaits: carried,
    });
  }
}

function runOneTask(jobId: string, job: PageJobContext, row: TaskRow, priorityKey: number): Promise<TaskResult> {
  // Temporal Web lists tasks by summary: a custom operation is known by its own name.
  const operationLabel = job.operation.name === 'CustomOperation' ? job.operation.params.Name : job.operation.name;
  const common: LocalActivityOptions = {
    startToCloseTimeout: job.taskTimeout,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: job.maxAttemptsPerTask,
    },
    summary: truncate(`${operationLabel} s3://${row.bucket}/${row.key ?? row.rawKey}`, 190),
  };
  const { runTask } =
    job.taskExecution === 'LocalActivity'
      ? proxyLocalActivities<Activities>(common)
      : // The task heartbeats while it runs, so a task lost with a crashed worker is retried within this, not
        // after the whole start-to-close timeout. Local activities run in this worker: no queue, no priority.
        proxyActivities<Activities>({ ...common, heartbeatTimeout: '20 seconds', priority: { priorityKey } });
  return runTask({
    jobId,
    taskId: String(row.offset),
    connection: job.connection,
    lambdaConnection: job.lambdaConnection,
    operation: job.operation,
    object: { bucket: row.bucket, key: row.key!, versionId: row.versionId },
    maxAttempts: job.maxAttemptsPerTask,
    priorityKey,
  });
}

/** A task whose activity failed for good (the activity itself turns S3 errors into results, so this is rare). */
function failureOf(err: unknown): TaskResult {
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
