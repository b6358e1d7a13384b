/**
 * API keys that say what they may do, driven by @aws-sdk/client-s3-control against the API server on a free port,
 * backed by the real stack and an in-process worker: two keys for two accounts cannot see or touch each other's jobs
 * (nor the operator's jobs of no account), a read-only key reads but every write is refused, a key may pass only its
 * roles, and every change (refused ones included) leaves one JSON audit line naming the key, never its secret.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateJobCommand,
  DeleteJobTaggingCommand,
  DescribeJobCommand,
  GetJobTaggingCommand,
  ListJobsCommand,
  PutJobTaggingCommand,
  S3ControlClient,
  UpdateJobPriorityCommand,
  UpdateJobStatusCommand,
  type CreateJobCommandInput,
} from '@aws-sdk/client-s3-control';
import { WorkflowNotFoundError } from '@temporalio/common';
import { JobClient, jobIdFromToken } from '../../src/job-client';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer, type ApiServer } from '../../src/http-api/server';
import { createBucket, manifestKey, putManifest, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { awsFailure as failure } from '../helpers/aws-failure';

const A = '111111111111';
const B = '222222222222';
const roleOf = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;
const secret = () => `secret-${randomUUID()}`;
const TEAM_A = { accessKeyId: 'AKIATEAMA', secretAccessKey: secret() };
const TEAM_B = { accessKeyId: 'AKIATEAMB', secretAccessKey: secret() };
const READER_A = { accessKeyId: 'AKIAREADERA', secretAccessKey: secret() };

let engine: Engine;
let api: ApiServer;
let jobs: JobClient;
const logLines: string[] = [];
const clients: S3ControlClient[] = [];
let teamA: S3ControlClient;
let teamB: S3ControlClient;
let readerA: S3ControlClient;
const data = uniqueBucket('keys-data');
const keys = Array.from({ length: 3 }, (_, i) => `keys/${i}.txt`);
let manifest: { bucket: string; key: string; etag: string };

function clientFor(credentials: { accessKeyId: string; secretAccessKey: string }): S3ControlClient {
  const client = new S3ControlClient({ region: 'us-east-1', credentials, endpointProvider: () => ({ url: new URL(api.url) }), maxAttempts: 1 });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, keys);
  manifest = await putManifest(engine.s3, data, 'keys', keys.map((k) => `${data},${manifestKey(k)}`));
  const config = parseApiConfig({
    listen: { host: '127.0.0.1', port: 0 },
    accessKeys: [
      { ...TEAM_A, accounts: [A], access: 'write', roles: [roleOf(A, 's3-batch')] },
      { ...TEAM_B, accounts: [B], access: 'write', roles: [roleOf(B, 'team-b-*')] },
      { ...READER_A, accounts: [A], access: 'read' },
    ],
    temporal: { address: engine.config.temporal.address, namespace: engine.config.temporal.namespace, taskQueue: engine.taskQueue },
  });
  expect(config.mode).toBe('scoped');
  jobs = new JobClient(engine.client, { taskQueue: engine.taskQueue });
  api = await startApiServer({ config, jobs, log: (line) => logLines.push(line) });
  teamA = clientFor(TEAM_A);
  teamB = clientFor(TEAM_B);
  readerA = clientFor(READER_A);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await api?.close();
  await engine?.close();
});

/** A job that waits for confirmation, so it stays Suspended while the test pokes at it. */
function jobInput(account: string, role: string | undefined, extra: Partial<CreateJobCommandInput> = {}): CreateJobCommandInput {
  return {
    AccountId: account,
    ClientRequestToken: randomUUID(),
    ConfirmationRequired: true,
    Priority: 10,
    RoleArn: role,
    Description: `keys test, account ${account}`,
    Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 'keys' }] } },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
    },
    Report: { Enabled: false },
    Tags: [{ Key: 'owner', Value: account }],
    ...extra,
  };
}

