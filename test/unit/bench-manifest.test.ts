/** The manifest memory bench's own logic: flags, the generated manifest, the page coverage check and the ratio. */
import { Readable } from 'node:stream';
import { MANIFEST_USAGE, parseManifestBenchArgs } from '../../bench/manifest-options';
import {
  formatManifestTable,
  formatRatio,
  MANIFEST_BUCKET,
  ManifestCoverage,
  manifestBytes,
  manifestChunks,
  type ManifestRunResult,
  ratioCheck,
  type ReadRow,
  ROW_BYTES,
  rowIndexOf,
  rowKey,
} from '../../bench/manifest-rows';
import { BenchUsageError } from '../../bench/options';
import { parseManifestLine } from '../../src/activities/manifest/csv-row';
import { readLines } from '../../src/activities/manifest/line-reader';
import { JobExtensions } from '../../src/schemas/job-spec';

describe('bench:manifest flags', () => {
  test("defaults: 100,000 and 1,000,000 rows, the job's PageSize and MaxConcurrentPages, a 1.5x limit", () => {
    const defaults = JobExtensions.parse({});
    expect(parseManifestBenchArgs([])).toEqual({
      rows: [100_000, 1_000_000],
      pageSize: defaults.PageSize,
      pages: defaults.MaxConcurrentPages,
      maxRatio: 1.5,
      out: 'bench/results-manifest',
    });
  });

  test('rows are parsed, deduplicated and sorted; other flags are read', () => {
    expect(parseManifestBenchArgs(['--rows', '1000000, 1000,1000', '--page-size', '1000', '--pages', '8', '--max-ratio', '1.2', '--out', '/tmp/x'])).toEqual({
      rows: [1000, 1_000_000],
      pageSize: 1000,
      pages: 8,
      maxRatio: 1.2,
      out: '/tmp/x',
    });
  });

  test.each([
    [['--rows', '10,ten'], /--rows item 2: /],
    [['--rows', '20000000'], /--rows item 1: /],
    [['--page-size', '1001'], /--page-size: /],
    [['--pages', '0'], /--pages: /],
    [['--max-ratio', '0.5'], /--max-ratio: /],
    [['--size', '1'], /Unknown option '--size'/],
  ])('%j is refused, naming the flag', (argv, message) => {
    expect(() => parseManifestBenchArgs(argv)).toThrow(BenchUsageError);
    expect(() => parseManifestBenchArgs(argv)).toThrow(message);
  });

  test('--help', () => {
    expect(parseManifestBenchArgs(['-h'])).toBe('help');
    expect(MANIFEST_USAGE).toMatch(/--rows/);
  });
});

describe('the generated manifest', () => {
  test('rows are one length, keys encode their index', () => {
    expect(rowKey(42)).toBe('bench/2026/11/part-0000042.json');
    expect(rowIndexOf(rowKey(9_999_999))).toBe(9_999_999);
    expect(rowIndexOf('bench/2026/11/part-12.json')).toBeUndefined();
    expect(() => rowKey(10_000_000)).toThrow(RangeError);
    expect(ROW_BYTES).toBe(`${MANIFEST_BUCKET},${rowKey(0)}\n`.length);
  });

  test.each([1, 9, 10, 9_699, 25_001])('%i rows: exact row count and byte size, read back by the worker\'s reader', async (rows) => {
    const chunks = [...manifestChunks(rows, 1000)];
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(1000);
    expect(chunks.reduce((sum, c) => sum + c.length, 0)).toBe(manifestBytes(rows));
    const coverage = new ManifestCoverage(rows);
    const read: ReadRow[] = [];
    for await (const line of readLines(Readable.from(chunks), 0)) read.push(parseManifestLine(line.text!, line.offset, { bucket: 0, key: 1, versionId: 2, count: -1 }));
    coverage.addPage(0, read);
    expect(coverage.finish(1)).toEqual([]);
    expect(read[rows - 1]).toMatchObject({ bucket: MANIFEST_BUCKET, key: rowKey(rows - 1), offset: (rows - 1) * ROW_BYTES });
  });

  test('a chunk smaller than a row still holds one row', () => {
    expect([...manifestChunks(3, 1)].map((c) => c.length)).toEqual([ROW_BYTES, ROW_BYTES, ROW_BYTES]);
  });
});

/** The rows readPage would return for rows [first, last). */
function pageRows(first: number, last: number): ReadRow[] {
  return Array.from({ length: last - first }, (_, k) => ({ offset: (first + k) * ROW_BYTES, bucket: MANIFEST_BUCKET, key: rowKey(first + k) }));
}

