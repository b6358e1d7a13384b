/**
 * Redrive on MinIO, end to end through the client library: a tagging job where some rows fail for a fixable reason
 * (their objects do not exist yet: NoSuchKey); the objects are created; the redrive runs exactly the failed rows and
 * they succeed. Then: redriving again returns the same job; a job with no failures, a running job and a job without a
 * report are refused; a RedriveOf job over a report without failed rows ends Failed (NothingToRedrive); an old report
 * written with FailedTasksOnly works too.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { RedriveError } from '../../src/client';
import { redriveToken, jobIdFromToken } from '../../src/job-client';
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

let engine: Engine;
const data = uniqueBucket('redrive-data');
const reports = uniqueBucket('redrive-reports');
const present = Array.from({ length: 20 }, (_, i) => `present/${String(i).padStart(3, '0')}.txt`);
// Keys that need URL-encoding in a manifest: the redrive manifest must carry them exactly as the old one did.
const missing = [...Array.from({ length: 6 }, (_, i) => `missing/${i}.txt`), 'missing/a b,c.txt', 'missing/café+1.txt'];
const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'project', Value: 'blue' }] } };
const TIMEOUT = 120_000;

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
  await seedObjects(engine.s3, data, present);
}, 60_000);
afterAll(() => engine?.close());

const rowsOf = (keys: string[]) => keys.map((k) => `${data},${manifestKey(k)}`);

async function runJob(request: Parameters<Engine['jobs']['createJob']>[0]) {
  const { jobId } = await engine.jobs.createJob(request);
  return engine.jobs.waitForCompletion(jobId, { timeoutMs: TIMEOUT });
}

test(
  'a job with failures, fixed, then redriven: the new job runs exactly the failed rows, and they succeed',
  async () => {
    // Failed rows spread over several pages and shards.
    const manifest = await putManifest(engine.s3, data, 'mixed', rowsOf([...present.slice(0, 10), ...missing, ...present.slice(10)]));
    const old = await runJob(csvJob(manifest, tagging, reports, { Extensions: { PageSize: 5 } }));
    expect(old.Status).toBe('Complete');
    expect(old.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 28, NumberOfTasksSucceeded: 20, NumberOfTasksFailed: 8 });
    expect(old.S3Batch.FailedTasksByErrorCode).toEqual({ NoSuchKey: 8 });
    const oldReport = await readReport(engine.s3, reports, old.S3Batch.ReportManifestKey!);
    const failedRows = oldReport.rows.filter((r) => r.status === 'failed');
    expect(new Set(failedRows.map((r) => r.key))).toEqual(new Set(missing.map(manifestKey)));

    // The fix: the objects now exist.
    await seedObjects(engine.s3, data, missing);

    const redrive = await engine.jobs.redriveJob(old.JobId);
    // The redrive keeps the job's account, and its token is scoped to that account.
    expect(redrive).toEqual({ jobId: jobIdFromToken(redriveToken(old.JobId), '123456789012'), created: true, redriveOf: old.JobId });
    const job = await engine.jobs.waitForCompletion(redrive.jobId, { timeoutMs: TIMEOUT });
    expect(job.Status).toBe('Complete');
    expect(job.Description).toBe(`Redrive of ${old.JobId}`);
    expect(job.Priority).toBe(old.Priority);
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 8, NumberOfTasksSucceeded: 8, NumberOfTasksFailed: 0 });
    // The built manifest lives in the new job's report folder, and describeJob shows it as the job's Manifest.
    const builtKey = `reports/job-${redrive.jobId}/redrive-manifest.csv`;
    expect(job.Manifest).toMatchObject({
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key', 'VersionId'] },
      Location: { ObjectArn: `arn:aws:s3:::${reports}/${builtKey}`, ETag: job.S3Batch.ManifestETag },
    });
    const built = (await getText(engine.s3, reports, builtKey)).split('\n').filter(Boolean);
    expect(built.sort()).toEqual(failedRows.map((r) => `${r.bucket},${r.key},`).sort());

    const { rows } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
    expect(rows.map((r) => r.key).sort()).toEqual(failedRows.map((r) => r.key).sort());
    expect(rows.every((r) => r.status === 'succeeded' && r.httpStatus === '200')).toBe(true);
    for (const key of missing) {
      const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
      expect(tags.TagSet).toEqual([{ Key: 'project', Value: 'blue' }]);
    }

    // Asking again gives the same job, not a second one.
    expect(await engine.jobs.redriveJob(old.JobId)).toEqual({ jobId: redrive.jobId, created: false, redriveOf: old.JobId });
    // The redrive itself had no failures: redriving it is refused.
    await expect(engine.jobs.redriveJob(redrive.jobId)).rejects.toMatchObject({
      reason: 'NothingToRedrive',
      message: `job ${redrive.jobId} has no failed tasks: nothing to redrive`,
    });
  },
  TIMEOUT * 3
);

test(
  'an old report written with FailedTasksOnly works too; options name the new job',
  async () => {
    const gone = ['later/1.txt', 'later/2.txt', 'later/3.txt'];
    const manifest = await putManifest(engine.s3, data, 'failed-only', rowsOf([...present.slice(0, 5), ...gone]));
    const request = csvJob(manifest, tagging, reports);
    const old = await runJob({ ...request, Report: { ...request.Report, ReportScope: 'FailedTasksOnly' } });
    expect(old.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 5, NumberOfTasksFailed: 3 });
    await seedObjects(engine.s3, data, gone);
    // Jobs outlive test runs on the shared server: a fixed token would name a job of an earlier run.
    const token = `my-redrive-${randomUUID()}`;
    const redrive = await engine.jobs.redriveJob(old.JobId, { clientRequestToken: token, description: 'after the fix', priority: 42 });
    expect(redrive.jobId).toBe(jobIdFromToken(token, '123456789012'));
    const job = await engine.jobs.waitForCompletion(redrive.jobId, { timeoutMs: TIMEOUT });
    expect(job).toMatchObject({ Status: 'Complete', Description: 'after the fix', Priority: 42 });
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 3, NumberOfTasksSucceeded: 3, NumberOfTasksFailed: 0 });
  },
  TIMEOUT * 2
);

test(
  'no failures: the client refuses; a RedriveOf job made by hand ends Failed with NothingToRedrive',
  async () => {
    const manifest = await putManifest(engine.s3, data, 'all-good', rowsOf(present.slice(0, 4)));
    const request = csvJob(manifest, tagging, reports);
    const old = await runJob(request);
    expect(old.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 4, NumberOfTasksFailed: 0 });
    const refused = await engine.jobs.redriveJob(old.JobId).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RedriveError);
    expect(refused).toMatchObject({ reason: 'NothingToRedrive', message: `job ${old.JobId} has no failed tasks: nothing to redrive` });

    const { Manifest: _manifest, ...rest } = request;
    const job = await runJob({
      ...rest,
      ClientRequestToken: `by-hand-${old.JobId}`,
      Extensions: { RedriveOf: { JobId: old.JobId, ReportManifest: `arn:aws:s3:::${reports}/${old.S3Batch.ReportManifestKey}` } },
    });
    expect(job.Status).toBe('Failed');
    expect(job.FailureReasons).toEqual([
      { FailureCode: 'NothingToRedrive', FailureReason: `job ${old.JobId} has no failed tasks in its report (0 failed shards): nothing to redrive` },
    ]);
  },
  TIMEOUT * 2
);

test(
  'a job that has not finished is refused; so is one that wrote no report',
  async () => {
    const manifest = await putManifest(engine.s3, data, 'waiting', rowsOf(['nowhere/1.txt']));
    const { jobId } = await engine.jobs.createJob(csvJob(manifest, tagging, reports, { ConfirmationRequired: true }));
    for (let i = 0; i < 100 && (await engine.jobs.describeJob(jobId)).Status !== 'Suspended'; i++) await new Promise((r) => setTimeout(r, 200));
    await expect(engine.jobs.redriveJob(jobId)).rejects.toMatchObject({
      reason: 'NotFinished',
      message: `job ${jobId} is Suspended: only a finished job (Complete, Failed or Cancelled) can be redriven; wait for it, or cancel it first`,
    });
    // Cancelled before any task ran: no report was written.
    await engine.jobs.cancelJob(jobId);
    expect((await engine.jobs.waitForCompletion(jobId, { timeoutMs: TIMEOUT })).Status).toBe('Cancelled');
    await expect(engine.jobs.redriveJob(jobId)).rejects.toMatchObject({
      reason: 'NoReport',
      message: `job ${jobId} wrote no completion report (no task ran): there are no failed tasks to redrive`,
    });

    const noReport = await runJob(csvJob(manifest, tagging, reports, { Report: { Enabled: false } }));
    expect(noReport.ProgressSummary.NumberOfTasksFailed).toBe(1);
    await expect(engine.jobs.redriveJob(noReport.JobId)).rejects.toMatchObject({ reason: 'NoReport' });
  },
  TIMEOUT * 2
);
