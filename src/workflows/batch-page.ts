/**
 * batchPageWorkflow: one page of a job's manifest (a byte range; a row belongs to the page its first byte is in).
 * Reads its rows, runs one task activity per row with bounded concurrency (in Batch mode, one activity per batch of
 * rows: task-batch.ts), writes its report shard, and reports counts to the job by signal (by workflow id, so the
 * signal reaches whichever run of the job is current).
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
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { LocalActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  pageFailedSignal,
  pageModeSignal,
  pagePausedSignal,
  pageProgressSignal,
  pageWaitingSignal,
  type PageMode,
} from '../shared/messages';
import { PAGE_FAILURE_NOTIFIED, type PageInput, type PageJobContext } from '../shared/page-context';
import { TaskPacer } from '../shared/task-pacer';
import { RestoreWaits } from './restore-waits';
import { TASK_RETRY } from '../shared/task-retry';
import { runRowsInBatches } from './task-batch';
import { failureOf } from './task-failure';
import {
  addFailures,
  truncate,
  type FailureCounts,
  type PageFailure,
  type ReportRow,
  type RestoreWait,
  type TaskResult,
  type TaskRow,
} from '../shared/types';

type Activities = ReturnType<typeof createActivities>;

const { readPage, writeReportShard, readShardCounts } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 20 },
});

export async function batchPageWorkflow(input: PageInput): Promise<void> {
  const { job, pageIndex } = input;
  const part = input.part ?? 0;
  let mode: PageMode = input.mode;
  let priorityKey = input.job.priorityKey;
  // Extensions.MaxTasksPerSecond: this page's share of the job's rate. A page without one never paces (and issues
  // the same commands as before the limit existed).
  const pacer = new TaskPacer(input.tasksPerSecond, Date.now(), input.pacing);
  /** Bumped by a new share and by the pacing timer: either may let a task start. */
  let paceChanges = 0;
  setHandler(pageModeSignal, ({ mode: next, priorityKey: nextKey, tasksPerSecond }) => {
    if (mode === 'pause' && next === 'run') pacer.restart(Date.now());
    // A stop is final: a late pause or run signal must not restart a cancelled page.
    if (mode !== 'stop') mode = next;
    if (nextKey !== undefined) priorityKey = nextKey;
    if (tasksPerSecond !== undefined) {
      pacer.setRate(tasksPerSecond ?? undefined, Date.now());
      paceChanges++;
    }
  });

  const parentId = workflowInfo().parent?.workflowId;
  if (!parentId) throw ApplicationFailure.nonRetryable('batchPageWorkflow runs only as a child of batchJobWorkflow');
  const parent = getExternalWorkflowHandle(parentId);

  /**
   * The page cannot go on: tell the job why (it fails the job, or restarts this page from this run's start), then
   * fail this run so Temporal Web shows it. Without the notice the job would wait for this page forever.
   */
  const giveUp = async (err: unknown, what: string, ran?: PageFailure['ran'], code = pageFailureOf(err, what).code): Promise<never> => {
    // Pages that failed before this change failed without a word; their histories must replay the same.
    if (!patched('page-failure-notice')) throw err;
    const failure = pageFailureOf(err, what);
    const { reason } = failure;
    // Tasks that ran are counted once; re-running their part would count them twice, so it is final either way.
    const permanent = failure.permanent || ran !== undefined;
    const resume = { cursor: input.cursor, part: input.part, restoreWaits: input.restoreWaits };
    await parent
      .signal(pageFailedSignal, { pageIndex, part, code, reason, permanent, ran, resume })
      // The job is gone (terminated): there is nobody left to tell.
      .catch(() => undefined);
    // The detail tells the job's page check that this failure was already reported (pageHealth: NOTIFIED).
    throw ApplicationFailure.create({ message: reason, type: code, nonRetryable: permanent, details: [PAGE_FAILURE_NOTIFIED] });
  };

  // Restarted while the job stops: no task will start, so the rows are not needed. The dead run may have finished its
  // part and written its shard before it died: then that shard is the part's record, and its counts are reported.
  if (input.restarted && mode === 'stop') {
    const written = job.report ? await readShardCounts({ jobId: input.jobId, report: job.report, pageIndex, part }) : undefined;
    await parent.signal(pageProgressSignal, { pageIndex, part, ...(written ?? { succeeded: 0, failed: 0, failures: {} }), done: true });
    return;
  }
  let rows: TaskRow[];
  try {
    ({ rows } = await readPage({ manifest: job.manifest, range: input.range }));
  } catch (err) {
    return giveUp(err, `page ${pageIndex} could not read its manifest rows`);
  }
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

  // One pacing timer at a time, for the share it was armed under: a new share arms its own (the old one's firing
  // only wakes the loop once more), so a faster share is not held up by a slower one's long wait.
  let armedFor = -1;
  const waitForCredit = async () => {
    const seen = paceChanges;
    if (armedFor !== pacer.rate) {
      const armed = (armedFor = pacer.rate ?? -1);
      void sleep(pacer.msUntilNextStep(Date.now())).then(
        () => {
          if (armedFor === armed) armedFor = -1;
          paceChanges++;
        },
        // Cancelled with the run's task scope: nothing waits on it any more.
        () => undefined
      );
    }
    await condition(() => paceChanges !== seen || mode !== 'run');
  };

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
        // Only pages from before stop drained their tasks cancel them (below): a cancelled task did not finish.
        if (!isCancellation(err)) record(row, failureOf(err));
      }
    );
  };

  if (job.taskExecution === 'Batch') {
    next = await runRowsInBatches({
      jobId: input.jobId,
      pageIndex,
      job,
      rows,
      firstLine: firstLineOf(input),
      cursor,
      end,
      mode: () => mode,
      priorityKey: () => priorityKey,
      settle: (row, result) => (waits && result.status === 'succeeded' ? waits.add(row) : record(row, result)),
      reportPaused: () => parent.signal(pagePausedSignal, { pageIndex }),
      // Jobs without a limit never wait and start batches of BatchSize rows, as before the limit existed.
      pace: {
        available: () => (pacer.limited ? pacer.available(Date.now()) : Infinity),
        take: (count) => pacer.take(count),
        waitForCredit,
      },
    });
  } else await tasks.run(async () => {
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
      const row = rows[next]!;
      // A bad row makes no S3 call: it takes no share of the rate.
      if (row.error === undefined && pacer.limited) {
        if (pacer.available(Date.now()) < 1) {
          await waitForCredit();
          continue;
        }
        pacer.take();
      }
      next++;
      if (row.error !== undefined) record(row, { status: 'failed', errorCode: 'InvalidManifestRow', message: row.error });
      else startTask(row, priorityKey);
    }
  });
  // A stop (cancel, failure threshold) starts no new task, but the tasks in flight run to their answer (bounded by
  // their timeout and attempts): their S3 calls may already have been applied, so they are counted and reported.
  // Pages from before this change cancelled them; their histories replay that.
  if (mode === 'stop' && !patched('stop-drains-tasks')) tasks.cancel();
  // Drain outside the task scope: cancelling it must not cut the wait for the tasks' answers.
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
    try {
      await writeReportShard({ jobId: input.jobId, report: job.report, pageIndex, part, rows: results });
    } catch (err) {
      // After all retries (minutes of refusals), the report bucket is unusable: the job fails. The tasks ran, so they
      // are counted (once, with this notice); their rows cannot be in the report, and the reason says how many.
      const what = `page ${pageIndex} could not write the report shard of its ${results.length} task result(s)`;
      // Whatever S3 answered (AccessDenied, NoSuchBucket, SlowDown through every retry), the job's code says what broke.
      await giveUp(err, what, { succeeded, failed, failures }, 'ReportWriteFailed');
    }
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
      // The share and the credit go on with the page: a continue-as-new neither waits a step nor bursts.
      ...(pacer.limited || input.tasksPerSecond !== undefined ? { tasksPerSecond: pacer.rate, pacing: pacer.state() } : {}),
    });
  }
}

