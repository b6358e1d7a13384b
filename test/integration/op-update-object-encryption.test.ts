/**
 * S3UpdateObjectEncryption end to end. On moto (which records SSE-KMS settings without a real KMS) the in-place copy
 * is read back with HeadObject: aws:kms, the key ARN and BucketKeyEnabled, with the bytes, metadata and tags
 * unchanged. On MinIO without a KMS each task fails once with NotImplemented (501). Manifests also hold a missing
 * key, a version id that does not exist and a noncurrent version.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putManifest, readReport, startEngine, uniqueBucket, type Engine, withVersionIds } from '../helpers/engine';
import { motoClient } from '../helpers/stack';

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OPERATION: CreateJobInput['Operation'] = {
  S3UpdateObjectEncryption: { ObjectEncryption: { 'SSE-KMS': { KMSKeyArn: KEY_ARN, BucketKeyEnabled: true } } },
};

let engine: Engine;
let moto: S3Client;

beforeAll(async () => {
  engine = await startEngine();
  moto = motoClient();
});

afterAll(async () => {
  moto?.destroy();
  await engine?.close();
});

async function versionedBucket(s3: S3Client, bucket: string): Promise<void> {
  await createBucket(s3, bucket);
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

async function put(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<string> {
  const out = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: 'text/x-test',
      Metadata: { owner: 'team-a' },
      Tagging: 'project=blue',
      ChecksumAlgorithm: 'SHA256',
    })
  );
  return out.VersionId!;
}

async function runJob(s3: S3Client, bucket: string, rows: string[], extra: Partial<CreateJobInput> = {}) {
  const manifest = await putManifest(s3, bucket, `sse-${randomUUID().slice(0, 8)}`, rows);
  const request = withVersionIds(csvJob(manifest, OPERATION, bucket, extra));
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  const report = await readReport(s3, bucket, job.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(rows.length);
  return { job, rows: report.rows };
}

describe('on moto', () => {
  const bucket = uniqueBucket('sse-moto');
  const body = randomBytes(100_000);
  const versions: Record<string, string> = {};
  const noSuchVersion = randomUUID();

  beforeAll(async () => {
    await versionedBucket(moto, bucket);
    versions.latest = await put(moto, bucket, 'latest', body);
    versions.pinned = await put(moto, bucket, 'pinned', body);
    versions.oldV1 = await put(moto, bucket, 'old', body);
    versions.oldV2 = await put(moto, bucket, 'old', randomBytes(10));
  });

  test('re-encrypts with SSE-KMS in place, keeping bytes, metadata and tags; bad rows fail', async () => {
    const { job, rows } = await runJob(
      moto,
      bucket,
      [
        `${bucket},latest,`,
        `${bucket},pinned,${versions.pinned}`,
        `${bucket},old,${versions.oldV1}`,
        `${bucket},missing,`,
        `${bucket},latest,${noSuchVersion}`,
      ],
      { Extensions: { Connection: 'moto' } }
    );
    const row = (key: string, versionId: string) => rows.find((r) => r.key === key && r.versionId === versionId);
    expect(row('latest', '')).toMatchObject({ status: 'succeeded', httpStatus: '200', message: 'Successful' });
    expect(row('pinned', versions.pinned!)).toMatchObject({ status: 'succeeded', httpStatus: '200', message: 'Successful' });
    expect(row('old', versions.oldV1!)).toMatchObject({ status: 'failed', httpStatus: '400', errorCode: 'NoncurrentVersion' });
    expect(row('missing', '')).toMatchObject({ status: 'failed', httpStatus: '404', errorCode: 'NoSuchKey' });
    expect(row('latest', noSuchVersion)).toMatchObject({ status: 'failed', httpStatus: '404', errorCode: 'NoSuchVersion' });
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 5, NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 3 });

    for (const key of ['latest', 'pinned']) {
      const head = await moto.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect(head).toMatchObject({
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: KEY_ARN,
        BucketKeyEnabled: true,
        ContentType: 'text/x-test',
        Metadata: { owner: 'team-a' },
        ContentLength: body.length,
        ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
      });
      // The store rewrote the object: a new current version; the old one stays, unencrypted.
      expect(head.VersionId).not.toBe(versions[key]);
      const old = await moto.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versions[key] }));
      expect(old.ServerSideEncryption).toBeUndefined();
      const got = await moto.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      const tags = await moto.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      expect(tags.TagSet).toEqual([{ Key: 'project', Value: 'blue' }]);
    }
    // The noncurrent version was not copied over the current one.
    const old = await moto.send(new HeadObjectCommand({ Bucket: bucket, Key: 'old' }));
    expect(old.VersionId).toBe(versions.oldV2);
    expect(old.ServerSideEncryption).toBeUndefined();
  });
});

describe('on MinIO without a KMS', () => {
  const bucket = uniqueBucket('sse-minio');

  test('each task fails once with NotImplemented (501); the object is left as it was', async () => {
    await versionedBucket(engine.s3, bucket);
    const version = await put(engine.s3, bucket, 'obj', randomBytes(1000));
    const { job, rows } = await runJob(engine.s3, bucket, [`${bucket},obj,${version}`, `${bucket},missing,`]);
    const obj = rows.find((r) => r.key === 'obj')!;
    expect(obj).toMatchObject({ status: 'failed', httpStatus: '501', errorCode: 'NotImplemented' });
    expect(obj.message).toMatch(/KMS is not configured/);
    expect(rows.find((r) => r.key === 'missing')).toMatchObject({ status: 'failed', httpStatus: '404', errorCode: 'NoSuchKey' });
    expect(job.S3Batch.FailedTasksByErrorCode).toEqual({ NotImplemented: 1, NoSuchKey: 1 });
    const head = await engine.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' }));
    expect(head.VersionId).toBe(version);
    expect(head.ServerSideEncryption).toBeUndefined();
  });
});
