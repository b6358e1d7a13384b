/**
 * S3 Inventory manifests (S3InventoryReport_CSV_20161130) end to end on MinIO: the test writes a small inventory in
 * AWS's layout (manifest.json, gzipped CSV data files without header, every field quoted, keys URL-encoded, MD5 of
 * each data file), and a tagging job runs over exactly its rows, versions included. A data file whose MD5 does not
 * match, a Parquet inventory and a manifest.json ETag mismatch fail the job in Preparing with their reasons.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetObjectTaggingCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, manifestKey, putText, readReport, startEngine, uniqueBucket, type Engine } from '../helpers/engine';

let engine: Engine;
const data = uniqueBucket('inv-data');
const inventory = uniqueBucket('inv-dest');
const reports = uniqueBucket('inv-reports');
const TIMEOUT = 120_000;
const keys = ['a/one.txt', 'a/two words.txt', 'b/plus+sign.txt', 'b/caf\u00e9.txt', 'c/last.txt'];
const versions: Record<string, string> = {};

const quoted = (fields: string[]) => fields.map((f) => `"${f.replace(/"/g, '""')}"`).join(',');
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

/** Writes an inventory of `rows` (split over two data files) and returns its manifest.json's location and ETag. */
async function writeInventory(name: string, rows: string[][], options: { fileFormat?: string; corruptMd5?: boolean } = {}) {
  const folder = `${data}/config-1/${name}`;
  const files = [rows.slice(0, 2), rows.slice(2)].map((part, i) => ({ key: `${folder}/data/file-${i}.csv.gz`, body: gzipSync(part.map((r) => `${quoted(r)}\n`).join('')) }));
  for (const file of files) await engine.s3.send(new PutObjectCommand({ Bucket: inventory, Key: file.key, Body: file.body }));
  const manifest = {
    sourceBucket: data,
    destinationBucket: `arn:aws:s3:::${inventory}`,
    version: '2016-11-30',
    creationTimestamp: String(Date.now()),
    fileFormat: options.fileFormat ?? 'CSV',
    fileSchema: 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size',
    files: files.map((f, i) => ({ key: f.key, size: f.body.length, MD5checksum: options.corruptMd5 && i === 1 ? md5(Buffer.from('other')) : md5(f.body) })),
  };
  const key = `${folder}/manifest.json`;
  const etag = await putText(engine.s3, inventory, key, JSON.stringify(manifest));
  return { key, etag };
}

function inventoryJob(location: { key: string; etag: string }, tag: string): CreateJobInput {
  return {
    ...csvJob({ bucket: inventory, key: location.key }, { S3PutObjectTagging: { TagSet: [{ Key: 'inv', Value: tag }] } }, reports),
    Manifest: { Spec: { Format: 'S3InventoryReport_CSV_20161130' }, Location: { ObjectArn: `arn:aws:s3:::${inventory}/${location.key}`, ETag: location.etag } },
    Extensions: { PageSize: 2 },
  };
}

async function runJob(request: CreateJobInput) {
  const { jobId } = await engine.jobs.createJob(request);
  return engine.jobs.waitForCompletion(jobId, { timeoutMs: TIMEOUT });
}

const rowsFor = (withVersions: boolean) =>
  keys.map((key) => [data, manifestKey(key), withVersions ? versions[key]! : '', 'true', 'false', '8']);

beforeAll(async () => {
  engine = await startEngine();
  for (const bucket of [data, inventory, reports]) await createBucket(engine.s3, bucket);
  await engine.s3.send(new PutBucketVersioningCommand({ Bucket: data, VersioningConfiguration: { Status: 'Enabled' } }));
  for (const key of keys) {
    const first = await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: key, Body: 'version 1' }));
    versions[key] = first.VersionId!;
    // A later version: a job over the inventory's version ids must tag the first one, not the latest.
    await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: key, Body: 'version 2' }));
  }
}, 60_000);
afterAll(() => engine?.close());

test(
  'a job over an inventory with version ids tags exactly those versions, each reported once',
  async () => {
    const location = await writeInventory('versions', rowsFor(true));
    const job = await runJob(inventoryJob(location, 'versioned'));
    expect(job.Status).toBe('Complete');
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 });
    const { rows } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
    expect(rows.map((r) => `${r.key}@${r.versionId}`).sort()).toEqual(keys.map((k) => `${manifestKey(k)}@${versions[k]}`).sort());
    for (const key of keys) {
      const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key, VersionId: versions[key] }));
      expect(tags.TagSet).toEqual([{ Key: 'inv', Value: 'versioned' }]);
      const latest = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
      expect(latest.TagSet).toEqual([]);
    }
  },
  TIMEOUT
);

test(
  'without version ids the latest versions are tagged; a malformed row fails its task with a reason',
  async () => {
    const rows = rowsFor(false);
    // A row with too few columns: reported as a failed task, not dropped and not fatal.
    rows.push([data]);
    const job = await runJob(inventoryJob(await writeInventory('latest', rows), 'latest'));
    expect(job.Status).toBe('Complete');
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: keys.length + 1, NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 1 });
    const report = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
    const failed = report.rows.filter((r) => r.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).not.toBe('');
    for (const key of keys) {
      const latest = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
      expect(latest.TagSet).toEqual([{ Key: 'inv', Value: 'latest' }]);
    }
  },
  TIMEOUT
);

test(
  'a data file whose MD5 does not match, a Parquet inventory and a changed manifest.json fail in Preparing',
  async () => {
    const corrupt = await runJob(inventoryJob(await writeInventory('corrupt', rowsFor(false), { corruptMd5: true }), 'corrupt'));
    expect(corrupt.Status).toBe('Failed');
    expect(corrupt.FailureReasons[0]).toMatchObject({ FailureCode: 'InventoryChecksumMismatch', FailureReason: expect.stringMatching(/file-1\.csv\.gz/) });
    expect(corrupt.ProgressSummary.NumberOfTasksSucceeded).toBe(0);

    const parquet = await runJob(inventoryJob(await writeInventory('parquet', rowsFor(false), { fileFormat: 'Parquet' }), 'parquet'));
    expect(parquet.Status).toBe('Failed');
    expect(parquet.FailureReasons[0]).toMatchObject({ FailureCode: 'InventoryUnsupportedFormat', FailureReason: expect.stringMatching(/CSV/) });

    const location = await writeInventory('changed', rowsFor(false));
    const changed = await runJob(inventoryJob({ ...location, etag: md5(Buffer.from('not it')) }, 'changed'));
    expect(changed.Status).toBe('Failed');
    expect(changed.FailureReasons[0]).toMatchObject({ FailureCode: 'ManifestETagMismatch' });
  },
  TIMEOUT * 2
);
