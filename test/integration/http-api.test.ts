/**
 * The S3 Control-compatible HTTP API, driven by @aws-sdk/client-s3-control (a client nobody here wrote) against the
 * API server on a free port, backed by the real stack and an in-process worker: the whole job lifecycle, tagging,
 * listing with paging, idempotency, and the errors AWS sends for bad input and bad authentication (expired,
 * future-dated requests included).
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
  type JobDescriptor,
} from '@aws-sdk/client-s3-control';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { JobClient, jobIdFromToken, requestHash } from '../../src/job-client';
import { JOB_WORKFLOW_TYPE } from '../../src/shared/constants';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer, type ApiServer } from '../../src/http-api/server';
import { createBucket, manifestKey, putManifest, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { awsFailure } from '../helpers/aws-failure';
import { sendRaw, signedRequestBytes } from '../helpers/raw-http';
import { until } from '../helpers/until';

const ACCOUNT = '123456789012';
const KEY = { accessKeyId: 'AKIAS3BATCHTEST', secretAccessKey: `secret-${randomUUID()}` };

let engine: Engine;
let api: ApiServer;
let s3control: S3ControlClient;
const data = uniqueBucket('api-data');
const reports = uniqueBucket('api-reports');
const keys = Array.from({ length: 20 }, (_, i) => `api/${String(i).padStart(3, '0')}.txt`);
let manifest: { bucket: string; key: string; etag: string };

/** The client options this API needs (docs/http-api.md): the endpoint, given through endpointProvider (see there why). */
function clientFor(credentials: { accessKeyId: string; secretAccessKey: string }): S3ControlClient {
  return new S3ControlClient({
    region: 'us-east-1',
    credentials,
    endpointProvider: () => ({ url: new URL(api.url) }),
    maxAttempts: 1,
  });
}

beforeAll(async () => {
  engine = await startEngine();
  for (const b of [data, reports]) await createBucket(engine.s3, b);
  await seedObjects(engine.s3, data, keys);
  manifest = await putManifest(engine.s3, data, 'api', keys.map((k) => `${data},${manifestKey(k)}`));
  const config = parseApiConfig({
    listen: { host: '127.0.0.1', port: 0 },
    accessKeys: [KEY],
    temporal: { address: engine.config.temporal.address, namespace: engine.config.temporal.namespace, taskQueue: engine.taskQueue },
  });
  api = await startApiServer({ config, jobs: new JobClient(engine.client, { taskQueue: engine.taskQueue }) });
  s3control = clientFor(KEY);
});

afterAll(async () => {
  s3control?.destroy();
  await api?.close();
  await engine?.close();
});

function createJobInput(extra: Partial<CreateJobCommandInput> = {}): CreateJobCommandInput {
  return {
    AccountId: ACCOUNT,
    ClientRequestToken: randomUUID(),
    ConfirmationRequired: true,
    Priority: 10,
    RoleArn: `arn:aws:iam::${ACCOUNT}:role/s3-batch`,
    Description: 'tag via the HTTP API',
    Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 'http-api' }] } },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
    },
    Report: { Enabled: true, Bucket: `arn:aws:s3:::${reports}`, Format: 'Report_CSV_20180820', Prefix: 'api', ReportScope: 'AllTasks' },
    ...extra,
  };
}

async function describe(jobId: string): Promise<JobDescriptor> {
  const out = await s3control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: jobId }));
  return out.Job!;
}

