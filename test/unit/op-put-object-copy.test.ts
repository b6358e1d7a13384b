/**
 * S3PutObjectCopy without a server: how each job field maps onto CopyObject, how a multipart copy is planned and
 * driven (against a fake S3 client that records its commands), and how copy errors are classified.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { classifyAwsError } from '../../src/activities/aws-errors';
import { MAX_PARTS, planParts } from '../../src/activities/operations/multipart-copy';
import { TaskFailure, type OperationContext, type TaskObject } from '../../src/activities/operations/operation';
import {
  COPY_OBJECT_MAX_BYTES,
  checkSourceConstraints,
  copyObjectInput,
  copySource,
  putObjectCopy,
} from '../../src/activities/operations/put-object-copy';
import { S3PutObjectCopy, type OperationParams } from '../../src/schemas/operations';

type Params = OperationParams<'S3PutObjectCopy'>;
const MiB = 1024 * 1024;
const source: TaskObject = { bucket: 'src', key: 'dir/a b+c.txt' };
const params = (extra: Partial<Record<keyof Params, unknown>> = {}): Params =>
  S3PutObjectCopy.parse({ TargetResource: 'arn:aws:s3:::dest', ...extra });

describe('copyObjectInput', () => {
  test('the minimal job: same key in the target bucket, everything else left to S3', () => {
    const input = copyObjectInput(source, params());
    expect(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined))).toEqual({
      Bucket: 'dest',
      Key: 'dir/a b+c.txt',
      CopySource: 'src/dir/a%20b%2Bc.txt',
    });
  });

  test('every field', () => {
    const input = copyObjectInput(
      { ...source, versionId: 'v1/=' },
      params({
        TargetKeyPrefix: 'copied/',
        CannedAccessControlList: 'bucket-owner-full-control',
        AccessControlGrants: [
          { Grantee: { TypeIdentifier: 'id', Identifier: 'abc' }, Permission: 'READ' },
          { Grantee: { TypeIdentifier: 'uri', Identifier: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' },
          { Grantee: { TypeIdentifier: 'emailAddress', Identifier: 'a@example.com' }, Permission: 'FULL_CONTROL' },
          { Grantee: { TypeIdentifier: 'id', Identifier: 'def' }, Permission: 'READ_ACP' },
          { Grantee: { TypeIdentifier: 'id', Identifier: 'ghi' }, Permission: 'WRITE_ACP' },
        ],
        MetadataDirective: 'REPLACE',
        ModifiedSinceConstraint: '2024-01-02T03:04:05Z',
        UnModifiedSinceConstraint: 1_700_000_000,
        NewObjectMetadata: {
          CacheControl: 'max-age=60',
          ContentDisposition: 'attachment',
          ContentEncoding: 'gzip',
          ContentLanguage: 'fr',
          UserMetadata: { origin: 'batch' },
          ContentType: 'text/plain',
          HttpExpiresDate: '2030-01-01T00:00:00Z',
          SSEAlgorithm: 'AES256',
        },
        NewObjectTagging: [
          { Key: 'a b', Value: 'x&y' },
          { Key: 'k', Value: '' },
        ],
        RedirectLocation: '/other',
        RequesterPays: true,
        StorageClass: 'STANDARD_IA',
        ObjectLockLegalHoldStatus: 'ON',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: '2031-01-01T00:00:00Z',
        BucketKeyEnabled: true,
        ChecksumAlgorithm: 'SHA256',
      })
    );
    expect(input).toEqual({
      Bucket: 'dest',
      Key: 'copied/dir/a b+c.txt',
      CopySource: 'src/dir/a%20b%2Bc.txt?versionId=v1%2F%3D',
      MetadataDirective: 'REPLACE',
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment',
      ContentEncoding: 'gzip',
      ContentLanguage: 'fr',
      ContentType: 'text/plain',
      Expires: new Date('2030-01-01T00:00:00Z'),
      Metadata: { origin: 'batch' },
      TaggingDirective: 'REPLACE',
      Tagging: 'a%20b=x%26y&k=',
      CopySourceIfModifiedSince: new Date('2024-01-02T03:04:05Z'),
      CopySourceIfUnmodifiedSince: new Date(1_700_000_000_000),
      ChecksumAlgorithm: 'SHA256',
      StorageClass: 'STANDARD_IA',
      ACL: 'bucket-owner-full-control',
      GrantFullControl: 'emailAddress="a@example.com"',
      GrantRead: 'id="abc", uri="http://acs.amazonaws.com/groups/global/AllUsers"',
      GrantReadACP: 'id="def"',
      GrantWriteACP: 'id="ghi"',
      ServerSideEncryption: 'AES256',
      SSEKMSKeyId: undefined,
      BucketKeyEnabled: true,
      WebsiteRedirectLocation: '/other',
      RequestPayer: 'requester',
      ObjectLockLegalHoldStatus: 'ON',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: new Date('2031-01-01T00:00:00Z'),
    });
  });

  test('tags: omitted copies the source tags, empty replaces them with none', () => {
    expect(copyObjectInput(source, params())).toMatchObject({ TaggingDirective: undefined, Tagging: undefined });
    expect(copyObjectInput(source, params({ NewObjectTagging: [] }))).toMatchObject({ TaggingDirective: 'REPLACE', Tagging: undefined });
  });

  test('metadata: COPY sends no content headers; REPLACE without NewObjectMetadata clears them', () => {
    const copy = copyObjectInput(source, params({ MetadataDirective: 'COPY' }));
    expect(copy.MetadataDirective).toBe('COPY');
    expect('ContentType' in copy || 'Metadata' in copy).toBe(false);
    const replace = copyObjectInput(source, params({ MetadataDirective: 'REPLACE' }));
    expect(replace).toMatchObject({ MetadataDirective: 'REPLACE', ContentType: undefined, Metadata: undefined });
  });

  test('SSE: KMS (by name or by key id) is aws:kms with the key passed through', () => {
    const kms = params({ MetadataDirective: 'REPLACE', NewObjectMetadata: { SSEAlgorithm: 'KMS' } });
    expect(copyObjectInput(source, kms)).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: undefined });
    const keyOnly = params({ SSEAwsKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k', BucketKeyEnabled: false });
    expect(copyObjectInput(source, keyOnly)).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
      BucketKeyEnabled: false,
    });
  });

  test('copySource keeps slashes and encodes everything else', () => {
    expect(copySource({ bucket: 'b', key: 'a/ü/%/?#' })).toBe('b/a/%C3%BC/%25/%3F%23');
    expect(copySource({ bucket: 'b', key: 'k', versionId: 'abc' })).toBe('b/k?versionId=abc');
  });
});

describe('planParts', () => {
  const check = (size: number, partSize: number) => {
    const parts = planParts(size, partSize);
    const partSize0 = parts[0]!.end + 1;
    // Plain checks, one expect: a 10,000-part plan is too slow to assert part by part.
    const gaps = parts.filter(
      (p, i) =>
        p.partNumber !== i + 1 ||
        p.start !== (i === 0 ? 0 : parts[i - 1]!.end + 1) ||
        (i < parts.length - 1 ? p.end - p.start + 1 !== partSize0 : p.end !== size - 1 || p.end < p.start)
    );
    expect(gaps).toEqual([]);
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    return parts;
  };

  test('ranges cover the object exactly, only the last part short', () => {
    expect(check(30_000_000, 5 * MiB).map((p) => [p.start, p.end])).toEqual([
      [0, 5 * MiB - 1],
      [5 * MiB, 10 * MiB - 1],
      [10 * MiB, 15 * MiB - 1],
      [15 * MiB, 20 * MiB - 1],
      [20 * MiB, 25 * MiB - 1],
      [25 * MiB, 30_000_000 - 1],
    ]);
    expect(check(10 * MiB, 5 * MiB)).toHaveLength(2);
    expect(check(10 * MiB + 1, 5 * MiB)).toHaveLength(3);
    expect(check(1, 5 * MiB)).toEqual([{ partNumber: 1, start: 0, end: 0 }]);
  });

  test('more than 10,000 parts raises the part size', () => {
    const fiveTiB = 5 * 1024 * 1024 * MiB;
    const parts = check(fiveTiB, 5 * MiB);
    expect(parts).toHaveLength(MAX_PARTS);
    expect(parts[0]!.end + 1).toBe(Math.ceil(fiveTiB / MAX_PARTS));
    expect(check(10_000 * 5 * MiB, 5 * MiB)).toHaveLength(MAX_PARTS);
    expect(check(10_000 * 5 * MiB + 1, 5 * MiB)).toHaveLength(MAX_PARTS);
  });

  test('nothing to plan for an empty object', () => {
    expect(() => planParts(0, 5 * MiB)).toThrow(RangeError);
  });
});

describe('copy errors', () => {
  const s3Error = (name: string, status: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });
  test.each([
    ['PreconditionFailed', 412, false],
    ['InvalidObjectState', 403, false],
    ['ObjectNotInActiveTierError', 403, false],
    ['EntityTooLarge', 400, false],
    ['EntityTooSmall', 400, false],
    ['InvalidPart', 400, false],
    ['InvalidPartOrder', 400, false],
    ['NoSuchKey', 404, false],
    ['NoSuchVersion', 404, false],
    ['NotImplemented', 501, false],
    ['InvalidStorageClass', 400, false],
    ['NoSuchUpload', 404, true],
    ['SlowDown', 503, true],
    ['InternalError', 500, true],
  ])('%s (%i): retryable %s', (code, status, retryable) => {
    expect(classifyAwsError(s3Error(code, status), putObjectCopy.errorCodes)).toEqual(
      expect.objectContaining({ code, httpStatus: status, retryable })
    );
  });
});

// ---- Driving run() against a fake client ----

interface Call {
  command: string;
  input: Record<string, unknown>;
}

/** An S3 client whose send() records each command and answers through `answer` (throw to fail). */
function fakeS3(answer: (command: string, input: Record<string, any>) => unknown) {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ command: name, input: command.input });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        return { $metadata: { httpStatusCode: 200 }, ...((await answer(name, command.input)) as object) };
      } finally {
        inFlight--;
      }
    },
  };
  return { s3: client as unknown as S3Client, calls, maxInFlight: () => maxInFlight, names: () => calls.map((c) => c.command) };
}

