/**
 * Batch mode (Extensions.TaskExecution "Batch"): rows run in batch activities, each row still its own task.
 * - A job with succeeding and failing rows (missing keys, a key S3 always refuses, a key throttled on every attempt,
 *   a key throttled once, a bad manifest row) gives the same counts, report rows and S3 calls per key as the same job
 *   in the default mode; Temporal Web names each batch by its rows.
 * - A worker SIGKILLed mid-batch: the batch resumes on another worker, and no row whose result was heartbeated is sent
 *   to S3 again (S3 calls counted per key at a proxy); every row is reported once.
 * - Pause and cancel reach a running batch: it stops starting rows, its finished rows are counted; after a resume the
 *   rest run, each once.
 * The tasks' S3 calls go through a proxy on loopback that counts requests per key and can add latency.
 */
import type { IncomingMessage } from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { pageWorkflowId } from '../../src/shared/constants';
import type { TaskBatchProgress } from '../../src/shared/task-batch';
import type { JobDescriptor } from '../../src/shared/types';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import type { RunTaskBatchInput } from '../../src/activities/run-task-batch';
import {
  createBucket,
  csvJob,
  putManifest,
  readReport,
  seedObjects,
  startEngine,
  stackConnectionsVia,
  stackWorkerConfig,
  uniqueBucket,
  type Engine,
} from '../helpers/engine';
import { requestSignature, startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy';
import { getStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

let engine: Engine;
let proxy: FaultProxy;
const data = uniqueBucket('batchmode-data');
const reports = uniqueBucket('batchmode-reports');
const TAG = { Key: 'batch', Value: 'yes' };
/** Tagging requests the proxy answers itself, by key: how many times each was seen. */
const throttledOnce = new Set<string>();

beforeAll(async () => {
  proxy = await startFaultProxy({
    target: getStack().s3.endpoint,
    rates: {},
    seed: 17,
    answer: (req: IncomingMessage) => {
      const signature = requestSignature(req);
      if (req.method !== 'PUT' || !signature.endsWith('?tagging')) return undefined;
      if (signature.includes('/refused')) return { status: 403, code: 'AccessDenied', message: 'Access Denied' };
      const slowDown = { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };
      if (signature.includes('/throttled-always')) return slowDown;
      if (signature.includes('/throttled-once') && !throttledOnce.has(signature)) {
        throttledOnce.add(signature);
        return slowDown;
      }
      return undefined;
    },
  });
  engine = await startEngine({ workerConfig: { s3: proxiedConnections() } });
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
});

afterAll(async () => {
  await engine?.close();
  await proxy?.close();
});

/** The stack's connections plus `slow`: MinIO through the proxy. */
function proxiedConnections() {
  return stackConnectionsVia(proxy.endpoint, 'slow');
}

function taggingJob(manifest: { bucket: string; key: string; etag: string }, extensions: CreateJobInput['Extensions']): CreateJobInput {
  return csvJob(manifest, { S3PutObjectTagging: { TagSet: [TAG] } }, reports, { Extensions: { Connection: 'slow', ...extensions } });
}

/** `count` objects under `prefix/` and a manifest listing them. */
async function seed(prefix: string, count: number) {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}/${String(i).padStart(3, '0')}`);
  await seedObjects(engine.s3, data, keys);
  const manifest = await putManifest(engine.s3, data, prefix.replace(/\//g, '-'), keys.map((k) => `${data},${k}`));
  return { keys, manifest };
}

/** Tagging requests that reached the store, per key under `prefix/`. */
function taggingCalls(prefix: string, calls: Map<string, number> = proxy.forwarded()): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [signature, n] of calls) {
    if (signature.startsWith(`PUT /${data}/${prefix}/`) && signature.endsWith('?tagging')) {
      counts.set(signature.slice(`PUT /${data}/`.length, -'?tagging'.length), n);
    }
  }
  return counts;
}

async function reportRows(job: JobDescriptor) {
  const { rows } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  // Every row once.
  expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  return rows;
}

async function until(jobId: string, predicate: (job: JobDescriptor) => boolean, what: string, jobs = engine.jobs): Promise<JobDescriptor> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const job = await jobs.describeJob(jobId).catch(() => undefined);
    if (job && predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} never ${what}; it is ${job?.Status}: ${JSON.stringify(job?.ProgressSummary)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function untilCalls(prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ([...taggingCalls(prefix).values()].reduce((a, b) => a + b, 0) < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} tagging calls under ${prefix}/`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ran = (job: JobDescriptor) => job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed;

/** Every activity scheduled by the job's page runs: its type, its summary (as Temporal Web lists it) and its input. */
async function pageActivities(jobId: string, jobs = engine) {
  const scheduled: { type: string; summary?: string; input: unknown; activityId: string }[] = [];
  for await (const page of jobs.client.workflow.list({ query: `WorkflowId STARTS_WITH '${jobId}/page-'` })) {
    const history = await jobs.client.workflow.getHandle(page.workflowId, page.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (!a) continue;
      const summary = e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary) : undefined;
      const input = a.input?.payloads?.[0] ? defaultPayloadConverter.fromPayload(a.input.payloads[0]) : undefined;
      scheduled.push({ type: a.activityType?.name ?? '', summary, input, activityId: a.activityId ?? '' });
    }
  }
  return scheduled;
}

/** Each batch of the job's first page, in order: its row count, whether it was cancelled, and the keys it finished. */
async function batchOutcomes(jobId: string) {
  const history = await engine.client.workflow.getHandle(pageWorkflowId(jobId, 0)).fetchHistory();
  const batches = new Map<string, { rows: number; keys: string[]; cancelRequested: boolean; finished?: string[] }>();
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'runTaskBatch') {
      const input = defaultPayloadConverter.fromPayload<RunTaskBatchInput>(scheduled.input!.payloads![0]!);
      batches.set(String(e.eventId), { rows: input.rows.length, keys: input.rows.map((r) => r.object.key), cancelRequested: false });
    }
    const cancel = e.activityTaskCancelRequestedEventAttributes;
    if (cancel) batches.get(String(cancel.scheduledEventId))!.cancelRequested = true;
    const done = e.activityTaskCompletedEventAttributes;
    const batch = done && batches.get(String(done.scheduledEventId));
    if (batch) {
      const { results } = defaultPayloadConverter.fromPayload<TaskBatchProgress>(done.result!.payloads![0]!);
      batch.finished = batch.keys.filter((_, i) => results[i] !== null).sort();
    }
  }
  return [...batches.values()].map(({ keys: _keys, ...batch }) => batch);
}

