/**
 * The job lifecycle on the real stack: confirmation, pause/resume (with ElapsedTimeInActiveSeconds checked against
 * the Active periods in history), cancel, impossible requests, the failure threshold, forced continue-as-new of both
 * the job and its pages, and the report's MD5s checked against its bytes.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { JobStatusError } from '../../src/client';
import type { JobDescriptor } from '../../src/shared/types';
import {
  createBucket,
  csvJob,
  getText,
  manifestKey,
  putManifest,
  readReport,
  seedObjects,
  startEngine,
  uniqueBucket,
  type Engine,
} from '../helpers/engine';
import { jobActivePeriods } from '../helpers/active-periods';

let engine: Engine;
const data = uniqueBucket('life-data');
const reports = uniqueBucket('life-reports');
const keys = Array.from({ length: 400 }, (_, i) => `k/${i}.txt`);
const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'seen', Value: 'yes' }] } };

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
  await seedObjects(engine.s3, data, keys);
});
afterAll(() => engine?.close());

const manifestOf = (rows: string[], name: string) => putManifest(engine.s3, data, name, rows);

async function waitFor(jobId: string, predicate: (job: JobDescriptor) => boolean, timeoutMs = 60_000): Promise<JobDescriptor> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await engine.jobs.describeJob(jobId);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`timed out; last status ${job.Status} ${JSON.stringify(job.ProgressSummary)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const done = (job: JobDescriptor) => job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ConfirmationRequired: Suspended until confirmed, then runs', async () => {
  const manifest = await manifestOf(keys.slice(0, 20).map((k) => `${data},${manifestKey(k)}`), 'confirm');
  const { jobId } = await engine.jobs.createJob(csvJob(manifest, tagging, reports, { ConfirmationRequired: true }));
  const suspended = await waitFor(jobId, (j) => j.Status === 'Suspended');
  expect(suspended.SuspendedCause).toMatch(/ConfirmationRequired/);
  expect(suspended.SuspendedDate).toBeDefined();
  expect(suspended.ProgressSummary.TotalNumberOfTasks).toBe(20);
  await sleep(1500);
  const still = await engine.jobs.describeJob(jobId);
  expect(still.Status).toBe('Suspended');
  expect(done(still)).toBe(0);
  // Impossible requests are refused with the reason.
  await expect(engine.jobs.resumeJob(jobId)).rejects.toThrow(JobStatusError);
  await expect(engine.jobs.pauseJob(jobId)).rejects.toThrow(/only a Ready or Active job can be paused; this job is Suspended/);

  const confirmed = await engine.jobs.confirmJob(jobId, 'looks right');
  expect(confirmed.Status).toBe('Ready');
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(final.Status).toBe('Complete');
  expect(final.ProgressSummary.NumberOfTasksSucceeded).toBe(20);
  await expect(engine.jobs.confirmJob(jobId)).rejects.toThrow(/the job is Complete; a finished job cannot change/);
  await expect(engine.jobs.resumeJob(jobId)).rejects.toThrow(/the job is Complete/);
});

test('a job left Suspended past Extensions.SuspendedExpirySeconds fails, as AWS fails one after 30 days', async () => {
  const manifest = await manifestOf(keys.slice(0, 5).map((k) => `${data},${manifestKey(k)}`), 'expire');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, { ConfirmationRequired: true, Extensions: { SuspendedExpirySeconds: 2 } })
  );
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(final.Status).toBe('Failed');
  expect(final.SuspendedDate).toBeDefined();
  expect(final.TerminationDate).toBeDefined();
  expect(final.FailureReasons).toEqual([
    {
      FailureCode: 'SuspendedJobExpired',
      FailureReason:
        'the job was not confirmed (UpdateJobStatus Ready) within 2 seconds of being suspended (Extensions.SuspendedExpirySeconds: 2)',
    },
  ]);
  expect(final.StatusUpdateReason).toBe('Left in Suspended for 2 seconds without confirmation');
  // No task ran, so (as on AWS) no report was written.
  expect(done(final)).toBe(0);
  expect(final.S3Batch.ReportManifestKey).toBeUndefined();
  await expect(engine.jobs.confirmJob(jobId)).rejects.toThrow(/the job is Failed/);
});

test('a job confirmed before its Suspended expiry runs to the end', async () => {
  const manifest = await manifestOf(keys.slice(0, 5).map((k) => `${data},${manifestKey(k)}`), 'confirm-before-expiry');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, { ConfirmationRequired: true, Extensions: { SuspendedExpirySeconds: 60 } })
  );
  await waitFor(jobId, (j) => j.Status === 'Suspended');
  await engine.jobs.confirmJob(jobId);
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(final.Status).toBe('Complete');
  expect(final.FailureReasons).toEqual([]);
  expect(final.ProgressSummary.NumberOfTasksSucceeded).toBe(5);
});

test('pause mid-job, then resume: counts equal the manifest', async () => {
  const manifest = await manifestOf(keys.map((k) => `${data},${manifestKey(k)}`), 'pause');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, { Extensions: { PageSize: 40, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 2 } })
  );
  await waitFor(jobId, (j) => j.Status === 'Active' && done(j) > 0);
  const pausing = await engine.jobs.pauseJob(jobId, 'lunch');
  expect(['Pausing', 'Paused']).toContain(pausing.Status);
  const paused = await waitFor(jobId, (j) => j.Status === 'Paused');
  expect(paused.StatusUpdateReason).toBe('lunch');
  // Paused means nothing is in flight: the counts stay put.
  await sleep(1500);
  const later = await engine.jobs.describeJob(jobId);
  expect(later.Status).toBe('Paused');
  expect(done(later)).toBe(done(paused));
  expect(done(later)).toBeLessThan(400);
  await expect(engine.jobs.pauseJob(jobId)).rejects.toThrow(/already Paused/);

  // Not Active: the timer is exactly the Active periods recorded in history, and the 1.5 s paused do not count.
  await expectActiveTimeFromHistory(jobId, later);

  await engine.jobs.resumeJob(jobId);
  // Active again, a period in progress: between what history allowed just before the query and just after it.
  await waitFor(jobId, (j) => j.Status === 'Active' && done(j) > done(paused));
  const before = await jobActivePeriods(engine.client, jobId);
  const active = await engine.jobs.describeJob(jobId);
  const after = await jobActivePeriods(engine.client, jobId);
  if (active.Status === 'Active') {
    expect(before.activeSince).toBeDefined();
    const at = (p: typeof before) => before.closedSeconds + (p.lastTaskStarted - before.activeSince!) / 1000;
    expect(active.ProgressSummary.Timers.ElapsedTimeInActiveSeconds).toBeGreaterThanOrEqual(Math.floor(at(before) - 0.01));
    expect(active.ProgressSummary.Timers.ElapsedTimeInActiveSeconds).toBeLessThanOrEqual(Math.floor(at(after) + 0.01));
  }
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
  expect(final.Status).toBe('Complete');
  expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 400, NumberOfTasksSucceeded: 400, NumberOfTasksFailed: 0 });
  const periods = await expectActiveTimeFromHistory(jobId, final);
  expect(periods.changes.filter((c) => c.status === 'Active')).toHaveLength(2);
  const report = await readReport(engine.s3, reports, final.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(400);
  expect(new Set(report.rows.map((r) => r.key)).size).toBe(400);
});

/** For a job not Active now: ElapsedTimeInActiveSeconds is the sum of its Active periods in history, floored. */
async function expectActiveTimeFromHistory(jobId: string, job: JobDescriptor) {
  const periods = await jobActivePeriods(engine.client, jobId);
  expect(periods.activeSince).toBeUndefined();
  // Workflow time has millisecond resolution; the history's has more.
  const elapsed = job.ProgressSummary.Timers.ElapsedTimeInActiveSeconds;
  expect(elapsed).toBeGreaterThanOrEqual(Math.floor(periods.closedSeconds - 0.01));
  expect(elapsed).toBeLessThanOrEqual(Math.floor(periods.closedSeconds + 0.01));
  return periods;
}

