/**
 * The audit trail on the real stack: every change through the HTTP API (S3 Control client, two keys of one account)
 * and through the built CLI (two configured identities, and the default one) shows up with its actor in DescribeJob
 * (S3Batch.CreatedBy, S3Batch.LastChange) and in the job's workflow history (the start input's createdBy, each
 * update's `actor`, and Temporal's own identity of each call), read back with the Temporal client; the HTTP API's
 * audit lines name the same actor; no secret reaches the history. The CLI's identity policy holds it to an API key's
 * checks (accounts, read-only, roles it may pass). The job refuses an actor or a createdBy that is not printable text.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateJobCommand,
  PutJobTaggingCommand,
  S3ControlClient,
  UpdateJobPriorityCommand,
  UpdateJobStatusCommand,
  type CreateJobCommandInput,
} from '@aws-sdk/client-s3-control';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { JobClient } from '../../src/client';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer, type ApiServer } from '../../src/http-api/server';
import { JOB_WORKFLOW_TYPE } from '../../src/shared/constants';
import { pauseJobUpdate, updateJobPriorityUpdate } from '../../src/shared/messages';
import type { JobDescriptor } from '../../src/shared/types';
import { expectS3batchExit, startCliEnvironment } from '../helpers/cli';
import { createBucket, manifestKey, putManifest, seedObjects, uniqueBucket, type Engine } from '../helpers/engine';
import { sendRaw, signedRequestBytes } from '../helpers/raw-http';

const A = '111111111111';
const B = '222222222222';
const ROLE = `arn:aws:iam::${A}:role/s3-batch`;
const KEY_ONE = { accessKeyId: 'AKIAAUDITONE', secretAccessKey: `secret-${randomUUID()}` };
const KEY_TWO = { accessKeyId: 'AKIAAUDITTWO', secretAccessKey: `secret-${randomUUID()}` };
const ONE = `access-key:${KEY_ONE.accessKeyId}`;
const TWO = `access-key:${KEY_TWO.accessKeyId}`;

let engine: Engine;
let env: NodeJS.ProcessEnv;
let dir: string;
let api: ApiServer;
const logLines: string[] = [];
const clients: S3ControlClient[] = [];
const data = uniqueBucket('audit-data');
let manifest: { bucket: string; key: string; etag: string };

beforeAll(async () => {
  const cli = await startCliEnvironment('audit');
  ({ engine, env, dir } = cli);
  await createBucket(engine.s3, data);
  const keys = ['audit/0.txt', 'audit/1.txt'];
  await seedObjects(engine.s3, data, keys);
  manifest = await putManifest(engine.s3, data, 'audit', keys.map((k) => `${data},${manifestKey(k)}`));
  const config = parseApiConfig({
    listen: { host: '127.0.0.1', port: 0 },
    accessKeys: [KEY_ONE, KEY_TWO].map((key) => ({ ...key, accounts: [A], access: 'write', roles: [ROLE] })),
    temporal: { address: engine.config.temporal.address, namespace: engine.config.temporal.namespace, taskQueue: engine.taskQueue },
  });
  api = await startApiServer({ config, jobs: engine.jobs, log: (line) => logLines.push(line) });
}, 180_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await api?.close();
  await engine?.close();
});

function s3control(credentials: { accessKeyId: string; secretAccessKey: string }): S3ControlClient {
  const client = new S3ControlClient({ region: 'us-east-1', credentials, endpointProvider: () => ({ url: new URL(api.url) }), maxAttempts: 1 });
  clients.push(client);
  return client;
}

/** A job that waits for confirmation: it stays Suspended (no task runs) while the test changes it. */
function request(extra: Partial<CreateJobCommandInput> = {}): CreateJobCommandInput & { AccountId: string } {
  return {
    AccountId: A,
    ClientRequestToken: randomUUID(),
    ConfirmationRequired: true,
    Priority: 10,
    RoleArn: ROLE,
    Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 'audit' }] } },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
    },
    Report: { Enabled: false },
    ...extra,
  };
}

