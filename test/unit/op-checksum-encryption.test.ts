/**
 * S3ComputeObjectChecksum and S3UpdateObjectEncryption without a server: checksum vectors for every algorithm, the
 * streaming and composite logic over a fake S3 client, the in-place copy request, and each operation's error table.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type GetObjectCommandInput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { classifyAwsError } from '../../src/activities/aws-errors';
import { compositeChecksum, createHasher, hashStream, toBase64, type ChecksumAlgorithm } from '../../src/activities/operations/checksum/hashers';
import { computeObjectChecksum } from '../../src/activities/operations/compute-object-checksum';
import { TaskFailure, type OperationContext } from '../../src/activities/operations/operation';
import {
  MAX_COPY_BYTES,
  encryptionCopyInput,
  updateObjectEncryption,
} from '../../src/activities/operations/update-object-encryption';

const ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'MD5', 'SHA1', 'SHA256', 'SHA512', 'XXHASH64', 'XXHASH3', 'XXHASH128'];

async function digestHex(algorithm: ChecksumAlgorithm, text: string): Promise<string> {
  return Buffer.from(await hashStream(algorithm, [Buffer.from(text)])).toString('hex');
}

describe('checksum vectors', () => {
  // Check values from the CRC catalogue ("123456789") and the xxHash reference (empty input); "hello world" values
  // for CRC32/CRC32C/CRC64NVME are also what MinIO and moto report for it (see the integration test).
  const VECTORS: [ChecksumAlgorithm, string, string][] = [
    ['CRC32', '123456789', 'cbf43926'],
    ['CRC32C', '123456789', 'e3069283'],
    ['CRC64NVME', '123456789', 'ae8b14860a799888'],
    ['CRC32', 'hello world', '0d4a1185'],
    ['CRC32C', 'hello world', 'c99465aa'],
    ['CRC64NVME', 'hello world', '8d29d5c3f6ea8ebe'],
    ['XXHASH64', '', 'ef46db3751d8e999'],
    ['XXHASH3', '', '2d06800538d394c2'],
    ['XXHASH128', '', '99aa06d3014798d86001c324468d497f'],
    ['XXHASH64', 'hello world', '45ab6734b21e6968'],
    ['XXHASH3', 'hello world', 'd447b1ea40e6988b'],
    ['XXHASH128', 'hello world', 'df8d09e93f874900a99b8775cc15b6c7'],
    ['MD5', 'hello world', '5eb63bbbe01eeed093cb22bb8f5acdc3'],
    ['SHA1', 'hello world', '2aae6c35c94fcfb415dbe95f408b9ce91ee846ed'],
    ['SHA256', 'hello world', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9'],
  ];
  test.each(VECTORS)('%s(%j) = %s', async (algorithm, input, hex) => {
    expect(await digestHex(algorithm, input)).toBe(hex);
  });

  test('base64 of the big-endian digest, as in x-amz-checksum-* headers', async () => {
    expect(toBase64(await hashStream('CRC32', [Buffer.from('hello world')]))).toBe('DUoRhQ==');
    expect(toBase64(await hashStream('CRC64NVME', [Buffer.from('hello world')]))).toBe('jSnVw/bqjr4=');
    expect(toBase64(await hashStream('SHA512', [Buffer.from('hello world')]))).toBe(
      createHash('sha512').update('hello world').digest('base64')
    );
  });

  test.each(ALGORITHMS)('%s gives the same digest whatever the chunking', async (algorithm) => {
    const data = randomBytes(300_000);
    const whole = Buffer.from(await hashStream(algorithm, [data])).toString('hex');
    for (const size of [1, 7, 31, 32, 33, 1024, 65_536, 100_003]) {
      const chunks: Buffer[] = [];
      // Tiny chunks only for a prefix: byte-by-byte over 300 kB would take the JS hashers a while.
      const slice = size < 32 ? data.subarray(0, 5000) : data;
      for (let i = 0; i < slice.length; i += size) chunks.push(slice.subarray(i, i + size));
      const expected = size < 32 ? Buffer.from(await hashStream(algorithm, [slice])).toString('hex') : whole;
      expect(Buffer.from(await hashStream(algorithm, chunks)).toString('hex')).toBe(expected);
    }
  });

  test('composite: checksum of the concatenated part digests, suffixed -N (value MinIO reported)', async () => {
    const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.alloc(5 * 1024 * 1024, 2)];
    const digests = await Promise.all(parts.map((p) => hashStream('SHA256', [p])));
    // MinIO's ChecksumSHA256 for a CompleteMultipartUpload of exactly these two parts.
    expect(await compositeChecksum('SHA256', digests)).toBe('cmL3reV7bB1FR+C9DfmNjH8DeaY9GroN1gn5O4CE1vo=-2');
    const crcDigests = await Promise.all(parts.map((p) => hashStream('CRC32C', [p])));
    const crc = createHasher('CRC32C');
    for (const d of crcDigests) crc.update(d);
    expect(await compositeChecksum('CRC32C', crcDigests)).toBe(`${toBase64(await crc.digest())}-2`);
  });
});

// ---- a fake S3 client -------------------------------------------------------------------------------------------

interface FakeObject {
  parts: Buffer[];
  /** A store that ignores GetObject PartNumber (moto does): always the whole object, no PartsCount. */
  ignoresPartNumber?: boolean;
  etag?: string;
}