test('cancel mid-job: Cancelled, and the report covers exactly the tasks that ran', async () => {
  const manifest = await manifestOf(keys.map((k) => `${data},${manifestKey(k)}`), 'cancel');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, { Extensions: { PageSize: 40, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 2 } })
  );
  await waitFor(jobId, (j) => done(j) >= 10);
  const answer = await engine.jobs.cancelJob(jobId, 'changed my mind');
  expect(answer.Status).toBe('Cancelling');
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(final.Status).toBe('Cancelled');
  expect(final.TerminationDate).toBeDefined();
  expect(done(final)).toBeLessThan(400);
  const report = await readReport(engine.s3, reports, final.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(done(final));
  expect(new Set(report.rows.map((r) => r.key)).size).toBe(done(final));
  await expect(engine.jobs.cancelJob(jobId)).rejects.toThrow(/the job is Cancelled/);
});

test('a Temporal cancellation is a user cancel: the job ends Cancelled with its report', async () => {
  const manifest = await manifestOf(keys.map((k) => `${data},${manifestKey(k)}`), 'temporal-cancel');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, { Extensions: { PageSize: 40, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 2 } })
  );
  await waitFor(jobId, (j) => done(j) >= 5);
  await engine.jobs.handle(jobId).cancel();
  const result = (await engine.jobs.handle(jobId).result()) as JobDescriptor;
  expect(result.Status).toBe('Cancelled');
  expect(result.StatusUpdateReason).toBe('Cancelled through Temporal');
});