function runOneTask(jobId: string, job: PageJobContext, row: TaskRow, priorityKey: number): Promise<TaskResult> {
  // Temporal Web lists tasks by summary: a custom operation is known by its own name.
  const operationLabel = job.operation.name === 'CustomOperation' ? job.operation.params.Name : job.operation.name;
  const common: LocalActivityOptions = {
    startToCloseTimeout: job.taskTimeout,
    retry: {
      initialInterval: TASK_RETRY.initialIntervalMs,
      backoffCoefficient: TASK_RETRY.backoffCoefficient,
      maximumInterval: TASK_RETRY.maximumIntervalMs,
      maximumAttempts: job.maxAttemptsPerTask,
    },
    summary: truncate(`${operationLabel} s3://${row.bucket}/${row.key ?? row.rawKey}`, 190),
  };
  const { runTask } =
    job.taskExecution === 'LocalActivity'
      ? proxyLocalActivities<Activities>(common)
      : // The task heartbeats while it runs, so a task lost with a crashed worker is retried within this, not
        // after the whole start-to-close timeout. Local activities run in this worker: no server queue; only the
        // worker gate orders them by priorityKey (with worker.maxConcurrentTasks).
        proxyActivities<Activities>({ ...common, heartbeatTimeout: '20 seconds', priority: { priorityKey } });
  return runTask({
    jobId,
    taskId: String(row.offset),
    connection: job.connection,
    lambdaConnection: job.lambdaConnection,
    ...(job.role ? { role: job.role } : {}),
    operation: job.operation,
    object: { bucket: row.bucket, key: row.key!, versionId: row.versionId },
    maxAttempts: job.maxAttemptsPerTask,
    priorityKey,
  });
}

function isPermanent(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
}

/** The job-level failure for a page activity that failed for good: its error type, message, and whether to retry. */
function pageFailureOf(err: unknown, what: string): Pick<PageFailure, 'code' | 'reason' | 'permanent'> {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const code =
    cause instanceof ApplicationFailure ? (cause.type ?? 'PageFailed') : cause instanceof TimeoutFailure ? 'PageTimedOut' : 'PageFailed';
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code, reason: truncate(`${what}: ${message}`, 256), permanent: isPermanent(err) };
}

/** The manifest line of a page's first task row (the header line, when the manifest has one, is no task). */
function firstLineOf(input: PageInput): number | undefined {
  const first = input.range.firstRow;
  if (first === undefined) return undefined;
  return input.job.manifest.headerRow && input.range.start === 0 ? first + 1 : first;
}
