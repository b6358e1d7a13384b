/**
 * An example custom operation: give each object the Content-Type its key's suffix calls for. Objects uploaded by
 * tools that guess badly (or not at all) are served as application/octet-stream, and browsers download pages and
 * images instead of showing them; S3 has no call that changes a header in place, so each object is copied onto
 * itself with the new type.
 *
 * Job: { "Operation": { "CustomOperation": { "Name": "SetContentType", "Parameters": { "Types": { ".md": "text/markdown" } } } } }
 *
 * What it shows: a zod schema for the job's parameters (checked when the job starts, errors naming
 * Operation.CustomOperation.Parameters.<field>), a TaskFailure deciding a task's outcome, S3 errors left to the
 * engine's classification (NoSuchKey fails the row, SlowDown is retried), and a repeat being harmless (an object
 * that already has the type is not copied again). Limits, as an example: objects over 5 GiB fail with S3's
 * EntityTooLarge, and the copy takes the bucket's default encryption.
 */
import { posix } from 'node:path';
import { CopyObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { copySource, defineOperation, SUCCESS_MESSAGE, TaskFailure } from '../../src/worker-api';

/** Suffix → type for the common web files; a job's Parameters.Types adds to it or overrides it. */
export const DEFAULT_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.wasm': 'application/wasm',
};

export const SetContentTypeParameters = z
  .object({
    Types: z
      .record(
        z.string().regex(/^\.[A-Za-z0-9]+$/, 'expected a suffix such as ".md"'),
        z.string().regex(/^[\w.+-]+\/[\w.+-]+(; ?[\w-]+=[\w.-]+)?$/, 'expected a media type such as "text/markdown"')
      )
      .default({}),
  })
  .strict();

export const setContentType = defineOperation({
  name: 'SetContentType',
  parameters: SetContentTypeParameters,
  run: async ({ s3, signal }, object, params) => {
    const suffix = posix.extname(object.key).toLowerCase();
    const wanted = params.Types[suffix] ?? DEFAULT_CONTENT_TYPES[suffix];
    if (!wanted) {
      throw new TaskFailure('UnknownSuffix', `no content type for "${suffix || '(no suffix)'}": add it to Parameters.Types`, false);
    }
    const { bucket: Bucket, key: Key, versionId: VersionId } = object;
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key, VersionId }), { abortSignal: signal });
    if (head.ContentType === wanted) return { message: `${SUCCESS_MESSAGE}: already ${wanted}` };
    // REPLACE drops every header not sent again, so the object's own are re-sent; tags are kept (the default
    // TaggingDirective is COPY). The copy is pinned to the ETag just read: an object overwritten meanwhile fails
    // with PreconditionFailed instead of losing its new bytes' headers.
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key,
        CopySource: copySource(object),
        CopySourceIfMatch: head.ETag,
        MetadataDirective: 'REPLACE',
        ContentType: wanted,
        Metadata: head.Metadata,
        CacheControl: head.CacheControl,
        ContentDisposition: head.ContentDisposition,
        ContentEncoding: head.ContentEncoding,
        ContentLanguage: head.ContentLanguage,
        StorageClass: head.StorageClass,
      }),
      { abortSignal: signal }
    );
    return { message: `${SUCCESS_MESSAGE}: ${head.ContentType ?? '(none)'} -> ${wanted}`, httpStatus: out.$metadata.httpStatusCode };
  },
});
