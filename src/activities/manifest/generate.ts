/**
 * Generated manifests (ManifestGenerator), the listing: each call lists the source bucket from a cursor for a
 * bounded number of S3 list calls (or until a page's worth of objects matched), applies the filter, and writes the
 * matches as one gzipped data file in AWS's S3 Inventory CSV style. The workflow carries the cursor and runs one
 * page per data file. `finishGeneratedManifest` writes manifest.json (and manifest.checksum) over the data files
 * when the job keeps its listing (EnableManifestOutput).
 *
 * Encryption and replication-status filters need a HeadObject per object (listings do not show them): done only
 * when those filters are set, and only for objects the cheaper criteria kept.
 */
import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import {
  GetBucketReplicationCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type HeadObjectCommandOutput,
  type ReplicationRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ResolvedFilter, ResolvedGenerator } from '../../schemas/manifest-generator';
import { GENERATED_FILE_SCHEMA, generatedDataFileKey, generatedManifestFolder } from '../../shared/generated-manifest';
import { classifyAwsError } from '../aws-errors';
import { expectingOwner } from '../bucket-owner';
import type { Connections } from '../s3-clients';
import { bareETag } from './manifest-object';
import { ObjectWriter, s3ActivityFailure } from './object-writer';

export interface ListingCursor {
  continuationToken?: string;
  /** ListObjectsV2 from after this key: where a call stopped in the middle of an S3 list page. */
  startAfter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
}

export interface ListManifestChunkInput {
  jobId: string;
  generator: ResolvedGenerator;
  /** Index of the next data file to write; only a call that matched something writes one. */
  chunkIndex: number;
  /** Absent: the start of the listing. */
  cursor?: ListingCursor;
  /** Stop once this many objects matched (a data file is one page), or the listing ends. */
  maxRows: number;
  /** Stop after this many S3 list calls even if fewer matched: bounds one call's time. */
  maxListCalls: number;
  /** Objects per S3 list call (S3's maximum, 1,000, unless a test wants small pages). */
  listPageSize?: number;
}

export interface ListedChunk {
  file?: { bucket: string; key: string; etag: string; size: number; md5: string };
  rows: number;
  /** Objects the listing saw in this call, matched or not. */
  listed: number;
  /** Where the next call continues; absent when the listing is done. */
  next?: ListingCursor;
}

export const GeneratorFailure = {
  SourceNotFound: 'ManifestGeneratorSourceNotFound',
  SourceUnreadable: 'ManifestGeneratorSourceUnreadable',
  WriteFailed: 'ManifestGeneratorWriteFailed',
} as const;

/** One listed object (a version, when all versions are listed). */
export interface ListedObject {
  key: string;
  versionId?: string;
  size: number;
  lastModified?: Date;
  etag?: string;
  storageClass?: string;
}

/** The criteria a listing shows (all but encryption and replication status). Pure. */
export function matchesListing(object: ListedObject, filter: ResolvedFilter): boolean {
  const modified = object.lastModified?.getTime();
  if (filter.createdAfter && !(modified !== undefined && modified > Date.parse(filter.createdAfter))) return false;
  if (filter.createdBefore && !(modified !== undefined && modified < Date.parse(filter.createdBefore))) return false;
  if (filter.prefix !== undefined && !object.key.startsWith(filter.prefix)) return false;
  if (filter.suffix !== undefined && !object.key.endsWith(filter.suffix)) return false;
  if (filter.substring !== undefined && !object.key.includes(filter.substring)) return false;
  if (filter.sizeGreaterThan !== undefined && !(object.size > filter.sizeGreaterThan)) return false;
  if (filter.sizeLessThan !== undefined && !(object.size < filter.sizeLessThan)) return false;
  // Listings leave the class out for STANDARD on some stores.
  if (filter.storageClasses && !filter.storageClasses.includes(object.storageClass ?? 'STANDARD')) return false;
  return true;
}

/** Whether the filter needs a HeadObject per object. */
export function needsHead(filter: ResolvedFilter): boolean {
  return filter.encryption !== undefined || filter.replicationStatuses !== undefined;
}

