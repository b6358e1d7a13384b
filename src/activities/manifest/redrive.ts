/**
 * Preparing a redrive job (Extensions.RedriveOf): build its manifest from the failed rows of an earlier job's
 * completion report. Reads the report's manifest.json, streams every `failed` shard, and writes one CSV object
 * `<prefix>/job-<newJobId>/redrive-manifest.csv` with the first three report columns (Bucket, Key, VersionId: keys stay
 * URL-encoded as in the old manifest, so each row is the old manifest row again).
 *
 * Rows are re-written rather than copied byte for byte: a report's ResultMessage may hold a quoted line break (a
 * Lambda's message, say), which a manifest row cannot. Memory stays bounded: one report record at a time, and one
 * upload part (PART_BYTES) of output; a bigger manifest goes up as a multipart upload.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { reportJobFolder, type ReportRef } from '../../shared/page-context';
import { REDRIVE_MANIFEST_NAME } from '../../spec/job-spec';
import { classifyAwsError } from '../aws-errors';
import { csvField } from '../report/report-csv';
import type { ReportManifest } from '../report/write-report';
import type { Connections } from '../s3-clients';
import { bareETag } from './manifest-object';

export interface BuildRedriveManifestInput {
  /** The new (redrive) job. */
  jobId: string;
  /** The earlier job and its report's manifest.json. */
  source: { jobId: string; bucket: string; key: string };
  /** The new job's report: where the manifest is written, and the connection that reads the old report too. */
  report: ReportRef;
}

export interface BuiltRedriveManifest {
  bucket: string;
  key: string;
  etag: string;
  size: number;
  /** Failed rows found, one manifest row each. */
  rows: number;
  /** Failed shards read. */
  shards: number;
}

/** Failure types a redrive job reports as its FailureCode when its manifest cannot be built. */
export const RedriveFailure = {
  SourceNotFound: 'RedriveReportNotFound',
  SourceUnreadable: 'RedriveReportUnreadable',
  WriteFailed: 'RedriveManifestWriteFailed',
  NothingToRedrive: 'NothingToRedrive',
} as const;

/** Parts of a multipart upload (S3's minimum is 5 MiB, except the last). */
export const PART_BYTES = 8 * 1024 * 1024;
/** A report field longer than this cannot be a bucket, key or version id; its tail is not kept. */
const MAX_FIELD_CHARS = 8 * 1024;
const HEARTBEAT_EVERY_ROWS = 10_000;

function s3Failure(err: unknown, what: string, permanentType: string): Error {
  if (err instanceof ApplicationFailure) return err;
  const c = classifyAwsError(err);
  const message = `${what}: ${c.code}: ${c.message}`;
  if (c.retryable) return ApplicationFailure.retryable(message, c.code);
  const notFound = ['NoSuchKey', 'NoSuchBucket', 'NotFound'].includes(c.code) || c.httpStatus === 404;
  return ApplicationFailure.nonRetryable(message, notFound && permanentType === RedriveFailure.SourceUnreadable ? RedriveFailure.SourceNotFound : permanentType);
}

/**
 * Reads CSV records (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks) from a byte stream and
 * yields the first `keep` fields of each non-blank record. Holds one record's kept fields at a time.
 */
export async function* reportRecords(stream: AsyncIterable<Uint8Array>, keep = 3): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8');
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoteSeen = false; // inside quotes, the previous character was a quote (closing, or the first of a doubled one)
  let blank = true;
  const endField = () => {
    if (fields.length < keep) fields.push(field);
    field = '';
  };
  const record = () => [...fields, ...Array<string>(keep - fields.length).fill('')];
  const take = (ch: string) => {
    if (fields.length < keep && field.length < MAX_FIELD_CHARS) field += ch;
  };
  function* process(text: string): Generator<string[]> {
    for (const ch of text) {
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (ch === '"') {
            take('"');
            continue;
          }
          inQuotes = false; // that quote closed the field: fall through to handle ch outside quotes
        } else if (ch === '"') {
          quoteSeen = true;
          continue;
        } else {
          take(ch);
          continue;
        }
      }
      if (ch === '"') {
        inQuotes = true;
        blank = false;
      } else if (ch === ',') {
        endField();
        blank = false;
      } else if (ch === '\n') {
        if (!blank) {
          endField();
          yield record();
        }
        fields = [];
        field = '';
        blank = true;
      } else if (ch !== '\r') {
        take(ch);
        blank = false;
      }
    }
  }
  for await (const chunk of stream) yield* process(decoder.decode(chunk, { stream: true }));
  yield* process(decoder.decode());
  if (quoteSeen) inQuotes = false;
  if (!blank && !inQuotes) {
    endField();
    yield record();
  }
}

