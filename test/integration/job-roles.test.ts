/**
 * Roles (worker config `roles`) on the real stack: a job runs within the role its RoleArn names, whether it was
 * created with our client or started with `temporal workflow start`. The worker reaches MinIO through the project's
 * S3 fault proxy (no faults), which counts every request: a row outside the role fails AccessDenied 403 in the
 * report and no request for it reaches MinIO.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { runCommand } from '../../scripts/lib/exec';
import { ensureTemporalCli } from '../../scripts/tools';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import type { JobDescriptor } from '../../src/shared/types';
import { createBucket, csvJob, putManifest, putText, readReport, seedObjects, stackConnectionsVia, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy';
import { getStack } from '../helpers/stack';

const TIMEOUT = 120_000;
const WRITER = 'arn:aws:iam::111122223333:role/team-a-tagger';
const DELETER = 'arn:aws:iam::111122223333:role/team-a-cleaner';
const data = uniqueBucket('roles-data');
const files = uniqueBucket('roles-files');
const inside = ['allowed/0', 'allowed/1', 'allowed/2', 'allowed/3'];
const outside = ['outside/0', 'outside/1', 'allowed-not/2'];

let engine: Engine;
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: getStack().s3.endpoint, rates: {}, seed: 16 });
  const common = { connections: ['team'], manifestRead: [`${files}/manifests/`], reportWrite: [`${files}/reports/`] };
  engine = await startEngine({
    workerConfig: {
      s3: stackConnectionsVia(proxy.endpoint, 'team'),
      roles: {
        [WRITER]: { ...common, actOn: { readOnly: [data], write: [`${data}/allowed/`], delete: [] } },
        [DELETER]: { ...common, actOn: { readOnly: [], write: [], delete: [`${data}/allowed/`] } },
      },
    },
  });
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, files);
});

afterAll(async () => {
  await engine?.close();
  await proxy?.close();
});

const tagging: CreateJobInput['Operation'] = { S3PutObjectTagging: { TagSet: [{ Key: 'role', Value: 'checked' }] } };

/** Requests for `data`'s objects under `folder` that the proxy saw (reached or not), by signature. */
function requestsUnder(folder: string): string[] {
  return [...proxy.requests().keys()].filter((s) => s.split(' ')[1]!.startsWith(`/${data}/${folder}`));
}

/** A job over rows inside and outside the role: its manifest holds `rows`, seeded fresh under a unique folder. */
async function mixedJob(name: string, operation: CreateJobInput['Operation'], role: string) {
  const keys = [...inside, ...outside].map((k) => `${k.replace('/', `/${name}-`)}`);
  await seedObjects(engine.s3, data, keys);
  const manifest = await putManifest(engine.s3, files, name, keys.map((k) => `${data},${k}`));
  return { keys, request: csvJob(manifest, operation, files, { RoleArn: role }) };
}

async function validationFailure(jobId: string): Promise<string> {
  const failure = await engine.jobs.handle(jobId).result().then(
    () => undefined,
    (err: unknown) => err
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'InvalidJobSpec' });
  return (failure as WorkflowFailedError).cause!.message;
}

test('a manifest or report outside the role fails the job in New, naming the role and the location; nothing is read', async () => {
  const etag = await putText(engine.s3, files, 'elsewhere/m.csv', `${data},allowed/0\n`);
  const { jobId } = await engine.jobs.createJob(csvJob({ bucket: files, key: 'elsewhere/m.csv', etag }, tagging, files, { RoleArn: WRITER }));
  const reason = await validationFailure(jobId);
  expect(reason).toBe(
    `Invalid job spec: Manifest.Location.ObjectArn: role ${WRITER} does not allow reading the manifest s3://${files}/elsewhere/m.csv (it allows: ${files}/manifests/)`
  );
  const described = await engine.jobs.describeJob(jobId);
  expect(described.Status).toBe('Failed');
  expect(described.FailureReasons[0]).toMatchObject({ FailureCode: 'InvalidJobSpec', FailureReason: expect.stringContaining(`role ${WRITER}`) });
  expect([...proxy.requests().keys()].filter((s) => s.includes('/elsewhere/'))).toEqual([]);

  const manifest = await putManifest(engine.s3, files, 'report-elsewhere', [`${data},allowed/0`]);
  const request = csvJob(manifest, tagging, files, { RoleArn: WRITER });
  const { jobId: second } = await engine.jobs.createJob({ ...request, Report: { ...request.Report, Prefix: 'team-b' } });
  expect(await validationFailure(second)).toBe(
    `Invalid job spec: Report.Bucket: role ${WRITER} does not allow writing the report to s3://${files}/team-b/ (it allows: ${files}/reports/)`
  );

  // A role the worker does not have: refused, whatever else the job says.
  const { jobId: third } = await engine.jobs.createJob(csvJob(manifest, tagging, files, { RoleArn: 'arn:aws:iam::111122223333:role/nobody' }));
  expect(await validationFailure(third)).toBe('Invalid job spec: RoleArn: role arn:aws:iam::111122223333:role/nobody is not configured on this worker');
}, TIMEOUT);

