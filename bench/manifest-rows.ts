/**
 * The memory bench's manifests and checks. Pure: no S3, no processes.
 *
 * Row i of a manifest is `bench-manifest,bench/2026/11/part-<i, 7 digits>.json\n`. Every row has the same length, so
 * a manifest's size is known without building it, each row's byte offset follows from its index, and the rows a
 * page reads can be checked one by one without keeping them.
 */

export const MANIFEST_BUCKET = 'bench-manifest';

/** Rows per manifest are capped (options) so that every index fits the key's 7 digits and rows stay one length. */
const INDEX_DIGITS = 7;
const KEY_PREFIX = 'bench/2026/11/part-';
const KEY_SUFFIX = '.json';
const KEY_PATTERN = /^bench\/2026\/11\/part-(\d{7})\.json$/;

export function manifestObjectKey(rows: number): string {
  return `manifests/rows-${rows}.csv`;
}

/** The object key in manifest row `index`. */
export function rowKey(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 10 ** INDEX_DIGITS) throw new RangeError(`row index ${index} out of range`);
  return `${KEY_PREFIX}${String(index).padStart(INDEX_DIGITS, '0')}${KEY_SUFFIX}`;
}

/** The index a row key encodes, or undefined if it is not one of ours. */
export function rowIndexOf(key: string): number | undefined {
  const m = KEY_PATTERN.exec(key);
  return m ? Number(m[1]) : undefined;
}

export function rowText(index: number): string {
  return `${MANIFEST_BUCKET},${rowKey(index)}\n`;
}

/** Bytes of every row (ASCII, line break included). */
export const ROW_BYTES = rowText(0).length;

/** Bytes of a manifest of `rows` rows. */
export function manifestBytes(rows: number): number {
  return rows * ROW_BYTES;
}

/**
 * The manifest as a stream of chunks of about `chunkBytes`, built as they are read: memory stays at one chunk
 * whatever the row count.
 */
export function* manifestChunks(rows: number, chunkBytes = 256 * 1024): Generator<Buffer> {
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / ROW_BYTES));
  for (let first = 0; first < rows; first += rowsPerChunk) {
    const last = Math.min(rows, first + rowsPerChunk);
    let text = '';
    for (let i = first; i < last; i++) text += rowText(i);
    yield Buffer.from(text, 'latin1');
  }
}

/** What the check needs of a row readPage returned (a TaskRow). */
export interface ReadRow {
  offset: number;
  bucket: string;
  key?: string;
  error?: string;
}

interface PageSummary {
  first: number;
  count: number;
}

/**
 * Checks the rows of every page against the manifest, as pages finish in any order: each row must parse, name its
 * expected key at its expected offset, follow the previous row of its page, and the pages, taken in order, must cover
 * rows 0 to N-1 exactly once. Keeps a summary only of pages that finished ahead of an unfinished earlier one (at most
 * the pages in flight), never the rows.
 */
export class ManifestCoverage {
  private nextPage = 0;
  private nextRow = 0;
  private readonly early = new Map<number, PageSummary>();
  private readonly problems: string[] = [];
  private problemCount = 0;
  rowsRead = 0;
  pagesRead = 0;

  constructor(readonly expectedRows: number) {}

  private problem(text: string): void {
    this.problemCount++;
    if (this.problems.length < 10) this.problems.push(text);
  }

  addPage(pageIndex: number, rows: readonly ReadRow[]): void {
    this.pagesRead++;
    this.rowsRead += rows.length;
    let first = -1;
    let previous = -1;
    for (const row of rows) {
      if (row.error !== undefined || row.key === undefined) {
        this.problem(`page ${pageIndex}: ${row.error ?? `row at byte ${row.offset} has no key`}`);
        continue;
      }
      const index = rowIndexOf(row.key);
      if (row.bucket !== MANIFEST_BUCKET || index === undefined) {
        this.problem(`page ${pageIndex}: unexpected row at byte ${row.offset}: ${row.bucket},${row.key}`);
        continue;
      }
      if (row.offset !== index * ROW_BYTES) this.problem(`page ${pageIndex}: row ${index} at byte ${row.offset}, expected ${index * ROW_BYTES}`);
      if (previous >= 0 && index !== previous + 1) this.problem(`page ${pageIndex}: row ${index} follows row ${previous}`);
      if (first < 0) first = index;
      previous = index;
    }
    this.early.set(pageIndex, { first: first < 0 ? this.nextRow : first, count: rows.length });
    for (let page = this.early.get(this.nextPage); page; page = this.early.get(this.nextPage)) {
      if (page.count > 0 && page.first !== this.nextRow) this.problem(`page ${this.nextPage} starts at row ${page.first}, expected ${this.nextRow}`);
      this.nextRow += page.count;
      this.early.delete(this.nextPage);
      this.nextPage++;
    }
  }

