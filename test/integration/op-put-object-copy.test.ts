/**
 * S3PutObjectCopy end to end on the local stack: jobs over small manifests on MinIO (versions, metadata, tags,
 * checksums, conditions, Object Lock, a 30 MB multipart copy) and on moto (ACLs, storage classes, SSE-S3, which
 * MinIO does not keep). The worker copies objects over 5 MiB part by part, so the multipart path runs on 30 MB.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createWorker } from '../../src/worker-runtime';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';
import {
  createBucket,
  csvJob,
  manifestKey,
  putManifest,
  readReport,
  startEngine,
  uniqueBucket,
  type Engine,
  type ParsedReportRow,
} from '../helpers/engine';
import { motoClient } from '../helpers/stack';

const MiB = 1024 * 1024;
let engine: Engine;
let moto: S3Client;
const src = uniqueBucket('copy-src');
const dest = uniqueBucket('copy-dest');
const locked = uniqueBucket('copy-locked');
const reports = uniqueBucket('copy-reports');
const motoBucket = uniqueBucket('copy-moto');

beforeAll(async () => {
  engine = await startEngine({ startWorker: false });
  // The engine helper starts workers with the stack's default operations settings (5 GiB threshold); this file
  // needs a 5 MiB threshold, so it builds its worker the way the helper does and hands it to the engine to stop.
  const config = { ...engine.config, operations: { copy: { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB } } };
  const built = await createWorker(config, { workflowBundlePath: await workflowBundlePath() });
  engine.worker = built;
  void built.worker.run().catch((err) => console.error('worker failed', err));

  for (const b of [src, dest, reports]) await createBucket(engine.s3, b);
  await createBucket(engine.s3, locked, { objectLock: true });
  await engine.s3.send(new PutBucketVersioningCommand({ Bucket: src, VersioningConfiguration: { Status: 'Enabled' } }));
  moto = motoClient();
  await createBucket(moto, motoBucket);
});

afterAll(async () => {
  moto?.destroy();
  await engine?.close();
});

async function put(s3: S3Client, input: Omit<PutObjectCommandInput, 'Bucket'> & { Bucket?: string }) {
  return s3.send(new PutObjectCommand({ Bucket: src, ...input }));
}

async function body(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

const head = (s3: S3Client, bucket: string, key: string, extra: { PartNumber?: number } = {}) =>
  s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED', ...extra }));
const tagsOf = async (s3: S3Client, bucket: string, key: string) =>
  (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet;
const sha256 = (data: Buffer, encoding: 'hex' | 'base64' = 'hex') => createHash('sha256').update(data).digest(encoding);

type CopyParams = NonNullable<CreateJobInput['Operation']['S3PutObjectCopy']>;

/**
 * Runs one copy job over `rows` (`[bucket, key, versionId?]`) and returns its report rows by key. `moto` runs it on
 * the moto connection (manifest, objects and report all in moto).
 */
async function copyJob(name: string, rows: string[][], params: Partial<CopyParams>, options: { moto?: boolean } = {}) {
  const s3 = options.moto ? moto : engine.s3;
  const bucket = options.moto ? motoBucket : reports;
  const lines = rows.map(([b, k, v]) => [b, manifestKey(k!), ...(v === undefined ? [] : [v])].join(','));
  const manifest = await putManifest(s3, bucket, name, lines);
  const request = csvJob(manifest, { S3PutObjectCopy: { TargetResource: `arn:aws:s3:::${options.moto ? motoBucket : dest}`, ...params } }, bucket, {
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: rows.some((r) => r.length > 2) ? ['Bucket', 'Key', 'VersionId'] : ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
    },
    ...(options.moto ? { Extensions: { Connection: 'moto' } } : {}),
  });
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 90_000 });
  expect(job.Status).toBe('Complete');
  const report = await readReport(s3, bucket, job.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(rows.length);
  const byKey: Record<string, ParsedReportRow> = {};
  for (const row of report.rows) byKey[decodeURIComponent(row.key)] = row;
  return byKey;
}

const succeeded = expect.objectContaining({ status: 'succeeded', httpStatus: '200', errorCode: '', message: 'Successful' });
const failed = (errorCode: string, httpStatus: string) => expect.objectContaining({ status: 'failed', errorCode, httpStatus });

