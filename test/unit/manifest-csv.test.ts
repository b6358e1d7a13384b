import { Readable } from 'node:stream';
import { decodeManifestKey, parseManifestLine, splitCsvLine } from '../../src/activities/manifest/csv-row';
import { readLines } from '../../src/activities/manifest/line-reader';
import { pagesFor } from '../../src/activities/manifest/prepare';

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
    expect(parseManifestLine('Bucket,Key', 0, threeCols).error).toMatch(/looks like a header row/);
    expect(parseManifestLine('my-bucket,', 0, threeCols).error).toMatch(/empty key/);
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
