/**
 * A page that cannot go on must never strand its job (issue #19), and a cancel keeps its promise:
 * - the manifest overwritten mid-job: later pages cannot read their pinned rows; the job ends Failed with the reason,
 *   and the report has every row that ran, once;
 * - the report bucket refusing shard writes mid-job (a policy change, scripted at the S3 proxy): the job ends Failed
 *   with the reason; the tasks that ran are counted once, and the shards written before are in the report once;
 * - a page terminated with the Temporal CLI: the job's page check notices, restarts the page from where its run
 *   began, and the job completes with every row once;
 * - a cancel while a page is dead: the job ends Cancelled, not stuck in Cancelling;
 * - a cancel with tasks in flight (a latency proxy holds them), in both task modes: every tagging request that
 *   reached the store has its row in the report.
 * The tasks' S3 calls go through a proxy on loopback that adds latency, so a job is still running when the test acts.
 */
import { GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { IncomingMessage } from 'node:http';
import { runCommand } from '../../scripts/lib/exec';
import { ensureTemporalCli } from '../../scripts/tools';
import { pageWorkflowId } from '../../src/shared/constants';
import type { JobDescriptor } from '../../src/shared/types';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { mapConcurrently } from '../helpers/concurrency';
import { createBucket, putManifest, readReport, csvJob, seedObjects, startEngine, stackConnectionsVia, uniqueBucket, type Engine } from '../helpers/engine';
import { requestSignature, startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy';
import { getStack } from '../helpers/stack';

jest.setTimeout(240_000);

let engine: Engine;
let proxy: FaultProxy;
let temporal: string;
const data = uniqueBucket('pagefail-data');
const reports = uniqueBucket('pagefail-reports');
/** When set, PUTs of report shards under this bucket's `results/` folders are refused, as a bucket policy would. */
let refuseShardsIn: string | undefined;

const TAG = { Key: 'pagefail', Value: 'yes' };

beforeAll(async () => {
  temporal = await ensureTemporalCli();
  const stack = getStack();
  proxy = await startFaultProxy({
    target: stack.s3.endpoint,
    rates: { maxDelayMs: 300 },
    seed: 19,
    answer: (req: IncomingMessage) =>
      refuseShardsIn && req.method === 'PUT' && requestSignature(req).startsWith(`PUT /${refuseShardsIn}/`) && req.url?.includes('/results/')
        ? { status: 403, code: 'AccessDenied', message: 'Access Denied' }
        : undefined,
  });
  engine = await startEngine({ workerConfig: { s3: stackConnectionsVia(proxy.endpoint, 'slow') } });
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
});

afterAll(async () => {
  await engine?.close();
  await proxy?.close();
});

/** `count` fresh objects under `prefix/` and a manifest listing them. */
async function seed(prefix: string, count: number) {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}/${String(i).padStart(3, '0')}`);
  await seedObjects(engine.s3, data, keys);
  const manifest = await putManifest(engine.s3, data, prefix, keys.map((k) => `${data},${k}`));
  return { keys, manifest };
}

function taggingJob(manifest: { bucket: string; key: string; etag: string }, extensions: CreateJobInput['Extensions']): CreateJobInput {
  return csvJob(manifest, { S3PutObjectTagging: { TagSet: [TAG] } }, reports, {
    Extensions: { Connection: 'slow', PageSize: 10, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 2, ...extensions },
  });
}

async function until(jobId: string, predicate: (job: JobDescriptor) => boolean, what: string): Promise<JobDescriptor> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const job = await engine.jobs.describeJob(jobId);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} never ${what}; it is ${job.Status}: ${JSON.stringify(job.ProgressSummary)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ran = (job: JobDescriptor) => job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed;

async function finished(jobId: string): Promise<JobDescriptor> {
  return engine.jobs.waitForCompletion(jobId, { timeoutMs: 150_000, pollMs: 200 });
}

/** The keys that carry the job's tag now: the tasks whose tagging reached the store. */
async function taggedKeys(keys: string[]): Promise<Set<string>> {
  const tagged = new Set<string>();
  await mapConcurrently(keys, 16, async (key) => {
    const out = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
    if (out.TagSet?.some((t) => t.Key === TAG.Key && t.Value === TAG.Value)) tagged.add(key);
  });
  return tagged;
}

/** The report's rows' keys, each checked to appear once. */
async function reportKeys(job: JobDescriptor): Promise<string[]> {
  const manifestKey = job.S3Batch.ReportManifestKey!;
  const { rows } = await readReport(engine.s3, reports, manifestKey);
  const keys = rows.map((r) => r.key);
  expect(new Set(keys).size).toBe(keys.length);
  return keys;
}

async function cli(args: string[]): Promise<void> {
  const stack = getStack();
  const result = await runCommand(temporal, [...args, '--address', stack.temporal.address, '-n', stack.temporal.namespace], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`temporal ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
}

/** Waits until the page workflow runs, then terminates it as an operator would. */
async function terminatePage(jobId: string, pageIndex: number): Promise<void> {
  const id = pageWorkflowId(jobId, pageIndex);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const running = await engine.client.workflow
      .getHandle(id)
      .describe()
      .then((d) => d.status.name === 'RUNNING')
      .catch(() => false);
    if (running) break;
    if (Date.now() > deadline) throw new Error(`page ${id} never ran`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await cli(['workflow', 'terminate', '-w', id, '--reason', 'terminated by an operator (test)']);
}

test('manifest overwritten mid-job: the job ends Failed with the reason; the report has every row that ran, once', async () => {
  const { keys, manifest } = await seed('overwrite', 60);
  const { jobId } = await engine.jobs.createJob(taggingJob(manifest, {}));
  // Paused with one page part-way: no page after it has read its rows yet.
  await until(jobId, (j) => ran(j) >= 5, 'ran 5 tasks');
  await engine.jobs.pauseJob(jobId);
  await until(jobId, (j) => j.Status === 'Paused', 'paused');
  await engine.s3.send(new PutObjectCommand({ Bucket: manifest.bucket, Key: manifest.key, Body: `${data},${keys[0]}\n` }));
  await engine.jobs.resumeJob(jobId);

  const job = await finished(jobId);
  expect(job.Status).toBe('Failed');
  expect(job.FailureReasons).toEqual(
    expect.arrayContaining([expect.objectContaining({ FailureCode: 'ManifestETagMismatch', FailureReason: expect.stringMatching(/changed/) })])
  );
  const reported = await reportKeys(job);
  expect(reported.length).toBe(ran(job));
  expect(reported.length).toBeGreaterThanOrEqual(10); // the page that was paused finished
  expect(reported.length).toBeLessThan(keys.length);
  // Every task that ran (its tag reached the store) is reported, and nothing else.
  expect([...(await taggedKeys(keys))].sort()).toEqual([...reported].sort());
});

test('report bucket refuses shard writes mid-job: the job ends Failed with the reason; every task that ran is counted once', async () => {
  const { keys, manifest } = await seed('refused', 60);
  const { jobId } = await engine.jobs.createJob(taggingJob(manifest, { ReportConnection: 'slow' }));
  await until(jobId, (j) => ran(j) >= 10, 'ran its first page');
  refuseShardsIn = reports;
  let job: JobDescriptor;
  try {
    job = await finished(jobId);
  } finally {
    refuseShardsIn = undefined;
  }
  expect(job.Status).toBe('Failed');
  const failure = job.FailureReasons?.find((f) => f.FailureCode === 'ReportWriteFailed');
  expect(failure?.FailureReason).toMatch(/report shard.*AccessDenied/);
  // The counts hold every task that ran (each tagged object), once; the refused shard's rows are missing from the
  // report, and only those.
  const tagged = await taggedKeys(keys);
  expect(ran(job)).toBe(tagged.size);
  const reported = await reportKeys(job);
  for (const key of reported) expect(tagged.has(key)).toBe(true);
  expect(tagged.size - reported.length).toBeGreaterThan(0);
  expect(tagged.size - reported.length).toBeLessThanOrEqual(10); // at most one page's part
});

test('a page terminated with the Temporal CLI is noticed and restarted: the job completes, every row once', async () => {
  const { keys, manifest } = await seed('terminated', 40);
  const { jobId } = await engine.jobs.createJob(taggingJob(manifest, { PageSize: 20, PageHealthCheckSeconds: 1 }));
  await terminatePage(jobId, 0);

  const job = await finished(jobId);
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 40, NumberOfTasksSucceeded: 40, NumberOfTasksFailed: 0 });
  expect((await reportKeys(job)).sort()).toEqual([...keys].sort());
  const restarted = await engine.client.workflow.getHandle(`${pageWorkflowId(jobId, 0)}/restart-1`).describe();
  expect(restarted.status.name).toBe('COMPLETED');
  const terminated = await engine.client.workflow.getHandle(pageWorkflowId(jobId, 0)).describe();
  expect(terminated.status.name).toBe('TERMINATED');
});

