/**
 * LambdaInvoke jobs end to end on the local stack, against test/fixtures/lambda/functions/batch-task.mjs, whose
 * answer depends on the key's first segment (ok/, temp-2/, perm/, throw/, malformed/ …): the report must show each
 * row's TaskStatus, ErrorCode, HTTP status and ResultMessage as AWS would, with TemporaryFailure retried.
 */
import {
  createBucket,
  csvJob,
  manifestKey,
  putManifest,
  readReport,
  seedObjects,
  startEngine,
  uniqueBucket,
  type Engine,
  type ParsedReportRow,
  withVersionIds,
} from '../helpers/engine';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { pageWorkflowId } from '../../src/shared/constants';

let engine: Engine;
const data = uniqueBucket('lambda-data');
const reports = uniqueBucket('lambda-reports');

const SPACED = 'ok/spaced name+plus ü.txt';
const NEVER_CREATED = 'ok/never-created.txt';
const VERSIONED = 'ok/versioned.txt';
const BAD_VERSION = 'not-a-real-version';
/** Rows of the manifest (bucket, key, version id); every key but NEVER_CREATED exists. */
const rows: { key: string; versionId?: string }[] = [
  { key: 'ok/plain.txt' },
  { key: SPACED },
  { key: NEVER_CREATED },
  { key: VERSIONED, versionId: BAD_VERSION },
  { key: 'temp-2/a.txt' },
  { key: 'temp-always/a.txt' },
  { key: 'perm/a.txt' },
  { key: 'throw/a.txt' },
  { key: 'malformed/a.txt' },
  { key: 'text/a.txt' },
  { key: 'missing/a.txt' },
  { key: 'missing-ok/a.txt' },
  { key: 'other-task/a.txt' },
];
/** Small, so that temp-always gives up quickly: attempts at 0 s, +1 s, +2 s (backoff 1 s, doubling). */
const MAX_ATTEMPTS = 3;

beforeAll(async () => {
  engine = await startEngine();
  for (const b of [data, reports]) await createBucket(engine.s3, b);
  await seedObjects(
    engine.s3,
    data,
    rows.map((r) => r.key).filter((k) => k !== NEVER_CREATED)
  );
});

afterAll(() => engine?.close());

async function runJob(name: string, operation: CreateJobInput['Operation'], extensions: CreateJobInput['Extensions'] = {}) {
  const manifest = await putManifest(
    engine.s3,
    data,
    name,
    rows.map((r) => `${data},${manifestKey(r.key)},${r.versionId ?? ''}`)
  );
  const request = withVersionIds(
    csvJob(manifest, operation, reports, { Extensions: { MaxAttemptsPerTask: MAX_ATTEMPTS, ...extensions } })
  );
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 90_000 });
  const report = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  const byKey = new Map<string, ParsedReportRow>(report.rows.map((r) => [decodeURIComponent(r.key), r]));
  return { job, report, row: (key: string) => byKey.get(key) };
}

/** What both schema versions must report for the rows whose answer does not depend on the version. */
function expectCommonRows(row: (key: string) => ParsedReportRow | undefined) {
  const failed = (errorCode: string, message: string | RegExp) =>
    expect.objectContaining({ status: 'failed', httpStatus: '200', errorCode, message: expect.stringMatching(message) });
  expect(row('temp-2/a.txt')).toMatchObject({ status: 'succeeded', httpStatus: '200', errorCode: '', message: 'ok after 3 calls' });
  expect(row('temp-always/a.txt')).toEqual(
    failed('TemporaryFailure', /^still busy: temp-always\/a\.txt \(gave up after 3 attempts\)$/)
  );
  expect(row('perm/a.txt')).toEqual(failed('PermanentFailure', /^refused: perm\/a\.txt$/));
  expect(row('throw/a.txt')).toEqual(
    failed('PermanentFailure', /^Lambda returned function error: \{.*"errorType":"BatchTaskError".*cannot handle throw\/a\.txt/)
  );
  expect(row('malformed/a.txt')).toEqual(failed('PermanentFailure', /^Invalid JSON returned in Lambda payload: results: /));
  expect(row('text/a.txt')).toEqual(failed('PermanentFailure', /^Invalid JSON returned in Lambda payload: \(root\): /));
  expect(row('missing/a.txt')).toEqual(
    failed('PermanentFailure', /^Lambda response has no result for task .+ \(treatMissingKeysAs absent, default PermanentFailure\)$/)
  );
  expect(row('missing-ok/a.txt')).toMatchObject({
    status: 'succeeded',
    httpStatus: '200',
    message: expect.stringMatching(/no result for task .+ \(treatMissingKeysAs: Succeeded\)$/),
  });
  expect(row('other-task/a.txt')).toEqual(
    failed('PermanentFailure', /^Invalid JSON returned in Lambda payload: results name tasks that were not sent: /)
  );
}

function expectCounts(job: Awaited<ReturnType<typeof runJob>>['job']) {
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 13, NumberOfTasksSucceeded: 6, NumberOfTasksFailed: 7 });
  expect(job.S3Batch.FailedTasksByErrorCode).toEqual({ PermanentFailure: 6, TemporaryFailure: 1 });
}

