/**
 * S3PutObjectTagging and S3DeleteObjectTagging on a versioned MinIO bucket: the row's version is the one changed
 * (an older version keeps or loses its tags while the latest does not), and a missing key and a version id that
 * does not exist fail their rows with S3's codes.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectTaggingCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putManifest, readReport, startEngine, uniqueBucket, withVersionIds, type Engine } from '../helpers/engine';

let engine: Engine;
const data = uniqueBucket('tags-data');
/** Two versions of `k`: [older, latest]. */
let versions: [string, string];

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await engine.s3.send(new PutBucketVersioningCommand({ Bucket: data, VersioningConfiguration: { Status: 'Enabled' } }));
  const put = async (body: string, tags: string) =>
    (await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: 'k', Body: body, Tagging: tags }))).VersionId!;
  versions = [await put('v1', 'state=old'), await put('v2', 'state=new')];
});

afterAll(() => engine?.close());

const tagsOf = async (versionId: string) =>
  (await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: 'k', VersionId: versionId }))).TagSet;

async function runJob(operation: CreateJobInput['Operation']) {
  const rows = [`${data},k,${versions[0]}`, `${data},missing,`, `${data},k,${randomUUID()}`];
  const manifest = await putManifest(engine.s3, data, `tags-${randomUUID().slice(0, 8)}`, rows);
  const { jobId } = await engine.jobs.createJob(withVersionIds(csvJob(manifest, operation, data)));
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 3, NumberOfTasksSucceeded: 1, NumberOfTasksFailed: 2 });
  const { rows: report } = await readReport(engine.s3, data, job.S3Batch.ReportManifestKey!);
  expect(report).toHaveLength(3);
  expect(report.find((r) => r.versionId === versions[0])).toMatchObject({ status: 'succeeded', httpStatus: '200', message: 'Successful' });
  expect(report.find((r) => r.key === 'missing')).toMatchObject({ status: 'failed', errorCode: 'NoSuchKey', httpStatus: '404' });
  expect(report.find((r) => r.key === 'k' && r.versionId !== versions[0])).toMatchObject({
    status: 'failed',
    errorCode: 'NoSuchVersion',
    httpStatus: '404',
  });
}

test('S3PutObjectTagging replaces the tags of the version the row names, and only that version', async () => {
  await runJob({ S3PutObjectTagging: { TagSet: [{ Key: 'batch', Value: 'tagged' }] } });
  expect(await tagsOf(versions[0])).toEqual([{ Key: 'batch', Value: 'tagged' }]);
  expect(await tagsOf(versions[1])).toEqual([{ Key: 'state', Value: 'new' }]);
});

test('S3DeleteObjectTagging removes the tags of the version the row names, and only that version', async () => {
  await runJob({ S3DeleteObjectTagging: {} });
  expect(await tagsOf(versions[0])).toEqual([]);
  expect(await tagsOf(versions[1])).toEqual([{ Key: 'state', Value: 'new' }]);
});
