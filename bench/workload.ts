/**
 * The objects every contender works on, and the checks that a contender really did the work.
 *
 * Source objects are `obj/0000000`… in one bucket per object size, seeded once and reused (a 10,000-object run
 * reuses the first 10,000 of a 100,000-object one). Each contender run gets its own mark: copies go under their
 * own prefix of the target bucket; tagging writes a tag value naming the run, so counting finds only its work.
 */
import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ensureBucket } from '../scripts/stack/worker-config';
import type { CreateJobInput } from '../src/schemas/job-spec';
import type { Operation } from './options';

export const TARGET_BUCKET = 'bench-target';
export const TAG_KEY = 'bench-run';

export function sourceBucket(size: number): string {
  return `bench-source-${size}`;
}

export function objectKey(index: number): string {
  return `obj/${String(index).padStart(7, '0')}`;
}

export function objectKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => objectKey(i));
}

/** What one contender run does, and where its work shows. */
export interface RunTarget {
  operation: Operation;
  sourceBucket: string;
  objects: number;
  /** Copy: the target key prefix. Tagging: the tag value. Unique per contender run. */
  mark: string;
}

/** The same operation as an S3 Batch job operation (the s3-batch job and the limit loop both run this). */
export function jobOperation(target: RunTarget): CreateJobInput['Operation'] {
  return target.operation === 'copy'
    ? { S3PutObjectCopy: { TargetResource: `arn:aws:s3:::${TARGET_BUCKET}`, TargetKeyPrefix: target.mark } }
    : { S3PutObjectTagging: { TagSet: [{ Key: TAG_KEY, Value: target.mark }] } };
}

export async function runConcurrently(count: number, concurrency: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await fn(next++);
    })
  );
}

async function listKeys(s3: S3Client, bucket: string, prefix: string, stopAt = Infinity): Promise<Set<string>> {
  const keys = new Set<string>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.add(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && keys.size < stopAt);
  return keys;
}

/** Puts whichever of the first `count` source objects are missing; returns how many it wrote. */
export async function seedSource(s3: S3Client, size: number, count: number): Promise<number> {
  const bucket = sourceBucket(size);
  await ensureBucket(s3, bucket);
  await ensureBucket(s3, TARGET_BUCKET);
  const existing = await listKeys(s3, bucket, 'obj/');
  const missing = objectKeys(count).filter((k) => !existing.has(k));
  const body = Buffer.alloc(size, 'x');
  await runConcurrently(missing.length, 64, async (i) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: missing[i]!, Body: body }));
  });
  return missing.length;
}

/** The CSV manifest of the first `count` objects, written once per (size, count); returns its key and ETag. */
export async function ensureManifest(s3: S3Client, size: number, count: number): Promise<{ bucket: string; key: string; etag: string }> {
  const bucket = sourceBucket(size);
  const key = `manifests/${count}.csv`;
  const body = objectKeys(count).map((k) => `${bucket},${k}\n`).join('');
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { bucket, key, etag: put.ETag!.replace(/"/g, '') };
}

/** True once the object of manifest row `index` shows the run's work. */
export async function isDone(s3: S3Client, target: RunTarget, index: number): Promise<boolean> {
  try {
    if (target.operation === 'copy') {
      await s3.send(new HeadObjectCommand({ Bucket: TARGET_BUCKET, Key: target.mark + objectKey(index) }));
      return true;
    }
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: target.sourceBucket, Key: objectKey(index) }));
    return tags.TagSet?.some((t) => t.Key === TAG_KEY && t.Value === target.mark) ?? false;
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound' || (err as { name?: string }).name === 'NoSuchKey') return false;
    throw err;
  }
}

/** How many of the run's objects show its work: copies listed under its prefix, or objects carrying its tag. */
export async function countDone(s3: S3Client, target: RunTarget): Promise<number> {
  if (target.operation === 'copy') {
    const wanted = new Set(objectKeys(target.objects).map((k) => target.mark + k));
    let found = 0;
    for (const key of await listKeys(s3, TARGET_BUCKET, target.mark)) if (wanted.has(key)) found++;
    return found;
  }
  let found = 0;
  await runConcurrently(target.objects, 64, async (i) => {
    if (await isDone(s3, target, i)) found++;
  });
  return found;
}

/**
 * Polls the first manifest row's object until it shows the work: the time to first task as a user sees it (every
 * contender starts with row 0). Stops polling when `done` resolves.
 */
export async function timeToFirstTask(s3: S3Client, target: RunTarget, started: number, done: Promise<unknown>): Promise<number | undefined> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    if (await isDone(s3, target, 0)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return (await isDone(s3, target, 0)) ? Date.now() - started : undefined;
}