test('versions: an older version is copied with its own bytes; a missing key and a bad version id fail their rows', async () => {
  const v1 = await put(engine.s3, { Key: 'versions/doc.txt', Body: 'first version' });
  await put(engine.s3, { Key: 'versions/doc.txt', Body: 'second version' });
  await put(engine.s3, { Key: 'versions/current file.txt', Body: 'current' });
  await put(engine.s3, { Key: 'versions/other.txt', Body: 'other' });
  expect(v1.VersionId).toBeTruthy();

  const rows = await copyJob(
    'versions',
    [
      [src, 'versions/doc.txt', v1.VersionId!],
      [src, 'versions/current file.txt', ''],
      [src, 'versions/missing.txt', ''],
      [src, 'versions/other.txt', '00000000-0000-0000-0000-000000000000'],
    ],
    { TargetKeyPrefix: 'v/' }
  );
  expect(rows['versions/doc.txt']).toEqual(succeeded);
  expect(rows['versions/doc.txt']!.versionId).toBe(v1.VersionId);
  expect(rows['versions/current file.txt']).toEqual(succeeded);
  expect(rows['versions/missing.txt']).toEqual(failed('NoSuchKey', '404'));
  expect(rows['versions/other.txt']).toEqual(failed('NoSuchVersion', '404'));
  expect((await body(engine.s3, dest, 'v/versions/doc.txt')).toString()).toBe('first version');
  expect((await body(engine.s3, dest, 'v/versions/current file.txt')).toString()).toBe('current');
});

test('metadata COPY and REPLACE; tags copied when omitted, replaced when given, none when empty', async () => {
  await put(engine.s3, {
    Key: 'meta/source.txt',
    Body: 'metadata source',
    ContentType: 'text/x-source',
    CacheControl: 'max-age=7',
    ContentLanguage: 'de',
    Metadata: { color: 'red' },
    Tagging: 'team=blue&stage=raw',
  });
  const row = [[src, 'meta/source.txt']];
  const [copy, replace, untagged] = await Promise.all([
    copyJob('meta-copy', row, { TargetKeyPrefix: 'copy/', MetadataDirective: 'COPY' }),
    copyJob('meta-replace', row, {
      TargetKeyPrefix: 'replace/',
      MetadataDirective: 'REPLACE',
      NewObjectMetadata: { ContentType: 'text/x-new', UserMetadata: { shape: 'round' }, ContentDisposition: 'attachment' },
      NewObjectTagging: [{ Key: 'copied', Value: 'yes' }],
    }),
    copyJob('meta-untagged', row, { TargetKeyPrefix: 'untagged/', NewObjectTagging: [] }),
  ]);
  for (const rows of [copy, replace, untagged]) expect(rows['meta/source.txt']).toEqual(succeeded);

  const copied = await head(engine.s3, dest, 'copy/meta/source.txt');
  expect(copied).toMatchObject({ ContentType: 'text/x-source', CacheControl: 'max-age=7', ContentLanguage: 'de', Metadata: { color: 'red' } });
  expect(await tagsOf(engine.s3, dest, 'copy/meta/source.txt')).toEqual(
    expect.arrayContaining([{ Key: 'team', Value: 'blue' }, { Key: 'stage', Value: 'raw' }])
  );

  const replaced = await head(engine.s3, dest, 'replace/meta/source.txt');
  expect(replaced).toMatchObject({ ContentType: 'text/x-new', ContentDisposition: 'attachment', Metadata: { shape: 'round' } });
  expect(replaced.CacheControl).toBeUndefined();
  expect(await tagsOf(engine.s3, dest, 'replace/meta/source.txt')).toEqual([{ Key: 'copied', Value: 'yes' }]);

  expect(await tagsOf(engine.s3, dest, 'untagged/meta/source.txt')).toEqual([]);
  expect((await head(engine.s3, dest, 'untagged/meta/source.txt')).Metadata).toEqual({ color: 'red' });
});

