/**
 * S3ComputeObjectChecksum on MinIO, end to end: objects uploaded with known checksums (single PutObject and a
 * 3-part multipart upload), jobs over a versioned bucket, and the report's ResultMessage compared with MinIO's own
 * checksums (HeadObject ChecksumMode ENABLED: an independent implementation) and with node:crypto / zlib.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import {
  createBucket,
  csvJob,
  putManifest,
  readReport,
  startEngine,
  uniqueBucket,
  type Engine,
  type ParsedReportRow,
  withVersionIds,
} from '../helpers/engine';

let engine: Engine;
const data = uniqueBucket('cks-data');
const reports = uniqueBucket('cks-reports');
const PART = 5 * 1024 * 1024;

const bodies: Record<string, Buffer> = {};
const versions: Record<string, string> = {};

async function putSingle(key: string, algorithm: ChecksumAlgorithm): Promise<void> {
  bodies[key] = randomBytes(200_000);
  const out = await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: key, Body: bodies[key], ChecksumAlgorithm: algorithm }));
  versions[key] = out.VersionId!;
}

async function putMultipart(key: string, algorithm: ChecksumAlgorithm): Promise<void> {
  const parts = [randomBytes(PART), randomBytes(PART), randomBytes(1_000_000)];
  bodies[key] = Buffer.concat(parts);
  const { UploadId } = await engine.s3.send(new CreateMultipartUploadCommand({ Bucket: data, Key: key, ChecksumAlgorithm: algorithm }));
  const done = [];
  for (const [i, body] of parts.entries()) {
    const out = await engine.s3.send(
      new UploadPartCommand({ Bucket: data, Key: key, UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: algorithm })
    );
    const { $metadata: _, ...fields } = out;
    done.push({ PartNumber: i + 1, ...fields });
  }
  const out = await engine.s3.send(new CompleteMultipartUploadCommand({ Bucket: data, Key: key, UploadId, MultipartUpload: { Parts: done } }));
  versions[key] = out.VersionId!;
}

/** MinIO's own checksum of the object, as S3 reports it. */
async function minioChecksum(key: string, algorithm: ChecksumAlgorithm): Promise<string> {
  const head = await engine.s3.send(new HeadObjectCommand({ Bucket: data, Key: key, ChecksumMode: 'ENABLED' }));
  const value = head[`Checksum${algorithm}` as keyof HeadObjectCommandOutput] as string | undefined;
  if (!value) throw new Error(`MinIO reports no ${algorithm} checksum for ${key}`);
  return value;
}

beforeAll(async () => {
  engine = await startEngine();
  for (const b of [data, reports]) await createBucket(engine.s3, b);
  await engine.s3.send(new PutBucketVersioningCommand({ Bucket: data, VersioningConfiguration: { Status: 'Enabled' } }));
  await putSingle('single-crc32.bin', 'CRC32');
  await putSingle('single-crc32c.bin', 'CRC32C');
  await putSingle('single-sha256.bin', 'SHA256');
  await putSingle('single-crc64.bin', 'CRC64NVME');
  await putMultipart('mp-sha256.bin', 'SHA256');
  await putMultipart('mp-crc32c.bin', 'CRC32C');
});

afterAll(() => engine?.close());

const MISSING = 'missing.bin';
const NO_SUCH_VERSION = '11111111-2222-3333-4444-555555555555';
const BAD_VERSION = 'not-a-version';

async function runJob(name: string, keys: string[], operation: CreateJobInput['Operation'], errorRows = false) {
  const rows = keys.map((k) => `${data},${k},${versions[k]}`);
  if (errorRows) {
    rows.push(`${data},${MISSING},`, `${data},single-crc32.bin,${NO_SUCH_VERSION}`, `${data},single-sha256.bin,${BAD_VERSION}`);
  }
  const manifest = await putManifest(engine.s3, data, name, rows);
  const request = withVersionIds(csvJob(manifest, operation, reports));
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
  expect(job.Status).toBe('Complete');
  const { rows: reported } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(reported).toHaveLength(rows.length);
  const byRow = (key: string, versionId?: string): ParsedReportRow =>
    reported.find((r) => r.key === key && r.versionId === (versionId ?? versions[key] ?? ''))!;
  return { job, byRow };
}

function succeeded(row: ParsedReportRow) {
  expect(row).toMatchObject({ status: 'succeeded', httpStatus: '200', errorCode: '' });
  return JSON.parse(row.message) as { algorithm: string; type: string; checksum: string };
}

