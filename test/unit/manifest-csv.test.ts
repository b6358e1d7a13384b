import { Readable } from 'node:stream';
import { decodeManifestKey, HEADER_ROW_HINT, parseManifestLine, splitCsvLine } from '../../src/activities/manifest/csv-row';
import { readLines } from '../../src/activities/manifest/line-reader';
import { LineCounter, MAX_NUMBERED_PAGES, pagesFor, planPages } from '../../src/activities/manifest/prepare';

const threeCols = { bucket: 0, key: 1, versionId: 2, count: -1 };

async function lines(text: string | Buffer, chunk = 3, start = 0, skip = false) {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = start; i < buf.length; i += chunk) chunks.push(buf.subarray(i, Math.min(buf.length, i + chunk)));
  const out = [];
  for await (const line of readLines(Readable.from(chunks), start, skip)) out.push(line);
  return out;
}

describe('CSV manifest rows', () => {
  test('split handles quotes, escaped quotes and empty fields', () => {
    expect(splitCsvLine('b,k')).toEqual(['b', 'k']);
    expect(splitCsvLine('b,"k,1","v""x"')).toEqual(['b', 'k,1', 'v"x']);
    expect(splitCsvLine('b,k,')).toEqual(['b', 'k', '']);
    expect(splitCsvLine('b,"k')).toEqual({ error: 'unterminated quoted field' });
    expect(splitCsvLine('b,k"x')).toEqual({ error: 'quote inside an unquoted field' });
  });

  test('keys are URL-decoded, + is a space, bad encoding is a row error', () => {
    expect(decodeManifestKey('a%20b+c%2Bd%C3%A9')).toBe('a b c+dé');
    expect(decodeManifestKey('bad%zz')).toBeUndefined();
    const row = parseManifestLine('my-bucket,bad%E0%A4%A,', 7, threeCols);
    expect(row.error).toMatch(/^Manifest row at byte 7: key is not valid URL-encoding/);
  });

  test('a good row, with and without version', () => {
    expect(parseManifestLine('my-bucket,dir/a%2Cb.txt', 0, threeCols)).toEqual({
      offset: 0,
      bucket: 'my-bucket',
      rawKey: 'dir/a%2Cb.txt',
      key: 'dir/a,b.txt',
      versionId: undefined,
    });
    expect(parseManifestLine('my-bucket,k,v1', 5, threeCols).versionId).toBe('v1');
  });

  test('bad rows say what is wrong', () => {
    expect(parseManifestLine('', 0, threeCols).error).toMatch(/blank line/);
    expect(parseManifestLine('my-bucket', 0, threeCols).error).toMatch(/expected 2 or 3 fields, got 1/);
    expect(parseManifestLine('my-bucket,a,b,c', 0, threeCols).error).toMatch(/expected 2 or 3 fields, got 4/);
    expect(parseManifestLine('my-bucket,', 0, threeCols).error).toMatch(/empty key/);
  });

  test('a bad row names its line when it is known, else its byte offset', () => {
    expect(parseManifestLine('', 40, threeCols, 7).error).toBe('Manifest line 7 (byte 40): blank line');
    expect(parseManifestLine('', 40, threeCols).error).toBe('Manifest row at byte 40: blank line');
    expect(parseManifestLine('my-bucket,"k', 9, threeCols, 2).error).toMatch(/^Manifest line 2 \(byte 9\): unterminated quoted field/);
  });

  test('a first line that looks like a header fails with a hint naming Extensions.ManifestHeaderRow', () => {
    expect(HEADER_ROW_HINT).toMatch(/set Extensions.ManifestHeaderRow to skip it/);
    const hinted = ['Bucket,Key', '"bucket","key"', 'bucket,key,version_id', 'Bucket,Key,VersionId,IsLatest', 's3_bucket,object_key', 'BUCKET,Key'];
    for (const line of hinted) {
      const error = parseManifestLine(line, 0, threeCols, 1).error;
      expect(error).toMatch(/^Manifest line 1 \(byte 0\): /);
      expect(error?.endsWith(HEADER_ROW_HINT)).toBe(true);
    }
    // Only the first line: the same text further down is just a bad row.
    expect(parseManifestLine('Bucket,Key', 20, threeCols, 3).error).toBe('Manifest line 3 (byte 20): "Bucket" is not a valid bucket name');
    // A valid first row whose key is "key" (but whose bucket is not a column name) is an object like any other.
    expect(parseManifestLine('my-bucket,key', 0, threeCols, 1)).toMatchObject({ bucket: 'my-bucket', key: 'key' });
    // A bad first row that does not look like a header gets no hint.
    expect(parseManifestLine('my-bucket', 0, threeCols, 1).error).not.toMatch(/header/);
    // Fields order is followed.
    expect(parseManifestLine('x,Bucket,Key', 0, { bucket: 1, key: 2, versionId: -1, count: 3 }, 1).error).toMatch(/ManifestHeaderRow/);
  });

  test('Fields order is honoured', () => {
    const cols = { bucket: 1, key: 2, versionId: -1, count: 3 };
    expect(parseManifestLine('x,my-bucket,k', 0, cols)).toMatchObject({ bucket: 'my-bucket', key: 'k' });
    expect(parseManifestLine('my-bucket,k', 0, cols).error).toMatch(/expected 3 fields, got 2/);
  });
});