async function waitForStatus(jobId: string, statuses: string[], timeoutMs = 60_000): Promise<JobDescriptor> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await describe(jobId);
    if (statuses.includes(job.Status!)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${job.Status}, expected ${statuses.join(' or ')}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

const failure = awsFailure;

test('the whole lifecycle: create (confirmation required), describe, tag, reprioritise, confirm, complete', async () => {
  const input = createJobInput({ Tags: [{ Key: 'team', Value: 'storage' }, { Key: 'cost-centre', Value: '42' }] });
  const created = await s3control.send(new CreateJobCommand(input));
  const jobId = created.JobId!;
  expect(jobId).toMatch(/^[0-9a-f-]{36}$/);

  const suspended = await waitForStatus(jobId, ['Suspended']);
  expect(suspended).toMatchObject({
    JobId: jobId,
    JobArn: `arn:aws:s3:us-east-1:${ACCOUNT}:job/${jobId}`,
    Status: 'Suspended',
    ConfirmationRequired: true,
    Description: input.Description,
    Priority: 10,
    RoleArn: input.RoleArn,
    Manifest: input.Manifest,
    Operation: input.Operation,
    Report: input.Report,
    ProgressSummary: { TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: 0, NumberOfTasksFailed: 0 },
  });
  expect(suspended.CreationTime).toBeInstanceOf(Date);
  expect(suspended.SuspendedDate!.getTime()).toBeGreaterThanOrEqual(suspended.CreationTime!.getTime());
  expect(suspended.SuspendedCause).toMatch(/confirm/i);
  expect(suspended.TerminationDate).toBeUndefined();

  // Tags: those of CreateJob, then replaced as a whole, then removed.
  expect((await s3control.send(new GetJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId }))).Tags).toEqual(input.Tags);
  const replaced = [{ Key: 'team', Value: 'batch' }];
  await s3control.send(new PutJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId, Tags: replaced }));
  expect((await s3control.send(new GetJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId }))).Tags).toEqual(replaced);
  await s3control.send(new DeleteJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId }));
  expect((await s3control.send(new GetJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId }))).Tags ?? []).toEqual([]);

  const priority = await s3control.send(new UpdateJobPriorityCommand({ AccountId: ACCOUNT, JobId: jobId, Priority: 42 }));
  expect(priority).toMatchObject({ JobId: jobId, Priority: 42 });
  expect((await describe(jobId)).Priority).toBe(42);

  // ListJobs reads visibility, which shows the new priority a moment after DescribeJob (on a cluster, noticeably).
  const listed = await until('the job listed with priority 42', async () => {
    const out = await s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Suspended'] }));
    return out.Jobs!.find((j) => j.JobId === jobId && j.Priority === 42);
  });
  expect(listed).toMatchObject({
    JobId: jobId,
    Description: input.Description,
    Operation: 'S3PutObjectTagging',
    Priority: 42,
    Status: 'Suspended',
  });

  const confirmed = await s3control.send(
    new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: jobId, RequestedJobStatus: 'Ready', StatusUpdateReason: 'looks right' })
  );
  expect(confirmed).toMatchObject({ JobId: jobId, Status: 'Ready', StatusUpdateReason: 'looks right' });

  const done = await waitForStatus(jobId, ['Complete', 'Failed', 'Cancelled']);
  expect(done).toMatchObject({
    Status: 'Complete',
    Priority: 42,
    ProgressSummary: { TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 },
  });
  expect(done.ProgressSummary!.Timers!.ElapsedTimeInActiveSeconds).toBeGreaterThanOrEqual(0);
  expect(done.TerminationDate!.getTime()).toBeGreaterThanOrEqual(done.CreationTime!.getTime());
  expect(done.FailureReasons ?? []).toEqual([]);

  const complete = await s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Complete'] }));
  const entry = complete.Jobs!.find((j) => j.JobId === jobId)!;
  expect(entry).toMatchObject({ Status: 'Complete', ProgressSummary: { NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 } });
  expect(entry.TerminationDate).toBeInstanceOf(Date);

  // A finished job takes no more changes (tags included: see the differences from AWS in docs/http-api.md); it still answers.
  const again = await failure(
    s3control.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: jobId, RequestedJobStatus: 'Cancelled' }))
  );
  expect(again).toMatchObject({ name: 'JobStatusException', status: 409 });
  const retag = await failure(
    s3control.send(new PutJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId, Tags: [{ Key: 'late', Value: 'x' }] }))
  );
  expect(retag).toMatchObject({ name: 'JobStatusException', status: 409 });
  expect((await s3control.send(new GetJobTaggingCommand({ AccountId: ACCOUNT, JobId: jobId }))).Tags ?? []).toEqual([]);
  // Jobs are per account: another account does not see this one.
  expect(await failure(s3control.send(new DescribeJobCommand({ AccountId: '210987654321', JobId: jobId })))).toMatchObject({
    name: 'NotFoundException',
    status: 404,
  });
});

