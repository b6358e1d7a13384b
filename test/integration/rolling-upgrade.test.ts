/**
 * A worker deploy while a job runs, as users do it: every worker process is replaced, one at a time (SIGTERM, the
 * graceful stop), by one running the next version of the workflow code. The next version here is the current code
 * plus one change that alters commands mid-history (test/fixtures/next-version): behind `patched()` the job completes
 * with every row once, and the runs the old workers started finish on the new code; without the patch the new workers
 * cannot replay the old runs (Temporal records a non-determinism failure), which is what the guard is for.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { WORKFLOWS_PATH } from '../../src/worker-runtime';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';
import type { WorkerConfig } from '../../src/schemas/worker-config';
import { createBucket, csvJob, putText, readReport, seedObjects, stackWorkerConfig, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { getStack } from '../helpers/stack';
import { startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { NEXT_VERSION_PATCH } from '../fixtures/next-version/change';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let engine: Engine;
let proxy: FaultProxy;
let config: WorkerConfig;
const bundles = { current: '', next: '', nextWithoutPatch: '' };
const data = uniqueBucket('upgrade-data');
const keys = Array.from({ length: 600 }, (_, i) => `u/${i}`);
const workers: WorkerProcess[] = [];

async function bundleWith(interceptorModule: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [join(__dirname, '../fixtures/next-version', interceptorModule)],
    logger: { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: console.error, log: () => {} },
  });
  const path = join(mkdtempSync(join(tmpdir(), 's3batch-next-version-')), 'workflow-bundle.js');
  writeFileSync(path, code);
  return path;
}

async function startWorker(bundle: string): Promise<WorkerProcess> {
  const worker = await spawnWorker(config, { S3BATCH_WORKFLOW_BUNDLE: bundle });
  workers.push(worker);
  await worker.ready;
  return worker;
}

beforeAll(async () => {
  engine = await startEngine({ startWorker: false });
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, keys);
  // Up to 250 ms before each S3 call, so the job (at most 4 tasks at once) outlasts the deploy (seconds) on any machine.
  proxy = await startFaultProxy({ target: getStack().s3.endpoint, rates: { maxDelayMs: 250 }, seed: 15 });
  const base = stackWorkerConfig(engine.taskQueue);
  config = { ...base, s3: { ...base.s3, default: { ...base.s3.default!, endpoint: proxy.endpoint } } };
  bundles.current = await workflowBundlePath();
  bundles.next = await bundleWith('patched.ts');
  bundles.nextWithoutPatch = await bundleWith('unpatched.ts');
}, 120_000);

afterAll(async () => {
  for (const w of workers) await w.kill();
  await proxy?.close();
  await engine?.close();
});

async function startJob(name: string): Promise<string> {
  const etag = await putText(engine.s3, data, `${name}.csv`, keys.map((k) => `${data},${k}\n`).join(''));
  const { jobId } = await engine.jobs.createJob(
    csvJob({ bucket: data, key: `${name}.csv`, etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'release', Value: name }] } }, data, {
      Extensions: { PageSize: 100, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 2 },
    })
  );
  return jobId;
}

async function waitForSucceeded(jobId: string, atLeast: number): Promise<number> {
  for (;;) {
    const job = await engine.jobs.describeJob(jobId).catch(() => undefined);
    const done = job?.ProgressSummary.NumberOfTasksSucceeded ?? 0;
    if (done >= atLeast) return done;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every run of the job's workflows (the job's and its pages'), with its history. */
async function jobRuns(jobId: string): Promise<{ workflowId: string; events: HistoryEvent[] }[]> {
  const runs: { workflowId: string; events: HistoryEvent[] }[] = [];
  for await (const run of engine.client.workflow.list({ query: `WorkflowId STARTS_WITH '${jobId}'` })) {
    const history = await engine.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    runs.push({ workflowId: run.workflowId, events: history.events ?? [] });
  }
  return runs;
}

function isPatchMarker(event: HistoryEvent): boolean {
  const attributes = event.markerRecordedEventAttributes;
  if (!attributes) return false;
  const payloads = Object.values(attributes.details ?? {}).flatMap((p) => p.payloads ?? []);
  return payloads.some((p) => Buffer.from(p.data ?? []).toString('utf8').includes(NEXT_VERSION_PATCH));
}

test('every worker replaced by the next version (patched) mid-job: completes, every row once, old runs finish on new code', async () => {
  const oldWorkers = [await startWorker(bundles.current), await startWorker(bundles.current)];
  const jobId = await startJob('rolling');
  const beforeDeploy = await waitForSucceeded(jobId, 100);

  // One at a time, as a rolling deploy does: a new worker joins, then an old one stops gracefully.
  const newWorkers: WorkerProcess[] = [];
  for (const old of oldWorkers) {
    newWorkers.push(await startWorker(bundles.next));
    await old.kill('SIGTERM');
  }
  const afterDeploy = (await engine.jobs.describeJob(jobId)).ProgressSummary.NumberOfTasksSucceeded;
  // The deploy really happened mid-job.
  expect(beforeDeploy).toBeLessThan(keys.length);
  expect(afterDeploy).toBeLessThan(keys.length);

  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 240_000 });
  expect(final.Status).toBe('Complete');
  expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 });
  const report = await readReport(engine.s3, data, final.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(keys.length);
  expect(new Set(report.rows.map((r) => r.key))).toEqual(new Set(keys));

  // Some run was started by an old worker (its first workflow task completed by one) and went on under the new code
  // (the patch marker, which only the next version writes, comes later in the same history).
  const oldIdentities = new Set(oldWorkers.map((w) => `${w.child.pid}@`));
  const byOld = (e: HistoryEvent) => [...oldIdentities].some((id) => e.workflowTaskCompletedEventAttributes?.identity?.startsWith(id));
  const runs = await jobRuns(jobId);
  const upgradedMidRun = runs.filter(({ events }) => {
    const firstTask = events.findIndex((e) => e.workflowTaskCompletedEventAttributes);
    const marker = events.findIndex(isPatchMarker);
    return firstTask >= 0 && byOld(events[firstTask]!) && marker > firstTask;
  });
  expect(upgradedMidRun.length).toBeGreaterThan(0);
  for (const w of newWorkers) await w.kill('SIGTERM');
}, 300_000);

test('the same change without patched(): the next version cannot replay runs the current one started', async () => {
  const old = await startWorker(bundles.current);
  const jobId = await startJob('unpatched');
  await waitForSucceeded(jobId, 100);
  const next = await startWorker(bundles.nextWithoutPatch);
  await old.kill('SIGTERM');

  // The new worker picks up the old runs, replays them and fails their workflow tasks as non-deterministic.
  let failed: HistoryEvent | undefined;
  const deadline = Date.now() + 120_000;
  while (!failed && Date.now() < deadline) {
    for (const { events } of await jobRuns(jobId)) {
      failed ??= events.find((e) => String(e.workflowTaskFailedEventAttributes?.failure?.message ?? '').includes('Nondeterminism'));
    }
    if (!failed) await new Promise((r) => setTimeout(r, 1000));
  }
  expect(failed?.workflowTaskFailedEventAttributes?.failure?.message).toMatch(/Nondeterminism/);
  // Clean up: the job cannot go on with this worker.
  for await (const run of engine.client.workflow.list({ query: `WorkflowId STARTS_WITH '${jobId}' AND ExecutionStatus = 'Running'` })) {
    await engine.client.workflow.getHandle(run.workflowId, run.runId).terminate('test: unpatched version cannot replay');
  }
  await next.kill('SIGTERM');
}, 300_000);
