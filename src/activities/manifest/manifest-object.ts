/**
 * Reading the manifest object: one fixed version of it (by ETag, and VersionId when given), streamed.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import { classifyAwsError } from '../aws-errors';

export function bareETag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');
}

export interface ManifestObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
}

/** Failure types a job reports as its FailureCode when the manifest cannot be used. */
export const ManifestFailure = {
  NotFound: 'ManifestNotFound',
  ETagMismatch: 'ManifestETagMismatch',
  AccessDenied: 'ManifestAccessDenied',
  Unreadable: 'ManifestUnreadable',
} as const;

/** Turns an S3 error on the manifest into a job-level failure (permanent) or a retryable activity error. */
export function manifestError(err: unknown, ref: ManifestObjectRef): Error {
  const c = classifyAwsError(err);
  const where = `s3://${ref.bucket}/${ref.key}${ref.versionId ? ` (version ${ref.versionId})` : ''}`;
  if (c.retryable) return ApplicationFailure.retryable(`reading manifest ${where}: ${c.code}: ${c.message}`, c.code);
  if (c.code === 'PreconditionFailed' || c.httpStatus === 412) {
    return ApplicationFailure.nonRetryable(
      `the manifest ${where} changed while the job was reading it (ETag is no longer ${ref.etag})`,
      ManifestFailure.ETagMismatch
    );
  }
  const type =
    c.code === 'AccessDenied' || c.httpStatus === 403
      ? ManifestFailure.AccessDenied
      : ['NoSuchKey', 'NoSuchBucket', 'NoSuchVersion', 'NotFound'].includes(c.code) || c.httpStatus === 404
        ? ManifestFailure.NotFound
        : ManifestFailure.Unreadable;
  return ApplicationFailure.nonRetryable(`cannot read manifest ${where}: ${c.code}: ${c.message}`, type);
}

export async function headManifest(s3: S3Client, ref: ManifestObjectRef): Promise<{ etag: string; size: number }> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }));
    return { etag: bareETag(head.ETag), size: head.ContentLength ?? 0 };
  } catch (err) {
    throw manifestError(err, ref);
  }
}

/** Streams the manifest from byte `start` (to the end), pinned to `etag`. */
export async function streamManifest(
  s3: S3Client,
  ref: ManifestObjectRef & { etag: string },
  start: number,
  signal?: AbortSignal
): Promise<AsyncIterable<Uint8Array> & { destroy?: () => void }> {
  try {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        VersionId: ref.versionId,
        IfMatch: `"${ref.etag}"`,
        Range: start > 0 ? `bytes=${start}-` : undefined,
      }),
      { abortSignal: signal }
    );
    return out.Body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  } catch (err) {
    throw manifestError(err, ref);
  }
}
