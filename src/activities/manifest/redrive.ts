/**
 * Preparing a redrive job (Extensions.RedriveOf): build its manifest from the failed rows of an earlier job's
 * completion report. Reads the report's manifest.json, streams every `failed` shard, and writes one CSV object
 * `<prefix>/job-<newJobId>/redrive-manifest.csv` with the first three report columns (Bucket, Key, VersionId: keys stay
 * URL-encoded as in the old manifest, so each row is the old manifest row again).
 *
 * Rows are re-written rather than copied byte for byte: a report's ResultMessage may hold a quoted line break (a
 * Lambda's message, say), which a manifest row cannot. Memory stays bounded: one report record at a time, and one
 * upload part of output (ObjectWriter); a bigger manifest goes up as a multipart upload.
 */
import {
  GetObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { reportJobFolder, type ReportRef } from '../../shared/page-context';
import { REDRIVE_MANIFEST_NAME } from '../../schemas/job-spec';
import { csvField } from '../report/report-csv';
import type { ReportManifest } from '../report/write-report';
import { expectingOwner } from '../bucket-owner';
import type { Connections } from '../s3-clients';
import { ObjectWriter, s3ActivityFailure } from './object-writer';

export { PART_BYTES } from './object-writer';

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

/** A report field longer than this cannot be a bucket, key or version id; its tail is not kept. */
const MAX_FIELD_CHARS = 8 * 1024;
const HEARTBEAT_EVERY_ROWS = 10_000;
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

function s3Failure(err: unknown, what: string, permanentType: string): Error {
  return s3ActivityFailure(err, what, permanentType, permanentType === RedriveFailure.SourceUnreadable ? RedriveFailure.SourceNotFound : undefined);
}

/**
 * A CSV record parser (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks) fed text in pieces of
 * any size; keeps the first `keep` fields of each non-blank record. Holds one record's kept fields at a time.
 */
export class ReportRecordParser {
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  /** Inside quotes, the previous character was a quote (closing, or the first of a doubled one). */
  private quoteSeen = false;
  private blank = true;

  constructor(private readonly keep = 3) {}

  private endField(): void {
    if (this.fields.length < this.keep) this.fields.push(this.field);
    this.field = '';
  }

  private record(): string[] {
    this.endField();
    const record = [...this.fields, ...Array<string>(this.keep - this.fields.length).fill('')];
    this.fields = [];
    this.blank = true;
    return record;
  }

  private take(text: string): void {
    if (this.fields.length < this.keep && this.field.length < MAX_FIELD_CHARS) this.field += text.slice(0, MAX_FIELD_CHARS - this.field.length);
  }

  /**
   * Parses `text`, appending each record it completes to `out`. Runs of plain characters are taken as slices, and a
   * quoted field (the long ResultMessage) is crossed with indexOf, so the cost is per field rather than per character.
   */
  push(text: string, out: string[][]): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.inQuotes) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (text.charCodeAt(i) === QUOTE) {
            this.take('"');
            i++;
            continue;
          }
          this.inQuotes = false; // that quote closed the field: read text[i] as outside quotes
          continue;
        }
        const q = text.indexOf('"', i);
        if (q === -1) {
          this.take(text.slice(i));
          return;
        }
        this.take(text.slice(i, q));
        this.quoteSeen = true;
        i = q + 1;
        continue;
      }
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === COMMA || c === QUOTE || c === LF) break;
        j++;
      }
      if (j > i) {
        // Outside quotes a CR is part of a line break (CRLF), never data.
        const run = text.slice(i, j).replace(/\r/g, '');
        if (run) {
          this.take(run);
          this.blank = false;
        }
      }
      if (j === n) return;
      const c = text.charCodeAt(j);
      if (c === QUOTE) {
        this.inQuotes = true;
        this.blank = false;
      } else if (c === COMMA) {
        this.endField();
        this.blank = false;
      } else {
        if (!this.blank) out.push(this.record());
        this.fields = [];
        this.field = '';
      }
      i = j + 1;
    }
  }

  /** The end of the input: a last record without a line break still counts. */
  end(out: string[][]): void {
    if (this.quoteSeen) this.inQuotes = false;
    if (!this.blank && !this.inQuotes) out.push(this.record());
  }
}

/** The records of a byte stream, in batches (one per chunk read), first `keep` fields each. */
export async function* reportRecordBatches(stream: AsyncIterable<Uint8Array>, keep = 3): AsyncGenerator<string[][]> {
  const decoder = new TextDecoder('utf-8');
  const parser = new ReportRecordParser(keep);
  for await (const chunk of stream) {
    const batch: string[][] = [];
    parser.push(decoder.decode(chunk, { stream: true }), batch);
    if (batch.length) yield batch;
  }
  const last: string[][] = [];
  parser.push(decoder.decode(), last);
  parser.end(last);
  if (last.length) yield last;
}

/** The records of a byte stream, one at a time. */
export async function* reportRecords(stream: AsyncIterable<Uint8Array>, keep = 3): AsyncGenerator<string[]> {
  for await (const batch of reportRecordBatches(stream, keep)) yield* batch;
}

/** One manifest row (Bucket,Key,VersionId) for a report record. */
export function redriveRow(record: string[]): string {
  return `${record.slice(0, 3).map((f) => csvField(f ?? '')).join(',')}\n`;
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
  const s3 = expectingOwner(connections.s3(input.report.connection), input.report.bucket, input.report.expectedOwner);
  const ctx = Context.current();
  const manifest = await readReportManifest(s3, input.source);
  const failedShards = manifest.Results.filter((r) => r.TaskExecutionStatus === 'failed');
  const key = `${reportJobFolder(input.report, input.jobId)}/${REDRIVE_MANIFEST_NAME}`;
  const out = new ObjectWriter(s3, { bucket: input.report.bucket, key, contentType: 'text/csv' }, {
    what: 'the redrive manifest',
    failureType: RedriveFailure.WriteFailed,
    signal: ctx.cancellationSignal,
  });
  let rows = 0;
  let reading = '';
  try {
    for (const shard of failedShards) {
      reading = `s3://${shard.Bucket}/${shard.Key}`;
      const got = await s3.send(new GetObjectCommand({ Bucket: shard.Bucket, Key: shard.Key }), {
        abortSignal: ctx.cancellationSignal,
      });
      let sinceHeartbeat = 0;
      for await (const batch of reportRecordBatches(got.Body as AsyncIterable<Uint8Array>)) {
        for (const record of batch) out.append(redriveRow(record));
        rows += batch.length;
        sinceHeartbeat += batch.length;
        await out.flush();
        if (sinceHeartbeat >= HEARTBEAT_EVERY_ROWS) {
          sinceHeartbeat = 0;
          ctx.heartbeat({ rows });
        }
      }
    }
    const etag = await out.close();
    return { bucket: input.report.bucket, key, etag, size: out.size, rows, shards: failedShards.length };
  } catch (err) {
    await out.abort();
    // Write errors arrive as ApplicationFailures already (ObjectWriter.guard); the rest is reading the old report.
    throw s3Failure(err, `reading the report shard ${reading} of job ${input.source.jobId}`, RedriveFailure.SourceUnreadable);
  }
}
