/**
 * S3UpdateObjectEncryption on S3-compatible stores. AWS changes an object's SSE-KMS settings in place, without
 * rewriting its data or making a new version. No S3 API does that outside AWS, so here it is the in-place CopyObject
 * that AWS documents for re-encrypting (same bucket and key; ServerSideEncryption aws:kms, SSEKMSKeyId,
 * BucketKeyEnabled; MetadataDirective COPY, TaggingDirective COPY). What differs from AWS:
 * - The object is rewritten: new LastModified and ETag, and on a versioned bucket a new current version (the old one
 *   stays, under its old encryption).
 * - Only the current version can be updated. Copying a noncurrent version onto its key would make it current again,
 *   silently reverting the object, so such rows fail with NoncurrentVersion. The copy reads the current version,
 *   pinned with CopySourceIfMatch to the ETag we checked, so an overwrite in between fails (and is retried) instead.
 * - Kept from the source: user and system metadata, tags, storage class, website redirect, Object Lock mode,
 *   retain-until date and legal hold, and the checksum algorithm (CRC32/CRC32C/CRC64NVME/SHA1/SHA256). Not kept: the
 *   ACL (the copy gets the default private ACL), and anything else a copy resets on the store.
 * - CopyObject is limited to 5 GiB: larger objects fail with EntityTooLarge (no multipart copy here yet).
 * - The store needs a KMS: MinIO without one answers 501 NotImplemented ("KMS is not configured"), a permanent failure.
 */
import {
  CopyObjectCommand,
  type ChecksumAlgorithm,
  HeadObjectCommand,
  type CopyObjectCommandInput,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { OperationParams } from '../../schemas/operations';
import { SUCCESS_MESSAGE, TaskFailure, type Operation, type OperationContext, type TaskObject } from './operation';
import { copySource } from './put-object-copy';

type Params = OperationParams<'S3UpdateObjectEncryption'>;

/** CopyObject's limit on the source object. */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;

/**
 * HeadObject answers errors without a body, so S3's code is lost; put back the one GetObject would have given,
 * so the report says NoSuchKey or NoSuchVersion like the other operations' rows.
 */
export function headError(err: unknown, versionId: string | undefined): unknown {
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status === 404) {
    return versionId
      ? new TaskFailure('NoSuchVersion', `The specified version does not exist: ${versionId}`, false, 404)
      : new TaskFailure('NoSuchKey', 'The specified key does not exist.', false, 404);
  }
  // MinIO answers 400 to a version id that is not a UUID; GetObject says InvalidArgument.
  if (status === 400 && versionId) {
    return new TaskFailure('InvalidArgument', `Invalid version id specified: ${versionId}`, false, 400);
  }
  return err;
}

async function head(
  { s3, signal }: OperationContext,
  object: TaskObject,
  versionId?: string
): Promise<HeadObjectCommandOutput> {
  try {
    return await s3.send(
      new HeadObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: versionId, ChecksumMode: 'ENABLED' }),
      { abortSignal: signal }
    );
  } catch (err) {
    throw headError(err, versionId);
  }
}

/** The current version's HEAD, after checking that the row's version (if it names one) is the current one. */
async function currentVersion(ctx: OperationContext, object: TaskObject): Promise<HeadObjectCommandOutput> {
  if (!object.versionId) return head(ctx, object);
  const current = await head(ctx, object).catch((err: unknown) => {
    if (err instanceof TaskFailure && err.code === 'NoSuchKey') return undefined; // deleted: the version may remain
    throw err;
  });
  if (current && (current.VersionId ?? 'null') === object.versionId) return current;
  await head(ctx, object, object.versionId); // throws NoSuchVersion (or InvalidArgument) if there is no such version
  throw new TaskFailure(
    'NoncurrentVersion',
    `version ${object.versionId} is not the current version; copying it in place to change its encryption would ` +
      'make it current again',
    false,
    400
  );
}

/**
 * Checksum algorithms the SDK's S3 client accepts in a request's ChecksumAlgorithm; it refuses the others (MD5,
 * SHA512, xxHash) before sending, so an object carrying one of those gets the store's default instead.
 */
const COPYABLE_CHECKSUMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** The algorithm of the checksum the object carries, so the copy keeps the same kind. */
export function checksumAlgorithmOf(source: HeadObjectCommandOutput): ChecksumAlgorithm | undefined {
  const fields = source as unknown as Record<string, unknown>;
  return COPYABLE_CHECKSUMS.find((alg) => fields[`Checksum${alg}`] !== undefined);
}

export function encryptionCopyInput(
  object: TaskObject,
  params: Params,
  source: HeadObjectCommandOutput,
  now = new Date()
): CopyObjectCommandInput {
  const kms = params.ObjectEncryption['SSE-KMS'];
  const retainUntil = source.ObjectLockRetainUntilDate;
  const locked = source.ObjectLockMode && retainUntil && retainUntil.getTime() > now.getTime();
  return {
    Bucket: object.bucket,
    Key: object.key,
    CopySource: copySource({ bucket: object.bucket, key: object.key }),
    CopySourceIfMatch: source.ETag,
    MetadataDirective: 'COPY',
    TaggingDirective: 'COPY',
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: kms.KMSKeyArn,
    BucketKeyEnabled: kms.BucketKeyEnabled,
    StorageClass: source.StorageClass,
    WebsiteRedirectLocation: source.WebsiteRedirectLocation,
    ObjectLockMode: locked ? source.ObjectLockMode : undefined,
    ObjectLockRetainUntilDate: locked ? retainUntil : undefined,
    ObjectLockLegalHoldStatus: source.ObjectLockLegalHoldStatus,
    ChecksumAlgorithm: checksumAlgorithmOf(source),
  };
}

export const updateObjectEncryption: Operation<'S3UpdateObjectEncryption'> = {
  run: async (ctx, object, params) => {
    const source = await currentVersion(ctx, object);
    if ((source.ContentLength ?? 0) > MAX_COPY_BYTES) {
      throw new TaskFailure(
        'EntityTooLarge',
        `object is ${source.ContentLength} bytes; re-encrypting by CopyObject is limited to 5 GiB ` +
          '(multipart copy is not used for this operation yet)',
        false,
        400
      );
    }
    const input = encryptionCopyInput(object, params, source);
    const out = await ctx.s3.send(new CopyObjectCommand(input), { abortSignal: ctx.signal });
    return { message: SUCCESS_MESSAGE, httpStatus: out.$metadata.httpStatusCode };
  },
  errorCodes: {
    // Our CopySourceIfMatch pin: the object was overwritten after we checked it; the retry checks the new one.
    retryable: ['PreconditionFailed', 'KMS.ThrottlingException'],
    // MinIO without a KMS answers 501 NotImplemented; the key is wrong, disabled or unusable: no retry helps.
    permanent: [
      'NotImplemented',
      'KMS.NotFoundException',
      'KMS.DisabledException',
      'KMS.InvalidKeyUsageException',
      'KMS.KMSInvalidStateException',
    ],
  },
};
