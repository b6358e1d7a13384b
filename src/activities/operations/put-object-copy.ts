/**
 * S3PutObjectCopy: copy the row's object (or version) to TargetResource under TargetKeyPrefix + key. The job's fields
 * map one to one onto CopyObject. Beyond AWS (whose Batch copy stops at 5 GB), objects larger than the worker's
 * `operations.copy.multipartThresholdBytes` are copied part by part (multipart-copy.ts), with the same result:
 * the source's metadata and tags unless the job replaces them, and the same ACL, encryption, storage class and
 * Object Lock fields.
 */
import {
  CopyObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type ChecksumAlgorithm,
  type CopyObjectCommandInput,
  type CreateMultipartUploadCommandInput,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { bucketFromArn } from '../../schemas/arn';
import type { OperationParams } from '../../schemas/operations';
import { multipartCopy, type MultipartChecksum } from './multipart-copy';
import {
  SUCCESS_MESSAGE,
  TaskFailure,
  type Operation,
  type OperationContext,
  type OperationOutcome,
  type TaskObject,
} from './operation';

type Params = OperationParams<'S3PutObjectCopy'>;
type Grant = NonNullable<Params['AccessControlGrants']>[number];
type Tag = NonNullable<Params['NewObjectTagging']>[number];

/** CopySource is `bucket/key` URL-encoded (slashes may stay), with `?versionId=` for a version. */
export function copySource(object: TaskObject): string {
  const key = object.key.split('/').map(encodeURIComponent).join('/');
  return `${object.bucket}/${key}${object.versionId ? `?versionId=${encodeURIComponent(object.versionId)}` : ''}`;
}

/** The x-amz-grant-* header value for one permission: `id="…", uri="…"`. */
function grantHeader(grants: Grant[] | undefined, permission: Grant['Permission']): string | undefined {
  const matching = (grants ?? []).filter((g) => g.Permission === permission);
  if (matching.length === 0) return undefined;
  return matching.map((g) => `${g.Grantee.TypeIdentifier}="${g.Grantee.Identifier}"`).join(', ');
}

/** The x-amz-tagging header value (URL query form); undefined for no tags. */
export function taggingHeader(tags: readonly Tag[]): string | undefined {
  if (tags.length === 0) return undefined;
  return tags.map((t) => `${encodeURIComponent(t.Key)}=${encodeURIComponent(t.Value)}`).join('&');
}

/** Target key: TargetKeyPrefix + key, with no separator added (as AWS documents it). */
export function targetOf(object: TaskObject, params: Params): { Bucket: string; Key: string } {
  return { Bucket: bucketFromArn(params.TargetResource)!, Key: `${params.TargetKeyPrefix ?? ''}${object.key}` };
}

/** The fields that CopyObject and CreateMultipartUpload share: what the new object is, apart from content. */
type WriteAttributes = Pick<
  CopyObjectCommandInput & CreateMultipartUploadCommandInput,
  | 'StorageClass'
  | 'ACL'
  | 'GrantFullControl'
  | 'GrantRead'
  | 'GrantReadACP'
  | 'GrantWriteACP'
  | 'ServerSideEncryption'
  | 'SSEKMSKeyId'
  | 'BucketKeyEnabled'
  | 'WebsiteRedirectLocation'
  | 'RequestPayer'
  | 'ObjectLockLegalHoldStatus'
  | 'ObjectLockMode'
  | 'ObjectLockRetainUntilDate'
>;

export function writeAttributes(params: Params): WriteAttributes {
  // A WRITE grant is refused by the job spec: CopyObject has no x-amz-grant-write.
  const sseAlgorithm = params.NewObjectMetadata?.SSEAlgorithm;
  return {
    StorageClass: params.StorageClass,
    ACL: params.CannedAccessControlList,
    GrantFullControl: grantHeader(params.AccessControlGrants, 'FULL_CONTROL'),
    GrantRead: grantHeader(params.AccessControlGrants, 'READ'),
    GrantReadACP: grantHeader(params.AccessControlGrants, 'READ_ACP'),
    GrantWriteACP: grantHeader(params.AccessControlGrants, 'WRITE_ACP'),
    // S3 Batch spells SSE-KMS "KMS"; a KMS key id implies SSE-KMS, as in the console.
    ServerSideEncryption: sseAlgorithm === 'KMS' || params.SSEAwsKmsKeyId ? 'aws:kms' : sseAlgorithm,
    SSEKMSKeyId: params.SSEAwsKmsKeyId,
    BucketKeyEnabled: params.BucketKeyEnabled,
    WebsiteRedirectLocation: params.RedirectLocation,
    RequestPayer: params.RequesterPays ? 'requester' : undefined,
    ObjectLockLegalHoldStatus: params.ObjectLockLegalHoldStatus,
    ObjectLockMode: params.ObjectLockMode,
    ObjectLockRetainUntilDate: params.ObjectLockRetainUntilDate ? new Date(params.ObjectLockRetainUntilDate) : undefined,
  };
}

type ContentMetadata = Pick<
  CopyObjectCommandInput & CreateMultipartUploadCommandInput,
  'CacheControl' | 'ContentDisposition' | 'ContentEncoding' | 'ContentLanguage' | 'ContentType' | 'Expires' | 'Metadata'
>;

/** With MetadataDirective REPLACE: the content headers and user metadata the job gives (absent ones are cleared). */
function replacedMetadata(params: Params): ContentMetadata {
  const meta = params.NewObjectMetadata;
  return {
    CacheControl: meta?.CacheControl,
    ContentDisposition: meta?.ContentDisposition,
    ContentEncoding: meta?.ContentEncoding,
    ContentLanguage: meta?.ContentLanguage,
    ContentType: meta?.ContentType,
    Expires: meta?.HttpExpiresDate ? new Date(meta.HttpExpiresDate) : undefined,
    Metadata: meta?.UserMetadata,
  };
}

export function copyObjectInput(object: TaskObject, params: Params): CopyObjectCommandInput {
  return {
    ...targetOf(object, params),
    CopySource: copySource(object),
    MetadataDirective: params.MetadataDirective,
    ...(params.MetadataDirective === 'REPLACE' ? replacedMetadata(params) : {}),
    // Omitted: S3 copies the source's tags (TaggingDirective COPY). Given, even empty: exactly these tags.
    TaggingDirective: params.NewObjectTagging ? 'REPLACE' : undefined,
    Tagging: params.NewObjectTagging ? taggingHeader(params.NewObjectTagging) : undefined,
    CopySourceIfModifiedSince: params.ModifiedSinceConstraint ? new Date(params.ModifiedSinceConstraint) : undefined,
    CopySourceIfUnmodifiedSince: params.UnModifiedSinceConstraint ? new Date(params.UnModifiedSinceConstraint) : undefined,
    ChecksumAlgorithm: params.ChecksumAlgorithm,
    ...writeAttributes(params),
  };
}

/** The source's checksum algorithm, from a HeadObject with ChecksumMode ENABLED. */
const ALGORITHMS: readonly ChecksumAlgorithm[] = [
  'CRC64NVME',
  'CRC32',
  'CRC32C',
  'SHA1',
  'SHA256',
  'SHA512',
  'MD5',
  'XXHASH64',
  'XXHASH3',
  'XXHASH128',
];

export interface SourceChecksum {
  algorithm: ChecksumAlgorithm;
  value: string;
  /** A checksum of the whole object, not of its parts: it can verify the copy. */
  fullObject: boolean;
}

export function sourceChecksum(head: HeadObjectCommandOutput): SourceChecksum | undefined {
  for (const algorithm of ALGORITHMS) {
    const value = head[`Checksum${algorithm}`];
    // A composite checksum reads `<base64>-<parts>`; only a full-object value can check the copy.
    if (value) return { algorithm, value, fullObject: head.ChecksumType !== 'COMPOSITE' && !value.includes('-') };
  }
  return undefined;
}

/**
 * The Modified/UnModifiedSince constraints, checked against the HeadObject result (HTTP dates have whole seconds).
 * S3 would ignore If-Unmodified-Since on the part copies because they also carry If-Match, so they are checked here;
 * the ETag pin keeps the answer true for the whole copy.
 */
export function checkSourceConstraints(params: Params, lastModified: Date | undefined): void {
  if (!lastModified) return;
  const seconds = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);
  const modified = Math.floor(lastModified.getTime() / 1000);
  const failed =
    (params.ModifiedSinceConstraint !== undefined && modified <= seconds(params.ModifiedSinceConstraint)) ||
    (params.UnModifiedSinceConstraint !== undefined && modified > seconds(params.UnModifiedSinceConstraint));
  if (failed) {
    throw new TaskFailure('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', false, 412);
  }
}