test('a job that fails (manifest ETag mismatch): Failed with FailureReasons in the reference\'s shape, listed with its dates', async () => {
  const input = createJobInput({
    ConfirmationRequired: false,
    Description: 'fails on its manifest',
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: '0123456789abcdef0123456789abcdef' },
    },
  });
  const { JobId: jobId } = await s3control.send(new CreateJobCommand(input));
  const failed = await waitForStatus(jobId!, ['Complete', 'Failed', 'Cancelled']);
  expect(failed.Status).toBe('Failed');
  // S3 Batch spec §1.2: FailureReasons is JobFailure[] of {FailureCode 1-64, FailureReason 1-256}, set when the job fails.
  expect(failed.FailureReasons).toHaveLength(1);
  const [reason] = failed.FailureReasons!;
  expect(reason!.FailureCode).toBe('ManifestETagMismatch');
  expect(reason!.FailureReason!.length).toBeGreaterThanOrEqual(1);
  expect(reason!.FailureReason!.length).toBeLessThanOrEqual(256);
  expect(failed.TerminationDate!.getTime()).toBeGreaterThanOrEqual(failed.CreationTime!.getTime());
  expect(failed.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 0, NumberOfTasksFailed: 0 });

  // §1.3: a JobListDescriptor has JobId, Description, Operation, Priority, Status, CreationTime, TerminationDate, ProgressSummary.
  const listed = await s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Failed'] }));
  const entry = listed.Jobs!.find((j) => j.JobId === jobId)!;
  expect(entry).toMatchObject({ JobId: jobId, Description: 'fails on its manifest', Operation: 'S3PutObjectTagging', Priority: 10, Status: 'Failed' });
  expect(entry.CreationTime!.getTime()).toBe(failed.CreationTime!.getTime());
  expect(entry.TerminationDate).toBeInstanceOf(Date);
});

test('DescribeJob of a generated-manifest job: ManifestGenerator, GeneratedManifestDescriptor and every field the client library returns', async () => {
  const generator = {
    S3JobManifestGenerator: {
      ExpectedBucketOwner: ACCOUNT,
      SourceBucket: `arn:aws:s3:::${data}`,
      EnableManifestOutput: true,
      ManifestOutputLocation: {
        ExpectedManifestBucketOwner: ACCOUNT,
        Bucket: `arn:aws:s3:::${reports}`,
        ManifestPrefix: 'generated',
        ManifestFormat: 'S3InventoryReport_CSV_20211130' as const,
      },
      // Lists in the echo: a prefix list of one, and a storage-class list.
      Filter: { KeyNameConstraint: { MatchAnyPrefix: ['api/00'] }, MatchAnyStorageClass: ['STANDARD' as const] },
    },
  };
  const { Manifest: _manifest, ...base } = createJobInput({ ConfirmationRequired: false, Description: 'generated via the HTTP API' });
  const { JobId: jobId } = await s3control.send(new CreateJobCommand({ ...base, ManifestGenerator: generator }));
  const done = await waitForStatus(jobId!, ['Complete', 'Failed', 'Cancelled'], 120_000);
  const library = await new JobClient(engine.client, { taskQueue: engine.taskQueue }).describeJob(jobId!);
  expect(library.Status).toBe('Complete');
  expect(library.GeneratedManifestDescriptor).toBeDefined();

  expect(done.Status).toBe('Complete');
  expect(done.Manifest).toBeUndefined();
  expect(done.ManifestGenerator).toEqual(generator);
  expect(done.GeneratedManifestDescriptor).toEqual({
    Format: 'S3InventoryReport_CSV_20211130',
    Location: {
      ObjectArn: library.GeneratedManifestDescriptor!.Location.ObjectArn,
      ETag: library.GeneratedManifestDescriptor!.Location.ETag,
    },
  });
  expect(done.GeneratedManifestDescriptor!.Location!.ObjectArn).toBe(`arn:aws:s3:::${reports}/generated/job-${jobId}/manifest.json`);
  expect(done.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 10, NumberOfTasksSucceeded: 10, NumberOfTasksFailed: 0 });

  // Every AWS member the client library returns (with a value: AWS leaves out empty ones) is in the SDK's answer.
  const { S3Batch: _ours, ...awsMembers } = library;
  const given = Object.entries(awsMembers)
    .filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0))
    .map(([name]) => name)
    .sort();
  expect(given).toEqual(expect.arrayContaining(['GeneratedManifestDescriptor', 'ManifestGenerator']));
  const overHttp = Object.entries(done).filter(([, value]) => value !== undefined).map(([name]) => name);
  expect(given.filter((name) => !overHttp.includes(name))).toEqual([]);

  // Our S3Batch element travels too (the AWS SDK skips it): read from the raw answer.
  const raw = await sendRaw(
    api.url,
    await signedRequestBytes({ url: api.url, credentials: KEY, method: 'GET', path: `/v20180820/jobs/${jobId}`, accountId: ACCOUNT })
  );
  expect(raw.status).toBe(200);
  const s3batch = /<S3Batch>(.*)<\/S3Batch>/.exec(raw.text)?.[1] ?? '';
  expect(s3batch).toContain(`<Summary>${library.S3Batch.Summary}</Summary>`);
  expect(s3batch).toContain('<ManifestListing><ObjectsListed>10</ObjectsListed><ObjectsMatched>10</ObjectsMatched><Done>true</Done></ManifestListing>');
  expect(s3batch).toContain(`<ReportManifestKey>${library.S3Batch.ReportManifestKey}</ReportManifestKey>`);
}, 150_000);