test('a cancel while a page is dead ends Cancelled, with the report of what ran', async () => {
  const { manifest } = await seed('cancel-dead', 60);
  // Two pages run at once, one task at a time (each page takes seconds), so page 1 is still running when it is
  // terminated; the check (every 3 s) finds it dead only after the cancel has arrived.
  const { jobId } = await engine.jobs.createJob(
    taggingJob(manifest, { PageSize: 30, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 1, PageHealthCheckSeconds: 3 })
  );
  await terminatePage(jobId, 1);
  await engine.jobs.cancelJob(jobId, 'cancelled while a page was dead');

  const job = await finished(jobId);
  expect(job.Status).toBe('Cancelled');
  // The report (written when any task ran) has exactly the tasks counted.
  if (ran(job) > 0) expect((await reportKeys(job)).length).toBe(ran(job));
  else expect(job.S3Batch.ReportManifestKey).toBeUndefined();
});

// Both task modes: a cancelled activity is answered at once (Temporal's TRY_CANCEL) while its S3 call goes on, so a
// page that cancelled its tasks lost rows that had reached the store; local activities always ran to their answer.
test.each(['Activity', 'LocalActivity'] as const)('a cancel with tasks in flight (%s): every tagging request that reached the store is in the report', async (TaskExecution) => {
  proxy.setRates({ maxDelayMs: 1500 });
  try {
    const prefix = `inflight-${TaskExecution}`;
    const { keys, manifest } = await seed(prefix, 200);
    const { jobId } = await engine.jobs.createJob(
      taggingJob(manifest, { PageSize: 50, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 8, TaskExecution })
    );
    await until(jobId, (j) => ran(j) >= 20, 'ran 20 tasks');
    await engine.jobs.cancelJob(jobId, 'cancelled with tasks in flight');
    const job = await finished(jobId);
    expect(job.Status).toBe('Cancelled');

    // Settle: a request the proxy still delays reaches the store after the job ended only if nobody waited for it.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const reachedStore = new Set(
      [...proxy.forwarded().keys()]
        .filter((signature) => signature.startsWith(`PUT /${data}/${prefix}/`) && signature.endsWith('?tagging'))
        .map((signature) => signature.slice(`PUT /${data}/`.length, -'?tagging'.length))
    );
    const reported = await reportKeys(job);
    expect(reported.length).toBe(ran(job));
    expect(reachedStore.size).toBeLessThan(keys.length); // the cancel stopped the job part-way
    expect([...reachedStore].filter((key) => !reported.includes(key))).toEqual([]);
    expect([...reported].sort()).toEqual([...reachedStore].sort());
  } finally {
    proxy.setRates({ maxDelayMs: 300 });
  }
});
