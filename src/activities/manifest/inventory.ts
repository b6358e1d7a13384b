/**
 * Preparing a job over an S3 Inventory report (S3InventoryReport_CSV_20161130): read its manifest.json, stream each
 * gzipped CSV data file (checking the MD5 that manifest.json gives for it), and gather the rows into one plain CSV,
 * `Bucket,Key,VersionId`, in the job's report folder. From there the job is an ordinary CSV job: pages are byte
 * ranges of that CSV (a gzip stream cannot be read from the middle, so the data files themselves cannot be paged).
 *
 * Keys in inventory CSV are URL-encoded already and are written as they are: the CSV parser decodes them. Rows are
 * kept whatever they hold: a delete-marker row stays a task (S3 answers it with its own error, which the report
 * shows), and a row that cannot be parsed becomes a row that fails its task with the reason (see `unreadableRow`).
 * Memory stays bounded: one line at a time in, one upload part out (ObjectWriter).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import { bucketFromArn } from '../../schemas/arn';
import { csvField } from '../report/report-csv';
import { expectingOwner } from '../bucket-owner';
import type { Connections } from '../s3-clients';
import { splitCsvLine } from './csv-row';
import { readLines } from './line-reader';
import { bareETag, headManifest, ManifestFailure, manifestError } from './manifest-object';
import { ObjectWriter, s3ActivityFailure } from './object-writer';

export interface BuildInventoryManifestInput {
  jobId: string;
  /** The inventory's manifest.json; `etag`, when given, must match. */
  inventory: { connection: string; bucket: string; key: string; versionId?: string; etag?: string };
  /** Where the gathered CSV goes. */
  /** `expectedOwner`: Report.ExpectedBucketOwner (the CSV goes into the report folder). */
  output: { connection: string; bucket: string; key: string; expectedOwner?: string };
}

export interface BuiltInventoryManifest {
  bucket: string;
  key: string;
  etag: string;
  size: number;
  rows: number;
  files: number;
  /** The ETag of the manifest.json read. */
  manifestETag: string;
}

/** Failure types a job reports as its FailureCode when its inventory cannot be used. */
export const InventoryFailure = {
  Invalid: 'InventoryManifestInvalid',
  UnsupportedFormat: 'InventoryUnsupportedFormat',
  ChecksumMismatch: 'InventoryChecksumMismatch',
  Unreadable: 'InventoryUnreadable',
  WriteFailed: 'InventoryManifestWriteFailed',
} as const;

const HEARTBEAT_EVERY_ROWS = 10_000;

/** manifest.json as S3 Inventory writes it (2016-11-30; generated manifests use the same shape, 2021-11-30). */
export const InventoryManifest = z.object({
  sourceBucket: z.string().min(1),
  destinationBucket: z.string().optional(),
  version: z.string().optional(),
  fileFormat: z.string(),
  fileSchema: z.string().min(1),
  files: z.array(
    z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      MD5checksum: z.string().regex(/^[0-9a-fA-F]{32}$/, 'expected 32 hex digits'),
    })
  ),
});
export type InventoryManifest = z.infer<typeof InventoryManifest>;

export interface InventoryColumns {
  bucket: number;
  key: number;
  /** -1: the inventory has no version ids. */
  versionId: number;
  count: number;
}

/** Where each needed column is in a data file's rows, from fileSchema ("Bucket, Key, VersionId, ..."). */
export function inventoryColumns(fileSchema: string): InventoryColumns | { error: string } {
  const names = fileSchema.split(',').map((name) => name.trim());
  const bucket = names.indexOf('Bucket');
  const key = names.indexOf('Key');
  if (bucket === -1 || key === -1) return { error: `fileSchema must name the Bucket and Key columns, got "${fileSchema.slice(0, 200)}"` };
  return { bucket, key, versionId: names.indexOf('VersionId'), count: names.length };
}

/** Parses manifest.json's text; throws a non-retryable failure saying what is wrong and where. */
export function parseInventoryManifest(text: string, where: string): InventoryManifest & { columns: InventoryColumns } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${where} is not JSON: ${(err as Error).message}`, InventoryFailure.Invalid);
  }
  const parsed = InventoryManifest.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'}: ${i.message}`);
    throw ApplicationFailure.nonRetryable(`${where} is not an S3 Inventory manifest: ${problems.join('; ')}`, InventoryFailure.Invalid);
  }
  if (parsed.data.fileFormat !== 'CSV') {
    throw ApplicationFailure.nonRetryable(
      `${where} lists ${parsed.data.fileFormat} files: S3 Batch Operations accepts only CSV inventories; set the inventory's output format to CSV`,
      InventoryFailure.UnsupportedFormat
    );
  }
  const columns = inventoryColumns(parsed.data.fileSchema);
  if ('error' in columns) throw ApplicationFailure.nonRetryable(`${where}: ${columns.error}`, InventoryFailure.Invalid);
  return { ...parsed.data, columns };
}

/**
 * One inventory line as a `Bucket,Key,VersionId` row. A line that cannot be parsed still becomes a row, whose task
 * fails: see `unreadableRow`.
 */