describe('line reader', () => {
  test('offsets, CRLF, BOM and a last line without a break', async () => {
    const got = await lines('\uFEFFb,k1\r\nb,k2\n\nb,k3');
    expect(got.map((l) => [l.offset, l.text])).toEqual([
      [0, 'b,k1'],
      [9, 'b,k2'],
      [14, ''],
      [15, 'b,k3'],
    ]);
  });

  test('starting mid-file skips the partial first line', async () => {
    const text = 'b,k1\nb,k2\nb,k3\n';
    // Stream from byte 4 (the "\n" before k2): the page starts at 5, a row start.
    expect((await lines(text, 2, 4, true)).map((l) => l.offset)).toEqual([5, 10]);
    // Stream from byte 6 (inside k2): the first row we own starts at 10.
    expect((await lines(text, 2, 6, true)).map((l) => l.offset)).toEqual([10]);
  });

  test('invalid UTF-8 and overlong rows are reported, not kept', async () => {
    const bad = Buffer.concat([Buffer.from('b,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n'), Buffer.from(`b,${'x'.repeat(9000)}\nb,ok\n`)]);
    const got = await lines(bad, 1000);
    expect(got.map((l) => [l.offset, l.problem ?? l.text])).toEqual([
      [0, 'row is not valid UTF-8'],
      [5, 'row is longer than 8192 bytes'],
      [9008, 'b,ok'],
    ]);
  });
});

describe('pages', () => {
  test('byte pages sized for about PageSize rows, covering the whole manifest', () => {
    expect(pagesFor(1000, 100, 10)).toEqual({ pageBytes: 100, pageCount: 10 });
    expect(pagesFor(1001, 100, 10)).toEqual({ pageBytes: 101, pageCount: 10 });
    expect(pagesFor(0, 0, 10)).toEqual({ pageBytes: 1, pageCount: 0 });
    const { pageBytes, pageCount } = pagesFor(12345, 77, 5);
    expect(pageBytes * pageCount).toBeGreaterThanOrEqual(12345);
    expect(pageBytes * (pageCount - 1)).toBeLessThan(12345);
  });
});

/** Line numbers the hard way: the line of the first line starting at or after each page's first byte. */
function expectedFirstRows(text: Buffer, pageBytes: number, pageCount: number): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === 0x0a && i + 1 < text.length) starts.push(i + 1);
  return Array.from({ length: pageCount }, (_, p) => {
    const index = starts.findIndex((s) => s >= p * pageBytes);
    return index === -1 ? starts.length + 1 : index + 1;
  });
}

function count(text: Buffer, chunk: number, expectedSize = text.length): LineCounter {
  const counter = new LineCounter(expectedSize);
  for (let i = 0; i < text.length; i += chunk) counter.add(text.subarray(i, Math.min(text.length, i + chunk)));
  return counter;
}

describe('page line numbers (Preparing)', () => {
  const manifest = Buffer.from(
    ['\uFEFFb,k1', 'b,k2', '', 'b,"quoted"', 'b', 'b,a,b,c', 'b,bad%zz', 'a-much-longer-bucket-name,with/a/long/key/name.txt', 'b,k9'].join('\r\n') + '\r\n'
  );

  test('each page gets the line number of its first row, whatever the chunking', () => {
    for (const chunk of [1, 2, 7, 64, 4096]) {
      for (const pageSize of [1, 2, 3, 5, 100]) {
        const plan = planPages(count(manifest, chunk), pageSize);
        expect(plan.rows).toBe(9);
        expect(plan.pageBytes * plan.pageCount).toBeGreaterThanOrEqual(manifest.length);
        expect(plan.pageFirstRows).toEqual(expectedFirstRows(manifest, plan.pageBytes, plan.pageCount));
      }
    }
  });

  test('small manifests are cut exactly as before; a header row is not counted but keeps its line number', () => {
    const plain = planPages(count(manifest, 5), 3);
    expect({ pageBytes: plain.pageBytes, pageCount: plain.pageCount }).toEqual(pagesFor(manifest.length, 9, 3));
    expect(plain.pageFirstRows![0]).toBe(1);
    const withHeader = planPages(count(manifest, 5), 3, true);
    expect(withHeader.rows).toBe(8);
    expect(withHeader.pageFirstRows).toEqual(expectedFirstRows(manifest, withHeader.pageBytes, withHeader.pageCount));
    expect(planPages(count(Buffer.from('Bucket,Key\n'), 4), 3, true)).toMatchObject({ rows: 0, pageCount: 0 });
    expect(planPages(count(Buffer.from('b,k'), 1), 3)).toMatchObject({ rows: 1, pageCount: 1, pageFirstRows: [1] });
  });

  test('large manifests: marks every block bytes, pages rounded up to whole blocks, numbers still exact', () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => `bucket-${i % 7},${'k'.repeat(i % 50)}/${i}`);
    const text = Buffer.from(rows.join('\n') + '\n');
    expect(text.length).toBeGreaterThan(1 << 20);
    const counter = count(text, 65_536);
    expect(counter.block).toBe(2);
    const plan = planPages(counter, 250);
    expect(plan.rows).toBe(40_000);
    expect(plan.pageBytes % counter.block).toBe(0);
    expect(plan.pageFirstRows).toEqual(expectedFirstRows(text, plan.pageBytes, plan.pageCount));
  });

  test('too many pages, or a stream of another size than announced: no numbers (byte offsets then)', () => {
    const many = Buffer.from('b,k\n'.repeat(MAX_NUMBERED_PAGES + 1));
    const plan = planPages(count(many, 4096), 1);
    expect(plan.pageCount).toBe(MAX_NUMBERED_PAGES + 1);
    expect(plan.pageFirstRows).toBeUndefined();
    expect(planPages(count(manifest, 8, manifest.length + 1), 3).pageFirstRows).toBeUndefined();
  });
});