/** The criteria only a HeadObject shows. `head` undefined: S3 refused the HEAD for want of SSE-C keys. Pure. */
export function matchesHead(head: Pick<HeadObjectCommandOutput, 'ServerSideEncryption' | 'SSEKMSKeyId' | 'BucketKeyEnabled' | 'SSECustomerAlgorithm' | 'ReplicationStatus'> | undefined, filter: ResolvedFilter): boolean {
  if (filter.encryption) {
    const e = filter.encryption;
    const sse = head?.ServerSideEncryption;
    const type = head === undefined || head.SSECustomerAlgorithm ? 'SSE-C' : sse === 'AES256' ? 'SSE-S3' : sse === 'aws:kms' ? 'SSE-KMS' : sse === 'aws:kms:dsse' ? 'DSSE-KMS' : 'NOT-SSE';
    if (type !== e.type) return false;
    if (e.kmsKeyArn !== undefined && head?.SSEKMSKeyId !== e.kmsKeyArn) return false;
    if (e.bucketKeyEnabled !== undefined && (head?.BucketKeyEnabled ?? false) !== e.bucketKeyEnabled) return false;
  }
  if (filter.replicationStatuses) {
    if (head === undefined) return false;
    if (!filter.replicationStatuses.includes(head.ReplicationStatus ?? 'NONE')) return false;
  }
  return true;
}

/** A replication rule's scope as the listing checks it: enabled rules only; prefix and tags all required. */
export interface ReplicationScope {
  prefix: string;
  tags: { key: string; value: string }[];
}

/** The scopes of the enabled rules of a replication configuration (its legacy top-level Prefix included). Pure. */
export function replicationScopes(rules: ReplicationRule[] | undefined): ReplicationScope[] {
  return (rules ?? [])
    .filter((rule) => rule.Status === 'Enabled')
    .map((rule) => {
      const filter = rule.Filter;
      const and = filter?.And;
      const tags = and?.Tags ?? (filter?.Tag ? [filter.Tag] : []);
      return {
        prefix: and?.Prefix ?? filter?.Prefix ?? rule.Prefix ?? '',
        tags: tags.map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
      };
    });
}

/** Whether a rule covers the object; `tags` is read only when a scope with tags needs it. Pure but for `tags`. */
export async function eligibleForReplication(
  key: string,
  scopes: ReplicationScope[],
  tags: () => Promise<{ Key?: string; Value?: string }[]>
): Promise<boolean> {
  let objectTags: { Key?: string; Value?: string }[] | undefined;
  for (const scope of scopes) {
    if (!key.startsWith(scope.prefix)) continue;
    if (scope.tags.length === 0) return true;
    objectTags ??= await tags();
    if (scope.tags.every((t) => objectTags!.some((o) => o.Key === t.key && o.Value === t.value))) return true;
  }
  return false;
}

/** The source bucket's replication scopes; a bucket without a replication configuration has none. */
async function readReplicationScopes(s3: S3Client, bucket: string, signal: AbortSignal): Promise<ReplicationScope[]> {
  try {
    const out = await s3.send(new GetBucketReplicationCommand({ Bucket: bucket }), { abortSignal: signal });
    return replicationScopes(out.ReplicationConfiguration?.Rules);
  } catch (err) {
    if (classifyAwsError(err).code === 'ReplicationConfigurationNotFoundError') return [];
    throw err;
  }
}

/**
 * A key as S3 Inventory writes it: URL-encoded (encodeURIComponent, `/` kept), so `+` is `%2B` and a space `%20`;
 * the CSV parser decodes it back (decodeManifestKey).
 */
export function inventoryKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/');
}

/** One data-file line: every field quoted, as S3 Inventory writes them. */
export function generatedLine(bucket: string, object: ListedObject): string {
  const fields = [
    bucket,
    inventoryKey(object.key),
    object.versionId ?? '',
    String(object.size),
    object.lastModified?.toISOString() ?? '',
    bareETag(object.etag),
    object.storageClass ?? 'STANDARD',
  ];
  return `${fields.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')}\n`;
}

interface ListPage {
  objects: ListedObject[];
  next?: ListingCursor;
}

async function listPage(s3: S3Client, generator: ResolvedGenerator, cursor: ListingCursor | undefined, maxKeys: number, signal: AbortSignal): Promise<ListPage> {
  const Bucket = generator.sourceBucket;
  const Prefix = generator.filter.prefix;
  if (generator.versions === 'All') {
    const out = await s3.send(
      new ListObjectVersionsCommand({ Bucket, Prefix, MaxKeys: maxKeys, KeyMarker: cursor?.keyMarker, VersionIdMarker: cursor?.versionIdMarker }),
      { abortSignal: signal }
    );
    // Delete markers (out.DeleteMarkers) are not objects: no task can act on them.
    const objects = (out.Versions ?? []).map((v) => ({
      key: v.Key!,
      versionId: v.VersionId,
      size: v.Size ?? 0,
      lastModified: v.LastModified,
      etag: v.ETag,
      storageClass: v.StorageClass,
    }));
    return { objects, next: out.IsTruncated ? { keyMarker: out.NextKeyMarker, versionIdMarker: out.NextVersionIdMarker } : undefined };
  }
  const out = await s3.send(
    new ListObjectsV2Command({ Bucket, Prefix, MaxKeys: maxKeys, ContinuationToken: cursor?.continuationToken, StartAfter: cursor?.startAfter }),
    { abortSignal: signal }
  );
  const objects = (out.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified, etag: o.ETag, storageClass: o.StorageClass }));
  return { objects, next: out.IsTruncated ? { continuationToken: out.NextContinuationToken } : undefined };
}