test('MinIO: StorageClass STANDARD and ChecksumAlgorithm SHA256 are kept; STANDARD_IA, SSE-S3 and ACLs are not', async () => {
  const data = Buffer.from('checksum me');
  await put(engine.s3, { Key: 'attrs/a.txt', Body: data });
  const row = [[src, 'attrs/a.txt']];
  const [standard, ia, sse, acl] = await Promise.all([
    copyJob('attrs-standard', row, { TargetKeyPrefix: 'standard/', StorageClass: 'STANDARD', ChecksumAlgorithm: 'SHA256' }),
    copyJob('attrs-ia', row, { TargetKeyPrefix: 'ia/', StorageClass: 'STANDARD_IA' }),
    copyJob('attrs-sse', row, { TargetKeyPrefix: 'sse/', MetadataDirective: 'REPLACE', NewObjectMetadata: { SSEAlgorithm: 'AES256' } }),
    copyJob('attrs-acl', row, {
      TargetKeyPrefix: 'acl/',
      CannedAccessControlList: 'public-read',
      AccessControlGrants: [{ Grantee: { TypeIdentifier: 'uri', Identifier: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' }],
    }),
  ]);
  expect(standard['attrs/a.txt']).toEqual(succeeded);
  const h = await head(engine.s3, dest, 'standard/attrs/a.txt');
  expect(h.StorageClass ?? 'STANDARD').toBe('STANDARD');
  expect(h.ChecksumSHA256).toBe(sha256(data, 'base64'));

  // MinIO has no tiers configured here, and SSE-S3 needs a KMS it does not have.
  expect(ia['attrs/a.txt']).toEqual(failed('InvalidStorageClass', '400'));
  expect(sse['attrs/a.txt']).toEqual(failed('NotImplemented', '501'));
  // MinIO accepts ACL headers on CopyObject and ignores them (its PutObjectAcl answers NotImplemented instead).
  expect(acl['attrs/a.txt']).toEqual(succeeded);
});

test('ModifiedSince in the future fails the task with PreconditionFailed, for CopyObject and multipart alike', async () => {
  await put(engine.s3, { Key: 'cond/small.txt', Body: 'small' });
  await put(engine.s3, { Key: 'cond/large.bin', Body: randomBytes(6 * MiB) });
  const future = new Date(Date.now() + 3600_000).toISOString();
  const past = new Date(Date.now() - 3600_000).toISOString();
  const [modified, unmodified] = await Promise.all([
    copyJob('cond-modified', [[src, 'cond/small.txt'], [src, 'cond/large.bin']], { TargetKeyPrefix: 'cond1/', ModifiedSinceConstraint: future }),
    copyJob('cond-unmodified', [[src, 'cond/small.txt'], [src, 'cond/large.bin']], { TargetKeyPrefix: 'cond2/', UnModifiedSinceConstraint: past }),
  ]);
  for (const rows of [modified, unmodified]) {
    expect(rows['cond/small.txt']).toEqual(failed('PreconditionFailed', '412'));
    expect(rows['cond/large.bin']).toEqual(failed('PreconditionFailed', '412'));
  }
  const passing = await copyJob('cond-pass', [[src, 'cond/small.txt'], [src, 'cond/large.bin']], {
    TargetKeyPrefix: 'cond3/',
    ModifiedSinceConstraint: past,
    UnModifiedSinceConstraint: future,
  });
  expect(Object.values(passing)).toEqual([succeeded, succeeded]);
});

test('Object Lock fields on an Object Lock target bucket', async () => {
  await put(engine.s3, { Key: 'lock/a.txt', Body: 'locked' });
  const until = new Date(Date.now() + 86_400_000);
  until.setMilliseconds(0);
  const rows = await copyJob('lock', [[src, 'lock/a.txt']], {
    TargetResource: `arn:aws:s3:::${locked}`,
    ObjectLockMode: 'GOVERNANCE',
    ObjectLockRetainUntilDate: until.toISOString(),
    ObjectLockLegalHoldStatus: 'ON',
  });
  expect(rows['lock/a.txt']).toEqual(succeeded);
  const h = await head(engine.s3, locked, 'lock/a.txt');
  expect(h).toMatchObject({ ObjectLockMode: 'GOVERNANCE', ObjectLockLegalHoldStatus: 'ON' });
  expect(h.ObjectLockRetainUntilDate?.toISOString()).toBe(until.toISOString());
});

test('multipart: a 30 MB object is copied in parts with its bytes, metadata and tags', async () => {
  const data = randomBytes(30_000_000);
  await put(engine.s3, {
    Key: 'big/object.bin',
    Body: data,
    ContentType: 'application/x-big',
    ContentDisposition: 'attachment; filename="object.bin"',
    Metadata: { origin: 'random', size: '30000000' },
    Tagging: 'kind=big&copy=multipart',
    ChecksumAlgorithm: 'SHA256',
  });
  const source = await head(engine.s3, src, 'big/object.bin');
  expect(source.ChecksumSHA256).toBe(sha256(data, 'base64'));

  const [inherited, explicit] = await Promise.all([
    copyJob('multipart', [[src, 'big/object.bin']], { TargetKeyPrefix: 'mp/' }),
    copyJob('multipart-explicit', [[src, 'big/object.bin']], { TargetKeyPrefix: 'mp-explicit/', ChecksumAlgorithm: 'CRC32' }),
  ]);
  expect(inherited['big/object.bin']).toEqual(succeeded);
  const copied = await body(engine.s3, dest, 'mp/big/object.bin');
  expect(copied.length).toBe(data.length);
  expect(sha256(copied)).toBe(sha256(data));

  const h = await head(engine.s3, dest, 'mp/big/object.bin');
  expect(h).toMatchObject({
    ContentType: 'application/x-big',
    ContentDisposition: 'attachment; filename="object.bin"',
    Metadata: { origin: 'random', size: '30000000' },
  });
  expect(h.ETag).toMatch(/-6"$/);
  expect((await head(engine.s3, dest, 'mp/big/object.bin', { PartNumber: 1 })).PartsCount).toBe(6);
  expect(await tagsOf(engine.s3, dest, 'mp/big/object.bin')).toEqual(
    expect.arrayContaining([{ Key: 'kind', Value: 'big' }, { Key: 'copy', Value: 'multipart' }])
  );
  // MinIO computes no checksums for UploadPartCopy, so the source's SHA256 cannot be kept (AWS keeps it, as
  // COMPOSITE); a checksum the job asks for fails the task rather than being dropped.
  expect(h.ChecksumSHA256).toBeUndefined();
  expect(explicit['big/object.bin']).toEqual(failed('NotImplemented', '501'));
}, 180_000);

test('moto: canned ACL public-read, explicit grants, STANDARD_IA, SSE-S3 and SSE-KMS with a bucket key are read back; archived sources fail; multipart there too', async () => {
  const small = Buffer.from('moto object');
  const big = randomBytes(12 * MiB);
  await put(moto, { Bucket: motoBucket, Key: 'in/small.txt', Body: small, Tagging: 'a=1' });
  await put(moto, { Bucket: motoBucket, Key: 'in/big.bin', Body: big, Metadata: { m: 'v' }, Tagging: 'b=2' });
  await put(moto, { Bucket: motoBucket, Key: 'in/archived.txt', Body: 'cold', StorageClass: 'GLACIER' });
  const rows = await copyJob(
    'moto',
    [[motoBucket, 'in/small.txt'], [motoBucket, 'in/big.bin'], [motoBucket, 'in/archived.txt']],
    {
      TargetKeyPrefix: 'out/',
      CannedAccessControlList: 'public-read',
      StorageClass: 'STANDARD_IA',
      MetadataDirective: 'COPY',
    },
    { moto: true }
  );
  expect(rows['in/small.txt']).toEqual(succeeded);
  expect(rows['in/big.bin']).toEqual(succeeded);
  // An archived source must be restored first; CopyObject's code for it is ObjectNotInActiveTierError.
  expect(rows['in/archived.txt']).toEqual(failed('ObjectNotInActiveTierError', '403'));
  expect(rows['in/archived.txt']!.message).not.toMatch(/gave up/);
  for (const key of ['out/in/small.txt', 'out/in/big.bin']) {
    const acl = await moto.send(new GetObjectAclCommand({ Bucket: motoBucket, Key: key }));
    expect(acl.Grants).toContainEqual(
      expect.objectContaining({ Grantee: expect.objectContaining({ URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }), Permission: 'READ' })
    );
    expect((await head(moto, motoBucket, key)).StorageClass).toBe('STANDARD_IA');
  }
  expect(sha256(await body(moto, motoBucket, 'out/in/big.bin'))).toBe(sha256(big));
  expect((await head(moto, motoBucket, 'out/in/big.bin')).Metadata).toEqual({ m: 'v' });
  expect(await tagsOf(moto, motoBucket, 'out/in/big.bin')).toEqual([{ Key: 'b', Value: '2' }]);
  expect((await head(moto, motoBucket, 'out/in/big.bin', { PartNumber: 1 })).PartsCount).toBe(3);

  const sse = await copyJob(
    'moto-sse',
    [[motoBucket, 'in/small.txt']],
    { TargetKeyPrefix: 'sse/', MetadataDirective: 'REPLACE', NewObjectMetadata: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    { moto: true }
  );
  expect(sse['in/small.txt']).toEqual(succeeded);
  expect((await head(moto, motoBucket, 'sse/in/small.txt')).ServerSideEncryption).toBe('AES256');

  // Explicit grants (sent as x-amz-grant-* headers) and SSE-KMS with a bucket key, read back from the copy.
  const kmsKey = `arn:aws:kms:us-east-1:123456789012:key/${'0'.repeat(8)}-copy-test`;
  const granted = await copyJob(
    'moto-grants-kms',
    [[motoBucket, 'in/small.txt']],
    {
      TargetKeyPrefix: 'granted/',
      AccessControlGrants: [
        { Grantee: { TypeIdentifier: 'uri', Identifier: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }, Permission: 'READ_ACP' },
      ],
      MetadataDirective: 'REPLACE',
      NewObjectMetadata: { SSEAlgorithm: 'KMS' },
      SSEAwsKmsKeyId: kmsKey,
      BucketKeyEnabled: true,
    },
    { moto: true }
  );
  expect(granted['in/small.txt']).toEqual(succeeded);
  const grants = (await moto.send(new GetObjectAclCommand({ Bucket: motoBucket, Key: 'granted/in/small.txt' }))).Grants;
  expect(grants).toContainEqual(
    expect.objectContaining({
      Grantee: expect.objectContaining({ URI: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }),
      Permission: 'READ_ACP',
    })
  );
  expect(await head(moto, motoBucket, 'granted/in/small.txt')).toMatchObject({
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: kmsKey,
    BucketKeyEnabled: true,
  });
}, 180_000);