/** One manifest row (Bucket,Key,VersionId) for a report record. */
export function redriveRow(record: string[]): string {
  return `${record.slice(0, 3).map((f) => csvField(f ?? '')).join(',')}\n`;
}

/** Writes an object from chunks: one PutObject when it fits in a part, else a multipart upload. */
class ObjectWriter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private uploadId?: string;
  private readonly etags: { ETag: string; PartNumber: number }[] = [];
  size = 0;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly signal?: AbortSignal
  ) {}

  async write(text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    this.parts.push(bytes);
    this.partBytes += bytes.length;
    this.size += bytes.length;
    if (this.partBytes >= PART_BYTES) await this.flushPart();
  }

  private async flushPart(): Promise<void> {
    const body = Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    if (!this.uploadId) {
      const created = await this.s3.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: 'text/csv' }),
        { abortSignal: this.signal }
      );
      this.uploadId = created.UploadId!;
    }
    const PartNumber = this.etags.length + 1;
    const part = await this.s3.send(
      new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: body }),
      { abortSignal: this.signal }
    );
    this.etags.push({ ETag: part.ETag!, PartNumber });
  }

  async close(): Promise<string> {
    if (!this.uploadId) {
      const body = Buffer.concat(this.parts, this.partBytes);
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: body,
          ContentType: 'text/csv',
          ContentMD5: createHash('md5').update(body).digest('base64'),
        }),
        { abortSignal: this.signal }
      );
      return bareETag(out.ETag);
    }
    if (this.partBytes > 0) await this.flushPart();
    const out = await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: this.etags },
      }),
      { abortSignal: this.signal }
    );
    return bareETag(out.ETag);
  }

  /** Best effort: an abandoned upload's parts would otherwise linger (and cost) until a lifecycle rule drops them. */
  async abort(): Promise<void> {
    if (!this.uploadId) return;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => undefined);
  }
}

export async function readReportManifest(s3: S3Client, source: BuildRedriveManifestInput['source']): Promise<ReportManifest> {
  const where = `the report manifest s3://${source.bucket}/${source.key} of job ${source.jobId}`;
  let text: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }));
    text = await out.Body!.transformToString();
  } catch (err) {
    throw s3Failure(err, `reading ${where}`, RedriveFailure.SourceUnreadable);
  }
  let parsed: Partial<ReportManifest>;
  try {
    parsed = JSON.parse(text) as Partial<ReportManifest>;
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${where} is not JSON: ${(err as Error).message}`, RedriveFailure.SourceUnreadable);
  }
  const results = parsed?.Results;
  if (!Array.isArray(results) || results.some((r) => typeof r?.Bucket !== 'string' || typeof r?.Key !== 'string')) {
    throw ApplicationFailure.nonRetryable(
      `${where} is not a completion report manifest (expected Results: [{TaskExecutionStatus, Bucket, Key}])`,
      RedriveFailure.SourceUnreadable
    );
  }
  return parsed as ReportManifest;
}

export async function buildRedriveManifest(connections: Connections, input: BuildRedriveManifestInput): Promise<BuiltRedriveManifest> {
  const s3 = connections.s3(input.report.connection);
  const ctx = Context.current();
  const manifest = await readReportManifest(s3, input.source);
  const failedShards = manifest.Results.filter((r) => r.TaskExecutionStatus === 'failed');
  const key = `${reportJobFolder(input.report, input.jobId)}/${REDRIVE_MANIFEST_NAME}`;
  const out = new ObjectWriter(s3, input.report.bucket, key, ctx.cancellationSignal);
  let rows = 0;
  let reading = '';
  try {
    for (const shard of failedShards) {
      reading = `s3://${shard.Bucket}/${shard.Key}`;
      const got = await s3.send(new GetObjectCommand({ Bucket: shard.Bucket, Key: shard.Key }), {
        abortSignal: ctx.cancellationSignal,
      });
      for await (const record of reportRecords(got.Body as AsyncIterable<Uint8Array>)) {
        await out.write(redriveRow(record));
        rows++;
        if (rows % HEARTBEAT_EVERY_ROWS === 0) ctx.heartbeat({ rows });
      }
    }
    reading = '';
    const etag = await out.close();
    return { bucket: input.report.bucket, key, etag, size: out.size, rows, shards: failedShards.length };
  } catch (err) {
    await out.abort();
    throw reading
      ? s3Failure(err, `reading the report shard ${reading} of job ${input.source.jobId}`, RedriveFailure.SourceUnreadable)
      : s3Failure(err, `writing the redrive manifest s3://${input.report.bucket}/${key}`, RedriveFailure.WriteFailed);
  }
}