/** The object's HEAD; undefined for an SSE-C object (its headers need its key); 'gone' if deleted since listed. */
async function headFor(s3: S3Client, bucket: string, object: ListedObject, signal: AbortSignal) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.key, VersionId: object.versionId }), { abortSignal: signal });
  } catch (err) {
    const { httpStatus } = classifyAwsError(err);
    // S3 answers a HEAD of an SSE-C object without its key with 400 Bad Request.
    if (httpStatus === 400) return undefined;
    if (httpStatus === 404) return 'gone' as const;
    throw err;
  }
}

/** The object's tags, or 'gone' if it was deleted since it was listed. */
async function tagsFor(s3: S3Client, bucket: string, object: ListedObject, signal: AbortSignal) {
  try {
    const out = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: object.key, VersionId: object.versionId }), { abortSignal: signal });
    return out.TagSet ?? [];
  } catch (err) {
    if (classifyAwsError(err).httpStatus === 404) return 'gone' as const;
    throw err;
  }
}

/**
 * MaxKeys for the next list call: about what the rows still needed take, at the share of listed objects that matched
 * so far, so a listing filtered only by prefix does not list a thousand objects to keep a page's worth and list the
 * rest again in the next chunk.
 */
export function nextMaxKeys(rowsNeeded: number, listed: number, matched: number, cap = 1000): number {
  return Math.max(1, Math.min(cap, Math.ceil((rowsNeeded * (listed + 1)) / (matched + 1))));
}

/** Gzips lines into an ObjectWriter, with the MD5 of the gzipped bytes (manifest.json's MD5checksum). */
class GzipFile {
  private readonly gzip = createGzip();
  private readonly md5 = createHash('md5');
  private readonly done: Promise<void>;

  constructor(private readonly out: ObjectWriter) {
    this.gzip.on('data', (chunk: Buffer) => {
      this.md5.update(chunk);
      this.out.appendBytes(chunk);
    });
    this.done = new Promise((resolve, reject) => {
      this.gzip.on('end', resolve);
      this.gzip.on('error', reject);
    });
  }

  write(text: string): void {
    this.gzip.write(text);
  }

  async close(): Promise<{ etag: string; md5: string; size: number }> {
    this.gzip.end();
    await this.done;
    const md5 = this.md5.digest('hex');
    // Data files are small (a page's rows): one PutObject, which can still take the checksum as metadata.
    this.out.setMetadata({ md5 });
    return { etag: await this.out.close(), md5, size: this.out.size };
  }
}

function sseHeaders(output: ResolvedGenerator['output']) {
  return output.sse ? { ServerSideEncryption: output.sse, SSEKMSKeyId: output.kmsKeyId } : {};
}

function sseTarget(output: ResolvedGenerator['output']) {
  return output.sse ? { serverSideEncryption: output.sse, kmsKeyId: output.kmsKeyId } : {};
}