test('ListJobs filters by status and pages with MaxResults and NextToken; UpdateJobStatus Cancelled cancels', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await s3control.send(new CreateJobCommand(createJobInput({ Description: `page ${i}` })))).JobId!);
  for (const id of ids) await waitForStatus(id, ['Suspended']);
  // Visibility trails DescribeJob: page through only once a listing shows all three.
  await until('the three jobs listed as Suspended', async () => {
    const out = await s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Suspended'], MaxResults: 1000 }));
    return ids.every((id) => out.Jobs!.some((j) => j.JobId === id)) ? true : undefined;
  });

  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await s3control.send(
      new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Suspended'], MaxResults: 2, NextToken: token })
    );
    expect(page.Jobs!.length).toBeLessThanOrEqual(2);
    for (const job of page.Jobs ?? []) {
      expect(job.Status).toBe('Suspended');
      seen.push(job.JobId!);
    }
    token = page.NextToken;
    pages++;
  } while (token && pages < 20);
  expect(pages).toBeGreaterThanOrEqual(2);
  expect(seen.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
  expect(new Set(seen).size).toBe(seen.length);

  for (const id of ids) {
    const out = await s3control.send(
      new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: id, RequestedJobStatus: 'Cancelled', StatusUpdateReason: 'not needed' })
    );
    expect(out.JobId).toBe(id);
    expect(['Cancelling', 'Cancelled']).toContain(out.Status);
  }
  for (const id of ids) expect((await waitForStatus(id, ['Cancelled'])).StatusUpdateReason).toBe('not needed');
  await until('the three jobs listed as Cancelled', async () => {
    const cancelled = await s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Cancelled'], MaxResults: 1000 }));
    return ids.every((id) => cancelled.Jobs!.some((j) => j.JobId === id)) ? true : undefined;
  });

  const bad = await failure(s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, NextToken: 'bm90LWEtdG9rZW4=' })));
  expect(bad).toMatchObject({ name: 'InvalidNextTokenException', status: 400 });
});

test('the same ClientRequestToken gives the same job; a different request under it is an IdempotencyException', async () => {
  const input = createJobInput();
  const first = await s3control.send(new CreateJobCommand(input));
  const again = await s3control.send(new CreateJobCommand(input));
  expect(again.JobId).toBe(first.JobId);
  const conflict = await failure(s3control.send(new CreateJobCommand({ ...input, Priority: 99 })));
  expect(conflict).toMatchObject({ name: 'IdempotencyException', status: 409 });
  await s3control.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: first.JobId!, RequestedJobStatus: 'Cancelled' }));
});

