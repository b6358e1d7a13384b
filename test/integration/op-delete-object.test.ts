/**
 * S3DeleteObject end to end on MinIO: on a versioned bucket a row's version is deleted for good while a row without
 * a version gets a delete marker (named in the report); a missing key and a version id that does not exist succeed,
 * as S3's DeleteObject does; on an Object Lock bucket a version under GOVERNANCE retention is refused without
 * BypassGovernanceRetention and deleted with it. A job without ConfirmDataDeletion is refused before it starts.
 */
import { randomUUID } from 'node:crypto';
import {
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import { JobSpecError } from '../../src/client';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putManifest, readReport, startEngine, uniqueBucket, withVersionIds, type Engine } from '../helpers/engine';

let engine: Engine;
const data = uniqueBucket('del-data');
const locked = uniqueBucket('del-lock');
const reports = uniqueBucket('del-reports');
const confirmed: CreateJobInput['Operation'] = { S3DeleteObject: { ConfirmDataDeletion: true } };

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await engine.s3.send(new PutBucketVersioningCommand({ Bucket: data, VersioningConfiguration: { Status: 'Enabled' } }));
  await createBucket(engine.s3, locked, { objectLock: true });
  await createBucket(engine.s3, reports);
});

afterAll(() => engine?.close());

const put = async (bucket: string, key: string, body = `body of ${key}`) =>
  (await engine.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId!;

async function versionsOf(bucket: string, key: string) {
  const out = await engine.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return {
    versions: (out.Versions ?? []).filter((v) => v.Key === key).map((v) => v.VersionId),
    markers: (out.DeleteMarkers ?? []).filter((m) => m.Key === key).map((m) => ({ id: m.VersionId, latest: m.IsLatest })),
  };
}

async function runJob(rows: string[], operation: CreateJobInput['Operation'] = confirmed) {
  const manifest = await putManifest(engine.s3, reports, `del-${randomUUID().slice(0, 8)}`, rows);
  const { jobId } = await engine.jobs.createJob(withVersionIds(csvJob(manifest, operation, reports)));
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  const { rows: report } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(report).toHaveLength(rows.length);
  return { job, report };
}

test('deletes the version a row names for good, and adds a delete marker for a row without one', async () => {
  const [old1] = [await put(data, 'v/one', 'old'), await put(data, 'v/one', 'new')];
  const latest2 = await put(data, 'v/two');
  const { job, report } = await runJob([`${data},v/one,${old1}`, `${data},v/two,`, `${data},v/missing,`, `${data},v/two,${randomUUID()}`]);
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 4, NumberOfTasksSucceeded: 4, NumberOfTasksFailed: 0 });

  // v/one: only the named (older) version is gone; the latest still reads.
  const one = await versionsOf(data, 'v/one');
  expect(one.versions).toHaveLength(1);
  expect(one.versions).not.toContain(old1);
  expect(one.markers).toEqual([]);
  expect(report.find((r) => r.key === 'v/one')).toMatchObject({ status: 'succeeded', httpStatus: '200', message: 'Successful' });

  // v/two without a version: a delete marker on top; the data stays as a noncurrent version.
  const two = await versionsOf(data, 'v/two');
  expect(two.versions).toEqual([latest2]);
  expect(two.markers).toHaveLength(1);
  expect(two.markers[0]!.latest).toBe(true);
  await expect(engine.s3.send(new HeadObjectCommand({ Bucket: data, Key: 'v/two' }))).rejects.toMatchObject({
    $metadata: { httpStatusCode: 404 },
  });
  const twoRow = report.find((r) => r.key === 'v/two' && r.versionId === '');
  expect(twoRow).toMatchObject({ status: 'succeeded', httpStatus: '200', message: `Successful: delete marker ${two.markers[0]!.id} added` });

  // A missing key and a version that does not exist: nothing to delete, which S3 answers with success.
  expect(report.find((r) => r.key === 'v/missing')).toMatchObject({ status: 'succeeded', httpStatus: '200' });
  expect(report.find((r) => r.key === 'v/two' && r.versionId !== '')).toMatchObject({ status: 'succeeded', httpStatus: '200' });
});

test('a version under GOVERNANCE retention is deleted only with BypassGovernanceRetention', async () => {
  const version = await put(locked, 'gov');
  const until = new Date(Date.now() + 24 * 3600_000);
  await engine.s3.send(
    new PutObjectRetentionCommand({ Bucket: locked, Key: 'gov', VersionId: version, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } })
  );
  const row = [`${locked},gov,${version}`];

  const refused = await runJob(row);
  expect(refused.job.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 0, NumberOfTasksFailed: 1 });
  // MinIO refuses with InvalidRequest 400 where AWS answers AccessDenied 403; both fail the task once, unretried.
  expect(refused.report[0]).toMatchObject({ status: 'failed', errorCode: 'InvalidRequest', httpStatus: '400', message: expect.stringMatching(/WORM protected/) });
  expect((await versionsOf(locked, 'gov')).versions).toEqual([version]);

  const bypassed = await runJob(row, { S3DeleteObject: { ConfirmDataDeletion: true, BypassGovernanceRetention: true } });
  expect(bypassed.report[0]).toMatchObject({ status: 'succeeded', httpStatus: '200', message: 'Successful' });
  expect((await versionsOf(locked, 'gov')).versions).toEqual([]);
});

test('a job without ConfirmDataDeletion is refused, and deletes nothing', async () => {
  const version = await put(data, 'kept');
  const manifest = await putManifest(engine.s3, reports, `del-${randomUUID().slice(0, 8)}`, [`${data},kept,`]);
  for (const operation of [{ S3DeleteObject: {} }, { S3DeleteObject: { ConfirmDataDeletion: false } }] as unknown as CreateJobInput['Operation'][]) {
    const attempt = engine.jobs.createJob(csvJob(manifest, operation, reports));
    await expect(attempt).rejects.toBeInstanceOf(JobSpecError);
    await expect(attempt).rejects.toThrow(/Operation\.S3DeleteObject\.ConfirmDataDeletion: S3DeleteObject deletes every object/);
  }
  expect((await versionsOf(data, 'kept'))).toEqual({ versions: [version], markers: [] });
});