function context(s3: S3Client, signal = new AbortController().signal, multipartThresholdBytes = 5 * MiB): OperationContext {
  return {
    s3,
    connections: undefined as never,
    settings: { copy: { multipartThresholdBytes, partSizeBytes: 5 * MiB } },
    signal,
    jobId: 'job',
    taskId: 'task',
    attemptId: 'attempt',
  };
}

const s3Error = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

const SIZE = 30_000_000;
const bigHead = {
  ContentLength: SIZE,
  ETag: '"etag-1"',
  LastModified: new Date('2025-06-01T12:00:00.500Z'),
  ContentType: 'application/x-big',
  CacheControl: 'no-cache',
  ContentDisposition: 'inline',
  ContentEncoding: 'identity',
  ContentLanguage: 'en',
  Expires: new Date('2030-01-01T00:00:00Z'),
  Metadata: { owner: 'me' },
  ChecksumCRC32: 'AAAAAA==',
  ChecksumType: 'FULL_OBJECT',
  StorageClass: 'STANDARD',
};

/** A well-behaved S3 for multipart copies of `head`. */
function multipartS3(head: Record<string, unknown> = bigHead, overrides: Record<string, (input: Record<string, any>) => unknown> = {}) {
  return fakeS3((command, input) => {
    if (overrides[command]) return overrides[command]!(input);
    switch (command) {
      case 'HeadObject':
        return head;
      case 'GetObjectTagging':
        return { TagSet: [{ Key: 'team', Value: 'blue' }] };
      case 'CreateMultipartUpload':
        return { UploadId: 'up-1' };
      case 'UploadPartCopy':
        return { CopyPartResult: { ETag: `"part-${input.PartNumber}"`, ChecksumCRC32: `crc-${input.PartNumber}` } };
      case 'CompleteMultipartUpload':
      case 'AbortMultipartUpload':
      case 'CopyObject':
        return {};
    }
    throw new Error(`unexpected ${command}`);
  });
}