test('a job with succeeding and failing rows: same counts, report rows and S3 calls per key as the default mode', async () => {
  const outcomes: Record<string, { summary: JobDescriptor['ProgressSummary']; rows: unknown[]; calls: Record<string, number> }> = {};
  for (const mode of ['LocalActivity', 'Batch'] as const) {
    // Prefixes of one length: report messages name byte offsets.
    const prefix = `mix-${mode === 'Batch' ? 'b' : 'l'}`;
    const good = Array.from({ length: 30 }, (_, i) => `${prefix}/ok-${String(i).padStart(2, '0')}`);
    const special = ['refused', 'throttled-always', 'throttled-once'].map((name) => `${prefix}/${name}`);
    await seedObjects(engine.s3, data, [...good, ...special]);
    const rows = [
      ...good.slice(0, 15).map((k) => `${data},${k}`),
      ...special.map((k) => `${data},${k}`),
      ...Array.from({ length: 4 }, (_, i) => `${data},${prefix}/missing-${i}`),
      // A bad row: one column. It fails without an S3 call.
      `${data}`,
      ...good.slice(15).map((k) => `${data},${k}`),
    ];
    const manifest = await putManifest(engine.s3, data, prefix, rows);
    const { jobId } = await engine.jobs.createJob(
      taggingJob(manifest, {
        TaskExecution: mode,
        BatchSize: 6,
        PageSize: 20,
        MaxConcurrentPages: 2,
        MaxConcurrentTasksPerPage: 8,
        MaxAttemptsPerTask: 3,
        // Pages continue as new part-way: batches carry across parts like tasks do.
        TasksPerPageRun: 11,
      })
    );
    const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 150_000 });
    expect(job.Status).toBe('Complete');
    const report = await reportRows(job);
    expect(report).toHaveLength(rows.length);
    outcomes[mode] = {
      summary: job.ProgressSummary,
      rows: report
        .map(({ key, status, httpStatus, errorCode, message }) => ({ key: key.replace(prefix, '*'), status, httpStatus, errorCode, message }))
        .sort((a, b) => a.key.localeCompare(b.key)),
      calls: Object.fromEntries([...taggingCalls(prefix, proxy.requests())].map(([k, n]) => [k.replace(prefix, '*'), n])),
    };

    const activities = await pageActivities(jobId);
    if (mode === 'Batch') {
      // Rows ran in batches of at most BatchSize, each named in Temporal Web by its manifest lines.
      const batches = activities.filter((a) => a.type === 'runTaskBatch');
      expect(activities.filter((a) => a.type === 'runTask')).toEqual([]);
      expect(batches.length).toBeLessThan(rows.length / 2);
      for (const batch of batches) {
        const input = batch.input as RunTaskBatchInput;
        expect(input.rows.length).toBeLessThanOrEqual(6);
        expect(batch.summary).toMatch(/^S3PutObjectTagging lines \d+-\d+/);
      }
      // Every good row ran in exactly one batch.
      const batchedKeys = batches.flatMap((b) => (b.input as RunTaskBatchInput).rows.map((r) => r.object.key));
      expect(batchedKeys.filter((k) => good.includes(k)).sort()).toEqual([...good].sort());
    }
  }
  const { LocalActivity: single, Batch: batch } = outcomes;
  expect(batch!.summary).toEqual(single!.summary);
  expect(batch!.summary).toMatchObject({ TotalNumberOfTasks: 38, NumberOfTasksSucceeded: 31, NumberOfTasksFailed: 7 });
  expect(batch!.rows).toEqual(single!.rows);
  expect(batch!.rows).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ key: '*/refused', status: 'failed', errorCode: 'AccessDenied', httpStatus: '403' }),
      expect.objectContaining({ key: '*/throttled-always', status: 'failed', errorCode: 'SlowDown', message: expect.stringMatching(/gave up after 3 attempts/) }),
      expect.objectContaining({ key: '*/throttled-once', status: 'succeeded' }),
      expect.objectContaining({ status: 'failed', errorCode: 'InvalidManifestRow' }),
    ])
  );
  // Each row retried as a task: the throttled key three times (its attempts), the once-throttled key twice, others once.
  expect(batch!.calls).toEqual(single!.calls);
  expect(batch!.calls).toMatchObject({ '*/throttled-always': 3, '*/throttled-once': 2, '*/refused': 1, '*/ok-00': 1, '*/missing-0': 1 });
});