test("two accounts: one ClientRequestToken makes two jobs, a clash names only the caller's job, each lists only its own", async () => {
  const OTHER = '999999999999';
  const token = randomUUID();
  const mine = createJobInput({ ClientRequestToken: token, Description: 'account one' });
  const theirs = createJobInput({ AccountId: OTHER, ClientRequestToken: token, Description: 'account two' });
  const jobs = new JobClient(engine.client, { taskQueue: engine.taskQueue });
  const a = (await s3control.send(new CreateJobCommand(mine))).JobId!;
  const b = (await s3control.send(new CreateJobCommand(theirs))).JobId!;
  // A job of no account (library, CLI without --account-id): DescribeJob serves it to every account, so ListJobs does.
  const { AccountId: _account, ...noAccountInput } = createJobInput({ Description: 'no account' });
  const shared = (await jobs.createJob(noAccountInput)).jobId;
  try {
    expect(b).not.toBe(a);
    expect((await s3control.send(new CreateJobCommand(theirs))).JobId).toBe(b);
    const clash = await failure(s3control.send(new CreateJobCommand({ ...theirs, Priority: 99 })));
    expect(clash).toMatchObject({ name: 'IdempotencyException', status: 409 });
    expect(clash.message).toContain(b);
    expect(clash.message).not.toContain(a);

    const listed = async (account: string) =>
      ((await s3control.send(new ListJobsCommand({ AccountId: account }))).Jobs ?? []).map((j) => j.JobId!);
    const ofMine = await listed(ACCOUNT);
    const ofTheirs = await listed(OTHER);
    expect(ofMine).toEqual(expect.arrayContaining([a, shared]));
    expect(ofMine).not.toContain(b);
    expect(ofTheirs).toEqual(expect.arrayContaining([b, shared]));
    expect(ofTheirs).not.toContain(a);
    // Each account's listing agrees with DescribeJob: the other's job is NotFound.
    const foreign = await failure(s3control.send(new DescribeJobCommand({ AccountId: OTHER, JobId: a })));
    expect(foreign).toMatchObject({ name: 'NotFoundException', status: 404 });
    // The client library: the same per-account listing; without an account, the operator's view of every job.
    expect((await jobs.listJobs({ accountId: OTHER })).map((j) => j.JobId)).toEqual(expect.arrayContaining([b, shared]));
    expect((await jobs.listJobs({ accountId: OTHER })).map((j) => j.JobId)).not.toContain(a);
    expect((await jobs.listJobs()).map((j) => j.JobId)).toEqual(expect.arrayContaining([a, b, shared]));
  } finally {
    for (const id of [a, b, shared]) {
      await waitForStatusAs(id, ['Suspended'], id === b ? OTHER : ACCOUNT);
      await jobs.cancelJob(id);
    }
  }
});

test('a retry after the upgrade gets the job its token made before tokens were scoped per account; another account gets its own', async () => {
  const jobs = new JobClient(engine.client, { taskQueue: engine.taskQueue });
  const request = createJobInput({ Description: 'created before the upgrade' });
  // As the previous version started it: its id from the token alone.
  const legacyId = jobIdFromToken(request.ClientRequestToken!);
  await engine.client.workflow.start(JOB_WORKFLOW_TYPE, {
    workflowId: legacyId,
    taskQueue: engine.taskQueue,
    args: [request],
    memo: { RequestHash: requestHash(request), Description: request.Description },
  });
  const retried = await jobs.createJob(request);
  expect(retried).toEqual({ jobId: legacyId, created: false });
  const other = await jobs.createJob({ ...request, AccountId: '999999999999', RoleArn: 'arn:aws:iam::999999999999:role/s3-batch' });
  expect(other).toEqual({ jobId: jobIdFromToken(request.ClientRequestToken!, '999999999999'), created: true });
  expect(other.jobId).not.toBe(legacyId);
  for (const id of [legacyId, other.jobId]) {
    await waitForStatusAs(id, ['Suspended'], id === legacyId ? ACCOUNT : '999999999999');
    await jobs.cancelJob(id);
  }
});

async function waitForStatusAs(jobId: string, statuses: string[], account: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = (await s3control.send(new DescribeJobCommand({ AccountId: account, JobId: jobId }))).Job!;
    if (statuses.includes(job.Status!)) return;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${job.Status}, expected ${statuses.join(' or ')}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

test('invalid fields are InvalidRequest (400) naming the field; unknown jobs are NotFoundException (404)', async () => {
  const priority = await failure(s3control.send(new CreateJobCommand(createJobInput({ Priority: -1 }))));
  expect(priority).toMatchObject({ name: 'InvalidRequest', status: 400 });
  expect(priority.message).toMatch(/^Priority: /);

  const noReport = await failure(s3control.send(new CreateJobCommand(createJobInput({ Report: undefined }))));
  expect(noReport).toMatchObject({ name: 'InvalidRequest', status: 400 });
  expect(noReport.message).toMatch(/Report/);

  const noBucket = await failure(
    s3control.send(new CreateJobCommand(createJobInput({ Report: { Enabled: true, Format: 'Report_CSV_20180820' } })))
  );
  expect(noBucket.message).toMatch(/Report\.Bucket: required when Enabled is true/);

  const badPriority = await failure(
    s3control.send(new UpdateJobPriorityCommand({ AccountId: ACCOUNT, JobId: randomUUID(), Priority: -5 }))
  );
  expect(badPriority).toMatchObject({ name: 'InvalidRequest', status: 400 });
  expect(badPriority.message).toMatch(/^Priority: /);

  const unknown = await failure(s3control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: randomUUID() })));
  expect(unknown).toMatchObject({ name: 'NotFoundException', status: 404 });
  const unknownTags = await failure(s3control.send(new GetJobTaggingCommand({ AccountId: ACCOUNT, JobId: randomUUID() })));
  expect(unknownTags).toMatchObject({ name: 'NotFoundException', status: 404 });
});

