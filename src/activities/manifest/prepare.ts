/**
 * Preparing: read the manifest once, from start to end, to pin its version (ETag), count its rows and cut it into
 * pages. Pages are byte ranges of equal size, chosen so that a page holds about PageSize rows; nothing but these
 * numbers goes back to the workflow.
 *
 * Row numbers: pages are byte ranges, so a page cannot know how many rows come before it. The same pass records,
 * for each page, the line number of the first row that begins in it (`pageFirstRows`), and the page numbers its rows
 * from there. To know where pages start before the row count is known, the pass notes the line count at every
 * `block` bytes (at most about a million marks), and the page size in bytes is rounded up to a whole number of
 * blocks (blocks are 1 byte for manifests up to 1 MiB, so small manifests are cut exactly as before; for larger
 * ones a page grows by under 2%). The numbers are job state, so they are bounded: with more than
 * MAX_NUMBERED_PAGES pages none are recorded and row messages give byte offsets only.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { expectingOwner } from '../bucket-owner';
import type { Connections } from '../s3-clients';
import { bareETag, headManifest, ManifestFailure, manifestError, streamManifest, type ManifestObjectRef } from './manifest-object';

export interface PrepareManifestInput {
  /**
   * `headerRow` (Extensions.ManifestHeaderRow): the first line is a header, not counted as a row. `expectedOwner`: a
   * manifest built in the report folder is read with Report.ExpectedBucketOwner.
   */
  manifest: ManifestObjectRef & { connection: string; headerRow?: boolean; expectedOwner?: string };
  pageSize: number;
}

export interface PreparedManifest {
  etag: string;
  size: number;
  /** Rows that are tasks: the manifest's lines, less a skipped header line. */
  rows: number;
  pageBytes: number;
  pageCount: number;
  /**
   * For each page, the 1-based line number of the first row that begins in it (a page that holds no row start gets
   * the next row's number). Absent for jobs prepared before row numbers, and when there are more than
   * MAX_NUMBERED_PAGES pages.
   */
  pageFirstRows?: number[];
}

/**
 * Pages beyond which no line numbers are recorded. They live in the job's state, carried across continue-as-new:
 * 10,000 numbers are at most about 100 KB of JSON (and 2.5 million rows at the default PageSize).
 */
export const MAX_NUMBERED_PAGES = 10_000;
const MAX_MARKS = 1 << 20;

const HEARTBEAT_EVERY_BYTES = 8 * 1024 * 1024;

export function pagesFor(size: number, rows: number, pageSize: number): { pageBytes: number; pageCount: number } {
  if (rows === 0 || size === 0) return { pageBytes: 1, pageCount: 0 };
  const pageBytes = Math.max(1, Math.ceil((size / rows) * pageSize));
  return { pageBytes, pageCount: Math.ceil(size / pageBytes) };
}

/**
 * Counts lines (as the line reader yields them) over a stream fed in chunks, and notes, at every multiple of
 * `block` bytes, how many lines begin before it. Pure: the unit tests feed it strings.
 */
export class LineCounter {
  /** Bytes per mark: the smallest power of two that keeps `expectedSize` within about a million marks. */
  readonly block: number;
  /** marks[b]: line breaks in bytes [0, b * block - 1), noted when byte b * block - 1 is reached. */
  private readonly marks: Float64Array;
  lineBreaks = 0;
  size = 0;
  private lastByte = 0x0a;

  constructor(readonly expectedSize: number) {
    let block = 1;
    while (Math.ceil(expectedSize / block) > MAX_MARKS) block *= 2;
    this.block = block;
    this.marks = new Float64Array(Math.floor(expectedSize / block) + 1);
  }

  add(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      // The byte just before the next mark: line breaks are noted before it is counted.
      const markByte = (Math.floor(this.size / this.block) + 1) * this.block - 1;
      const upTo = Math.min(chunk.length, i + (markByte - this.size));
      for (let nl = chunk.indexOf(0x0a, i); nl !== -1 && nl < upTo; nl = chunk.indexOf(0x0a, nl + 1)) this.lineBreaks++;
      this.size += upTo - i;
      i = upTo;
      if (i < chunk.length) {
        const mark = (markByte + 1) / this.block;
        if (mark < this.marks.length) this.marks[mark] = this.lineBreaks;
        if (chunk[i] === 0x0a) this.lineBreaks++;
        this.size++;
        i++;
      }
    }
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1]!;
  }

  /** Lines in the manifest (a last line without a line break counts). */
  get lines(): number {
    return this.lineBreaks + (this.size > 0 && this.lastByte !== 0x0a ? 1 : 0);
  }

  /** Line number of the first line that begins at or after byte `offset` (a multiple of `block`, below the size). */
  lineAt(offset: number): number {
    if (offset === 0) return 1;
    // Lines beginning before `offset`: the one at byte 0, and one after each line break in [0, offset - 1).
    return 2 + this.marks[offset / this.block]!;
  }
}

/** Cuts the counted manifest into pages, with each page's first line number when they can be recorded. */
export function planPages(
  counter: LineCounter,
  pageSize: number,
  headerRow = false
): Pick<PreparedManifest, 'size' | 'rows' | 'pageBytes' | 'pageCount' | 'pageFirstRows'> {
  const { size } = counter;
  const rows = Math.max(0, counter.lines - (headerRow ? 1 : 0));
  const plain = pagesFor(size, rows, pageSize);
  // Marks cover the size announced up front: a stream of another length (it should not happen) gets no numbers.
  if (plain.pageCount === 0 || plain.pageCount > MAX_NUMBERED_PAGES || size !== counter.expectedSize) {
    return { size, rows, ...plain };
  }
  const pageBytes = Math.ceil(plain.pageBytes / counter.block) * counter.block;
  const pageCount = Math.ceil(size / pageBytes);
  const pageFirstRows = Array.from({ length: pageCount }, (_, i) => counter.lineAt(i * pageBytes));
  return { size, rows, pageBytes, pageCount, pageFirstRows };
}

export async function prepareManifest(connections: Connections, input: PrepareManifestInput): Promise<PreparedManifest> {
  const s3 = expectingOwner(connections.s3(input.manifest.connection), input.manifest.bucket, input.manifest.expectedOwner);
  const head = await headManifest(s3, input.manifest);
  const expected = input.manifest.etag ? bareETag(input.manifest.etag) : undefined;
  if (expected && expected !== head.etag) {
    throw ApplicationFailure.nonRetryable(
      `Etag mismatch reading manifest s3://${input.manifest.bucket}/${input.manifest.key}: the job gives ${expected}, the object has ${head.etag}`,
      ManifestFailure.ETagMismatch
    );
  }
  const ref = { ...input.manifest, etag: head.etag };
  const ctx = Context.current();
  const body = await streamManifest(s3, ref, 0, ctx.cancellationSignal);
  const counter = new LineCounter(head.size);
  let sinceHeartbeat = 0;
  try {
    for await (const chunk of body) {
      counter.add(chunk);
      sinceHeartbeat += chunk.length;
      if (sinceHeartbeat >= HEARTBEAT_EVERY_BYTES) {
        sinceHeartbeat = 0;
        ctx.heartbeat({ bytesRead: counter.size });
      }
    }
  } catch (err) {
    throw manifestError(err, ref);
  }
  return { etag: head.etag, ...planPages(counter, input.pageSize, input.manifest.headerRow) };
}
