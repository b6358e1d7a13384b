/**
 * S3InitiateRestoreObject on moto (MinIO has no archive storage classes): the request as AWS makes it, per-row
 * failures with S3's codes, and Extensions.WaitForRestore, whose job ends only when the restored copies are readable.
 *
 * moto finishes restores at once by default. Its state manager (`/moto-api/state-manager`) can instead move a
 * restore from "in progress" to "restored" after N reads of the object; the wait tests use that to make restores
 * take a few checks, and restore the default afterwards. This file is the only one that restores objects on moto.
 */
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { manifestKey, putManifest, readReport, startEngine, uniqueBucket, csvJob, type Engine, withVersionIds } from '../helpers/engine';
import { getStack, motoClient } from '../helpers/stack';

let engine: Engine;
let moto: S3Client;
const data = uniqueBucket('restore-data');
const reports = uniqueBucket('restore-reports');
const onMoto = { Connection: 'moto' };

async function setRestoreTransition(transition: { progression: 'manual'; times: number } | undefined): Promise<void> {
  const endpoint = getStack().moto.endpoint;
  const res = transition
    ? await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
        method: 'POST',
        body: JSON.stringify({ model_name: 's3::keyrestore', transition }),
      })
    : await fetch(`${endpoint}/moto-api/state-manager/unset-transition`, {
        method: 'POST',
        body: JSON.stringify({ model_name: 's3::keyrestore' }),
      });
  expect(res.ok).toBe(true);
}

async function putArchived(keys: string[], storageClass: 'GLACIER' | 'DEEP_ARCHIVE' | 'STANDARD' = 'GLACIER') {
  const versions: Record<string, string> = {};
  for (const key of keys) {
    const out = await moto.send(new PutObjectCommand({ Bucket: data, Key: key, Body: `body of ${key}`, StorageClass: storageClass }));
    versions[key] = out.VersionId!;
  }
  return versions;
}

/**
 * Archived objects with a restore already under way that will not finish while the test runs. moto reads a restore
 * as finished unless its state has moved to "in progress": requested under a one-step transition, one read moves it
 * there, and a 1000-read transition keeps it there. The job's own request then overlaps it (moto accepts that).
 */
async function putWithRestoreUnderWay(keys: string[]) {
  await setRestoreTransition({ progression: 'manual', times: 1 });
  await putArchived(keys);
  for (const key of keys) {
    await moto.send(new RestoreObjectCommand({ Bucket: data, Key: key, RestoreRequest: { Days: 1 } }));
    const head = await moto.send(new HeadObjectCommand({ Bucket: data, Key: key }));
    expect(head.Restore).toBe('ongoing-request="true"');
  }
  await setRestoreTransition({ progression: 'manual', times: 1000 });
}

async function countRunningPages(jobId: string): Promise<number> {
  let count = 0;
  for await (const _ of engine.client.workflow.list({
    query: `WorkflowId STARTS_WITH '${jobId}/page-' AND ExecutionStatus = 'Running'`,
  })) {
    count++;
  }
  return count;
}

const rowsOf = (keys: string[]) => keys.map((k) => `${data},${manifestKey(k)}`);

beforeAll(async () => {
  engine = await startEngine();
  moto = motoClient();
  for (const b of [data, reports]) await moto.send(new CreateBucketCommand({ Bucket: b }));
  await moto.send(new PutBucketVersioningCommand({ Bucket: data, VersioningConfiguration: { Status: 'Enabled' } }));
});

afterAll(async () => {
  await setRestoreTransition(undefined);
  moto?.destroy();
  await engine?.close();
});