export async function listManifestChunk(connections: Connections, input: ListManifestChunkInput): Promise<ListedChunk> {
  const ctx = Context.current();
  const { generator } = input;
  const source = expectingOwner(connections.s3(generator.connection), generator.sourceBucket, generator.expectedOwner);
  const where = `listing the source bucket ${generator.sourceBucket}`;
  const matched: ListedObject[] = [];
  let listed = 0;
  let cursor = input.cursor;
  let calls = 0;
  try {
    const scopes = generator.filter.eligibleForReplication
      ? await readReplicationScopes(source, generator.sourceBucket, ctx.cancellationSignal)
      : undefined;
    do {
      const maxKeys = nextMaxKeys(input.maxRows - matched.length, listed, matched.length, input.listPageSize ?? 1000);
      const page = await listPage(source, generator, cursor, maxKeys, ctx.cancellationSignal);
      calls++;
      cursor = page.next;
      for (const [i, object] of page.objects.entries()) {
        listed++;
        if (!matchesListing(object, generator.filter)) continue;
        // An object deleted between the list call and these is left out, as a later listing would leave it out.
        if (needsHead(generator.filter)) {
          const head = await headFor(source, generator.sourceBucket, object, ctx.cancellationSignal);
          ctx.heartbeat({ listed, matched: matched.length });
          if (head === 'gone' || !matchesHead(head, generator.filter)) continue;
        }
        if (scopes) {
          let gone = false;
          const tags = async () => {
            const found = await tagsFor(source, generator.sourceBucket, object, ctx.cancellationSignal);
            ctx.heartbeat({ listed, matched: matched.length });
            gone = found === 'gone';
            return found === 'gone' ? [] : found;
          };
          if (!(await eligibleForReplication(object.key, scopes, tags)) || gone) continue;
        }
        matched.push(object);
        if (matched.length >= input.maxRows && i < page.objects.length - 1) {
          // A full page before the end of this list page: the next call resumes right after this object.
          cursor = generator.versions === 'All' ? { keyMarker: object.key, versionIdMarker: object.versionId } : { startAfter: object.key };
          break;
        }
      }
      ctx.heartbeat({ listed, matched: matched.length });
    } while (cursor && calls < input.maxListCalls && matched.length < input.maxRows);
  } catch (err) {
    throw s3ActivityFailure(err, where, GeneratorFailure.SourceUnreadable, GeneratorFailure.SourceNotFound);
  }
  if (matched.length === 0) return { rows: 0, listed, next: cursor };

  const key = generatedDataFileKey(generator.output, input.jobId, input.chunkIndex);
  const out = new ObjectWriter(
    expectingOwner(connections.s3(generator.output.connection), generator.output.bucket, generator.output.expectedOwner),
    { bucket: generator.output.bucket, key, contentType: 'application/gzip', ...sseTarget(generator.output) },
    { what: 'a generated manifest data file', failureType: GeneratorFailure.WriteFailed, signal: ctx.cancellationSignal }
  );
  const file = new GzipFile(out);
  for (const object of matched) file.write(generatedLine(generator.sourceBucket, object));
  try {
    const written = await file.close();
    return { file: { bucket: generator.output.bucket, key, ...written }, rows: matched.length, listed, next: cursor };
  } catch (err) {
    await out.abort();
    throw err;
  }
}

export interface FinishGeneratedManifestInput {
  jobId: string;
  generator: ResolvedGenerator;
  files: number;
}

/** Writes manifest.json over the data files (their size and MD5 from a HEAD each), then manifest.checksum. */
/** HEADs in flight while finishing a generated manifest. */
const FINISH_CONCURRENCY = 8;

export async function finishGeneratedManifest(connections: Connections, input: FinishGeneratedManifestInput): Promise<{ bucket: string; key: string; etag: string }> {
  const { generator } = input;
  const { output } = generator;
  const s3 = expectingOwner(connections.s3(output.connection), output.bucket, output.expectedOwner);
  const folder = generatedManifestFolder(output, input.jobId);
  // A few HEADs at a time, each one a heartbeat: a listing of millions of rows has thousands of data files, more
  // than one heartbeat timeout's worth of one-by-one calls.
  const files: { key: string; size: number; MD5checksum: string }[] = new Array(input.files);
  const ctx = Context.current();
  let next = 0;
  const readBack = async () => {
    while (next < input.files) {
      const index = next++;
      const key = generatedDataFileKey(output, input.jobId, index);
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: output.bucket, Key: key }), { abortSignal: ctx.cancellationSignal });
        const md5 = head.Metadata?.md5;
        if (!md5) throw ApplicationFailure.nonRetryable(`the data file s3://${output.bucket}/${key} has no md5 metadata`, GeneratorFailure.WriteFailed);
        files[index] = { key, size: head.ContentLength ?? 0, MD5checksum: md5 };
      } catch (err) {
        throw s3ActivityFailure(err, `reading back the data file s3://${output.bucket}/${key}`, GeneratorFailure.WriteFailed);
      }
      ctx.heartbeat({ filesRead: index + 1 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(FINISH_CONCURRENCY, input.files) }, readBack));
  const manifest = {
    sourceBucket: generator.sourceBucket,
    destinationBucket: `arn:aws:s3:::${output.bucket}`,
    version: '2021-11-30',
    creationTimestamp: String(Date.now()),
    fileFormat: 'CSV',
    fileSchema: GENERATED_FILE_SCHEMA,
    files,
  };
  const text = JSON.stringify(manifest);
  const key = `${folder}/manifest.json`;
  try {
    const put = await s3.send(new PutObjectCommand({ Bucket: output.bucket, Key: key, Body: text, ContentType: 'application/json', ...sseHeaders(output) }));
    await s3.send(
      new PutObjectCommand({
        Bucket: output.bucket,
        Key: `${folder}/manifest.checksum`,
        Body: createHash('md5').update(text).digest('hex'),
        ContentType: 'text/plain',
        ...sseHeaders(output),
      })
    );
    return { bucket: output.bucket, key, etag: bareETag(put.ETag) };
  } catch (err) {
    throw s3ActivityFailure(err, `writing s3://${output.bucket}/${key}`, GeneratorFailure.WriteFailed);
  }
}