async function waitSuspended(client: S3ControlClient, account: string, jobId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = (await client.send(new DescribeJobCommand({ AccountId: account, JobId: jobId }))).Job!;
    if (job.Status === 'Suspended') return;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${job.Status}, expected Suspended`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Every per-job call, as `client` for `account` on `jobId`: each outcome (the error's name, or "ok"). */
async function everyJobCall(client: S3ControlClient, account: string, jobId: string): Promise<Record<string, string>> {
  const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (err: { name: string }) => err.name);
  return {
    DescribeJob: await outcome(client.send(new DescribeJobCommand({ AccountId: account, JobId: jobId }))),
    GetJobTagging: await outcome(client.send(new GetJobTaggingCommand({ AccountId: account, JobId: jobId }))),
    PutJobTagging: await outcome(client.send(new PutJobTaggingCommand({ AccountId: account, JobId: jobId, Tags: [{ Key: 'owner', Value: 'intruder' }] }))),
    DeleteJobTagging: await outcome(client.send(new DeleteJobTaggingCommand({ AccountId: account, JobId: jobId }))),
    UpdateJobPriority: await outcome(client.send(new UpdateJobPriorityCommand({ AccountId: account, JobId: jobId, Priority: 99 }))),
    UpdateJobStatus: await outcome(client.send(new UpdateJobStatusCommand({ AccountId: account, JobId: jobId, RequestedJobStatus: 'Cancelled' }))),
  };
}

const listed = async (client: S3ControlClient, account: string) =>
  ((await client.send(new ListJobsCommand({ AccountId: account }))).Jobs ?? []).map((j) => j.JobId!);

/** The job as the worker holds it: untouched by the refused calls. */
async function expectUntouched(jobId: string, account: string): Promise<void> {
  const job = await jobs.describeJob(jobId);
  expect(job).toMatchObject({ Status: 'Suspended', Priority: 10 });
  expect(job.S3Batch.Tags).toEqual([{ Key: 'owner', Value: account }]);
}

test("two keys for two accounts: neither sees nor touches the other's jobs, nor the operator's jobs of no account", async () => {
  const a = (await teamA.send(new CreateJobCommand(jobInput(A, roleOf(A, 's3-batch'))))).JobId!;
  const b = (await teamB.send(new CreateJobCommand(jobInput(B, roleOf(B, 'team-b-nightly'))))).JobId!;
  const { AccountId: _none, ...noAccount } = jobInput(A, roleOf(A, 's3-batch'), { Description: 'the operator\'s job', Tags: [{ Key: 'owner', Value: 'operator' }] });
  const operators = (await jobs.createJob(noAccount)).jobId;
  try {
    await waitSuspended(teamA, A, a);
    await waitSuspended(teamB, B, b);

    // Naming the other account in the request: the key does not act for it, whatever the call.
    for (const [client, account, jobId] of [[teamB, A, a], [teamA, B, b]] as const) {
      const refused = await failure(client.send(new DescribeJobCommand({ AccountId: account, JobId: jobId })));
      expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
      expect(refused.message).toContain(`not allowed to act for account ${account}`);
      expect(await failure(client.send(new ListJobsCommand({ AccountId: account })))).toMatchObject({ name: 'AccessDenied', status: 403 });
      expect(new Set(Object.values(await everyJobCall(client, account, jobId)))).toEqual(new Set(['AccessDenied']));
    }
    // Its own account, the other's job (or the operator's): as if it did not exist.
    const notFound = Object.fromEntries(
      ['DescribeJob', 'GetJobTagging', 'PutJobTagging', 'DeleteJobTagging', 'UpdateJobPriority', 'UpdateJobStatus'].map((call) => [call, 'NotFoundException'])
    );
    expect(await everyJobCall(teamB, B, a)).toEqual(notFound);
    expect(await everyJobCall(teamA, A, b)).toEqual(notFound);
    expect(await everyJobCall(teamA, A, operators)).toEqual(notFound);
    expect(await everyJobCall(teamB, B, operators)).toEqual(notFound);

    // ListJobs: each key lists its own account's jobs only.
    const ofA = await listed(teamA, A);
    const ofB = await listed(teamB, B);
    expect(ofA).toContain(a);
    expect(ofA).not.toContain(b);
    expect(ofA).not.toContain(operators);
    expect(ofB).toContain(b);
    expect(ofB).not.toContain(a);
    expect(ofB).not.toContain(operators);

    await expectUntouched(a, A);
    await expectUntouched(b, B);
    expect((await jobs.describeJob(operators)).S3Batch.Tags).toEqual([{ Key: 'owner', Value: 'operator' }]);
    // Its own job, each key does what it may.
    expect(await everyJobCall(teamA, A, a)).toEqual({
      DescribeJob: 'ok',
      GetJobTagging: 'ok',
      PutJobTagging: 'ok',
      DeleteJobTagging: 'ok',
      UpdateJobPriority: 'ok',
      UpdateJobStatus: 'ok',
    });
  } finally {
    for (const id of [a, b, operators]) await jobs.cancelJob(id).catch(() => undefined);
  }
});

test('a read-only key describes, lists and reads tags; every write is AccessDenied and changes nothing', async () => {
  const a = (await teamA.send(new CreateJobCommand(jobInput(A, roleOf(A, 's3-batch'))))).JobId!;
  try {
    await waitSuspended(readerA, A, a);
    expect((await readerA.send(new DescribeJobCommand({ AccountId: A, JobId: a }))).Job).toMatchObject({ JobId: a, Status: 'Suspended' });
    expect(await listed(readerA, A)).toContain(a);
    expect((await readerA.send(new GetJobTaggingCommand({ AccountId: A, JobId: a }))).Tags).toEqual([{ Key: 'owner', Value: A }]);

    const writes = await everyJobCall(readerA, A, a);
    expect(writes).toEqual({
      DescribeJob: 'ok',
      GetJobTagging: 'ok',
      PutJobTagging: 'AccessDenied',
      DeleteJobTagging: 'AccessDenied',
      UpdateJobPriority: 'AccessDenied',
      UpdateJobStatus: 'AccessDenied',
    });
    const create = jobInput(A, roleOf(A, 's3-batch'));
    const refused = await failure(readerA.send(new CreateJobCommand(create)));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toBe(`Access key ${READER_A.accessKeyId} is read-only: it is not allowed to perform CreateJob`);
    await expect(jobs.describeJob(jobIdFromToken(create.ClientRequestToken!, A))).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expectUntouched(a, A);
  } finally {
    await jobs.cancelJob(a).catch(() => undefined);
  }
});

test('a key passes only its roles (iam:PassRole): another role, or none, is AccessDenied naming it, and no job is made', async () => {
  const refusals: [S3ControlClient, string, string | undefined, string][] = [
    [teamA, A, roleOf(A, 'admin'), `Access key ${TEAM_A.accessKeyId} is not allowed to pass role ${roleOf(A, 'admin')} (iam:PassRole)`],
    [teamA, A, roleOf(A, 's3-batch-admin'), `not allowed to pass role ${roleOf(A, 's3-batch-admin')}`],
    [teamB, B, roleOf(B, 'team-c-nightly'), `not allowed to pass role ${roleOf(B, 'team-c-nightly')}`],
    [teamA, A, undefined, `Access key ${TEAM_A.accessKeyId} must name a RoleArn it may pass (iam:PassRole); the request has none`],
  ];
  for (const [client, account, role, message] of refusals) {
    const input = jobInput(account, role);
    const refused = await failure(client.send(new CreateJobCommand(input)));
    expect({ role, name: refused.name, status: refused.status }).toEqual({ role, name: 'AccessDenied', status: 403 });
    expect(refused.message).toContain(message);
    await expect(jobs.describeJob(jobIdFromToken(input.ClientRequestToken!, account))).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }
  // A pattern's prefix admits the roles it names.
  const allowed = (await teamB.send(new CreateJobCommand(jobInput(B, roleOf(B, 'team-b-weekly'))))).JobId!;
  await waitSuspended(teamB, B, allowed);
  expect((await jobs.describeJob(allowed)).RoleArn).toBe(roleOf(B, 'team-b-weekly'));
  await jobs.cancelJob(allowed);
});

test('every change, refused ones too, leaves one JSON audit line: time, actor and key id, account, call, job, status; never a secret', async () => {
  logLines.length = 0;
  const created = (await teamA.send(new CreateJobCommand(jobInput(A, roleOf(A, 's3-batch'))))).JobId!;
  await waitSuspended(teamA, A, created);
  await teamA.send(new UpdateJobPriorityCommand({ AccountId: A, JobId: created, Priority: 20 }));
  await failure(readerA.send(new PutJobTaggingCommand({ AccountId: A, JobId: created, Tags: [] })));
  await failure(teamB.send(new UpdateJobStatusCommand({ AccountId: B, JobId: created, RequestedJobStatus: 'Cancelled' })));
  await teamA.send(new DeleteJobTaggingCommand({ AccountId: A, JobId: created }));
  await teamA.send(new UpdateJobStatusCommand({ AccountId: A, JobId: created, RequestedJobStatus: 'Cancelled' }));

  const audit = logLines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(audit.map(({ time: _time, requestId: _id, ...rest }) => rest)).toEqual([
    { audit: 's3batch-api', actor: `access-key:${TEAM_A.accessKeyId}`, accessKeyId: TEAM_A.accessKeyId, accountId: A, operation: 'CreateJob', jobId: created, status: 200 },
    { audit: 's3batch-api', actor: `access-key:${TEAM_A.accessKeyId}`, accessKeyId: TEAM_A.accessKeyId, accountId: A, operation: 'UpdateJobPriority', jobId: created, status: 200 },
    { audit: 's3batch-api', actor: `access-key:${READER_A.accessKeyId}`, accessKeyId: READER_A.accessKeyId, accountId: A, operation: 'PutJobTagging', jobId: created, status: 403, errorCode: 'AccessDenied' },
    { audit: 's3batch-api', actor: `access-key:${TEAM_B.accessKeyId}`, accessKeyId: TEAM_B.accessKeyId, accountId: B, operation: 'UpdateJobStatus', jobId: created, status: 404, errorCode: 'NotFoundException' },
    { audit: 's3batch-api', actor: `access-key:${TEAM_A.accessKeyId}`, accessKeyId: TEAM_A.accessKeyId, accountId: A, operation: 'DeleteJobTagging', jobId: created, status: 200 },
    { audit: 's3batch-api', actor: `access-key:${TEAM_A.accessKeyId}`, accessKeyId: TEAM_A.accessKeyId, accountId: A, operation: 'UpdateJobStatus', jobId: created, status: 200 },
  ]);
  for (const entry of audit) {
    expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
    expect(entry.requestId).toMatch(/^[0-9A-F]{16}$/);
  }
  // Reads (the polls above) are not audited; no line carries a secret.
  expect(audit.some((entry) => entry.operation === 'DescribeJob')).toBe(false);
  for (const key of [TEAM_A, TEAM_B, READER_A]) expect(logLines.join('\n')).not.toContain(key.secretAccessKey);
});