test('restore requests are made per object; objects not archived, missing keys and bad versions fail per row', async () => {
  const archived = ['initiate/a.bin', 'initiate/b.bin'];
  const versions = await putArchived(archived);
  await putArchived(['initiate/deep.bin'], 'DEEP_ARCHIVE');
  await putArchived(['initiate/standard.bin'], 'STANDARD');
  const rows = [
    `${data},initiate/a.bin,${versions['initiate/a.bin']}`,
    `${data},initiate/b.bin,`,
    `${data},initiate/deep.bin,`,
    `${data},initiate/standard.bin,`,
    `${data},initiate/missing.bin,`,
    `${data},initiate/b.bin,not-a-version`,
  ];
  const manifest = await putManifest(moto, data, 'initiate', rows);
  const request = withVersionIds(
    csvJob(manifest, { S3InitiateRestoreObject: { ExpirationInDays: 2, GlacierJobTier: 'BULK' } }, reports, { Extensions: onMoto })
  );
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  const report = await readReport(moto, reports, job.S3Batch.ReportManifestKey!);
  // moto ignores RestoreObject's versionId, so the bad version restores the current one; AWS fails it per row.
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 6, NumberOfTasksSucceeded: 4, NumberOfTasksFailed: 2 });

  // The restores are on record in S3, with the requested lifetime (moto finishes them at once by default).
  for (const key of [...archived, 'initiate/deep.bin']) {
    const head = await moto.send(new HeadObjectCommand({ Bucket: data, Key: key }));
    expect(head.Restore).toMatch(/ongoing-request="false", expiry-date=/);
    const expiry = Date.parse(/expiry-date="([^"]+)"/.exec(head.Restore!)![1]!);
    expect(expiry - Date.now()).toBeGreaterThan(1.5 * 86_400_000);
  }
  const standard = await moto.send(new HeadObjectCommand({ Bucket: data, Key: 'initiate/standard.bin' }));
  expect(standard.Restore).toBeUndefined();

  expect(report.rows).toHaveLength(6);
  const byRow = (key: string, versionId = '') => report.rows.find((r) => r.key === key && r.versionId === versionId);
  expect(byRow('initiate/a.bin', versions['initiate/a.bin'])).toMatchObject({ status: 'succeeded', httpStatus: '200', message: 'Successful' });
  expect(byRow('initiate/b.bin')).toMatchObject({ status: 'succeeded', httpStatus: '200' });
  expect(byRow('initiate/deep.bin')).toMatchObject({ status: 'succeeded', httpStatus: '200' });
  // AWS's answer for an object that is not in an archive class.
  expect(byRow('initiate/standard.bin')).toMatchObject({ status: 'failed', errorCode: 'InvalidObjectState', httpStatus: '403' });
  expect(byRow('initiate/missing.bin')).toMatchObject({ status: 'failed', errorCode: 'NoSuchKey', httpStatus: '404' });
  expect(byRow('initiate/b.bin', 'not-a-version')).toMatchObject({ status: 'succeeded' });
});

// Batch mode (2 rows per batch activity): the restores are requested by batches, the waits are the page's as in the
// default mode, and each row is still its own task.
const MODES = { LocalActivity: {}, Batch: { TaskExecution: 'Batch', BatchSize: 2 } } as const;