function fakeS3(handle: (command: unknown) => unknown): { client: S3Client; commands: unknown[] } {
  const commands: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      commands.push(command);
      return handle(command);
    },
  } as unknown as S3Client;
  return { client, commands };
}

function getObjectStore(object: FakeObject) {
  const multipart = object.parts.length > 1 || object.etag?.endsWith('-1"');
  const etag = object.etag ?? (multipart ? `"abc-${object.parts.length}"` : '"abc"');
  return fakeS3((command) => {
    if (!(command instanceof GetObjectCommand)) throw new Error('unexpected command');
    const { PartNumber, IfMatch } = command.input as GetObjectCommandInput;
    if (IfMatch !== undefined && IfMatch !== etag) throw Object.assign(new Error('precondition'), { name: 'PreconditionFailed' });
    const whole = PartNumber === undefined || object.ignoresPartNumber || !multipart;
    const body = whole ? Buffer.concat(object.parts) : object.parts[PartNumber - 1]!;
    return {
      Body: Readable.from([body]),
      ETag: etag,
      PartsCount: whole ? undefined : object.parts.length,
      $metadata: { httpStatusCode: whole && PartNumber === undefined ? 200 : 206 },
    };
  });
}

function context(s3: S3Client): OperationContext {
  return {
    s3,
    connections: {} as OperationContext['connections'],
    settings: { copy: { multipartThresholdBytes: MAX_COPY_BYTES, partSizeBytes: 64 * 1024 * 1024 } },
    signal: new AbortController().signal,
    jobId: 'job',
    taskId: 'task',
    attemptId: 'attempt',
  };
}

const object = { bucket: 'data', key: 'dir/a b.txt', versionId: 'v1' };