/** Signs and sends a request by hand, for what the SDK will not send (bad XML, an old date, no signature). */
async function rawRequest(
  method: string,
  path: string,
  body: string | undefined,
  options: { sign?: boolean; signingDate?: Date } = {}
): Promise<{ status: number; text: string }> {
  const url = new URL(path, api.url);
  const headers: Record<string, string> = { host: url.host, 'x-amz-account-id': ACCOUNT };
  if (body !== undefined) headers['content-type'] = 'application/xml';
  if (options.sign !== false) {
    class Sha256 extends Hash {
      constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
        super('sha256', secret);
      }
    }
    const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: true });
    const query = Object.fromEntries(url.searchParams);
    const signed = await signer.sign(
      { method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers, body },
      { signingDate: options.signingDate }
    );
    Object.assign(headers, signed.headers);
  }
  const { host: _host, ...sent } = headers;
  const response = await fetch(url, { method, headers: sent, body });
  return { status: response.status, text: await response.text() };
}

test('UpdateJobRate (ours): sets and removes the rate limit, DescribeJob shows it; bad values and ended jobs are refused', async () => {
  const { JobId: jobId } = await s3control.send(new CreateJobCommand(createJobInput()));
  await waitForStatus(jobId!, ['Suspended']);
  const rateOf = async () => (await engine.jobs.describeJob(jobId!)).S3Batch.MaxTasksPerSecond;
  expect(await rateOf()).toBeUndefined();

  const set = await rawRequest('POST', `/v20180820/jobs/${jobId}/rate?maxTasksPerSecond=12.5`, undefined);
  expect(set.status).toBe(200);
  expect(set.text).toContain(`<JobId>${jobId}</JobId><MaxTasksPerSecond>12.5</MaxTasksPerSecond></UpdateJobRateResult>`);
  expect(await rateOf()).toBe(12.5);
  // DescribeJob's XML carries it in our S3Batch element.
  const described = await rawRequest('GET', `/v20180820/jobs/${jobId}`, undefined);
  expect(described.text).toContain('<MaxTasksPerSecond>12.5</MaxTasksPerSecond>');

  for (const bad of ['0', '-3', 'fast', '100001']) {
    const refused = await rawRequest('POST', `/v20180820/jobs/${jobId}/rate?maxTasksPerSecond=${bad}`, undefined);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('<Code>InvalidRequest</Code>');
    expect(refused.text).toContain('MaxTasksPerSecond: ');
  }
  expect(await rateOf()).toBe(12.5);

  const removed = await rawRequest('POST', `/v20180820/jobs/${jobId}/rate?maxTasksPerSecond=none`, undefined);
  expect(removed.status).toBe(200);
  expect(removed.text).not.toContain('<MaxTasksPerSecond>');
  expect(await rateOf()).toBeUndefined();

  await s3control.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: jobId, RequestedJobStatus: 'Cancelled' }));
  await waitForStatus(jobId!, ['Cancelled']);
  const ended = await rawRequest('POST', `/v20180820/jobs/${jobId}/rate?maxTasksPerSecond=5`, undefined);
  expect(ended.status).toBe(409);
  expect(ended.text).toContain('<Code>JobStatusException</Code>');
});

