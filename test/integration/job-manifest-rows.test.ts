/**
 * Awkward manifests give per-row results, never a crashed or shorter job: keys with spaces, commas, quotes, %,
 * unicode and +; versioned rows; missing objects; a bucket that does not exist; malformed rows (each naming its line);
 * header rows, skipped with Extensions.ManifestHeaderRow or failed with a hint without it.
 */
import { GetObjectTaggingCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, csvJob, manifestKey, putText, readReport, startEngine, uniqueBucket, type Engine } from '../helpers/engine';

let engine: Engine;
const data = uniqueBucket('rows-data');
const reports = uniqueBucket('rows-reports');
const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'ok', Value: '1' }] } };

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
  await engine.s3.send(new PutBucketVersioningCommand({ Bucket: data, VersioningConfiguration: { Status: 'Enabled' } }));
});
afterAll(() => engine?.close());

const awkwardKeys = ['with space.txt', 'comma,in,key.csv', 'quote"d\'.txt', '100%.txt', 'ünïcödé/日本語.txt', 'plus+sign.txt', 'dir/sub dir/x'];

test('awkward keys, versions, missing objects and bad rows: one report row per manifest row', async () => {
  for (const key of awkwardKeys) await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: key, Body: key }));
  const v1 = await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: 'versioned.txt', Body: 'one' }));
  await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: 'versioned.txt', Body: 'two' }));

  const good = awkwardKeys.map((k) => `${data},${encodeURIComponent(k).replace(/%2F/g, '/')},`);
  const rows = [
    ...good,
    `${data},versioned.txt,${v1.VersionId}`, // tags the old version only
    `${data},versioned.txt,not-a-real-version`,
    `${data},missing-object.txt,`,
    `no-such-bucket-${Date.now()},k,`,
    '', // blank line
    `${data}`, // too few fields
    `${data},a,b,c`, // too many fields
    `${data},bad%zzencoding,`,
    `"${data}","quoted%20field.txt",`, // quoted fields are fine (object missing)
    `${data},"unterminated.txt,`, // unbalanced quote
    `${data},quote"inside.txt,`, // a quote in an unquoted field
  ];
  // Every bad row names its line in the file (the BOM is part of line 1) and its byte offset, across pages.
  const offsetOf = (index: number) => (index === 0 ? 0 : 3 + rows.slice(0, index).reduce((n, r) => n + Buffer.byteLength(r) + 2, 0));
  const badReasons: [string, string][] = [
    ['', 'blank line'],
    [`${data}`, 'expected 2 or 3 fields, got 1'],
    [`${data},a,b,c`, 'expected 2 or 3 fields, got 4'],
    [`${data},bad%zzencoding,`, 'key is not valid URL-encoding'],
    [`${data},"unterminated.txt,`, 'unterminated quoted field'],
    [`${data},quote"inside.txt,`, 'quote inside an unquoted field'],
  ];
  const expectedRowErrors = badReasons.map(([row, reason]) => {
    const index = rows.indexOf(row);
    return `Manifest line ${index + 1} (byte ${offsetOf(index)}): ${reason}`;
  });
  const manifestBody = `\uFEFF${rows.join('\r\n')}\r\n`;
  const etag = await putText(engine.s3, data, 'manifests/awkward.csv', manifestBody);
  const request = csvJob({ bucket: data, key: 'manifests/awkward.csv', etag }, tagging, reports, {
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820' },
      Location: { ObjectArn: `arn:aws:s3:::${data}/manifests/awkward.csv`, ETag: etag },
    },
    Extensions: { PageSize: 3 },
  });
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary.TotalNumberOfTasks).toBe(rows.length);
  expect(job.ProgressSummary.NumberOfTasksSucceeded).toBe(awkwardKeys.length + 1);
  expect(job.ProgressSummary.NumberOfTasksFailed).toBe(rows.length - awkwardKeys.length - 1);

  const { rows: report } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(report).toHaveLength(rows.length);
  for (const key of awkwardKeys) {
    const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
    expect(tags.TagSet).toEqual([{ Key: 'ok', Value: '1' }]);
    expect(report).toContainEqual(expect.objectContaining({ key: manifestKey(key), status: 'succeeded' }));
  }
  // Only the named version got tagged.
  const oldTags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: 'versioned.txt', VersionId: v1.VersionId }));
  expect(oldTags.TagSet).toEqual([{ Key: 'ok', Value: '1' }]);
  const newTags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: 'versioned.txt' }));
  expect(newTags.TagSet).toEqual([]);

  const failed = report.filter((r) => r.status === 'failed');
  const byKey = (k: string) => failed.find((r) => r.key === k);
  expect(byKey('missing-object.txt')).toMatchObject({ errorCode: 'NoSuchKey', httpStatus: '404' });
  expect(failed.find((r) => r.bucket.startsWith('no-such-bucket'))).toMatchObject({ errorCode: 'NoSuchBucket', httpStatus: '404' });
  expect(failed.find((r) => r.versionId === 'not-a-real-version')).toMatchObject({ status: 'failed' });
  const rowErrors = failed.filter((r) => r.errorCode === 'InvalidManifestRow').map((r) => r.message);
  expect(rowErrors).toHaveLength(badReasons.length);
  for (const expected of expectedRowErrors) expect(rowErrors.filter((m) => m.startsWith(expected))).toHaveLength(1);
  expect(rowErrors).toContain(expectedRowErrors[0]); // the blank line's message is exactly that
  expect(byKey('quoted%20field.txt')).toMatchObject({ errorCode: 'NoSuchKey' });
});