describe('computeObjectChecksum', () => {
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

  test('FULL_OBJECT streams one GetObject of the row version and reports compact JSON', async () => {
    const data = randomBytes(1000);
    const { client, commands } = getObjectStore({ parts: [data] });
    const out = await computeObjectChecksum.run(context(client), object, { ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' });
    expect(out).toEqual({
      message: `{"algorithm":"SHA256","type":"FULL_OBJECT","checksum":"${sha256(data).toString('base64')}"}`,
      httpStatus: 200,
    });
    expect(commands).toHaveLength(1);
    expect((commands[0] as GetObjectCommand).input).toMatchObject({ Bucket: 'data', Key: 'dir/a b.txt', VersionId: 'v1' });
    expect((commands[0] as GetObjectCommand).input.PartNumber).toBeUndefined();
  });

  test('the longest result message stays short', async () => {
    const { client } = getObjectStore({ parts: [Buffer.from('x')], etag: '"e-1"' });
    const out = await computeObjectChecksum.run(context(client), object, { ChecksumAlgorithm: 'SHA512', ChecksumType: 'COMPOSITE' });
    expect(out.message.length).toBeLessThan(160);
    expect(JSON.parse(out.message)).toMatchObject({ algorithm: 'SHA512', type: 'COMPOSITE' });
    expect(JSON.parse(out.message).checksum).toMatch(/-1$/);
  });

  test('COMPOSITE hashes each part, pins later parts to the ETag, and suffixes the part count', async () => {
    const parts = [randomBytes(3000), randomBytes(3000), randomBytes(1234)];
    const { client, commands } = getObjectStore({ parts });
    const out = await computeObjectChecksum.run(context(client), object, { ChecksumAlgorithm: 'SHA256', ChecksumType: 'COMPOSITE' });
    const expected = createHash('sha256').update(Buffer.concat(parts.map(sha256))).digest('base64');
    expect(JSON.parse(out.message)).toEqual({ algorithm: 'SHA256', type: 'COMPOSITE', checksum: `${expected}-3` });
    expect(out.httpStatus).toBe(200);
    expect(commands.map((c) => (c as GetObjectCommand).input)).toEqual([
      expect.objectContaining({ PartNumber: 1, IfMatch: undefined, VersionId: 'v1' }),
      expect.objectContaining({ PartNumber: 2, IfMatch: '"abc-3"', VersionId: 'v1' }),
      expect.objectContaining({ PartNumber: 3, IfMatch: '"abc-3"', VersionId: 'v1' }),
    ]);
  });

  test('COMPOSITE of a single-part object is its full-object checksum, typed FULL_OBJECT', async () => {
    const data = randomBytes(500);
    const { client, commands } = getObjectStore({ parts: [data] });
    const out = await computeObjectChecksum.run(context(client), object, { ChecksumAlgorithm: 'CRC32', ChecksumType: 'COMPOSITE' });
    expect(JSON.parse(out.message)).toEqual({
      algorithm: 'CRC32',
      type: 'FULL_OBJECT',
      checksum: toBase64(await hashStream('CRC32', [data])),
    });
    expect(commands).toHaveLength(1);
  });

  test('COMPOSITE on a store that ignores PartNumber fails permanently instead of mislabelling', async () => {
    const { client } = getObjectStore({ parts: [randomBytes(10), randomBytes(10)], ignoresPartNumber: true });
    const err = await computeObjectChecksum
      .run(context(client), object, { ChecksumAlgorithm: 'CRC32', ChecksumType: 'COMPOSITE' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect(classifyAwsError(err, computeObjectChecksum.errorCodes)).toMatchObject({ code: 'NotImplemented', retryable: false });
  });

  test('memory does not grow with object size (512 MiB streamed)', async () => {
    const CHUNK = 1024 * 1024;
    let peak = 0;
    async function* body() {
      for (let i = 0; i < 512; i++) {
        if (i % 16 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        yield Buffer.alloc(CHUNK, i);
      }
    }
    const { client } = fakeS3(() => ({ Body: body(), ETag: '"e"', $metadata: { httpStatusCode: 200 } }));
    const before = process.memoryUsage().arrayBuffers;
    await computeObjectChecksum.run(context(client), object, { ChecksumAlgorithm: 'MD5', ChecksumType: 'FULL_OBJECT' });
    // Retaining the chunks would reach 512 MiB; streaming stays at what the GC lets pile up between collections
    // (Node 24's young generation is twice Node 20's: 129 MiB was seen once on CI).
    expect(peak - before).toBeLessThan(192 * 1024 * 1024);
  });

  test('error table', () => {
    const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    const codes = computeObjectChecksum.errorCodes;
    expect(classifyAwsError(s3Error('NoSuchKey', 404), codes)).toMatchObject({ code: 'NoSuchKey', retryable: false, httpStatus: 404 });
    expect(classifyAwsError(s3Error('NoSuchVersion', 404), codes)).toMatchObject({ code: 'NoSuchVersion', retryable: false });
    expect(classifyAwsError(s3Error('InvalidArgument', 400), codes)).toMatchObject({ code: 'InvalidArgument', retryable: false });
    expect(classifyAwsError(s3Error('InvalidObjectState', 403), codes)).toMatchObject({ retryable: false });
    expect(classifyAwsError(s3Error('AccessDenied', 403), codes)).toMatchObject({ retryable: false });
    // Overwritten between part reads: read again.
    expect(classifyAwsError(s3Error('PreconditionFailed', 412), codes)).toMatchObject({ retryable: true });
    expect(classifyAwsError(s3Error('InvalidPartNumber', 416), codes)).toMatchObject({ retryable: true });
    expect(classifyAwsError(s3Error('SlowDown', 503), codes)).toMatchObject({ retryable: true });
    expect(codes).toEqual({ retryable: ['PreconditionFailed', 'InvalidPartNumber'] });
  });
});

// ---- S3UpdateObjectEncryption -------------------------------------------------------------------------------------

const KMS = { ObjectEncryption: { 'SSE-KMS': { KMSKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k1', BucketKeyEnabled: true } } };

function headStore(versions: Record<string, Partial<HeadObjectCommandOutput> | Error>, currentVersion: string | undefined) {
  return fakeS3((command) => {
    if (command instanceof HeadObjectCommand) {
      const v = command.input.VersionId ?? currentVersion;
      const found = v === undefined ? undefined : versions[v];
      if (found === undefined) throw Object.assign(new Error('UnknownError'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
      if (found instanceof Error) throw found;
      return { VersionId: v, ETag: '"etag"', ContentLength: 10, ...found, $metadata: { httpStatusCode: 200 } };
    }
    if (command instanceof CopyObjectCommand) return { $metadata: { httpStatusCode: 200 } };
    throw new Error('unexpected command');
  });
}

describe('updateObjectEncryption', () => {
  test('in-place copy of the current version with SSE-KMS, keeping metadata, tags and object settings', async () => {
    const { client, commands } = headStore({ v1: { StorageClass: 'STANDARD_IA', ChecksumCRC32: 'AAAAAA==', WebsiteRedirectLocation: '/x' } }, 'v1');
    const out = await updateObjectEncryption.run(context(client), object, KMS);
    expect(out).toEqual({ message: 'Successful', httpStatus: 200 });
    expect((commands[0] as HeadObjectCommand).input.VersionId).toBeUndefined();
    const copy = commands.at(-1) as CopyObjectCommand;
    expect(copy).toBeInstanceOf(CopyObjectCommand);
    expect(copy.input).toEqual({
      Bucket: 'data',
      Key: 'dir/a b.txt',
      CopySource: 'data/dir/a%20b.txt',
      CopySourceIfMatch: '"etag"',
      MetadataDirective: 'COPY',
      TaggingDirective: 'COPY',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1',
      BucketKeyEnabled: true,
      StorageClass: 'STANDARD_IA',
      WebsiteRedirectLocation: '/x',
      ObjectLockMode: undefined,
      ObjectLockRetainUntilDate: undefined,
      ObjectLockLegalHoldStatus: undefined,
      ChecksumAlgorithm: 'CRC32',
    });
  });

  test('keeps the checksum algorithm when the SDK client can ask for it', () => {
    const input = (fields: Partial<HeadObjectCommandOutput>) => encryptionCopyInput(object, KMS, fields as HeadObjectCommandOutput);
    expect(input({ ChecksumSHA256: 'x' }).ChecksumAlgorithm).toBe('SHA256');
    expect(input({ ChecksumCRC64NVME: 'x' }).ChecksumAlgorithm).toBe('CRC64NVME');
    // The client refuses MD5/SHA512/xxHash in a request ("not supported by the client"): leave it to the store.
    expect(input({ ChecksumMD5: 'x' }).ChecksumAlgorithm).toBeUndefined();
    expect(input({ ChecksumXXHASH64: 'x' }).ChecksumAlgorithm).toBeUndefined();
    expect(input({}).ChecksumAlgorithm).toBeUndefined();
  });

  test('keeps Object Lock retention only while it is in force', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const future = new Date('2031-01-01T00:00:00Z');
    const past = new Date('2029-01-01T00:00:00Z');
    const source = (date: Date) => ({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: date, ObjectLockLegalHoldStatus: 'ON' }) as HeadObjectCommandOutput;
    expect(encryptionCopyInput(object, KMS, source(future), now)).toMatchObject({
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: future,
      ObjectLockLegalHoldStatus: 'ON',
    });
    expect(encryptionCopyInput(object, KMS, source(past), now)).toMatchObject({ ObjectLockMode: undefined, ObjectLockLegalHoldStatus: 'ON' });
  });

  test('a noncurrent version fails without copying (a copy would make it current again)', async () => {
    const { client, commands } = headStore({ v1: {}, v2: {} }, 'v2');
    const err = await updateObjectEncryption.run(context(client), object, KMS).catch((e: unknown) => e);
    expect(classifyAwsError(err, updateObjectEncryption.errorCodes)).toMatchObject({ code: 'NoncurrentVersion', retryable: false, httpStatus: 400 });
    expect(commands.some((c) => c instanceof CopyObjectCommand)).toBe(false);
  });

  test('missing key and missing version are reported as GetObject would (HeadObject has no error body)', async () => {
    const missingKey = headStore({}, undefined);
    const e1 = await updateObjectEncryption.run(context(missingKey.client), { bucket: 'data', key: 'gone' }, KMS).catch((e: unknown) => e);
    expect(classifyAwsError(e1, updateObjectEncryption.errorCodes)).toMatchObject({ code: 'NoSuchKey', httpStatus: 404, retryable: false });
    const missingVersion = headStore({ v2: {} }, 'v2');
    const e2 = await updateObjectEncryption.run(context(missingVersion.client), object, KMS).catch((e: unknown) => e);
    expect(classifyAwsError(e2, updateObjectEncryption.errorCodes)).toMatchObject({ code: 'NoSuchVersion', httpStatus: 404, retryable: false });
    const badVersion = headStore({ v2: {}, v1: Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 400 } }) }, 'v2');
    const e3 = await updateObjectEncryption.run(context(badVersion.client), object, KMS).catch((e: unknown) => e);
    expect(classifyAwsError(e3, updateObjectEncryption.errorCodes)).toMatchObject({ code: 'InvalidArgument', httpStatus: 400, retryable: false });
  });

  test('objects over 5 GiB fail with EntityTooLarge before any copy', async () => {
    const { client, commands } = headStore({ v1: { ContentLength: MAX_COPY_BYTES + 1 } }, 'v1');
    const err = await updateObjectEncryption.run(context(client), object, KMS).catch((e: unknown) => e);
    expect(classifyAwsError(err, updateObjectEncryption.errorCodes)).toMatchObject({ code: 'EntityTooLarge', retryable: false, httpStatus: 400 });
    expect(commands.some((c) => c instanceof CopyObjectCommand)).toBe(false);
    const exactly = headStore({ v1: { ContentLength: MAX_COPY_BYTES } }, 'v1');
    await expect(updateObjectEncryption.run(context(exactly.client), object, KMS)).resolves.toMatchObject({ message: 'Successful' });
  });

  test('error table', () => {
    const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    const codes = updateObjectEncryption.errorCodes;
    // MinIO without a KMS: "Server side encryption specified but KMS is not configured".
    expect(classifyAwsError(s3Error('NotImplemented', 501), codes)).toMatchObject({ code: 'NotImplemented', retryable: false, httpStatus: 501 });
    expect(classifyAwsError(s3Error('KMS.NotFoundException', 400), codes)).toMatchObject({ retryable: false });
    expect(classifyAwsError(s3Error('KMS.DisabledException', 400), codes)).toMatchObject({ retryable: false });
    expect(classifyAwsError(s3Error('AccessDenied', 403), codes)).toMatchObject({ retryable: false });
    expect(classifyAwsError(s3Error('NoSuchKey', 404), codes)).toMatchObject({ retryable: false });
    expect(classifyAwsError(s3Error('PreconditionFailed', 412), codes)).toMatchObject({ retryable: true });
    expect(classifyAwsError(s3Error('KMS.ThrottlingException', 400), codes)).toMatchObject({ retryable: true });
    expect(classifyAwsError(s3Error('InternalError', 500), codes)).toMatchObject({ retryable: true });
    expect(codes).toEqual({
      retryable: ['PreconditionFailed', 'KMS.ThrottlingException'],
      permanent: ['NotImplemented', 'KMS.NotFoundException', 'KMS.DisabledException', 'KMS.InvalidKeyUsageException', 'KMS.KMSInvalidStateException'],
    });
  });
});
