/**
 * Records the workflow histories that test/unit/workflow-replay.test.ts replays: for each feature, a small real job
 * on the running local stack (an in-process worker on its own task queue, no payload encryption), then the history
 * of every run of the job workflow and of every page workflow (continue-as-new chains included), saved under
 * test/fixtures/histories/<feature>/.
 *
 *   npm run histories:record                              # every feature not recorded yet
 *   npm run histories:record -- pause-resume ...          # only these features (if not recorded yet)
 *   npm run histories:record -- --replace pause-resume    # record again over what is there
 *
 * Needs S3BATCH_STACK_STATE (default: .stack/state.json) naming a running stack (`npm run stack:up`).
 * Re-record when a feature is added; never re-record to make a failing replay pass: the fixtures are the histories
 * of jobs started by earlier worker versions, and a failing replay means running jobs would break on deploy.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { pageWorkflowId } from '../src/shared/constants';
import type { JobDescriptor } from '../src/shared/types';
import { historyFromJSONObject, historyToJSONObject } from '../test/helpers/history-json';
import { HISTORY_FIXTURES_DIR, secretsIn, type HistoryFixture } from '../test/helpers/history-fixtures';
import {
  createBucket,
  csvJob,
  putManifest,
  seedObjects,
  stackWorkerConfig,
  startEngine,
  uniqueBucket,
  type Engine,
} from '../test/helpers/engine';
import { startFaultProxy, type FaultProxy } from '../test/helpers/s3-fault-proxy';
import { getStack, motoClient } from '../test/helpers/stack';

process.env.S3BATCH_STACK_STATE ??= resolve(__dirname, '..', '.stack', 'state.json');

const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'recorded', Value: 'yes' }] } };
const WEBHOOK_SECRET = `whsec-${randomBytes(16).toString('hex')}`;

interface Recorder {
  engine: Engine;
  data: string;
  reports: string;
  /** Webhook receiver URL; the first deliveries are refused (503), so retries are in the history. */
  webhookUrl: string;
  /** The fault proxy behind the `slow` connection: a feature may change its latency (and must restore it). */
  proxy: FaultProxy;
}

/** The latency the `slow` connection adds to each tagging call, unless a feature changes it for its job. */
const SLOW_RATES = { maxDelayMs: 400 };

/** A recorded job: `label` names its fixture files (`<label>-run-1.json`, `<label>-page-0-run-1.json`). */
interface RecordedJob {
  label: string;
  jobId: string;
}

interface Feature {
  name: string;
  /** What the recorded histories hold, checked before they are saved (a feature that did not happen is an error). */
  record(r: Recorder): Promise<RecordedJob[]>;
  /** Fixture files that must exist, e.g. a second run of a job that had to continue as new. */
  expectFiles?: string[];
  /** Further checks of the downloaded histories (throws when the feature did not happen). */
  check?(files: { file: string; fixture: HistoryFixture }[]): void;
}

const rows = (bucket: string, keys: string[]) => keys.map((k) => `${bucket},${k}`);
const done = (job: JobDescriptor) => job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed;