test('authentication: unsigned, wrong secret, unknown key and skewed requests get AWS errors; nothing is served', async () => {
  const unsigned = await rawRequest('GET', '/v20180820/jobs', undefined, { sign: false });
  expect(unsigned.status).toBe(403);
  expect(unsigned.text).toContain('<Code>AccessDenied</Code>');
  // Not even the routing answers without a signature.
  const unsignedUnknown = await rawRequest('GET', '/anything', undefined, { sign: false });
  expect(unsignedUnknown.status).toBe(403);

  const wrongSecret = clientFor({ accessKeyId: KEY.accessKeyId, secretAccessKey: 'not-the-secret' });
  expect(await failure(wrongSecret.send(new ListJobsCommand({ AccountId: ACCOUNT })))).toMatchObject({
    name: 'SignatureDoesNotMatch',
    status: 403,
  });
  const unknownKey = clientFor({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: KEY.secretAccessKey });
  expect(await failure(unknownKey.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: randomUUID() })))).toMatchObject({
    name: 'InvalidAccessKeyId',
    status: 403,
  });
  wrongSecret.destroy();
  unknownKey.destroy();

  const skewed = await rawRequest('GET', '/v20180820/jobs', undefined, { signingDate: new Date(Date.now() - 20 * 60 * 1000) });
  expect(skewed.status).toBe(403);
  expect(skewed.text).toContain('<Code>RequestTimeTooSkewed</Code>');

  const signedList = await rawRequest('GET', '/v20180820/jobs', undefined);
  expect(signedList.status).toBe(200);
  expect(signedList.text).toContain('<ListJobsResult');
});

test('a malformed XML body is MalformedXML (400)', async () => {
  const broken = await rawRequest('POST', '/v20180820/jobs', '<CreateJobRequest><Priority>1</CreateJobRequest>');
  expect(broken.status).toBe(400);
  expect(broken.text).toContain('<Code>MalformedXML</Code>');
  const wrongRoot = await rawRequest('POST', '/v20180820/jobs', '<Job><Priority>1</Priority></Job>');
  expect(wrongRoot.status).toBe(400);
  expect(wrongRoot.text).toContain('<Code>MalformedXML</Code>');
});

test('expired and future-dated requests are RequestTimeTooSkewed; within 15 minutes either way they pass', async () => {
  const list = (offsetMs: number) =>
    signedRequestBytes({
      url: api.url,
      credentials: KEY,
      method: 'GET',
      path: '/v20180820/jobs',
      accountId: ACCOUNT,
      signingDate: new Date(Date.now() + offsetMs),
    });
  const minutes = 60_000;
  for (const offset of [-16 * minutes, -24 * 60 * minutes, 16 * minutes, 24 * 60 * minutes]) {
    const refused = await sendRaw(api.url, await list(offset));
    expect({ offset, status: refused.status }).toEqual({ offset, status: 403 });
    expect(refused.text).toContain('<Code>RequestTimeTooSkewed</Code>');
  }
  for (const offset of [-14 * minutes, 14 * minutes]) {
    const accepted = await sendRaw(api.url, await list(offset));
    expect({ offset, status: accepted.status }).toEqual({ offset, status: 200 });
    expect(accepted.text).toContain('<ListJobsResult');
  }
});

/** Cleanup: cancels a ConfirmationRequired job once it waits, so no job is left running on the shared server. */
async function cancelOnceSuspended(jobId: string): Promise<void> {
  await waitForStatus(jobId, ['Suspended']);
  await s3control.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: jobId, RequestedJobStatus: 'Cancelled' }));
}

test('bursts of identical SDK calls in the same second all pass', async () => {
  const { JobId: jobId } = await s3control.send(new CreateJobCommand(createJobInput({ Description: 'burst target' })));
  const retrying = new S3ControlClient({ region: 'us-east-1', credentials: KEY, endpointProvider: () => ({ url: new URL(api.url) }) });
  try {
    const [described, listed] = await Promise.all([
      Promise.all(Array.from({ length: 25 }, () => retrying.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: jobId })))),
      Promise.all(Array.from({ length: 25 }, () => s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, MaxResults: 5 })))),
    ]);
    expect(described.map((out) => out.Job!.JobId)).toEqual(Array(25).fill(jobId));
    expect(described.every((out) => out.$metadata.attempts === 1)).toBe(true);
    expect(listed.every((out) => Array.isArray(out.Jobs))).toBe(true);
  } finally {
    retrying.destroy();
    await cancelOnceSuspended(jobId!);
  }
});