async function copyInOneRequest(ctx: OperationContext, object: TaskObject, params: Params): Promise<OperationOutcome> {
  const out = await ctx.s3.send(new CopyObjectCommand(copyObjectInput(object, params)), { abortSignal: ctx.signal });
  return { message: SUCCESS_MESSAGE, httpStatus: out.$metadata.httpStatusCode };
}

async function copyInParts(
  ctx: OperationContext,
  object: TaskObject,
  params: Params,
  head: HeadObjectCommandOutput
): Promise<OperationOutcome> {
  const { s3, signal } = ctx;
  checkSourceConstraints(params, head.LastModified);
  if (!head.ETag) throw new Error('HeadObject returned no ETag to pin the multipart copy to');
  const attributes = writeAttributes(params);
  // CreateMultipartUpload copies nothing from the source by itself: what CopyObject's COPY directives would carry
  // over (content headers, user metadata, tags) is read from the source and given explicitly.
  const metadata: ContentMetadata =
    params.MetadataDirective === 'REPLACE'
      ? replacedMetadata(params)
      : {
          CacheControl: head.CacheControl,
          ContentDisposition: head.ContentDisposition,
          ContentEncoding: head.ContentEncoding,
          ContentLanguage: head.ContentLanguage,
          ContentType: head.ContentType,
          Expires: head.Expires,
          Metadata: head.Metadata,
        };
  const tags =
    params.NewObjectTagging ??
    (
      await s3.send(
        new GetObjectTaggingCommand({
          Bucket: object.bucket,
          Key: object.key,
          VersionId: object.versionId,
          RequestPayer: attributes.RequestPayer,
        }),
        { abortSignal: signal }
      )
    ).TagSet?.map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })) ??
    [];
  const source = sourceChecksum(head);
  let checksum: MultipartChecksum | undefined;
  if (params.ChecksumAlgorithm) {
    checksum = {
      algorithm: params.ChecksumAlgorithm,
      explicit: true,
      fullObjectValue: source?.algorithm === params.ChecksumAlgorithm && source.fullObject ? source.value : undefined,
    };
  } else if (source) {
    checksum = { algorithm: source.algorithm, explicit: false, fullObjectValue: source.fullObject ? source.value : undefined };
  }
  const { RequestPayer, ...writeFields } = attributes;
  try {
    const result = await multipartCopy(s3, signal, {
      copySource: copySource(object),
      size: head.ContentLength!,
      etag: head.ETag,
      create: { ...targetOf(object, params), ...metadata, ...writeFields, Tagging: taggingHeader(tags) },
      checksum,
      requestPayer: RequestPayer,
      partSizeBytes: ctx.settings.copy.partSizeBytes,
    });
    return { message: SUCCESS_MESSAGE, httpStatus: result.httpStatus };
  } catch (err) {
    // The date constraints were checked above, so a 412 here is the ETag pin: the object was overwritten mid-copy.
    // Without a version id the row means "the current object", which a retry copies whole; a version cannot change.
    if ((err as { name?: string }).name !== 'PreconditionFailed') throw err;
    throw new TaskFailure(
      'PreconditionFailed',
      `the source changed during the multipart copy (it no longer has ETag ${head.ETag}); nothing was written`,
      object.versionId === undefined,
      412
    );
  }
}

