/**
 * Tagging, untagging and copy jobs over a few hundred objects on MinIO, end to end: the objects' state is read back
 * and the report lists each manifest row once with the right status.
 */
import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { IdempotencyError } from '../../src/client';
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
const data = uniqueBucket('ops-data');
const dest = uniqueBucket('ops-dest');
const reports = uniqueBucket('ops-reports');
const keys = Array.from({ length: 300 }, (_, i) => `objects/${String(i).padStart(4, '0')}.txt`);

beforeAll(async () => {
  engine = await startEngine();
  for (const b of [data, dest, reports]) await createBucket(engine.s3, b);
  await seedObjects(engine.s3, data, keys);
});

afterAll(() => engine?.close());

const manifestOf = (rows: string[], name: string) => putManifest(engine.s3, data, name, rows);

test('tagging job tags every object and reports each row once', async () => {
  const manifest = await manifestOf(keys.map((k) => `${data},${manifestKey(k)}`), 'tagging');
  const request = csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'project', Value: 'blue' }] } }, reports, {
    Extensions: { PageSize: 50, MaxConcurrentPages: 3 },
  });
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 300, NumberOfTasksSucceeded: 300, NumberOfTasksFailed: 0 });
  expect(job.S3Batch.Summary).toBe('Complete: all 300 tasks succeeded');

  for (const key of [keys[0]!, keys[150]!, keys[299]!]) {
    const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
    expect(tags.TagSet).toEqual([{ Key: 'project', Value: 'blue' }]);
  }
  const { manifest: reportManifest, rows } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(job.S3Batch.ReportManifestKey).toBe(`reports/job-${jobId}/manifest.json`);
  expect(reportManifest.Format).toBe('Report_CSV_20180820');
  expect(rows).toHaveLength(300);
  expect(new Set(rows.map((r) => r.key))).toEqual(new Set(keys.map(manifestKey)));
  expect(rows.every((r) => r.status === 'succeeded' && r.httpStatus === '200' && r.message === 'Successful')).toBe(true);
});

test('untagging job removes every tag', async () => {
  const some = keys.slice(0, 40);
  for (const key of some) {
    await engine.s3.send(
      new PutObjectTaggingCommand({ Bucket: data, Key: key, Tagging: { TagSet: [{ Key: 'x', Value: 'y' }] } })
    );
  }
  const manifest = await manifestOf(some.map((k) => `${data},${manifestKey(k)}`), 'untagging');
  const { jobId } = await engine.jobs.createJob(csvJob(manifest, { S3DeleteObjectTagging: {} }, reports));
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 40, NumberOfTasksSucceeded: 40, NumberOfTasksFailed: 0 });
  for (const key of [some[0]!, some[39]!]) {
    const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
    expect(tags.TagSet).toEqual([]);
  }
});

test('copy job copies bytes, replaces metadata and tags, and fails missing objects per row', async () => {
  const some = keys.slice(0, 30);
  const rows = [...some.map((k) => `${data},${manifestKey(k)}`), `${data},objects/missing.txt`];
  const manifest = await manifestOf(rows, 'copy');
  const request = csvJob(
    manifest,
    {
      S3PutObjectCopy: {
        TargetResource: `arn:aws:s3:::${dest}`,
        TargetKeyPrefix: 'copied/',
        MetadataDirective: 'REPLACE',
        NewObjectMetadata: { ContentType: 'text/x-copied', UserMetadata: { origin: 'batch' } },
        NewObjectTagging: [{ Key: 'copied', Value: 'yes' }],
      },
    },
    reports
  );
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 31, NumberOfTasksSucceeded: 30, NumberOfTasksFailed: 1 });
  expect(job.S3Batch.FailedTasksByErrorCode).toEqual({ NoSuchKey: 1 });
  expect(job.S3Batch.Summary).toBe('Complete with 1 failed task of 31 (NoSuchKey: 1)');

  const key = some[7]!;
  expect(await getText(engine.s3, dest, `copied/${key}`)).toBe(`body of ${key}`);
  const head = await engine.s3.send(new HeadObjectCommand({ Bucket: dest, Key: `copied/${key}` }));
  expect(head.ContentType).toBe('text/x-copied');
  expect(head.Metadata).toEqual({ origin: 'batch' });
  const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: dest, Key: `copied/${key}` }));
  expect(tags.TagSet).toEqual([{ Key: 'copied', Value: 'yes' }]);

  const report = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(31);
  const missing = report.rows.filter((r) => r.status === 'failed');
  expect(missing).toEqual([
    expect.objectContaining({ key: 'objects/missing.txt', errorCode: 'NoSuchKey', httpStatus: '404' }),
  ]);
  expect(report.manifest.Results.map((r) => r.TaskExecutionStatus).sort()).toEqual(['failed', 'succeeded']);
});