async function until(jobId: string, statuses: string[]): Promise<JobDescriptor> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = await engine.jobs.describeJob(jobId);
    if (statuses.includes(job.Status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${job.Status}, expected ${statuses.join(' or ')}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** What the job's workflow history says of who did what: the start's input and identity, and each accepted update's. */
async function historyOf(jobId: string) {
  const history = await engine.client.workflow.getHandle(jobId).fetchHistory();
  const converter = engine.client.options.loadedDataConverter;
  const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
  const [, , origin] = await decodeArrayFromPayloads(converter, started.input?.payloads);
  const updates = [];
  for (const event of history.events!) {
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (!accepted) continue;
    const [input] = (await decodeArrayFromPayloads(converter, accepted.input?.args?.payloads)) as { actor?: string }[];
    updates.push({ update: accepted.input!.name, actor: input?.actor, identity: accepted.meta?.identity });
  }
  return { origin, startedBy: started.identity, updates, json: JSON.stringify(history) };
}

/** Our S3Batch element of DescribeJob as the HTTP API sends it (the AWS SDK skips elements it does not know). */
async function rawS3Batch(jobId: string): Promise<string> {
  const raw = await sendRaw(
    api.url,
    await signedRequestBytes({ url: api.url, credentials: KEY_ONE, method: 'GET', path: `/v20180820/jobs/${jobId}`, accountId: A })
  );
  expect(raw.status).toBe(200);
  return /<S3Batch>(.*)<\/S3Batch>/s.exec(raw.text)?.[1] ?? '';
}

function expectChange(job: JobDescriptor, Action: string, Actor: string | undefined): void {
  const change = job.S3Batch.LastChange;
  expect(change).toEqual({ Action, ...(Actor ? { Actor } : {}), Time: expect.any(String) });
  expect(new Date(change!.Time).toISOString()).toBe(change!.Time);
  expect(Date.parse(change!.Time)).toBeGreaterThanOrEqual(Date.parse(job.CreationTime));
}

test('HTTP API: each change names the key that made it, in DescribeJob, in the history and in the audit line', async () => {
  const one = s3control(KEY_ONE);
  const two = s3control(KEY_TWO);
  logLines.length = 0;
  const jobId = (await one.send(new CreateJobCommand(request()))).JobId!;
  const created = await until(jobId, ['Suspended']);
  expect(created.S3Batch.CreatedBy).toBe(ONE);
  expect(created.S3Batch.LastChange).toBeUndefined();

  await two.send(new UpdateJobPriorityCommand({ AccountId: A, JobId: jobId, Priority: 20 }));
  const s3batch = await rawS3Batch(jobId);
  expect(s3batch).toContain(`<CreatedBy>${ONE}</CreatedBy>`);
  expect(s3batch).toMatch(new RegExp(`<LastChange><Action>UpdateJobPriority</Action><Actor>${TWO}</Actor><Time>[^<]+</Time></LastChange>`));

  await one.send(new PutJobTaggingCommand({ AccountId: A, JobId: jobId, Tags: [{ Key: 'team', Value: 'one' }] }));
  expectChange(await engine.jobs.describeJob(jobId), 'PutJobTagging', ONE);

  await two.send(new UpdateJobStatusCommand({ AccountId: A, JobId: jobId, RequestedJobStatus: 'Cancelled' }));
  // Ended: DescribeJob answers from the workflow's result, which keeps both.
  const ended = await until(jobId, ['Cancelled']);
  expect(ended.S3Batch.CreatedBy).toBe(ONE);
  expectChange(ended, 'CancelJob', TWO);

  const history = await historyOf(jobId);
  expect(history.origin).toEqual({ createdBy: ONE });
  expect(history.startedBy).toBe(ONE);
  expect(history.updates).toEqual([
    { update: 'updateJobPriority', actor: TWO, identity: TWO },
    { update: 'putJobTagging', actor: ONE, identity: ONE },
    { update: 'updateJobStatus', actor: TWO, identity: TWO },
  ]);
  for (const key of [KEY_ONE, KEY_TWO]) expect(history.json).not.toContain(key.secretAccessKey);

  const audit = logLines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(audit.map(({ actor, operation, status }) => ({ actor, operation, status }))).toEqual([
    { actor: ONE, operation: 'CreateJob', status: 200 },
    { actor: TWO, operation: 'UpdateJobPriority', status: 200 },
    { actor: ONE, operation: 'PutJobTagging', status: 200 },
    { actor: TWO, operation: 'UpdateJobStatus', status: 200 },
  ]);
}, 120_000);

function jobFile(name: string, body: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

const cli = (args: string[], code: number, extraEnv: NodeJS.ProcessEnv = {}) => expectS3batchExit(env, args, code, extraEnv);
const describeWithCli = async (jobId: string) => JSON.parse((await cli(['describe-job', jobId, '--json'], 0)).stdout).Job as JobDescriptor;

test('CLI: S3BATCH_IDENTITY names who created and changed the job, in describe-job --json and the history; the default is cli:<user>@<host>', async () => {
  const alice = { S3BATCH_IDENTITY: 'cli:alice@audit-test' };
  const bob = { S3BATCH_IDENTITY: 'cli:bob@audit-test' };
  const jobId = JSON.parse((await cli(['create-job', jobFile('cli', request()), '--json'], 0, alice)).stdout).JobId as string;
  await until(jobId, ['Suspended']);
  expect((await describeWithCli(jobId)).S3Batch.CreatedBy).toBe(alice.S3BATCH_IDENTITY);

  await cli(['update-job-priority', jobId, '7'], 0, bob);
  const changed = await describeWithCli(jobId);
  expect(changed.S3Batch.CreatedBy).toBe(alice.S3BATCH_IDENTITY);
  expectChange(changed, 'UpdateJobPriority', bob.S3BATCH_IDENTITY);
  const text = (await cli(['describe-job', jobId], 0)).stdout;
  expect(text).toMatch(/^Created by: +cli:alice@audit-test$/m);
  expect(text).toContain(`Last change:   UpdateJobPriority by cli:bob@audit-test at ${changed.S3Batch.LastChange!.Time}`);
  await cli(['update-job-rate', jobId, '25'], 0, alice);
  expectChange(await describeWithCli(jobId), 'UpdateJobRate', alice.S3BATCH_IDENTITY);

  const byDefault = `cli:${userInfo().username}@${hostname()}`;
  await cli(['update-job-status', jobId, 'Cancelled'], 0);
  expectChange(await until(jobId, ['Cancelled']), 'CancelJob', byDefault);

  const history = await historyOf(jobId);
  expect(history.origin).toEqual({ createdBy: alice.S3BATCH_IDENTITY });
  expect(history.startedBy).toBe(alice.S3BATCH_IDENTITY);
  expect(history.updates).toEqual([
    { update: 'updateJobPriority', actor: bob.S3BATCH_IDENTITY, identity: bob.S3BATCH_IDENTITY },
    { update: 'updateJobRate', actor: alice.S3BATCH_IDENTITY, identity: alice.S3BATCH_IDENTITY },
    { update: 'updateJobStatus', actor: byDefault, identity: byDefault },
  ]);
}, 180_000);

test("CLI: S3BATCH_IDENTITY_POLICY holds the identity to an API key's checks (accounts, read-only, roles); a wrong policy is bad input", async () => {
  const jobId = (await engine.jobs.createJob(request())).jobId;
  try {
    await until(jobId, ['Suspended']);
    const policy = (value: unknown) => ({ S3BATCH_IDENTITY: 'cli:carol@audit-test', S3BATCH_IDENTITY_POLICY: JSON.stringify(value) });

    // Another account's job: as if it did not exist (as the HTTP API answers).
    const otherAccount = policy({ accounts: [B], access: 'write', roles: [] });
    await cli(['describe-job', jobId], EXIT_CODES.notFound, otherAccount);
    await cli(['update-job-priority', jobId, '9'], EXIT_CODES.notFound, otherAccount);

    const reader = policy({ accounts: [A], access: 'read' });
    expect((await describeWithCliAs(jobId, reader)).JobId).toBe(jobId);
    const readOnly = await cli(['update-job-priority', jobId, '9'], EXIT_CODES.refused, reader);
    expect(readOnly.stderr).toContain('Identity cli:carol@audit-test is read-only: it is not allowed to perform UpdateJobPriority');
    const readOnlyRate = await cli(['update-job-rate', jobId, '9'], EXIT_CODES.refused, reader);
    expect(readOnlyRate.stderr).toContain('Identity cli:carol@audit-test is read-only: it is not allowed to perform UpdateJobRate');
    await cli(['create-job', jobFile('reader', request()), '--json'], EXIT_CODES.refused, reader);

    const noRoles = await cli(['create-job', jobFile('no-roles', request()), '--json'], EXIT_CODES.refused, policy({ accounts: [A], access: 'write', roles: [] }));
    expect(noRoles.stderr).toContain(`is not allowed to pass role ${ROLE} (iam:PassRole)`);
    const noAccount = await cli(['create-job', jobFile('no-account', { ...request(), AccountId: undefined }), '--json'], EXIT_CODES.refused, policy({ accounts: [A], access: 'write', roles: [ROLE] }));
    expect(noAccount.stderr).toContain('the request must name one as AccountId');

    const unscoped = await cli(['describe-job', jobId], EXIT_CODES.badInput, policy({ access: 'write' }));
    expect(unscoped.stderr).toContain('S3BATCH_IDENTITY_POLICY: "access" and "roles" need "accounts"');
    const notJson = await cli(['describe-job', jobId], EXIT_CODES.badInput, { S3BATCH_IDENTITY_POLICY: '{accounts' });
    expect(notJson.stderr).toContain('S3BATCH_IDENTITY_POLICY: expected JSON');
    const badIdentity = await cli(['describe-job', jobId], EXIT_CODES.badInput, { S3BATCH_IDENTITY: 'eve\u0007' });
    expect(badIdentity.stderr).toContain('S3BATCH_IDENTITY: expected printable text without control characters');

    // Refused calls changed nothing; a write the policy allows goes through.
    expect((await engine.jobs.describeJob(jobId)).Priority).toBe(10);
    await cli(['update-job-priority', jobId, '9'], 0, policy({ accounts: [A], access: 'write', roles: [] }));
    expectChange(await engine.jobs.describeJob(jobId), 'UpdateJobPriority', 'cli:carol@audit-test');
  } finally {
    await engine.jobs.cancelJob(jobId).catch(() => undefined);
  }
}, 180_000);

async function describeWithCliAs(jobId: string, extraEnv: NodeJS.ProcessEnv): Promise<JobDescriptor> {
  return JSON.parse((await cli(['describe-job', jobId, '--json'], 0, extraEnv)).stdout).Job as JobDescriptor;
}

test('the job refuses an actor that is not printable text, records a change without one as such, and fails a start whose createdBy is wrong', async () => {
  const jobId = (await engine.jobs.createJob(request())).jobId;
  try {
    await until(jobId, ['Suspended']);
    const handle = engine.client.workflow.getHandle(jobId);
    const refused = await handle.executeUpdate(pauseJobUpdate, { args: [{ actor: 'mallory\n{"audit":"forged"}' }] }).then(
      () => undefined,
      (err: WorkflowUpdateFailedError) => err
    );
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refused!.cause?.message).toBe('actor: expected printable text without control characters');
    // A caller that names no actor (an older client, `temporal workflow update`): the change is recorded without one.
    await handle.executeUpdate(updateJobPriorityUpdate, { args: [{ Priority: 11 }] });
    const job = await engine.jobs.describeJob(jobId);
    expect(job.Priority).toBe(11);
    expectChange(job, 'UpdateJobPriority', undefined);
  } finally {
    await engine.jobs.cancelJob(jobId).catch(() => undefined);
  }

  const started = await engine.client.workflow.start(JOB_WORKFLOW_TYPE, {
    workflowId: randomUUID(),
    taskQueue: engine.taskQueue,
    args: [request(), undefined, { createdBy: '' }],
  });
  const failure = await started.result().then(
    () => undefined,
    (err: unknown) => err
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'InvalidJobSpec' });
  expect((failure as WorkflowFailedError).cause!.message).toContain('origin.createdBy: expected a name');
}, 120_000);

test("CLI: an identity that may not see a job hears so before anything about the job's workers (with none polling)", async () => {
  // A job on a task queue no worker polls: it stays Running, and describe-job would warn with the queue's name.
  const unserved = `audit-unserved-${randomUUID()}`;
  const { jobId } = await new JobClient(engine.client, { taskQueue: unserved }).createJob(request());
  try {
    const policy = (accounts: string[]) => ({ S3BATCH_IDENTITY: 'cli:dave@audit-test', S3BATCH_IDENTITY_POLICY: JSON.stringify({ accounts, access: 'read' }) });
    // Another account's job: not found, as with a worker, and not a word of its task queue.
    for (const command of [['describe-job', jobId], ['watch', jobId]]) {
      const other = await cli(command, EXIT_CODES.notFound, policy([B]));
      expect(other.stderr).not.toContain(unserved);
    }
    // The job's own account: told that no worker serves it, with the queue to start one on.
    const own = await cli(['describe-job', jobId], EXIT_CODES.noWorker, policy([A]));
    expect(own.stderr).toContain(unserved);
  } finally {
    await engine.client.workflow.getHandle(jobId).terminate('test done');
  }
}, 180_000);