function expectErrorRows(byRow: (key: string, versionId?: string) => ParsedReportRow) {
  expect(byRow(MISSING, '')).toMatchObject({ status: 'failed', errorCode: 'NoSuchKey', httpStatus: '404' });
  expect(byRow('single-crc32.bin', NO_SUCH_VERSION)).toMatchObject({ status: 'failed', errorCode: 'NoSuchVersion', httpStatus: '404' });
  // MinIO's answer to a version id that is not a UUID.
  expect(byRow('single-sha256.bin', BAD_VERSION)).toMatchObject({ status: 'failed', errorCode: 'InvalidArgument', httpStatus: '400' });
}

test('default CRC64NVME FULL_OBJECT matches MinIO; missing key and bad versions fail per row', async () => {
  const { job, byRow } = await runJob('crc64', ['single-crc64.bin', 'mp-sha256.bin'], { S3ComputeObjectChecksum: {} }, true);
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 5, NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 3 });
  expect(succeeded(byRow('single-crc64.bin'))).toEqual({
    algorithm: 'CRC64NVME',
    type: 'FULL_OBJECT',
    checksum: await minioChecksum('single-crc64.bin', 'CRC64NVME'),
  });
  expect(byRow('single-crc64.bin').message).toBe(
    `{"algorithm":"CRC64NVME","type":"FULL_OBJECT","checksum":"${await minioChecksum('single-crc64.bin', 'CRC64NVME')}"}`
  );
  expect(succeeded(byRow('mp-sha256.bin'))).toMatchObject({ algorithm: 'CRC64NVME', type: 'FULL_OBJECT' });
  expectErrorRows(byRow);
});

test('CRC32 FULL_OBJECT matches MinIO and zlib, also over a multipart object', async () => {
  const { byRow } = await runJob('crc32', ['single-crc32.bin', 'mp-sha256.bin'], {
    S3ComputeObjectChecksum: { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' },
  });
  const be32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]).toString('base64');
  const single = succeeded(byRow('single-crc32.bin'));
  expect(single.checksum).toBe(await minioChecksum('single-crc32.bin', 'CRC32'));
  expect(single.checksum).toBe(be32(crc32(bodies['single-crc32.bin']!)));
  expect(succeeded(byRow('mp-sha256.bin')).checksum).toBe(be32(crc32(bodies['mp-sha256.bin']!)));
});

test('SHA1 FULL_OBJECT of a multipart object matches node:crypto', async () => {
  const { byRow } = await runJob('sha1', ['mp-sha256.bin'], { S3ComputeObjectChecksum: { ChecksumAlgorithm: 'SHA1' } });
  expect(succeeded(byRow('mp-sha256.bin')).checksum).toBe(createHash('sha1').update(bodies['mp-sha256.bin']!).digest('base64'));
});

test('SHA256 COMPOSITE matches MinIO for the multipart object; a single-part object reports its full checksum', async () => {
  const { job, byRow } = await runJob(
    'sha256-composite',
    ['mp-sha256.bin', 'single-sha256.bin'],
    { S3ComputeObjectChecksum: { ChecksumAlgorithm: 'SHA256', ChecksumType: 'COMPOSITE' } },
    true
  );
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 5, NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 3 });
  const minioComposite = await minioChecksum('mp-sha256.bin', 'SHA256');
  expect(minioComposite).toMatch(/-3$/);
  expect(succeeded(byRow('mp-sha256.bin'))).toEqual({ algorithm: 'SHA256', type: 'COMPOSITE', checksum: minioComposite });
  const single = succeeded(byRow('single-sha256.bin'));
  expect(single).toEqual({ algorithm: 'SHA256', type: 'FULL_OBJECT', checksum: await minioChecksum('single-sha256.bin', 'SHA256') });
  expect(single.checksum).toBe(createHash('sha256').update(bodies['single-sha256.bin']!).digest('base64'));
  expectErrorRows(byRow);
});

test('CRC32C COMPOSITE matches MinIO for the multipart object and a single-part one', async () => {
  const { byRow } = await runJob('crc32c-composite', ['mp-crc32c.bin', 'single-crc32c.bin'], {
    S3ComputeObjectChecksum: { ChecksumAlgorithm: 'CRC32C', ChecksumType: 'COMPOSITE' },
  });
  expect(succeeded(byRow('mp-crc32c.bin'))).toEqual({
    algorithm: 'CRC32C',
    type: 'COMPOSITE',
    checksum: await minioChecksum('mp-crc32c.bin', 'CRC32C'),
  });
  expect(succeeded(byRow('single-crc32c.bin')).checksum).toBe(await minioChecksum('single-crc32c.bin', 'CRC32C'));
});