const headerRows = (prefix: string) => [
  '"bucket","key"', // Athena writes its header like this: a valid bucket and key, so it must not run as a task
  `${data},${prefix}-1.txt`,
  `${data},${prefix}-2.txt`,
  '', // blank line 4
  `${data},${prefix}-3.txt`,
  `${data}`, // too few fields, line 6
];

test('Extensions.ManifestHeaderRow skips the header: not a task, not counted; line numbers still count it', async () => {
  for (const n of [1, 2, 3]) await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: `hdr-${n}.txt`, Body: 'x' }));
  const lines = headerRows('hdr');
  const etag = await putText(engine.s3, data, 'manifests/header.csv', `${lines.join('\n')}\n`);
  const { jobId } = await engine.jobs.createJob(
    csvJob({ bucket: data, key: 'manifests/header.csv', etag }, tagging, reports, { Extensions: { PageSize: 2, ManifestHeaderRow: true } })
  );
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  expect(job.S3Batch.PagesTotal).toBeGreaterThan(1);
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 5, NumberOfTasksSucceeded: 3, NumberOfTasksFailed: 2 });
  const { rows: report } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(report).toHaveLength(5);
  expect(report.filter((r) => r.bucket === 'bucket')).toEqual([]);
  const offset = (line: number) => lines.slice(0, line - 1).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  expect(report.filter((r) => r.errorCode === 'InvalidManifestRow').map((r) => r.message).sort()).toEqual([
    `Manifest line 4 (byte ${offset(4)}): blank line`,
    `Manifest line 6 (byte ${offset(6)}): expected 2 fields, got 1: ${JSON.stringify(data)}`,
  ]);
});

test('without ManifestHeaderRow, a header line fails its task with a message naming the option', async () => {
  for (const n of [1, 2, 3]) await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: `nohdr-${n}.txt`, Body: 'x' }));
  const etag = await putText(engine.s3, data, 'manifests/no-header-option.csv', `${headerRows('nohdr').join('\n')}\n`);
  const { jobId } = await engine.jobs.createJob(
    csvJob({ bucket: data, key: 'manifests/no-header-option.csv', etag }, tagging, reports, { Extensions: { PageSize: 2 } })
  );
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 6, NumberOfTasksSucceeded: 3, NumberOfTasksFailed: 3 });
  const { rows: report } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(report).toHaveLength(6);
  expect(report.find((r) => r.bucket === 'bucket')).toMatchObject({
    key: 'key',
    status: 'failed',
    errorCode: 'InvalidManifestRow',
    message: expect.stringMatching(/^Manifest line 1 \(byte 0\): .*set Extensions\.ManifestHeaderRow to skip it/),
  });
});

test('a manifest whose ETag does not match fails the job in Preparing with the reason', async () => {
  await putText(engine.s3, data, 'manifests/etag.csv', `${data},x\n`);
  const { jobId } = await engine.jobs.createJob(
    csvJob({ bucket: data, key: 'manifests/etag.csv', etag: '00000000000000000000000000000000' }, tagging, reports)
  );
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 30_000 });
  expect(job.Status).toBe('Failed');
  expect(job.FailureReasons).toEqual([
    { FailureCode: 'ManifestETagMismatch', FailureReason: expect.stringMatching(/^Etag mismatch reading manifest/) },
  ]);
  expect(job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed).toBe(0);
});

test('a missing manifest fails the job with ManifestNotFound', async () => {
  const { jobId } = await engine.jobs.createJob(csvJob({ bucket: data, key: 'manifests/nope.csv' }, tagging, reports));
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 30_000 });
  expect(job.Status).toBe('Failed');
  expect(job.FailureReasons[0]).toMatchObject({ FailureCode: 'ManifestNotFound' });
});

test('an invalid request started around our client fails fast, listing its problems', async () => {
  const handle = await engine.client.workflow.start('batchJobWorkflow', {
    taskQueue: engine.taskQueue,
    workflowId: `invalid-${Date.now()}`,
    args: [{ Operation: { S3PutObjectCopy: { TargetResource: 'nope' } }, Report: { Enabled: true } }],
  });
  await expect(handle.result()).rejects.toMatchObject({
    cause: expect.objectContaining({
      type: 'InvalidJobSpec',
      message: expect.stringMatching(/Operation.S3PutObjectCopy.TargetResource: expected an S3 bucket ARN.*Report.Bucket: required/),
    }),
  });
});

test('a job naming a connection the worker does not define is rejected', async () => {
  const handle = await engine.client.workflow.start('batchJobWorkflow', {
    taskQueue: engine.taskQueue,
    workflowId: `badconn-${Date.now()}`,
    args: [csvJob({ bucket: data, key: 'manifests/etag.csv' }, tagging, reports, { Extensions: { Connection: 'elsewhere' } })],
  });
  await expect(handle.result()).rejects.toMatchObject({
    cause: expect.objectContaining({ message: expect.stringMatching(/Extensions.Connection: unknown S3 connection "elsewhere"/) }),
  });
});
