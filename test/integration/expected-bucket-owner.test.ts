/**
 * ExpectedBucketOwner (Report, ManifestGenerator, ManifestOutputLocation) on the real stack. MinIO and moto accept
 * and ignore the x-amz-expected-bucket-owner header (docs/manifests.md), so the worker reaches MinIO through the
 * project's S3 fault proxy, which answers as AWS does: 403 AccessDenied to a request whose expected owner is not
 * the bucket's (here every bucket belongs to OWNER). The proxy also records which requests carried the header.
 */
import type { IncomingMessage } from 'node:http';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putManifest, readReport, seedObjects, stackConnectionsVia, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { getStack } from '../helpers/stack';
import { requestSignature, startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy';

const OWNER = '111122223333';
const STRANGER = '444455556666';
const TIMEOUT = 120_000;

let engine: Engine;
let proxy: FaultProxy;
const source = uniqueBucket('owner-source');
const output = uniqueBucket('owner-output');
const reports = uniqueBucket('owner-reports');
const keys = Array.from({ length: 6 }, (_, i) => `o/${i}.txt`);
/** Every request the worker sent through the proxy: its signature and its expected-owner header. */
const seen: { bucket: string; signature: string; owner?: string }[] = [];

function bucketOf(req: IncomingMessage): string {
  return decodeURIComponent(new URL(req.url ?? '/', 'http://proxy').pathname.split('/')[1] ?? '');
}

beforeAll(async () => {
  proxy = await startFaultProxy({
    target: getStack().s3.endpoint,
    rates: {},
    seed: 19,
    answer: (req) => {
      const owner = req.headers['x-amz-expected-bucket-owner'] as string | undefined;
      seen.push({ bucket: bucketOf(req), signature: requestSignature(req), owner });
      return owner !== undefined && owner !== OWNER ? { status: 403, code: 'AccessDenied', message: 'Access Denied' } : undefined;
    },
  });
  engine = await startEngine({ workerConfig: { s3: stackConnectionsVia(proxy.endpoint) } });
  for (const bucket of [source, output, reports]) await createBucket(engine.s3, bucket);
  await seedObjects(engine.s3, source, keys);
});

afterAll(async () => {
  await engine?.close();
  await proxy?.close();
});

/** A generated-manifest job over `source` that tags each object, its listing kept in `output`. */
function generatedJob(owners: { source?: string; output?: string; report?: string }): CreateJobInput {
  const { Manifest: _manifest, ...request } = csvJob({ bucket: source, key: 'unused' }, { S3PutObjectTagging: { TagSet: [{ Key: 'owner', Value: 'checked' }] } }, reports);
  return {
    ...request,
    Report: { ...request.Report, ...(owners.report ? { ExpectedBucketOwner: owners.report } : {}) },
    ManifestGenerator: {
      S3JobManifestGenerator: {
        SourceBucket: `arn:aws:s3:::${source}`,
        ...(owners.source ? { ExpectedBucketOwner: owners.source } : {}),
        EnableManifestOutput: true,
        ManifestOutputLocation: {
          Bucket: `arn:aws:s3:::${output}`,
          ManifestFormat: 'S3InventoryReport_CSV_20211130',
          ...(owners.output ? { ExpectedManifestBucketOwner: owners.output } : {}),
        },
      },
    },
    Extensions: { PageSize: 2 },
  };
}

async function run(request: CreateJobInput) {
  const { jobId } = await engine.jobs.createJob(request);
  return engine.jobs.waitForCompletion(jobId, { timeoutMs: TIMEOUT });
}

const field = 'ManifestGenerator.S3JobManifestGenerator';
const mismatches: [string, { source?: string; output?: string; report?: string }, string, string][] = [
  ['Report.ExpectedBucketOwner', { report: STRANGER }, 'Report.ExpectedBucketOwner', reports],
  ['S3JobManifestGenerator.ExpectedBucketOwner (the source bucket)', { source: STRANGER }, `${field}.ExpectedBucketOwner`, source],
  [
    'ManifestOutputLocation.ExpectedManifestBucketOwner',
    { source: OWNER, output: STRANGER },
    `${field}.ManifestOutputLocation.ExpectedManifestBucketOwner`,
    output,
  ],
];

test.each(mismatches)('a wrong %s fails the job in Preparing, naming the bucket and the expected owner', async (_name, owners, path, bucket) => {
  const from = seen.length;
  const job = await run(generatedJob(owners));
  expect(job.Status).toBe('Failed');
  expect(job.FailureReasons).toEqual([
    {
      FailureCode: 'ExpectedBucketOwnerMismatch',
      FailureReason: `${path}: S3 refused bucket ${bucket} to expected owner ${STRANGER} (HTTP 403): another account owns it, or the connection "default" may not access it`,
    },
  ]);
  expect(job.StatusUpdateReason).toBe('A bucket did not match its expected owner, or could not be checked');
  // Failed before the listing: nothing listed, no task ran, no report.
  const calls = seen.slice(from);
  expect(calls.filter((r) => r.signature.includes('list-type') || r.signature.endsWith('?tagging'))).toEqual([]);
  expect(calls.filter((r) => r.owner === STRANGER).map((r) => r.signature)).toEqual([`HEAD /${bucket}/`]);
  expect(job.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 0, NumberOfTasksFailed: 0 });
  expect(job.ProgressSummary.TotalNumberOfTasks).toBeUndefined();
  expect(job.S3Batch.ReportManifestKey).toBeUndefined();
});