export function inventoryRow(text: string, columns: InventoryColumns): string {
  const fields = splitCsvLine(text);
  if (!Array.isArray(fields)) return unreadableRow(fields.error, text);
  if (fields.length <= Math.max(columns.bucket, columns.key, columns.versionId)) {
    return unreadableRow(`${fields.length} fields, the fileSchema has ${columns.count}`, text);
  }
  const version = columns.versionId >= 0 ? fields[columns.versionId]! : '';
  return `${csvField(fields[columns.bucket]!)},${csvField(fields[columns.key]!)},${csvField(version)}\n`;
}

/**
 * A row for an inventory line that cannot be read: the reason in the bucket field (no bucket name has spaces, so
 * the CSV parser fails the task with `"Unreadable S3 Inventory row: …" is not a valid bucket name`), and the line as
 * the inventory held it in the key field, for the report.
 */
export function unreadableRow(reason: string, text: string): string {
  return `${csvField(`Unreadable S3 Inventory row: ${reason}`.slice(0, 90))},${csvField(text.slice(0, 1000))},\n`;
}

async function readManifestJson(s3: S3Client, input: BuildInventoryManifestInput): Promise<{ text: string; etag: string }> {
  const ref = input.inventory;
  const head = await headManifest(s3, ref);
  if (ref.etag && bareETag(ref.etag) !== head.etag) {
    throw ApplicationFailure.nonRetryable(
      `Etag mismatch reading manifest s3://${ref.bucket}/${ref.key}: the job gives ${bareETag(ref.etag)}, the object has ${head.etag}`,
      ManifestFailure.ETagMismatch
    );
  }
  try {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId, IfMatch: `"${head.etag}"` })
    );
    return { text: await out.Body!.transformToString(), etag: head.etag };
  } catch (err) {
    throw manifestError(err, { ...ref, etag: head.etag });
  }
}

/** Streams one data file: the raw bytes into an MD5, the gunzipped text out as lines. */
async function* dataFileLines(s3: S3Client, bucket: string, key: string, expectedMd5: string, signal: AbortSignal) {
  const where = `the inventory data file s3://${bucket}/${key}`;
  let body: AsyncIterable<Uint8Array>;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })).Body as AsyncIterable<Uint8Array>;
  } catch (err) {
    throw s3ActivityFailure(err, `reading ${where}`, InventoryFailure.Unreadable);
  }
  const md5 = createHash('md5');
  const raw = Readable.from(
    (async function* () {
      for await (const chunk of body) {
        md5.update(chunk);
        yield chunk;
      }
    })()
  );
  const gunzip = raw.pipe(createGunzip());
  raw.on('error', (err) => gunzip.destroy(err));
  try {
    for await (const line of readLines(gunzip, 0)) yield line;
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('Z_')) throw ApplicationFailure.nonRetryable(`${where} is not gzip data: ${(err as Error).message}`, InventoryFailure.Invalid);
    throw s3ActivityFailure(err, `reading ${where}`, InventoryFailure.Unreadable);
  }
  const actual = md5.digest('hex');
  if (actual !== expectedMd5.toLowerCase()) {
    throw ApplicationFailure.nonRetryable(
      `${where} does not match its checksum in manifest.json: MD5 ${actual}, expected ${expectedMd5.toLowerCase()}`,
      InventoryFailure.ChecksumMismatch
    );
  }
}

export async function buildInventoryManifest(connections: Connections, input: BuildInventoryManifestInput): Promise<BuiltInventoryManifest> {
  const ctx = Context.current();
  const s3 = connections.s3(input.inventory.connection);
  const where = `the inventory manifest s3://${input.inventory.bucket}/${input.inventory.key}`;
  const json = await readManifestJson(s3, input);
  const inventory = parseInventoryManifest(json.text, where);
  const dataBucket = inventory.destinationBucket ? (bucketFromArn(inventory.destinationBucket) ?? inventory.destinationBucket) : input.inventory.bucket;
  const out = new ObjectWriter(
    expectingOwner(connections.s3(input.output.connection), input.output.bucket, input.output.expectedOwner),
    { bucket: input.output.bucket, key: input.output.key, contentType: 'text/csv' },
    { what: 'the manifest gathered from the inventory', failureType: InventoryFailure.WriteFailed, signal: ctx.cancellationSignal }
  );
  let rows = 0;
  try {
    for (const file of inventory.files) {
      for await (const line of dataFileLines(s3, dataBucket, file.key, file.MD5checksum, ctx.cancellationSignal)) {
        if (line.text === undefined) out.append(unreadableRow(line.problem ?? 'unreadable', ''));
        else if (line.text.trim() === '') continue; // a trailing blank line is no row
        else out.append(inventoryRow(line.text, inventory.columns));
        rows++;
        if (rows % HEARTBEAT_EVERY_ROWS === 0) {
          await out.flush();
          ctx.heartbeat({ rows });
        }
      }
    }
    const etag = await out.close();
    return { bucket: input.output.bucket, key: input.output.key, etag, size: out.size, rows, files: inventory.files.length, manifestETag: json.etag };
  } catch (err) {
    await out.abort();
    throw err;
  }
}