test('failure threshold (set small in Extensions): the job ends Failed with the reason and a report', async () => {
  const rows = [
    ...keys.slice(0, 5).map((k) => `${data},${manifestKey(k)}`),
    ...Array.from({ length: 45 }, (_, i) => `${data},missing/${i}`),
  ];
  const manifest = await manifestOf(rows, 'threshold');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, {
      Extensions: { PageSize: 10, MaxConcurrentPages: 1, FailureThreshold: { MinTasks: 10, FailedRatio: 0.5 } },
    })
  );
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(final.Status).toBe('Failed');
  expect(final.FailureReasons).toEqual([
    { FailureCode: 'TaskFailureThresholdExceeded', FailureReason: expect.stringMatching(/tasks failed, more than 50%/) },
  ]);
  expect(done(final)).toBeGreaterThanOrEqual(10);
  expect(done(final)).toBeLessThan(50);
  const report = await readReport(engine.s3, reports, final.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(done(final));
});

test('AWS default threshold: more than half of at least 1,000 tasks failed', async () => {
  const rows = Array.from({ length: 1300 }, (_, i) => `${data},nothing-here/${i}`);
  const manifest = await manifestOf(rows, 'threshold-default');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, { Report: { Enabled: false }, Extensions: { PageSize: 100, MaxConcurrentPages: 4, MaxConcurrentTasksPerPage: 20 } })
  );
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 180_000 });
  expect(final.Status).toBe('Failed');
  expect(final.FailureReasons[0]?.FailureCode).toBe('TaskFailureThresholdExceeded');
  expect(done(final)).toBeGreaterThanOrEqual(1000);
  expect(final.S3Batch.ReportManifestKey).toBeUndefined();
});

test('forced continue-as-new of job and pages gives the same result', async () => {
  const manifest = await manifestOf(keys.slice(0, 200).map((k) => `${data},${manifestKey(k)}`), 'can');
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, {
      Extensions: { PageSize: 20, MaxConcurrentPages: 3, PagesPerRun: 2, TasksPerPageRun: 7 },
    })
  );
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
  expect(final.Status).toBe('Complete');
  expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 200, NumberOfTasksSucceeded: 200, NumberOfTasksFailed: 0 });
  const report = await readReport(engine.s3, reports, final.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(200);
  expect(new Set(report.rows.map((r) => r.key)).size).toBe(200);
  // The job really did continue as new, and so did a page.
  let jobRuns = 0;
  for await (const _ of engine.client.workflow.list({ query: `WorkflowId = '${jobId}'` })) jobRuns++;
  expect(jobRuns).toBeGreaterThan(2);
  let pageRuns = 0;
  for await (const _ of engine.client.workflow.list({ query: `WorkflowId = '${jobId}/page-0'` })) pageRuns++;
  expect(pageRuns).toBeGreaterThan(1);
});

test("the report's MD5s match its bytes, and a corrupted shard or manifest.json is caught", async () => {
  const rows = [...keys.slice(0, 20).map((k) => `${data},${manifestKey(k)}`), `${data},not-there/1`];
  const manifest = await manifestOf(rows, 'md5');
  const { jobId } = await engine.jobs.createJob(csvJob(manifest, tagging, reports));
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(final.Status).toBe('Complete');
  const key = final.S3Batch.ReportManifestKey!;
  // readReport recomputes every MD5 in manifest.json and manifest.json.md5 from the objects in the bucket.
  const report = await readReport(engine.s3, reports, key);
  expect(report.rows).toHaveLength(21);
  expect(report.manifest.Results.map((r) => r.TaskExecutionStatus).sort()).toEqual(['failed', 'succeeded']);

  const put = (k: string, body: string) => engine.s3.send(new PutObjectCommand({ Bucket: reports, Key: k, Body: body }));
  const shard = report.manifest.Results.find((r) => r.TaskExecutionStatus === 'succeeded')!;
  const original = await getText(engine.s3, reports, shard.Key);
  await put(shard.Key, original.replace('succeeded', 'failed'));
  await expect(readReport(engine.s3, reports, key)).rejects.toThrow(`shard ${shard.Key}: MD5`);
  await put(shard.Key, original);
  await expect(readReport(engine.s3, reports, key)).resolves.toBeDefined();

  const manifestJson = await getText(engine.s3, reports, key);
  // Still valid JSON listing the same shards: only the checksum can tell.
  await put(key, `${manifestJson} `);
  await expect(readReport(engine.s3, reports, key)).rejects.toThrow(/manifest\.json has MD5 [0-9a-f]{32}, manifest\.json\.md5 says/);
});