test.each(Object.keys(MODES) as (keyof typeof MODES)[])('WaitForRestore (%s): the job completes once every restored copy is readable, checking on a backoff', async (mode) => {
  const prefix = `wait-${mode}`;
  const keys = [`${prefix}/a.bin`, `${prefix}/b.bin`, `${prefix}/c.bin`];
  await putArchived(keys);
  // Each restore now reads "in progress" at its first check and "restored" at its second.
  await setRestoreTransition({ progression: 'manual', times: 1 });
  const manifest = await putManifest(moto, data, prefix, [...rowsOf(keys), `${data},${prefix}/missing.bin`]);
  const request = csvJob(manifest, { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, reports, {
    Extensions: { ...onMoto, ...MODES[mode], WaitForRestore: { InitialPollSeconds: 1, MaxPollSeconds: 2 } },
  });
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 90_000 });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 4, NumberOfTasksSucceeded: 3, NumberOfTasksFailed: 1 });

  const report = await readReport(moto, reports, job.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(4);
  for (const key of keys) {
    expect(report.rows.find((r) => r.key === key)).toMatchObject({
      status: 'succeeded',
      httpStatus: '200',
      message: expect.stringMatching(/^Successful: restored, readable until \d{4}-\d\d-\d\dT/),
    });
  }
  // A missing object fails at the request; it is never waited for.
  expect(report.rows.find((r) => r.key === `${prefix}/missing.bin`)).toMatchObject({ status: 'failed', errorCode: 'NoSuchKey' });

  // The page waited on durable timers and checked in batches: at least two rounds (in progress, then restored),
  // each one activity for all three objects, not one per object.
  const history = await engine.client.workflow.getHandle(`${jobId}/page-0`).fetchHistory();
  const events = history.events ?? [];
  const checks = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkRestores');
  expect(checks.length).toBeGreaterThanOrEqual(2);
  expect(checks.length).toBeLessThanOrEqual(4);
  expect(events.some((e) => e.timerStartedEventAttributes)).toBe(true);
  // The restores were requested by the mode asked for.
  const batches = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTaskBatch');
  expect(batches.length).toBe(mode === 'Batch' ? 2 : 0);
});

test('WaitForRestore: a restore that does not finish in time fails its task with RestoreTimedOut', async () => {
  const keys = ['slow/a.bin', 'slow/b.bin'];
  await putWithRestoreUnderWay(keys);
  const manifest = await putManifest(moto, data, 'slow', rowsOf(keys));
  const request = csvJob(manifest, { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, reports, {
    Extensions: { ...onMoto, WaitForRestore: { InitialPollSeconds: 1, MaxPollSeconds: 1, TimeoutHours: 0.001 } },
  });
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 2, NumberOfTasksSucceeded: 0, NumberOfTasksFailed: 2 });
  expect(job.S3Batch.FailedTasksByErrorCode).toEqual({ RestoreTimedOut: 2 });
  const report = await readReport(moto, reports, job.S3Batch.ReportManifestKey!);
  expect(report.rows.map((r) => r.errorCode)).toEqual(['RestoreTimedOut', 'RestoreTimedOut']);
  expect(report.rows[0]!.message).toMatch(/had not finished within 4 seconds \(WaitForRestore.TimeoutHours\)/);
});