describe('run', () => {
  test('with the default threshold (CopyObject\'s 5 GiB) a copy is one CopyObject, without a HeadObject', async () => {
    const fake = fakeS3(() => ({}));
    const out = await putObjectCopy.run(context(fake.s3, undefined, COPY_OBJECT_MAX_BYTES), source, params());
    expect(out).toEqual({ message: 'Successful', httpStatus: 200 });
    expect(fake.names()).toEqual(['CopyObject']);
  });

  test('with the default threshold a source over 5 GiB, refused by CopyObject, is copied in parts', async () => {
    const tooLarge = s3Error(
      'InvalidRequest',
      400,
      'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120'
    );
    const fake = multipartS3({ ...bigHead, ContentLength: COPY_OBJECT_MAX_BYTES + 1 }, {
      CopyObject: () => {
        throw tooLarge;
      },
    });
    await putObjectCopy.run(context(fake.s3, undefined, COPY_OBJECT_MAX_BYTES), source, params());
    expect(fake.names().slice(0, 3)).toEqual(['CopyObject', 'HeadObject', 'GetObjectTagging']);
    expect(fake.names()).toContain('CompleteMultipartUpload');
    // Other CopyObject errors are the task's answer.
    const missing = fakeS3(() => {
      throw s3Error('NoSuchKey', 404);
    });
    await expect(putObjectCopy.run(context(missing.s3, undefined, COPY_OBJECT_MAX_BYTES), source, params())).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
    expect(missing.names()).toEqual(['CopyObject']);
  });

  test('small objects: HeadObject (version, checksum mode) then one CopyObject', async () => {
    const fake = fakeS3((command) => (command === 'HeadObject' ? { ContentLength: 5 * MiB, ETag: '"e"' } : {}));
    const object = { ...source, versionId: 'v1' };
    const out = await putObjectCopy.run(context(fake.s3), object, params({ RequesterPays: true }));
    expect(out).toEqual({ message: 'Successful', httpStatus: 200 });
    expect(fake.names()).toEqual(['HeadObject', 'CopyObject']);
    expect(fake.calls[0]!.input).toEqual({
      Bucket: 'src',
      Key: source.key,
      VersionId: 'v1',
      ChecksumMode: 'ENABLED',
      RequestPayer: 'requester',
    });
    expect(fake.calls[1]!.input).toEqual(copyObjectInput(object, params({ RequesterPays: true })));
  });

  test('a HeadObject client error leaves the answer to CopyObject, whose error names the cause', async () => {
    const fake = fakeS3((command) => {
      if (command === 'HeadObject') throw s3Error('Unknown', 400);
      throw s3Error('NoSuchVersion', 404);
    });
    const err = await putObjectCopy.run(context(fake.s3), { ...source, versionId: 'bogus' }, params()).catch((e) => e);
    expect(classifyAwsError(err, putObjectCopy.errorCodes)).toMatchObject({ code: 'NoSuchVersion', retryable: false });
    expect(fake.names()).toEqual(['HeadObject', 'CopyObject']);
  });

  test('a HeadObject server error is thrown for a retry', async () => {
    const fake = fakeS3(() => {
      throw s3Error('InternalError', 500);
    });
    await expect(putObjectCopy.run(context(fake.s3), source, params())).rejects.toMatchObject({ name: 'InternalError' });
    expect(fake.names()).toEqual(['HeadObject']);
  });

  test('large objects: a multipart copy carrying metadata, tags and checksum, parts pinned to the ETag', async () => {
    const fake = multipartS3();
    const out = await putObjectCopy.run(
      context(fake.s3),
      source,
      params({ TargetKeyPrefix: 'p/', StorageClass: 'STANDARD_IA', CannedAccessControlList: 'private', ObjectLockLegalHoldStatus: 'ON' })
    );
    expect(out).toEqual({ message: 'Successful', httpStatus: 200 });
    const names = fake.names();
    expect(names.slice(0, 3)).toEqual(['HeadObject', 'GetObjectTagging', 'CreateMultipartUpload']);
    expect(names.filter((n) => n === 'UploadPartCopy')).toHaveLength(6);
    expect(names.at(-1)).toBe('CompleteMultipartUpload');
    expect(fake.maxInFlight()).toBeLessThanOrEqual(4);

    const create = fake.calls.find((c) => c.command === 'CreateMultipartUpload')!.input;
    expect(Object.fromEntries(Object.entries(create).filter(([, v]) => v !== undefined))).toEqual({
      Bucket: 'dest',
      Key: `p/${source.key}`,
      CacheControl: 'no-cache',
      ContentDisposition: 'inline',
      ContentEncoding: 'identity',
      ContentLanguage: 'en',
      ContentType: 'application/x-big',
      Expires: new Date('2030-01-01T00:00:00Z'),
      Metadata: { owner: 'me' },
      Tagging: 'team=blue',
      StorageClass: 'STANDARD_IA',
      ACL: 'private',
      ObjectLockLegalHoldStatus: 'ON',
      ChecksumAlgorithm: 'CRC32',
      ChecksumType: 'FULL_OBJECT',
    });
    const parts = fake.calls.filter((c) => c.command === 'UploadPartCopy').map((c) => c.input);
    expect(parts.map((p) => p.CopySourceRange)).toEqual(planParts(SIZE, 5 * MiB).map((r) => `bytes=${r.start}-${r.end}`));
    for (const p of parts) {
      expect(p).toMatchObject({ Bucket: 'dest', Key: `p/${source.key}`, UploadId: 'up-1', CopySource: copySource(source), CopySourceIfMatch: '"etag-1"' });
    }
    const complete = fake.calls.find((c) => c.command === 'CompleteMultipartUpload')!.input;
    expect(complete).toMatchObject({
      Bucket: 'dest',
      Key: `p/${source.key}`,
      UploadId: 'up-1',
      MpuObjectSize: SIZE,
      ChecksumType: 'FULL_OBJECT',
      ChecksumCRC32: 'AAAAAA==',
      MultipartUpload: { Parts: [1, 2, 3, 4, 5, 6].map((n) => ({ PartNumber: n, ETag: `"part-${n}"`, ChecksumCRC32: `crc-${n}` })) },
    });
  });

  test('REPLACE uses NewObjectMetadata; NewObjectTagging skips GetObjectTagging; a SHA256 job checksum is COMPOSITE', async () => {
    const fake = multipartS3({ ...bigHead, ChecksumCRC32: undefined, ChecksumSHA256: 'sha', ChecksumType: 'FULL_OBJECT' }, {
      UploadPartCopy: (input) => ({ CopyPartResult: { ETag: `"part-${input.PartNumber}"`, ChecksumSHA256: `sha-${input.PartNumber}` } }),
    });
    await putObjectCopy.run(
      context(fake.s3),
      { ...source, versionId: 'v9' },
      params({
        MetadataDirective: 'REPLACE',
        NewObjectMetadata: { ContentType: 'text/new', UserMetadata: { a: 'b' } },
        NewObjectTagging: [{ Key: 'x', Value: 'y' }],
        ChecksumAlgorithm: 'SHA256',
      })
    );
    expect(fake.names()).not.toContain('GetObjectTagging');
    const create = fake.calls.find((c) => c.command === 'CreateMultipartUpload')!.input;
    expect(create).toMatchObject({ ContentType: 'text/new', Metadata: { a: 'b' }, CacheControl: undefined, Tagging: 'x=y', ChecksumAlgorithm: 'SHA256', ChecksumType: undefined });
    const part = fake.calls.find((c) => c.command === 'UploadPartCopy')!.input;
    expect(part.CopySource).toBe('src/dir/a%20b%2Bc.txt?versionId=v9');
    const complete = fake.calls.find((c) => c.command === 'CompleteMultipartUpload')!.input;
    expect(complete.ChecksumType).toBeUndefined();
    expect(complete.ChecksumSHA256).toBeUndefined();
    expect((complete.MultipartUpload as { Parts: unknown[] }).Parts[0]).toEqual({ PartNumber: 1, ETag: '"part-1"', ChecksumSHA256: 'sha-1' });
  });

  test('empty NewObjectTagging: no tags on the copy', async () => {
    const fake = multipartS3();
    await putObjectCopy.run(context(fake.s3), source, params({ NewObjectTagging: [] }));
    expect(fake.names()).not.toContain('GetObjectTagging');
    expect(fake.calls.find((c) => c.command === 'CreateMultipartUpload')!.input.Tagging).toBeUndefined();
  });

  test('a failed part aborts the upload, stops the other parts, and its error is the one thrown', async () => {
    const fake = multipartS3(bigHead, {
      UploadPartCopy: (input) => {
        if (input.PartNumber === 2) throw s3Error('AccessDenied', 403);
        return { CopyPartResult: { ETag: '"p"', ChecksumCRC32: 'c' } };
      },
      AbortMultipartUpload: () => {
        throw s3Error('InternalError', 500);
      },
    });
    const err = await putObjectCopy.run(context(fake.s3), source, params()).catch((e) => e);
    expect(err).toMatchObject({ name: 'AccessDenied' });
    expect(fake.names()).toContain('AbortMultipartUpload');
    expect(fake.names()).not.toContain('CompleteMultipartUpload');
    expect(fake.names().filter((n) => n === 'UploadPartCopy').length).toBeLessThan(6);
    expect(fake.calls.find((c) => c.command === 'AbortMultipartUpload')!.input).toMatchObject({ Bucket: 'dest', UploadId: 'up-1' });
  });

  test('a failed Complete aborts the upload too', async () => {
    const fake = multipartS3(bigHead, {
      CompleteMultipartUpload: () => {
        throw s3Error('InvalidPart', 400);
      },
    });
    await expect(putObjectCopy.run(context(fake.s3), source, params())).rejects.toMatchObject({ name: 'InvalidPart' });
    expect(fake.names().at(-1)).toBe('AbortMultipartUpload');
  });

  test('source overwritten mid-copy (412 on a part): a retryable failure without a version id, permanent with one', async () => {
    const overwritten = () =>
      multipartS3(bigHead, {
        UploadPartCopy: () => {
          throw s3Error('PreconditionFailed', 412);
        },
      });
    const err = await putObjectCopy.run(context(overwritten().s3), source, params()).catch((e) => e);
    expect(classifyAwsError(err, putObjectCopy.errorCodes)).toMatchObject({ code: 'PreconditionFailed', httpStatus: 412, retryable: true });
    const pinned = await putObjectCopy.run(context(overwritten().s3), { ...source, versionId: 'v' }, params()).catch((e) => e);
    expect(classifyAwsError(pinned, putObjectCopy.errorCodes)).toMatchObject({ code: 'PreconditionFailed', retryable: false });
  });

  test('ModifiedSince/UnModifiedSince are checked against the HEAD before any upload starts', async () => {
    const fake = multipartS3();
    const err = await putObjectCopy.run(context(fake.s3), source, params({ ModifiedSinceConstraint: '2025-06-01T12:00:00Z' })).catch((e) => e);
    expect(classifyAwsError(err, putObjectCopy.errorCodes)).toMatchObject({ code: 'PreconditionFailed', httpStatus: 412, retryable: false });
    expect(fake.names()).toEqual(['HeadObject']);

    const at = new Date('2025-06-01T12:00:00.500Z');
    const check = (extra: Record<string, string>) => () => checkSourceConstraints(params(extra), at);
    expect(check({ ModifiedSinceConstraint: '2025-06-01T11:59:59Z' })).not.toThrow();
    expect(check({ ModifiedSinceConstraint: '2025-06-01T12:00:00Z' })).toThrow(TaskFailure);
    expect(check({ UnModifiedSinceConstraint: '2025-06-01T12:00:00Z' })).not.toThrow();
    expect(check({ UnModifiedSinceConstraint: '2025-06-01T11:59:59Z' })).toThrow(TaskFailure);
  });

  test('an endpoint that cannot checksum part copies (MinIO): the inherited algorithm is dropped, once per client', async () => {
    const refusing = (input: Record<string, any>, create: Record<string, any>) => {
      if (create.ChecksumAlgorithm) throw s3Error('InvalidArgument', 400, `Invalid arguments provided: (checksum missing, want "CRC32", got "")`);
      return { CopyPartResult: { ETag: `"part-${input.PartNumber}"` } };
    };
    let create: Record<string, any> = {};
    const fake = multipartS3(bigHead, {
      CreateMultipartUpload: (input) => {
        create = input;
        return { UploadId: `up-${fake.names().filter((n) => n === 'CreateMultipartUpload').length}` };
      },
      UploadPartCopy: (input) => refusing(input, create),
    });
    await putObjectCopy.run(context(fake.s3), source, params());
    const creates = fake.calls.filter((c) => c.command === 'CreateMultipartUpload').map((c) => c.input.ChecksumAlgorithm);
    expect(creates).toEqual(['CRC32', undefined]);
    expect(fake.calls.find((c) => c.command === 'AbortMultipartUpload')!.input.UploadId).toBe('up-1');
    expect(fake.calls.find((c) => c.command === 'CompleteMultipartUpload')!.input).toMatchObject({ UploadId: 'up-2', ChecksumType: undefined });

    // The same client again: no failed first attempt.
    const before = fake.calls.length;
    await putObjectCopy.run(context(fake.s3), source, params());
    expect(fake.calls.slice(before).filter((c) => c.command === 'CreateMultipartUpload').map((c) => c.input.ChecksumAlgorithm)).toEqual([undefined]);

    // A checksum the job asks for cannot be dropped: the task fails instead.
    const err = await putObjectCopy.run(context(fake.s3), source, params({ ChecksumAlgorithm: 'SHA256' })).catch((e) => e);
    expect(classifyAwsError(err, putObjectCopy.errorCodes)).toMatchObject({ code: 'NotImplemented', retryable: false });
  });

  test('cancellation stops the copy and still aborts the upload', async () => {
    const controller = new AbortController();
    const fake = multipartS3(bigHead, {
      UploadPartCopy: (input) => {
        if (input.PartNumber === 3) controller.abort();
        return { CopyPartResult: { ETag: '"p"', ChecksumCRC32: 'c' } };
      },
    });
    await expect(putObjectCopy.run(context(fake.s3, controller.signal), source, params())).rejects.toThrow();
    expect(fake.names()).not.toContain('CompleteMultipartUpload');
    expect(fake.names().at(-1)).toBe('AbortMultipartUpload');
  });
});

// The command classes the fake dispatches on by name must keep their names (no minified SDK build).
test('SDK command class names', () => {
  expect(
    [HeadObjectCommand, CopyObjectCommand, GetObjectTaggingCommand, CreateMultipartUploadCommand, UploadPartCopyCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand].map((c) => c.name)
  ).toEqual(['HeadObjectCommand', 'CopyObjectCommand', 'GetObjectTaggingCommand', 'CreateMultipartUploadCommand', 'UploadPartCopyCommand', 'CompleteMultipartUploadCommand', 'AbortMultipartUploadCommand']);
});