/** The job's report rows, checked against the rows inside and outside the role; and that no outside row reached S3. */
async function expectOnlyInsideRan(job: JobDescriptor, keys: string[], operation: string) {
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: inside.length, NumberOfTasksFailed: outside.length });
  const { rows } = await readReport(engine.s3, files, job.S3Batch.ReportManifestKey!);
  expect(rows).toHaveLength(keys.length);
  for (const row of rows) {
    if (row.key.startsWith('allowed/')) {
      expect(row).toMatchObject({ status: 'succeeded', httpStatus: '200' });
    } else {
      expect(row).toMatchObject({ status: 'failed', httpStatus: '403', errorCode: 'AccessDenied' });
      expect(row.message).toContain(`role ${job.RoleArn} does not allow ${operation} on s3://${data}/${row.key}`);
    }
  }
}

test('rows outside the role fail AccessDenied 403, with no request sent; the rows inside run', async () => {
  const { keys, request } = await mixedJob('tag', tagging, WRITER);
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: TIMEOUT });
  await expectOnlyInsideRan(job, keys, 'S3PutObjectTagging');
  // `allowed-not/` shares its first characters with `allowed/` and is outside: prefixes match whole folders.
  expect(requestsUnder('outside/')).toEqual([]);
  expect(requestsUnder('allowed-not/')).toEqual([]);
  expect(requestsUnder('allowed/tag-')).toHaveLength(inside.length);
  for (const key of keys) {
    const tags = (await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }))).TagSet ?? [];
    expect({ key, tags }).toEqual({ key, tags: key.startsWith('allowed/') ? [{ Key: 'role', Value: 'checked' }] : [] });
  }
}, TIMEOUT);

test('S3DeleteObject: refused in New for a role without deletes; with one, it deletes only inside the role', async () => {
  const del: CreateJobInput['Operation'] = { S3DeleteObject: { ConfirmDataDeletion: true } };
  const refused = await mixedJob('nodel', del, WRITER);
  const { jobId } = await engine.jobs.createJob(refused.request);
  expect(await validationFailure(jobId)).toBe(
    `Invalid job spec: Operation: role ${WRITER} does not allow S3DeleteObject: it grants no deletes (actOn.delete is empty)`
  );
  expect(requestsUnder('allowed/nodel-').filter((s) => s.startsWith('DELETE'))).toEqual([]);

  const { keys, request } = await mixedJob('del', del, DELETER);
  const created = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(created.jobId, { timeoutMs: TIMEOUT });
  await expectOnlyInsideRan(job, keys, 'S3DeleteObject');
  const exists = (key: string) =>
    engine.s3.send(new HeadObjectCommand({ Bucket: data, Key: key })).then(
      () => true,
      () => false
    );
  for (const key of keys) expect({ key, exists: await exists(key) }).toEqual({ key, exists: !key.startsWith('allowed/') });
  expect(requestsUnder('outside/del-')).toEqual([]);
}, TIMEOUT);

describe('a job started with the temporal CLI', () => {
  let temporal: string;
  beforeAll(async () => {
    temporal = await ensureTemporalCli();
  });

  async function start(name: string, request: CreateJobInput): Promise<string> {
    const file = join(mkdtempSync(join(tmpdir(), 's3batch-roles-')), 'job.json');
    writeFileSync(file, JSON.stringify(request));
    const jobId = `${name}-${Date.now()}`;
    const stack = getStack();
    const args = ['workflow', 'start', '--type', 'batchJobWorkflow', '--task-queue', engine.taskQueue, '-w', jobId, '--input-file', file];
    const result = await runCommand(temporal, [...args, '--address', stack.temporal.address, '-n', stack.temporal.namespace], { timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`temporal workflow start failed (${result.code}): ${result.stderr}${result.stdout}`);
    return jobId;
  }

  test('is held to the same role: outside rows AccessDenied, and a role the worker lacks is refused', async () => {
    const { keys, request } = await mixedJob('cli', tagging, WRITER);
    const jobId = await start('roles-cli', request);
    const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: TIMEOUT });
    await expectOnlyInsideRan(job, keys, 'S3PutObjectTagging');
    expect(requestsUnder('outside/cli-')).toEqual([]);

    const { RoleArn: _, ...noRole } = request;
    const refused = await start('roles-cli-norole', noRole as CreateJobInput);
    expect(await validationFailure(refused)).toBe(
      "Invalid job spec: RoleArn: required: this worker's config defines roles, and a job runs as one of them"
    );
  }, TIMEOUT);
});