describe('ManifestCoverage', () => {
  test('pages finishing in any order, covering every row once: no problems', () => {
    const c = new ManifestCoverage(10);
    c.addPage(2, pageRows(8, 10));
    c.addPage(0, pageRows(0, 4));
    c.addPage(1, pageRows(4, 8));
    expect(c.finish(3)).toEqual([]);
    expect(c.rowsRead).toBe(10);
  });

  test('a missing row, a row read twice, a wrong offset, a bad row and a short count are all reported', () => {
    const missing = new ManifestCoverage(10);
    missing.addPage(0, pageRows(0, 4));
    missing.addPage(1, [...pageRows(4, 6), ...pageRows(7, 10)]);
    expect(missing.finish(2)).toEqual(['page 1: row 7 follows row 5', '9 rows read, the manifest has 10']);

    const twice = new ManifestCoverage(10);
    twice.addPage(0, pageRows(0, 5));
    twice.addPage(1, pageRows(4, 10));
    expect(twice.finish(2)).toEqual(['page 1 starts at row 4, expected 5', '11 rows read, the manifest has 10']);

    const shifted = new ManifestCoverage(2);
    shifted.addPage(0, [{ offset: 0, bucket: MANIFEST_BUCKET, key: rowKey(0) }, { offset: 5, bucket: MANIFEST_BUCKET, key: rowKey(1) }]);
    expect(shifted.finish(1)).toEqual([`page 0: row 1 at byte 5, expected ${ROW_BYTES}`]);

    const bad = new ManifestCoverage(1);
    bad.addPage(0, [{ offset: 0, bucket: '', error: 'Manifest row at byte 0: blank line' }]);
    expect(bad.finish(1)).toEqual(['page 0: Manifest row at byte 0: blank line']);

    const unfinished = new ManifestCoverage(10);
    unfinished.addPage(1, pageRows(5, 10));
    expect(unfinished.finish(2)).toEqual(['1 pages read, expected 2', 'pages never merged in order: 1', '5 rows read, the manifest has 10']);
  });

  test('an empty page between two others is allowed', () => {
    const c = new ManifestCoverage(4);
    c.addPage(0, pageRows(0, 2));
    c.addPage(1, []);
    c.addPage(2, pageRows(2, 4));
    expect(c.finish(3)).toEqual([]);
  });
});

function run(rows: number, peakMiB: number): ManifestRunResult {
  return {
    rows,
    manifestBytes: manifestBytes(rows),
    pageSize: 250,
    concurrentPages: 4,
    pages: rows / 250,
    pageBytes: 250 * ROW_BYTES,
    rowsRead: rows,
    prepareSeconds: 1.25,
    pagingSeconds: 20,
    startRssBytes: 90 * 2 ** 20,
    preparedRssBytes: 95 * 2 ** 20,
    peakRssBytes: peakMiB * 2 ** 20,
    preparedJsonBytes: 90,
    largestPageJsonBytes: 20_000,
    problems: [],
  };
}

describe('the ratio check and the table', () => {
  test('largest over smallest, whatever the order, against the limit', () => {
    expect(ratioCheck([run(1_000_000, 150), run(100_000, 100)], 1.5)).toEqual({ smallRows: 100_000, largeRows: 1_000_000, ratio: 1.5, maxRatio: 1.5, pass: true });
    expect(ratioCheck([run(100_000, 100), run(500_000, 300), run(1_000_000, 151)], 1.5)?.pass).toBe(false);
    expect(ratioCheck([run(100_000, 100)], 1.5)).toBeUndefined();
    expect(ratioCheck([run(100_000, 0), run(1_000_000, 100)], 1.5)?.pass).toBe(false);
  });

  test('the verdict line and the table', () => {
    expect(formatRatio(ratioCheck([run(100_000, 100), run(1_000_000, 110)], 1.5))).toBe('peak RSS 1,000,000 rows / 100,000 rows: 1.10x (limit 1.5x): PASS');
    expect(formatRatio(ratioCheck([run(100_000, 100), run(1_000_000, 160)], 1.5))).toMatch(/1\.60x .*FAIL$/);
    expect(formatRatio(undefined)).toMatch(/not checked/);
    const lines = formatManifestTable([run(100_000, 100), { ...run(1_000_000, 110), rowsRead: 999_999, problems: ['x'] }]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/\| +100,000 \| +\d+ MiB \| +400 \| +1\.3 \| +20\.0 \| +90 MiB \| +95 MiB \| +100 MiB \| +90 B \| +20,000 B \| +100,000 \|/);
    expect(lines[3]).toMatch(/999,999 \(WRONG\) \|$/);
  });
});