test('SIGKILL the worker mid-batch: the batch resumes elsewhere, no heartbeated row runs again, every row once', async () => {
  // Worker processes on their own task queue, so the in-process worker of this file takes none of their tasks.
  const own = await startEngine({ startWorker: false });
  const workers: WorkerProcess[] = [];
  proxy.setRates({ maxDelayMs: 800 });
  try {
    const config = { ...stackWorkerConfig(own.taskQueue), s3: proxiedConnections() };
    const first = await spawnWorker(config);
    workers.push(first);
    await first.ready;
    const prefix = 'sigkill';
    const { keys, manifest } = await seed(prefix, 120);
    const { jobId } = await own.jobs.createJob(
      taggingJob(manifest, { TaskExecution: 'Batch', BatchSize: 60, PageSize: 60, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 4 })
    );
    // Wait until the running batch has heartbeated some of its rows' results (and not all of them).
    const page = own.client.workflow.getHandle(pageWorkflowId(jobId, 0));
    type Described = Awaited<ReturnType<typeof page.describe>>;
    let pending: NonNullable<Described['raw']['pendingActivities']>[number] | undefined;
    let progress: TaskBatchProgress | undefined;
    for (const deadline = Date.now() + 120_000; ; ) {
      const described = await page.describe().catch(() => undefined);
      pending = described?.raw.pendingActivities?.find((a) => a.activityType?.name === 'runTaskBatch');
      const details = pending?.heartbeatDetails?.payloads?.[0];
      progress = details ? defaultPayloadConverter.fromPayload<TaskBatchProgress>(details) : undefined;
      const recorded = progress?.results.filter((r) => r !== null).length ?? 0;
      if (recorded >= 8 && recorded < 50) break;
      if (Date.now() > deadline) throw new Error(`no batch heartbeated part of its rows: ${JSON.stringify(progress)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await first.kill('SIGKILL');
    expect(() => process.kill(first.child.pid!, 0)).toThrow();
    // The heartbeated rows: the batch's input rows that have a result in the details Temporal holds.
    const batch = (await pageActivities(jobId, own)).find((a) => a.activityId === pending!.activityId)!;
    const heartbeated = (batch.input as RunTaskBatchInput).rows.filter((_, i) => progress!.results[i] !== null).map((r) => r.object.key);
    expect(heartbeated.length).toBeGreaterThanOrEqual(8);

    const second = await spawnWorker(config);
    workers.push(second);
    await second.ready;
    // Until the new worker polls, the job cannot answer a query: wait through that.
    const final = await until(jobId, (j) => j.Status === 'Complete' || j.Status === 'Failed', 'ended', own.jobs);
    expect(final.Status).toBe('Complete');
    expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 120, NumberOfTasksSucceeded: 120, NumberOfTasksFailed: 0 });
    const rows = await reportRows(final);
    expect(rows.map((r) => r.key).sort()).toEqual(keys);
    const calls = taggingCalls(prefix, proxy.requests());
    // Not one heartbeated row was sent to S3 again by the resumed batch.
    expect(heartbeated.filter((key) => calls.get(key) !== 1)).toEqual([]);
    expect([...calls.keys()].sort()).toEqual(keys);
  } finally {
    proxy.setRates({});
    for (const w of workers) await w.kill();
    await own.close();
  }
});

test('pause reaches a running batch: it stops starting rows, returns its finished rows, and after a resume the rest run once each', async () => {
  proxy.setRates({ maxDelayMs: 600 });
  try {
    const prefix = 'pause';
    const { keys, manifest } = await seed(prefix, 80);
    const { jobId } = await engine.jobs.createJob(
      taggingJob(manifest, { TaskExecution: 'Batch', BatchSize: 80, PageSize: 80, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 2 })
    );
    await untilCalls(prefix, 6);
    await engine.jobs.pauseJob(jobId, 'pause mid-batch');
    await until(jobId, (j) => j.Status === 'Paused', 'paused');
    // Paused mid-batch: the one batch (all 80 rows) was cancelled and answered with the rows that reached S3, no more.
    const reached = [...taggingCalls(prefix).keys()].sort();
    expect(reached.length).toBeLessThan(keys.length);
    const [first, ...none] = await batchOutcomes(jobId);
    expect(none).toEqual([]);
    expect(first).toMatchObject({ cancelRequested: true, rows: 80 });
    expect(first!.finished).toEqual(reached);
    await engine.jobs.resumeJob(jobId);
    const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 150_000 });
    expect(final.Status).toBe('Complete');
    expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 80, NumberOfTasksSucceeded: 80 });
    expect((await reportRows(final)).map((r) => r.key).sort()).toEqual(keys);
    // The rows the paused batch did not start ran after the resume, in a new batch; no row ran twice.
    const [, second] = await batchOutcomes(jobId);
    expect(second!.finished).toEqual(keys.filter((k) => !reached.includes(k)));
    const calls = taggingCalls(prefix, proxy.requests());
    expect([...calls.keys()].sort()).toEqual(keys);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
  } finally {
    proxy.setRates({});
  }
});

test('cancel reaches a running batch: the job ends Cancelled, and every tagging request that reached the store is in the report', async () => {
  proxy.setRates({ maxDelayMs: 600 });
  try {
    const prefix = 'cancel';
    const { keys, manifest } = await seed(prefix, 80);
    const { jobId } = await engine.jobs.createJob(
      taggingJob(manifest, { TaskExecution: 'Batch', BatchSize: 40, PageSize: 80, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 4 })
    );
    await untilCalls(prefix, 6);
    await engine.jobs.cancelJob(jobId, 'cancel mid-batch');
    const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 150_000 });
    expect(job.Status).toBe('Cancelled');
    // Settle: a request still delayed at the proxy would reach the store after the job ended only if nobody waited.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const reachedStore = [...taggingCalls(prefix).keys()].sort();
    expect(reachedStore.length).toBeLessThan(keys.length);
    const reported = (await reportRows(job)).map((r) => r.key).sort();
    expect(reported).toEqual(reachedStore);
    expect(ran(job)).toBe(reported.length);
  } finally {
    proxy.setRates({});
  }
});