async function waitFor(engine: Engine, jobId: string, what: string, predicate: (job: JobDescriptor) => boolean): Promise<JobDescriptor> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const job = await engine.jobs.describeJob(jobId);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId}: timed out waiting for ${what}; last status ${job.Status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the job workflow has closed (a finished job may still deliver webhooks) and checks its end. */
async function finished(engine: Engine, jobId: string, expected: JobDescriptor['Status']): Promise<JobDescriptor> {
  const handle: WorkflowHandle = engine.jobs.handle(jobId);
  const result = (await handle.result()) as JobDescriptor;
  if (result.Status !== expected) throw new Error(`job ${jobId} ended ${result.Status}, expected ${expected}: ${JSON.stringify(result.FailureReasons)}`);
  return result;
}

/** A job of `keys` (plus `extraRows`) over MinIO with tagging; returns its id. */
async function taggingJob(r: Recorder, name: string, keys: string[], extra: Parameters<typeof csvJob>[3] = {}, extraRows: string[] = []) {
  await seedObjects(r.engine.s3, r.data, keys);
  const manifest = await putManifest(r.engine.s3, r.data, name, [...rows(r.data, keys), ...extraRows]);
  const { jobId } = await r.engine.jobs.createJob(csvJob(manifest, tagging, r.reports, extra));
  return jobId;
}

const keysOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}/${i}.txt`);

/** Slow tasks (the `slow` connection delays each tagging call), one at a time: a window to act on a running job. */
const slowly = { Connection: 'slow', ReportConnection: 'default', PageSize: 3, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 1 };

/** Two pages, one row of them for an object that does not exist, in the given task execution mode. */
function plainJob(name: string, mode: 'LocalActivity' | 'Activity' | 'Batch'): Feature {
  return {
    name,
    async record(r) {
      const batch = mode === 'Batch' ? { BatchSize: 2 } : {};
      const jobId = await taggingJob(r, name, keysOf(name, 5), { Extensions: { PageSize: 3, TaskExecution: mode, ...batch } }, [
        `${r.data},${name}/missing.txt`,
      ]);
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
  };
}

/** Activities the pages asked to cancel (ActivityTaskCancelRequested events), in a recorded set of histories. */
function cancelRequests(files: { fixture: HistoryFixture }[]): number {
  return files
    .filter(({ fixture }) => fixture.workflowType === 'batchPageWorkflow')
    .flatMap(({ fixture }) => (fixture.history as { events: { eventType?: string }[] }).events)
    .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED').length;
}

const FEATURES: Feature[] = [
  plainJob('plain-local-activity', 'LocalActivity'),
  plainJob('plain-activity', 'Activity'),
  plainJob('plain-batch', 'Batch'),
  {
    // Batch mode paused mid-batch: the page cancels its batch, which answers with the rows it finished; after the
    // resume the rest run in a new batch.
    name: 'batch-pause-resume',
    async record(r) {
      const jobId = await taggingJob(r, 'batch-pause', keysOf('batch-pause', 9), {
        Extensions: { ...slowly, PageSize: 9, TaskExecution: 'Batch', BatchSize: 9 },
      });
      await waitFor(r.engine, jobId, 'Active', (j) => j.Status === 'Active');
      // Counts move only when a batch ends: give the batch time to finish a row or two first.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await r.engine.jobs.pauseJob(jobId, 'recorded pause mid-batch');
      await waitFor(r.engine, jobId, 'Paused', (j) => j.Status === 'Paused');
      await r.engine.jobs.resumeJob(jobId, 'recorded resume');
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
    check(files) {
      if (cancelRequests(files) === 0) throw new Error('the pause did not reach a running batch');
    },
  },
  {
    name: 'continue-as-new',
    expectFiles: ['job-run-2.json', 'job-page-0-run-2.json'],
    async record(r) {
      // 4 pages, 2 page starts per job run: the job continues as new; 3 tasks per page, 2 per page run: so do pages.
      const jobId = await taggingJob(r, 'can', keysOf('can', 12), {
        Extensions: { PageSize: 3, MaxConcurrentPages: 2, PagesPerRun: 2, TasksPerPageRun: 2 },
      });
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'continue-as-new-activity',
    expectFiles: ['job-run-2.json', 'job-page-0-run-2.json'],
    async record(r) {
      const jobId = await taggingJob(r, 'can-a', keysOf('can-a', 8), {
        Extensions: { PageSize: 4, MaxConcurrentPages: 1, PagesPerRun: 1, TasksPerPageRun: 3, TaskExecution: 'Activity' },
      });
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'pause-resume',
    async record(r) {
      const jobId = await taggingJob(r, 'pause', keysOf('pause', 9), { Extensions: slowly });
      await waitFor(r.engine, jobId, 'the first tasks', (j) => j.Status === 'Active' && done(j) >= 1);
      await r.engine.jobs.pauseJob(jobId, 'recorded pause');
      const paused = await waitFor(r.engine, jobId, 'Paused', (j) => j.Status === 'Paused');
      if (done(paused) >= 9) throw new Error('the job finished before it was paused');
      await r.engine.jobs.resumeJob(jobId, 'recorded resume');
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'cancel',
    async record(r) {
      const jobId = await taggingJob(r, 'cancel', keysOf('cancel', 9), { Extensions: slowly });
      await waitFor(r.engine, jobId, 'the first tasks', (j) => j.Status === 'Active' && done(j) >= 1);
      await r.engine.jobs.cancelJob(jobId, 'recorded cancel');
      const end = await finished(r.engine, jobId, 'Cancelled');
      if (done(end) >= 9) throw new Error('every task ran before the cancel');
      return [{ label: 'job', jobId }];
    },
  },
  {
    // A job cancel while a page has Activity-mode tasks in flight: the page cancels them (RequestCancelActivityTask
    // commands, ActivityTaskCancelRequested events), a history a draining stop must still replay.
    name: 'cancel-activity-inflight',
    async record(r) {
      r.proxy.setRates({ maxDelayMs: 1500 });
      try {
        const jobId = await taggingJob(r, 'cancel-a', keysOf('cancel-a', 200), {
          Extensions: {
            Connection: 'slow',
            ReportConnection: 'default',
            TaskExecution: 'Activity',
            PageSize: 50,
            MaxConcurrentPages: 2,
            MaxConcurrentTasksPerPage: 8,
          },
        });
        await waitFor(r.engine, jobId, '20 tasks', (j) => j.Status === 'Active' && done(j) >= 20);
        await r.engine.jobs.cancelJob(jobId, 'recorded cancel with tasks in flight');
        const end = await finished(r.engine, jobId, 'Cancelled');
        if (done(end) >= 200) throw new Error('every task ran before the cancel');
        return [{ label: 'job', jobId }];
      } finally {
        r.proxy.setRates(SLOW_RATES);
      }
    },
    check(files) {
      if (cancelRequests(files) === 0) throw new Error('no page cancelled a task in flight (no ActivityTaskCancelRequested event)');
    },
  },
  {
    name: 'temporal-cancel',
    async record(r) {
      const jobId = await taggingJob(r, 'tcancel', keysOf('tcancel', 9), { Extensions: slowly });
      await waitFor(r.engine, jobId, 'the first tasks', (j) => j.Status === 'Active' && done(j) >= 1);
      await r.engine.jobs.handle(jobId).cancel();
      const end = await finished(r.engine, jobId, 'Cancelled');
      if (end.StatusUpdateReason !== 'Cancelled through Temporal') throw new Error(`unexpected reason ${end.StatusUpdateReason}`);
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'priority-change',
    async record(r) {
      const jobId = await taggingJob(r, 'priority', keysOf('priority', 9), { Priority: 10, Extensions: slowly });
      await waitFor(r.engine, jobId, 'the first tasks', (j) => j.Status === 'Active' && done(j) >= 1);
      // Another priority key: the pages in flight are told the new one.
      await r.engine.jobs.updateJobPriority(jobId, 1_000_000);
      const end = await finished(r.engine, jobId, 'Complete');
      if (end.Priority !== 1_000_000) throw new Error(`priority ${end.Priority} after the change`);
      return [{ label: 'job', jobId }];
    },
  },
  {
    // Extensions.MaxTasksPerSecond: pages pace their tasks with timers, carry their credit across continue-as-new, are
    // told new shares by signal (pages starting and finishing, an UpdateJobRate), and start afresh after a pause.
    name: 'rate-limit',
    expectFiles: ['job-page-0-run-2.json'],
    async record(r) {
      const jobId = await taggingJob(r, 'rate', keysOf('rate', 16), {
        Extensions: { MaxTasksPerSecond: 2, PageSize: 4, MaxConcurrentPages: 2, TasksPerPageRun: 3 },
      });
      await waitFor(r.engine, jobId, 'the first tasks', (j) => j.Status === 'Active' && done(j) >= 2);
      await r.engine.jobs.updateJobRate(jobId, 4);
      await r.engine.jobs.pauseJob(jobId, 'recorded pause of a rate-limited job');
      const paused = await waitFor(r.engine, jobId, 'Paused', (j) => j.Status === 'Paused');
      if (done(paused) >= 16) throw new Error('the job finished before it was paused');
      await r.engine.jobs.resumeJob(jobId, 'recorded resume');
      const end = await finished(r.engine, jobId, 'Complete');
      if (end.S3Batch.MaxTasksPerSecond !== 4) throw new Error(`rate ${end.S3Batch.MaxTasksPerSecond} after the change`);
      return [{ label: 'job', jobId }];
    },
    check(files) {
      const timers = files
        .filter(({ fixture }) => fixture.workflowType === 'batchPageWorkflow')
        .flatMap(({ fixture }) => (fixture.history as { events: { eventType?: string }[] }).events)
        .filter((event) => event.eventType === 'EVENT_TYPE_TIMER_STARTED').length;
      if (timers === 0) throw new Error('no page paced its tasks (no TimerStarted event)');
    },
  },
  {
    name: 'confirmation-required',
    async record(r) {
      const jobId = await taggingJob(r, 'confirm', keysOf('confirm', 3), { ConfirmationRequired: true });
      await waitFor(r.engine, jobId, 'Suspended', (j) => j.Status === 'Suspended');
      await r.engine.jobs.confirmJob(jobId, 'recorded confirmation');
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'bad-rows',
    async record(r) {
      // A row without a key, a row with an undecodable key, a bucket that does not exist, a key that does not exist.
      const jobId = await taggingJob(r, 'bad', keysOf('bad', 2), { Extensions: { PageSize: 3 } }, [
        r.data,
        `${r.data},bad%zz`,
        `no-such-bucket-${randomBytes(4).toString('hex')},k`,
        `${r.data},bad/missing.txt`,
      ]);
      const end = await finished(r.engine, jobId, 'Complete');
      if (end.ProgressSummary.NumberOfTasksFailed !== 4) throw new Error(`expected 4 failed rows: ${JSON.stringify(end.ProgressSummary)}`);
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'failure-threshold',
    async record(r) {
      const missing = Array.from({ length: 9 }, (_, i) => `${r.data},threshold/missing-${i}.txt`);
      const jobId = await taggingJob(r, 'threshold', keysOf('threshold', 2), {
        Extensions: { PageSize: 2, MaxConcurrentPages: 1, FailureThreshold: { MinTasks: 4, FailedRatio: 0.5 } },
      }, missing);
      const end = await finished(r.engine, jobId, 'Failed');
      if (end.FailureReasons[0]?.FailureCode !== 'TaskFailureThresholdExceeded') throw new Error(JSON.stringify(end.FailureReasons));
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'generated-manifest',
    async record(r) {
      const source = uniqueBucket('rec-gen');
      await createBucket(r.engine.s3, source);
      await seedObjects(r.engine.s3, source, keysOf('gen', 5));
      const request = csvJob({ bucket: r.data, key: 'unused' }, tagging, r.reports, {
        ManifestGenerator: { S3JobManifestGenerator: { SourceBucket: `arn:aws:s3:::${source}`, EnableManifestOutput: false } },
        Extensions: { PageSize: 2 },
      });
      const { Manifest: _unused, ...generated } = request;
      const { jobId } = await r.engine.jobs.createJob(generated);
      const end = await finished(r.engine, jobId, 'Complete');
      if (end.ProgressSummary.NumberOfTasksSucceeded !== 5) throw new Error(JSON.stringify(end.ProgressSummary));
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'redrive',
    async record(r) {
      const keys = keysOf('redrive', 4);
      await seedObjects(r.engine.s3, r.data, keys.slice(0, 2));
      const manifest = await putManifest(r.engine.s3, r.data, 'redrive', rows(r.data, keys));
      const { jobId: original } = await r.engine.jobs.createJob(csvJob(manifest, tagging, r.reports, { Extensions: { PageSize: 2 } }));
      await finished(r.engine, original, 'Complete');
      // The failed rows' objects now exist: the redrive succeeds where the original failed.
      await seedObjects(r.engine.s3, r.data, keys.slice(2));
      const { jobId } = await r.engine.jobs.redriveJob(original);
      const end = await finished(r.engine, jobId, 'Complete');
      if (end.ProgressSummary.NumberOfTasksSucceeded !== 2) throw new Error(JSON.stringify(end.ProgressSummary));
      return [
        { label: 'original', jobId: original },
        { label: 'redrive', jobId },
      ];
    },
  },
  {
    name: 'status-webhook',
    async record(r) {
      const jobId = await taggingJob(r, 'hook', keysOf('hook', 4), {
        Extensions: { PageSize: 2, StatusWebhook: { Url: r.webhookUrl, MaxRetryIntervalSeconds: 1 } },
      });
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
  },
  {
    // A page terminated by an operator: the job's page check finds it dead and restarts it from its run's start
    // (`<job>/page-0/restart-1`), with the health-check timers in the job's history.
    name: 'page-restart',
    async record(r) {
      const jobId = await taggingJob(r, 'restart', keysOf('restart', 6), { Extensions: { ...slowly, PageHealthCheckSeconds: 1 } });
      const page = r.engine.client.workflow.getHandle(pageWorkflowId(jobId, 0));
      await retrying('page 0 running', async () => {
        if ((await page.describe()).status.name !== 'RUNNING') throw new Error('not running yet');
      });
      await page.terminate('recorded: terminated by an operator');
      await finished(r.engine, jobId, 'Complete');
      return [{ label: 'job', jobId }];
    },
    check(files) {
      if (!files.some(({ fixture }) => fixture.workflowId.endsWith('/restart-1'))) throw new Error('no page was restarted');
    },
  },
  {
    // The manifest overwritten while the job is paused: the next page cannot read its pinned rows, signals
    // pageFailed and fails; the job fails with the reason and reports what ran.
    name: 'page-failure-notice',
    async record(r) {
      const keys = keysOf('pagefail', 9);
      const jobId = await taggingJob(r, 'pagefail', keys, { Extensions: slowly });
      await waitFor(r.engine, jobId, 'the first task', (j) => j.Status === 'Active' && done(j) >= 1);
      await r.engine.jobs.pauseJob(jobId);
      await waitFor(r.engine, jobId, 'Paused', (j) => j.Status === 'Paused');
      await r.engine.s3.send(new PutObjectCommand({ Bucket: r.data, Key: 'manifests/pagefail.csv', Body: `${r.data},${keys[0]}\n` }));
      await r.engine.jobs.resumeJob(jobId);
      const end = await finished(r.engine, jobId, 'Failed');
      if (!end.FailureReasons?.some((f) => f.FailureCode === 'ManifestETagMismatch')) throw new Error(JSON.stringify(end.FailureReasons));
      return [{ label: 'job', jobId }];
    },
  },
  {
    name: 'restore-wait',
    expectFiles: ['job-page-0-run-2.json'],
    async record(r) {
      // On moto (MinIO has no archive classes). Each page of 3 rows runs 2 tasks per run: waits still open at the end
      // of a run are carried into the next.
      const moto = motoClient();
      try {
        const bucket = uniqueBucket('rec-restore');
        await moto.send(new CreateBucketCommand({ Bucket: bucket }));
        const keys = keysOf('restore', 3);
        for (const key of keys) {
          await moto.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}`, StorageClass: 'GLACIER' }));
        }
        const manifest = await putManifest(moto, bucket, 'restore', [...rows(bucket, keys), `${bucket},restore/missing.txt`]);
        const request = csvJob(manifest, { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, bucket, {
          Extensions: { Connection: 'moto', PageSize: 3, TasksPerPageRun: 2, WaitForRestore: { InitialPollSeconds: 1, MaxPollSeconds: 2 } },
        });
        const { jobId } = await r.engine.jobs.createJob(request);
        const end = await finished(r.engine, jobId, 'Complete');
        if (end.ProgressSummary.NumberOfTasksSucceeded !== 3) throw new Error(JSON.stringify(end.ProgressSummary));
        return [{ label: 'job', jobId }];
      } finally {
        moto.destroy();
      }
    },
  },
  {
    // Every page in flight only waits for restores that do not finish: the job checks on its pages every
    // MaxPollSeconds instead of every PageHealthCheckSeconds (the page-check-backoff patch), then is cancelled.
    name: 'restore-wait-check-backoff',
    async record(r) {
      const moto = motoClient();
      const transition = (body: object | undefined) =>
        fetch(`${getStack().moto.endpoint}/moto-api/state-manager/${body ? 'set' : 'unset'}-transition`, {
          method: 'POST',
          body: JSON.stringify({ model_name: 's3::keyrestore', ...(body ? { transition: body } : {}) }),
        });
      try {
        // Restores read "in progress" at their next thousand checks.
        await transition({ progression: 'manual', times: 1000 });
        const bucket = uniqueBucket('rec-restore-wait');
        await moto.send(new CreateBucketCommand({ Bucket: bucket }));
        const keys = keysOf('waiting', 2);
        for (const key of keys) {
          await moto.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}`, StorageClass: 'GLACIER' }));
        }
        const manifest = await putManifest(moto, bucket, 'waiting', rows(bucket, keys));
        const request = csvJob(manifest, { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, bucket, {
          Extensions: { Connection: 'moto', PageSize: 1, PageHealthCheckSeconds: 1, WaitForRestore: { InitialPollSeconds: 1, MaxPollSeconds: 2 } },
        });
        const { jobId } = await r.engine.jobs.createJob(request);
        await retrying('a check timer of MaxPollSeconds', async () => {
          const history = await r.engine.jobs.handle(jobId).fetchHistory();
          if (!history.events?.some((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0) === 2)) throw new Error('not yet');
        });
        await r.engine.jobs.cancelJob(jobId, 'recorded: stop waiting');
        await finished(r.engine, jobId, 'Cancelled');
        return [{ label: 'job', jobId }];
      } finally {
        await transition(undefined);
        moto.destroy();
      }
    },
  },
];

// ---- Downloading the histories ----

interface Run {
  workflowId: string;
  runId: string;
  workflowType: string;
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
}

/** Every run of `workflowId`, first run first; throws until the chain is complete and closed (visibility lags). */
async function chainOf(engine: Engine, workflowId: string): Promise<Run[]> {
  const runs = new Map<string, Run>();
  for await (const execution of engine.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    if (execution.status.name === 'RUNNING') throw new Error(`${workflowId} run ${execution.runId} is still running`);
    const history = await engine.client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    runs.set(execution.runId, { workflowId, runId: execution.runId, workflowType: execution.type, history });
  }
  const started = (run: Run) => run.history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const first = [...runs.values()].filter((run) => !started(run)?.continuedExecutionRunId);
  if (first.length !== 1) throw new Error(`${workflowId}: ${first.length} first runs among ${runs.size} listed`);
  const chain = [first[0]!];
  for (;;) {
    const last = chain[chain.length - 1]!.history.events!.at(-1)!;
    const next = last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) break;
    const run = runs.get(next);
    if (!run) throw new Error(`${workflowId}: run ${next} not listed yet`);
    chain.push(run);
  }
  if (chain.length !== runs.size) throw new Error(`${workflowId}: ${runs.size} runs listed, ${chain.length} chained`);
  return chain;
}

async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The job's runs and the runs of every page it started (read from the job's own history). */
async function download(engine: Engine, job: RecordedJob): Promise<{ file: string; fixture: HistoryFixture }[]> {
  const jobRuns = await retrying(job.jobId, () => chainOf(engine, job.jobId));
  const pageIds = new Set<string>();
  for (const run of jobRuns) {
    for (const event of run.history.events ?? []) {
      const id = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (id) pageIds.add(id);
    }
  }
  const out: { file: string; fixture: HistoryFixture }[] = [];
  const add = (name: string, runs: Run[]) =>
    runs.forEach((run, i) =>
      out.push({
        file: `${name}-run-${i + 1}.json`,
        fixture: {
          workflowId: run.workflowId,
          runId: run.runId,
          workflowType: run.workflowType,
          history: historyToJSONObject(run.history),
        },
      })
    );
  add(job.label, jobRuns);
  for (const pageId of pageIds) {
    // `<job>/page-3` → `3`; a restarted page, `<job>/page-3/restart-1` → `3-restart-1`.
    const index = pageId.slice(pageId.lastIndexOf('/page-') + '/page-'.length).replaceAll('/', '-');
    add(`${job.label}-page-${index}`, await retrying(pageId, () => chainOf(engine, pageId)));
  }
  return out;
}

/** Which workflow code wrote the histories: the commit, and whether src/ had uncommitted changes. */
function recordedFrom(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: resolve(__dirname, '..'), encoding: 'utf8' }).trim();
  const dirty = git('status', '--porcelain', '--', 'src') !== '';
  return `Recorded by npm run histories:record on ${new Date().toISOString().slice(0, 10)} from commit ${git('rev-parse', 'HEAD')}${
    dirty ? ' with uncommitted changes in src/' : ''
  }.\n`;
}

// ---- Main ----

async function startWebhookReceiver(): Promise<{ server: Server; url: string }> {
  let refused = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // The first two deliveries are refused: the history then holds retried deliveries.
      if (refused < 2) {
        refused++;
        res.writeHead(503).end('not yet');
      } else {
        res.writeHead(200).end('ok');
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/recorded` };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const replace = args.includes('--replace');
  const wanted = args.filter((arg) => arg !== '--replace');
  const unknown = wanted.filter((name) => !FEATURES.some((f) => f.name === name));
  if (unknown.length) throw new Error(`unknown features ${unknown.join(', ')}; have ${FEATURES.map((f) => f.name).join(', ')}`);
  // Recorded fixtures stand for jobs of earlier versions: kept unless --replace says otherwise.
  const features = (wanted.length ? FEATURES.filter((f) => wanted.includes(f.name)) : FEATURES).filter((f) => {
    const recorded = existsSync(join(HISTORY_FIXTURES_DIR, f.name));
    if (recorded && !replace) console.log(`${f.name}: recorded already, kept (--replace to record it again)`);
    return replace || !recorded;
  });
  if (features.length === 0) return;

  const base = stackWorkerConfig('unused');
  const receiver = await startWebhookReceiver();
  const proxy = await startFaultProxy({
    target: base.s3.default!.endpoint!,
    rates: SLOW_RATES,
    seed: 15,
    // Only the tasks' calls are slowed, not the manifest read or the report.
    eligible: (req) => (req.url ?? '').includes('tagging'),
  });
  const engine = await startEngine({
    workerConfig: {
      s3: { ...base.s3, slow: { ...base.s3.default!, endpoint: proxy.endpoint } },
      webhooks: { ...base.webhooks, secret: WEBHOOK_SECRET, allowedUrlPrefixes: [receiver.url] },
    },
  });
  // The worker's secrets (S3 keys of 8 characters or more, the webhook secret) must not be in what is saved.
  const secrets = [
    WEBHOOK_SECRET,
    ...Object.values(engine.config.s3).flatMap((c) => {
      const credentials = c.credentials;
      return credentials && 'secretAccessKey' in credentials ? [credentials.secretAccessKey] : [];
    }),
  ].filter((secret) => secret.length >= 8);
  const r: Recorder = {
    engine,
    data: uniqueBucket('rec-data'),
    reports: uniqueBucket('rec-reports'),
    webhookUrl: receiver.url,
    proxy,
  };
  try {
    await createBucket(engine.s3, r.data);
    await createBucket(engine.s3, r.reports);
    for (const feature of features) {
      const started = Date.now();
      const jobs = await feature.record(r);
      const files = (await Promise.all(jobs.map((job) => download(engine, job)))).flat();
      const missing = (feature.expectFiles ?? []).filter((name) => !files.some((f) => f.file === name));
      if (missing.length) throw new Error(`${feature.name}: expected ${missing.join(', ')} among ${files.map((f) => f.file).join(', ')}`);
      feature.check?.(files);
      const leaks = files.flatMap(({ file, fixture }) => secretsIn(historyFromJSONObject(fixture.history), secrets).map((at) => `${file} ${at}`));
      if (leaks.length) throw new Error(`${feature.name}: secrets in history, not saved:\n${leaks.join('\n')}`);
      const dir = join(HISTORY_FIXTURES_DIR, feature.name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const { file, fixture } of files) writeFileSync(join(dir, file), `${JSON.stringify(fixture)}\n`);
      writeFileSync(join(dir, 'recorded-from.txt'), recordedFrom());
      console.log(`${feature.name}: ${files.length} histories in ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } finally {
    await engine.close();
    await proxy.close();
    await new Promise((done) => receiver.server.close(done));
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