/** The durations of the timers the job workflow started (in seconds, in order), once `until` holds for them. */
async function jobTimerSeconds(jobId: string, until: (seconds: number[]) => boolean): Promise<number[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const history = await engine.client.workflow.getHandle(jobId).fetchHistory();
    const seconds = (history.events ?? []).flatMap((e) => {
      const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
      return timeout ? [Number(timeout.seconds ?? 0) + (timeout.nanos ?? 0) / 1e9] : [];
    });
    if (until(seconds)) return seconds;
    if (Date.now() > deadline) throw new Error(`job timers: ${seconds.join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('WaitForRestore: waiting pages leave the window to later pages and are checked on less often; a cancel reports every waiting row once', async () => {
  const keys = Array.from({ length: 6 }, (_, i) => `window/${i}.bin`);
  // Restores that never finish while the test watches.
  await putWithRestoreUnderWay(keys);
  const manifest = await putManifest(moto, data, 'window', rowsOf(keys));
  const request = csvJob(manifest, { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, reports, {
    Extensions: {
      ...onMoto,
      PageSize: 1,
      MaxConcurrentPages: 1,
      PageHealthCheckSeconds: 1,
      WaitForRestore: { InitialPollSeconds: 1, MaxPollSeconds: 5 },
    },
  });
  const { jobId } = await engine.jobs.createJob(request);

  // With one page in the window, every page still requests its restore: a page that only waits leaves its place.
  const deadline = Date.now() + 60_000;
  let described = await engine.jobs.describeJob(jobId);
  while (described.S3Batch.PagesTotal === undefined || described.S3Batch.PagesWaitingForRestore !== described.S3Batch.PagesTotal) {
    if (Date.now() > deadline) throw new Error(`pages waiting: ${described.S3Batch.PagesWaitingForRestore} of ${described.S3Batch.PagesTotal}`);
    await new Promise((r) => setTimeout(r, 300));
    described = await engine.jobs.describeJob(jobId);
  }
  expect(described.S3Batch.PagesTotal).toBeGreaterThanOrEqual(3);
  expect(await countRunningPages(jobId)).toBe(described.S3Batch.PagesTotal);
  expect(described.Status).toBe('Active');
  expect(described.ProgressSummary.NumberOfTasksSucceeded + described.ProgressSummary.NumberOfTasksFailed).toBe(0);

  // Once every page only waits, the job checks on its pages every MaxPollSeconds (5 s), no longer every
  // PageHealthCheckSeconds (1 s): its history does not fill with checks over a long wait.
  const checkTimers = await jobTimerSeconds(jobId, (seconds) => seconds.includes(5));
  expect(checkTimers.slice(checkTimers.indexOf(5))).toEqual(checkTimers.slice(checkTimers.indexOf(5)).map(() => 5));

  await engine.jobs.cancelJob(jobId, 'test: stop waiting');
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Cancelled');
  // Every restore was requested, so every row is a succeeded task, reported once, saying the wait was cut short.
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 6, NumberOfTasksSucceeded: 6, NumberOfTasksFailed: 0 });
  const report = await readReport(moto, reports, job.S3Batch.ReportManifestKey!);
  expect(report.rows.map((r) => r.key).sort()).toEqual([...keys].sort());
  expect(new Set(report.rows.map((r) => r.message))).toEqual(
    new Set(['Successful: restore requested; the job ended before the restored copy was confirmed'])
  );
});

test('WaitForRestore: objects still waiting when a page run ends are carried into its next run, and each is reported once', async () => {
  const keys = Array.from({ length: 6 }, (_, i) => `carry/${i}.bin`);
  await putArchived(keys);
  // Each restore reads "in progress" at its first two checks: the waits outlive the run that requested them.
  await setRestoreTransition({ progression: 'manual', times: 2 });
  try {
    const manifest = await putManifest(moto, data, 'carry', rowsOf(keys));
    const request = csvJob(manifest, { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, reports, {
      Extensions: {
        ...onMoto,
        WaitForRestore: { InitialPollSeconds: 1, MaxPollSeconds: 2 },
        // One page of six rows, two tasks a run: three runs, the first two ending with restores still waiting.
        PageSize: 6,
        TasksPerPageRun: 2,
        MaxConcurrentTasksPerPage: 1,
      },
    });
    const { jobId } = await engine.jobs.createJob(request);
    const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
    expect(job.Status).toBe('Complete');
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 6, NumberOfTasksSucceeded: 6, NumberOfTasksFailed: 0 });
    const report = await readReport(moto, reports, job.S3Batch.ReportManifestKey!);
    expect(report.rows.map((r) => r.key).sort()).toEqual([...keys].sort());
    for (const row of report.rows) expect(row.message).toMatch(/^Successful: restored, readable until /);

    // The page's runs (in any order): some run started with the waits an earlier one carried.
    const runs: string[] = [];
    for await (const wf of engine.client.workflow.list({ query: `WorkflowId = '${jobId}/page-0'` })) runs.push(wf.runId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    let carried = 0;
    for (const runId of runs) {
      const history = await engine.client.workflow.getHandle(`${jobId}/page-0`, runId).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const input = JSON.parse(Buffer.from(started?.data ?? []).toString()) as { restoreWaits?: unknown[] };
      carried += input.restoreWaits?.length ?? 0;
    }
    expect(carried).toBeGreaterThan(0);
  } finally {
    await setRestoreTransition(undefined);
  }
}, 150_000);
