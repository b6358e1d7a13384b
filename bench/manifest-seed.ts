/**
 * Writes the memory bench's manifests to S3 as streams: the body is generated chunk by chunk while it is uploaded
 * (PutObject with a known ContentLength), so the bench never holds a manifest whole either. A manifest already there
 * with the right size and row count is reused.
 */
import { Readable } from 'node:stream';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bareETag } from '../src/activities/manifest/manifest-object';
import { ensureBucket } from '../scripts/stack/worker-config';
import { MANIFEST_BUCKET, manifestBytes, manifestChunks, manifestObjectKey, ROW_BYTES } from './manifest-rows';

export interface SeededManifest {
  bucket: string;
  key: string;
  etag: string;
  bytes: number;
  /** False when an earlier run's manifest was reused. */
  written: boolean;
}

/** Metadata naming the generator, so a change to the row format rewrites old manifests. */
const FORMAT = `rows-v1-${ROW_BYTES}`;

async function existing(s3: S3Client, key: string, rows: number): Promise<string | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: MANIFEST_BUCKET, Key: key }));
    const same = head.ContentLength === manifestBytes(rows) && head.Metadata?.['bench-rows'] === String(rows) && head.Metadata?.['bench-format'] === FORMAT;
    return same ? bareETag(head.ETag) : undefined;
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound' || (err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

export async function seedManifest(s3: S3Client, rows: number): Promise<SeededManifest> {
  await ensureBucket(s3, MANIFEST_BUCKET);
  const key = manifestObjectKey(rows);
  const bytes = manifestBytes(rows);
  const etag = await existing(s3, key, rows);
  if (etag) return { bucket: MANIFEST_BUCKET, key, etag, bytes, written: false };
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: MANIFEST_BUCKET,
      Key: key,
      Body: Readable.from(manifestChunks(rows)),
      ContentLength: bytes,
      ContentType: 'text/csv',
      Metadata: { 'bench-rows': String(rows), 'bench-format': FORMAT },
    })
  );
  return { bucket: MANIFEST_BUCKET, key, etag: bareETag(put.ETag), bytes, written: true };
}
