import { ApplicationFailure } from '@temporalio/activity';
import { inventoryColumns, inventoryRow, parseInventoryManifest } from '../../src/activities/manifest/inventory';
import { parseManifestLine } from '../../src/activities/manifest/csv-row';

const manifest = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    sourceBucket: 'src',
    destinationBucket: 'arn:aws:s3:::inv',
    version: '2016-11-30',
    creationTimestamp: '1514944800000',
    fileFormat: 'CSV',
    fileSchema: 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size',
    files: [{ key: 'p/data/1.csv.gz', size: 10, MD5checksum: 'f'.repeat(32) }],
    ...over,
  });

function failure(fn: () => unknown): ApplicationFailure {
  try {
    fn();
  } catch (err) {
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

describe('S3 Inventory manifest.json', () => {
  test('columns are found by name in fileSchema', () => {
    expect(parseInventoryManifest(manifest(), 'm').columns).toEqual({ bucket: 0, key: 1, versionId: 2, count: 6 });
    expect(inventoryColumns('Key, Size, Bucket')).toEqual({ bucket: 2, key: 0, versionId: -1, count: 3 });
    expect(inventoryColumns('Bucket, Size')).toEqual({ error: expect.stringMatching(/must name the Bucket and Key columns/) });
  });

  test('refusals say what is wrong and where, and are not retried', () => {
    const notJson = failure(() => parseInventoryManifest('{', 'the inventory manifest s3://inv/m.json'));
    expect(notJson).toMatchObject({ type: 'InventoryManifestInvalid', nonRetryable: true, message: expect.stringMatching(/^the inventory manifest s3:\/\/inv\/m.json is not JSON/) });
    const badSum = failure(() => parseInventoryManifest(manifest({ files: [{ key: 'k', MD5checksum: 'nope' }] }), 'm'));
    expect(badSum.message).toMatch(/files\[0\]\.MD5checksum: expected 32 hex digits/);
    const parquet = failure(() => parseInventoryManifest(manifest({ fileFormat: 'Parquet' }), 'm'));
    expect(parquet).toMatchObject({ type: 'InventoryUnsupportedFormat', message: expect.stringMatching(/accepts only CSV inventories/) });
    expect(failure(() => parseInventoryManifest(manifest({ fileSchema: 'Size' }), 'm'))).toMatchObject({ type: 'InventoryManifestInvalid' });
  });
});

describe('inventory rows', () => {
  const columns = { bucket: 0, key: 1, versionId: 2, count: 6 };
  const csvColumns = { bucket: 0, key: 1, versionId: 2, count: 3 };

  test('become Bucket,Key,VersionId rows with the key still URL-encoded, which the CSV parser reads back', () => {
    const row = inventoryRow('"src","a/two%20words%2Bplus.txt","v1","true","false","8"', columns);
    expect(row).toBe('src,a/two%20words%2Bplus.txt,v1\n');
    expect(parseManifestLine(row.trimEnd(), 0, csvColumns)).toMatchObject({ bucket: 'src', key: 'a/two words+plus.txt', versionId: 'v1' });
    expect(inventoryRow('"src","k","","true","false","8"', columns)).toBe('src,k,\n');
    expect(inventoryRow('"src","k"', { bucket: 0, key: 1, versionId: -1, count: 2 })).toBe('src,k,\n');
  });

  test('a row that cannot be read is kept as a row whose task fails with what the inventory held', () => {
    const cases: [string, string][] = [
      ['"src"', '1 fields, the fileSchema has 6'],
      ['"src","unterminated', 'unterminated quoted field'],
    ];
    for (const [text, reason] of cases) {
      const parsed = parseManifestLine(inventoryRow(text, columns).trimEnd(), 10, csvColumns, 3);
      expect(parsed.error).toBe(`Manifest line 3 (byte 10): "Unreadable S3 Inventory row: ${reason}" is not a valid bucket name`);
      expect(parsed.rawKey).toBe(text);
    }
  });
});