test('the right owners: the job completes, and every call to those buckets carried its expected owner', async () => {
  seen.length = 0;
  const job = await run(generatedJob({ source: OWNER, output: OWNER, report: OWNER }));
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length });
  const { rows } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(rows.map((r) => r.key).sort()).toEqual([...keys].sort());

  // Tasks act on objects, which AWS checks no owner for: their calls carry none. Every other call to the three
  // buckets carries the owner: the checks in Preparing, the listing, the data files written and read back by the
  // pages, manifest.json, the report's shards and manifest.
  const tasks = seen.filter((r) => r.signature.endsWith('?tagging'));
  expect(tasks).toHaveLength(keys.length);
  expect(tasks.every((r) => r.owner === undefined)).toBe(true);
  const owned = seen.filter((r) => !r.signature.endsWith('?tagging') && [source, output, reports].includes(r.bucket));
  expect(owned.filter((r) => r.owner !== OWNER)).toEqual([]);
  const signatures = new Set(owned.map((r) => `${r.signature.split(' ')[0]} ${r.bucket}`));
  for (const bucket of [source, output, reports]) expect(signatures).toContain(`HEAD ${bucket}`);
  expect(owned.some((r) => r.bucket === source && r.signature.includes('list-type'))).toBe(true);
  expect(owned.some((r) => r.bucket === output && r.signature.startsWith(`GET /${output}/job-`))).toBe(true);
  expect(owned.some((r) => r.bucket === output && r.signature.endsWith('/manifest.json'))).toBe(true);
  expect(owned.some((r) => r.bucket === reports && r.signature.startsWith(`PUT /${reports}/`) && r.signature.includes('/results/'))).toBe(true);
  expect(owned.some((r) => r.bucket === reports && r.signature.endsWith('/manifest.json'))).toBe(true);
});

test('a CSV job with Report.ExpectedBucketOwner: every call to the report bucket carries it, the manifest reads none', async () => {
  const manifest = await putManifest(engine.s3, source, 'owner-csv', keys.map((key) => `${source},${key}`));
  seen.length = 0;
  const request = csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'owner', Value: 'csv' }] } }, reports);
  const job = await run({ ...request, Report: { ...request.Report, ExpectedBucketOwner: OWNER } });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length });
  const toReports = seen.filter((r) => r.bucket === reports);
  expect(toReports.map((r) => r.signature)).toEqual(expect.arrayContaining([`HEAD /${reports}/`, `PUT /${reports}/${job.S3Batch.ReportManifestKey}`]));
  expect(toReports.filter((r) => r.owner !== OWNER)).toEqual([]);
  // AWS's manifest Location has no owner field: the CSV manifest is read without one.
  const manifestReads = seen.filter((r) => r.signature === `GET /${source}/${manifest.key}` || r.signature === `HEAD /${source}/${manifest.key}`);
  expect(manifestReads.length).toBeGreaterThan(0);
  expect(manifestReads.every((r) => r.owner === undefined)).toBe(true);
});