test('no endpoint or credential enters workflow history', async () => {
  const manifest = await manifestOf(keys.slice(0, 5).map((k) => `${data},${manifestKey(k)}`), 'secrets');
  const { jobId } = await engine.jobs.createJob(csvJob(manifest, { S3DeleteObjectTagging: {} }, reports));
  await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  const minio = engine.config.s3.minio!;
  const secrets = [
    (minio.credentials as { secretAccessKey: string }).secretAccessKey,
    new URL(minio.endpoint!).host,
  ];
  for (const workflowId of [jobId, `${jobId}/page-0`]) {
    const history = JSON.stringify(await engine.client.workflow.getHandle(workflowId).fetchHistory());
    expect(history.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(history).not.toContain(secret);
  }
});

test('the same ClientRequestToken returns the same job; a different request under it is refused', async () => {
  const manifest = await manifestOf(keys.slice(0, 3).map((k) => `${data},${manifestKey(k)}`), 'idempotent');
  const request = csvJob(manifest, { S3DeleteObjectTagging: {} }, reports);
  const first = await engine.jobs.createJob(request);
  const again = await engine.jobs.createJob(request);
  expect(again).toEqual({ jobId: first.jobId, created: false });
  await engine.jobs.waitForCompletion(first.jobId, { timeoutMs: 60_000 });
  // Still the same job after it finished.
  expect(await engine.jobs.createJob(request)).toEqual({ jobId: first.jobId, created: false });
  await expect(engine.jobs.createJob({ ...request, Priority: 99 })).rejects.toThrow(IdempotencyError);
});

test('FailedTasksOnly reports only the failed rows; pending tasks name their object in Temporal', async () => {
  const rows = [...keys.slice(0, 8).map((k) => `${data},${manifestKey(k)}`), `${data},objects/not-there.txt`];
  const manifest = await manifestOf(rows, 'failed-only');
  const request = csvJob(manifest, { S3DeleteObjectTagging: {} }, reports, {
    Report: { Enabled: true, Bucket: `arn:aws:s3:::${reports}`, Format: 'Report_CSV_20180820', ReportScope: 'FailedTasksOnly' },
    // Pending tasks show in Temporal Web as activities; local activities (the default) are not listed there.
    Extensions: { TaskExecution: 'Activity' },
  });
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 8, NumberOfTasksFailed: 1 });
  // No Prefix: the report sits at the bucket's root, as on AWS.
  expect(job.S3Batch.ReportManifestKey).toBe(`job-${jobId}/manifest.json`);
  const report = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(report.rows).toEqual([expect.objectContaining({ key: 'objects/not-there.txt', status: 'failed', errorCode: 'NoSuchKey' })]);
  expect(report.manifest.Results.map((r) => r.TaskExecutionStatus)).toEqual(['failed']);

  // Each task activity carries a summary naming its object (shown beside pending activities in Temporal Web).
  const history = await engine.client.workflow.getHandle(`${jobId}/page-0`).fetchHistory();
  const summaries = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTask')
    .map((e) => Buffer.from(e.userMetadata?.summary?.data ?? new Uint8Array()).toString('utf8'));
  expect(summaries).toContain(JSON.stringify(`S3DeleteObjectTagging s3://${data}/objects/not-there.txt`));
});