/** CopyObject's own limit on the source's size. */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;

/** S3's answer when CopyObject's source is over 5 GiB (AWS: InvalidRequest, "...larger than the maximum allowable size for a copy source"). */
export function isCopySourceTooLarge(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e.name === 'EntityTooLarge' || (e.name === 'InvalidRequest' && /copy source is larger|too large/i.test(e.message ?? ''));
}

export const putObjectCopy: Operation<'S3PutObjectCopy'> = {
  run: async (ctx, object, params) => {
    if (ctx.settings.copy.multipartThresholdBytes >= COPY_OBJECT_MAX_BYTES) {
      // The threshold is CopyObject's own limit, so only a source over it needs the size: one request per object in
      // the common case, and the HEAD and multipart copy only after S3 says the source is too large.
      try {
        return await copyInOneRequest(ctx, object, params);
      } catch (err) {
        if (!isCopySourceTooLarge(err)) throw err;
      }
    }
    let head: HeadObjectCommandOutput;
    try {
      // The size decides between CopyObject and a multipart copy; the rest feeds the multipart copy.
      head = await ctx.s3.send(
        new HeadObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          VersionId: object.versionId,
          ChecksumMode: 'ENABLED',
          RequestPayer: params.RequesterPays ? 'requester' : undefined,
        }),
        { abortSignal: ctx.signal }
      );
    } catch (err) {
      // A HEAD error has no body, so no S3 code (a bad version id is just "400"). CopyObject's answer names it
      // (NoSuchKey, NoSuchVersion, AccessDenied…), as AWS's report would, so let CopyObject give it.
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const clientError = status !== undefined && status >= 400 && status < 500 && status !== 429;
      if (clientError) return copyInOneRequest(ctx, object, params);
      throw err;
    }
    const large = (head.ContentLength ?? 0) > ctx.settings.copy.multipartThresholdBytes;
    return large ? copyInParts(ctx, object, params, head) : copyInOneRequest(ctx, object, params);
  },
  errorCodes: {
    // The multipart upload was aborted from outside mid-copy (a lifecycle rule, an operator): a retry starts afresh.
    retryable: ['NoSuchUpload'],
    permanent: [
      // ModifiedSince/UnModifiedSince not met. (A source overwritten mid multipart copy is a retryable TaskFailure.)
      'PreconditionFailed',
      // Archived source (Glacier Flexible Retrieval / Deep Archive): it must be restored first. CopyObject names it
      // ObjectNotInActiveTierError (AWS's model, and moto); other calls and stores say InvalidObjectState.
      'ObjectNotInActiveTierError',
      'InvalidObjectState',
      // Over CopyObject's 5 GiB with a threshold above it, or over S3's 5 TiB object limit.
      'EntityTooLarge',
      // Part planning keeps parts at 5 MiB or more, and in order; if S3 disagrees, a retry would do the same.
      'EntityTooSmall',
      'InvalidPart',
      'InvalidPartOrder',
    ],
  },
};