  /** Problems found (first ten, then a count); empty when every row was read once and in place. */
  finish(expectedPages: number): string[] {
    const out = [...this.problems];
    if (this.pagesRead !== expectedPages) out.push(`${this.pagesRead} pages read, expected ${expectedPages}`);
    if (this.early.size > 0) out.push(`pages never merged in order: ${[...this.early.keys()].slice(0, 10).join(', ')}`);
    if (this.rowsRead !== this.expectedRows) out.push(`${this.rowsRead} rows read, the manifest has ${this.expectedRows}`);
    if (this.problemCount > this.problems.length) out.push(`... and ${this.problemCount - this.problems.length} more`);
    return out;
  }
}

/** One manifest size's run, as the bench reports it. */
export interface ManifestRunResult {
  rows: number;
  manifestBytes: number;
  pageSize: number;
  concurrentPages: number;
  pages: number;
  pageBytes: number;
  rowsRead: number;
  prepareSeconds: number;
  pagingSeconds: number;
  /** The child's VmHWM once its modules and S3 client were loaded, before the manifest was touched. */
  startRssBytes: number;
  /** The child's VmHWM once prepareManifest had read the whole manifest, before any page. */
  preparedRssBytes: number;
  /** The child's VmHWM at exit: the most memory it ever held. */
  peakRssBytes: number;
  /** JSON bytes of prepareManifest's result: what the job workflow keeps in its history and state. */
  preparedJsonBytes: number;
  /** JSON bytes of the largest readPage result: what one page workflow keeps (PageSize rows at most). */
  largestPageJsonBytes: number;
  /** Empty when every row was read once and in place. */
  problems: string[];
}

export interface RatioCheck {
  smallRows: number;
  largeRows: number;
  ratio: number;
  maxRatio: number;
  pass: boolean;
}

/** Peak RSS of the largest manifest over the smallest's; undefined with fewer than two sizes. */
export function ratioCheck(results: readonly ManifestRunResult[], maxRatio: number): RatioCheck | undefined {
  if (results.length < 2) return undefined;
  const sorted = [...results].sort((a, b) => a.rows - b.rows);
  const small = sorted[0]!;
  const large = sorted[sorted.length - 1]!;
  const ratio = large.peakRssBytes / small.peakRssBytes;
  return { smallRows: small.rows, largeRows: large.rows, ratio, maxRatio, pass: Number.isFinite(ratio) && ratio <= maxRatio };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const int = (n: number) => n.toLocaleString('en-US');

export function formatManifestTable(results: readonly ManifestRunResult[]): string {
  const header = ['rows', 'manifest', 'pages', 'prepare s', 'paging s', 'RSS at start', 'after prepare', 'peak RSS', 'prepared JSON', 'largest page JSON', 'rows read'];
  const rows = results.map((r) => [
    int(r.rows),
    mib(r.manifestBytes),
    int(r.pages),
    r.prepareSeconds.toFixed(1),
    r.pagingSeconds.toFixed(1),
    mib(r.startRssBytes),
    mib(r.preparedRssBytes),
    mib(r.peakRssBytes),
    `${r.preparedJsonBytes} B`,
    `${int(r.largestPageJsonBytes)} B`,
    `${int(r.rowsRead)}${r.problems.length === 0 ? '' : ' (WRONG)'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`, ...rows.map(line)].join('\n');
}

export function formatRatio(check: RatioCheck | undefined): string {
  if (!check) return 'peak RSS ratio: not checked (one manifest size)';
  const verdict = check.pass ? 'PASS' : 'FAIL';
  return `peak RSS ${int(check.largeRows)} rows / ${int(check.smallRows)} rows: ${check.ratio.toFixed(2)}x (limit ${check.maxRatio}x): ${verdict}`;
}