// Batch mode runs 3 rows per batch activity, so a batch holds good and failing rows: each must still be its own task
// (own retries with the same backoff, own report row and count).
const MODES = { LocalActivity: {}, Batch: { TaskExecution: 'Batch', BatchSize: 3 } } as const;

test.each(Object.keys(MODES) as (keyof typeof MODES)[])('schema 1.0 job, connection found by function name (%s): every answer lands in the report', async (mode) => {
  const { job, report, row } = await runJob(
    `lambda-1-0-${mode}`,
    { LambdaInvoke: { FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:batch-task' } },
    MODES[mode]
  );
  // The mode is the one asked for: Batch pages schedule batch activities, the default mode none.
  const page = await engine.client.workflow.getHandle(pageWorkflowId(job.JobId, 0)).fetchHistory();
  const batches = (page.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTaskBatch');
  expect(batches.length).toBe(mode === 'Batch' ? Math.ceil(rows.length / 3) : 0);
  expectCounts(job);
  expect(report.rows).toHaveLength(13);
  expect(new Set(report.rows.map((r) => r.key))).toEqual(new Set(rows.map((r) => manifestKey(r.key))));

  const ok = (key: string, version = 'null') => ({
    status: 'succeeded',
    httpStatus: '200',
    errorCode: '',
    message: `schema=1.0 bucket=${data} key=${key} version=${version}`,
  });
  expect(row('ok/plain.txt')).toMatchObject(ok('ok/plain.txt'));
  // The function got the key URL-encoded and decoded it back to the original.
  expect(row(SPACED)).toMatchObject(ok(SPACED));
  // LambdaInvoke does not look at the object: the function decides, and this one does not check.
  expect(row(NEVER_CREATED)).toMatchObject(ok(NEVER_CREATED));
  expect(row(VERSIONED)).toMatchObject({ ...ok(VERSIONED, BAD_VERSION), versionId: BAD_VERSION });
  expectCommonRows(row);
});

test('schema 2.0 job with UserArguments, connection named by Extensions.LambdaConnection, qualified FunctionArn', async () => {
  const userArguments = { mode: 'audit', note: 'a, "quoted" value' };
  const { job, row } = await runJob(
    'lambda-2-0',
    {
      LambdaInvoke: {
        FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:any-name-at-all:live',
        InvocationSchemaVersion: '2.0',
        UserArguments: userArguments,
      },
    },
    { LambdaConnection: 'batch-task' }
  );
  expectCounts(job);
  const ok = (key: string, version = 'null') => ({
    status: 'succeeded',
    httpStatus: '200',
    errorCode: '',
    message: `schema=2.0 bucket=${data} key=${key} version=${version} args=${JSON.stringify(userArguments)}`,
  });
  expect(row('ok/plain.txt')).toMatchObject(ok('ok/plain.txt'));
  expect(row(SPACED)).toMatchObject(ok(SPACED));
  expect(row(NEVER_CREATED)).toMatchObject(ok(NEVER_CREATED));
  expect(row(VERSIONED)).toMatchObject(ok(VERSIONED, BAD_VERSION));
  expectCommonRows(row);
});
