/**
 * The API server with @aws-sdk/client-s3-control against an in-memory stand-in for the JobClient: the wire format
 * (paths, query names, XML both ways) and the error mapping, without the stack. The real engine is exercised by
 * test/integration/http-api.test.ts.
 */
import {
  CreateJobCommand,
  DescribeJobCommand,
  GetJobTaggingCommand,
  ListJobsCommand,
  PutJobTaggingCommand,
  S3ControlClient,
  UpdateJobPriorityCommand,
  UpdateJobStatusCommand,
} from '@aws-sdk/client-s3-control';
import { WorkflowNotFoundError } from '@temporalio/common';
import { IdempotencyError, JobClient, JobSpecError, JobStatusError, type JobListPage } from '../../src/job-client';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer, type ApiServer } from '../../src/http-api/server';
import type { JobDescriptor } from '../../src/shared/types';
import { validateJobSpec } from '../../src/schemas/job-spec';
import { awsFailure } from '../helpers/aws-failure';
import { sendRaw, signedRequestBytes } from '../helpers/raw-http';

const ACCOUNT = '123456789012';
const KEY = { accessKeyId: 'AKIDUNIT', secretAccessKey: 'unit-secret' };
const JOB_ID = 'job-00001';
const calls: { name: string; args: unknown[] }[] = [];
let tags = [{ Key: 'x', Value: 'y' }];
/** How many listJobsPage calls fail next with Temporal's rate limit (gRPC RESOURCE_EXHAUSTED): the API answers 429. */
let throttleListJobs = 0;
const logLines: string[] = [];

const descriptor = (): JobDescriptor => ({
  JobId: JOB_ID,
  JobArn: `arn:aws:s3:local:${ACCOUNT}:job/${JOB_ID}`,
  ConfirmationRequired: true,
  Description: 'unit',
  Status: 'Suspended',
  Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] }, Location: { ObjectArn: 'arn:aws:s3:::data/m.csv', ETag: 'e' } },
  Operation: { LambdaInvoke: { FunctionArn: 'fn', InvocationSchemaVersion: '2.0', UserArguments: { a: 'b' } } },
  Priority: 3,
  ProgressSummary: { TotalNumberOfTasks: 3, NumberOfTasksSucceeded: 1, NumberOfTasksFailed: 0, Timers: { ElapsedTimeInActiveSeconds: 4 } },
  FailureReasons: [],
  Report: { Enabled: false },
  CreationTime: '2026-11-22T06:00:00.000Z',
  SuspendedDate: '2026-11-22T06:00:01.000Z',
  SuspendedCause: 'ConfirmationRequired',
  S3Batch: { FailedTasksByErrorCode: {}, Summary: '', PagesDone: 0, Tags: tags },
});

/** Only what the API calls; each records its arguments. */
const fake = {
  // The API acts for the caller's key: one client per actor, here the same stand-in.
  withActor(actor: string) {
    calls.push({ name: 'withActor', args: [actor] });
    return fake;
  },
  async createJob(request: unknown) {
    calls.push({ name: 'createJob', args: [request] });
    const validation = validateJobSpec(request);
    if (!validation.ok) throw new JobSpecError(validation.problems);
    if (validation.job.request.ClientRequestToken === 'conflict') throw new IdempotencyError(JOB_ID);
    return { jobId: JOB_ID, created: true };
  },
  async describeJob(jobId: string) {
    if (jobId !== JOB_ID) throw new WorkflowNotFoundError('not found', jobId, undefined);
    return descriptor();
  },
  async listJobsPage(options: unknown): Promise<JobListPage> {
    calls.push({ name: 'listJobsPage', args: [options] });
    if (throttleListJobs > 0) {
      throttleListJobs--;
      throw Object.assign(new Error('namespace rate limit exceeded'), { code: 8 });
    }
    return {
      jobs: [{ JobId: JOB_ID, Operation: 'LambdaInvoke', Priority: 3, Status: 'Suspended', CreationTime: '2026-11-22T06:00:00.000Z' }],
      nextToken: 'bmV4dA==',
    };
  },
  async updateJobStatus(jobId: string, status: string, reason?: string) {
    if (status === 'Cancelled') throw new JobStatusError('the job is Complete; a finished job cannot change');
    return { JobId: jobId, Status: status, StatusUpdateReason: reason };
  },
  async updateJobPriority(jobId: string, priority: number) {
    return { JobId: jobId, Priority: priority };
  },
  async putJobTagging(_jobId: string, next: typeof tags) {
    tags = next;
    return next;
  },
};

let api: ApiServer;
let client: S3ControlClient;

beforeAll(async () => {
  api = await startApiServer({
    config: parseApiConfig({ listen: { port: 0 }, accessKeys: [KEY], accountId: ACCOUNT }),
    jobs: fake as unknown as JobClient,
    log: (line) => logLines.push(line),
  });
  client = new S3ControlClient({ region: 'us-east-1', credentials: KEY, endpointProvider: () => ({ url: new URL(api.url) }), maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await api?.close();
});

const failure = awsFailure;

test('CreateJob: the XML body reaches the job client as the spec shape, AccountId from the header', async () => {
  const out = await client.send(
    new CreateJobCommand({
      AccountId: ACCOUNT,
      Priority: 1,
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/r`,
      Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } },
      Report: { Enabled: false },
      Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820' }, Location: { ObjectArn: 'arn:aws:s3:::data/m.csv', ETag: 'e' } },
      Tags: [{ Key: 'one', Value: '1' }],
    })
  );
  expect(out.JobId).toBe(JOB_ID);
  const request = calls.find((c) => c.name === 'createJob')!.args[0] as Record<string, unknown>;
  expect(request).toMatchObject({
    AccountId: ACCOUNT,
    Priority: 1,
    Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } },
    Report: { Enabled: false },
    Tags: [{ Key: 'one', Value: '1' }],
  });
  expect(typeof request.ClientRequestToken).toBe('string');
  // The change is made as the key that signed the request.
  expect(calls.filter((c) => c.name === 'withActor').map((c) => c.args[0])).toContain(`access-key:${KEY.accessKeyId}`);
});

test('DescribeJob, ListJobs, GetJobTagging and the updates come back as the SDK types', async () => {
  const { Job } = await client.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: JOB_ID }));
  expect(Job).toEqual({
    JobId: JOB_ID,
    JobArn: `arn:aws:s3:us-east-1:${ACCOUNT}:job/${JOB_ID}`,
    ConfirmationRequired: true,
    Description: 'unit',
    Status: 'Suspended',
    Manifest: descriptor().Manifest,
    Operation: descriptor().Operation,
    Priority: 3,
    ProgressSummary: descriptor().ProgressSummary,
    Report: { Enabled: false },
    CreationTime: new Date('2026-11-22T06:00:00.000Z'),
    SuspendedDate: new Date('2026-11-22T06:00:01.000Z'),
    SuspendedCause: 'ConfirmationRequired',
  });

  const list = await client.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Active', 'Suspended'], MaxResults: 5, NextToken: 'cHJldg==' }));
  expect(calls.filter((c) => c.name === 'listJobsPage').pop()!.args[0]).toEqual({ statuses: ['Active', 'Suspended'], accountId: ACCOUNT, withJobsOfNoAccount: true, maxResults: 5, nextToken: 'cHJldg==' });
  expect(list.NextToken).toBe('bmV4dA==');
  expect(list.Jobs).toEqual([
    { JobId: JOB_ID, Operation: 'LambdaInvoke', Priority: 3, Status: 'Suspended', CreationTime: new Date('2026-11-22T06:00:00.000Z') },
  ]);

  await client.send(new PutJobTaggingCommand({ AccountId: ACCOUNT, JobId: JOB_ID, Tags: [{ Key: 'a', Value: '' }] }));
  expect((await client.send(new GetJobTaggingCommand({ AccountId: ACCOUNT, JobId: JOB_ID }))).Tags).toEqual([{ Key: 'a', Value: '' }]);

  expect(await client.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: JOB_ID, RequestedJobStatus: 'Ready', StatusUpdateReason: 'go' }))).toMatchObject({
    JobId: JOB_ID,
    Status: 'Ready',
    StatusUpdateReason: 'go',
  });
  expect(await client.send(new UpdateJobPriorityCommand({ AccountId: ACCOUNT, JobId: JOB_ID, Priority: 9 }))).toMatchObject({ JobId: JOB_ID, Priority: 9 });
});

test('errors: each as the code and status AWS uses', async () => {
  expect(await failure(client.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: 'job-missing' })))).toMatchObject({
    name: 'NotFoundException',
    status: 404,
  });
  expect(await failure(client.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: JOB_ID, RequestedJobStatus: 'Cancelled' })))).toMatchObject({
    name: 'JobStatusException',
    status: 409,
  });
  const conflict = await failure(
    client.send(
      new CreateJobCommand({
        AccountId: ACCOUNT,
        ClientRequestToken: 'conflict',
        Priority: 1,
        RoleArn: 'r',
        Operation: { S3DeleteObjectTagging: {} },
        Report: { Enabled: false },
        Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820' }, Location: { ObjectArn: 'arn:aws:s3:::data/m.csv', ETag: 'e' } },
      })
    )
  );
  expect(conflict).toMatchObject({ name: 'IdempotencyException', status: 409 });
  const tooMany = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  expect(await failure(client.send(new PutJobTaggingCommand({ AccountId: ACCOUNT, JobId: JOB_ID, Tags: tooMany })))).toMatchObject({
    name: 'TooManyTagsException',
    status: 400,
  });
  const status = await failure(client.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId: JOB_ID, RequestedJobStatus: 'Paused' as 'Ready' })));
  expect(status).toMatchObject({ name: 'InvalidRequest', status: 400 });
  expect(status.message).toMatch(/^RequestedJobStatus: /);
  expect(await failure(client.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Bogus' as 'Active'] })))).toMatchObject({
    name: 'InvalidRequest',
    status: 400,
    message: expect.stringMatching(/^JobStatuses/),
  });
  // Another account than the configured one.
  expect(await failure(client.send(new DescribeJobCommand({ AccountId: '999999999999', JobId: JOB_ID })))).toMatchObject({
    name: 'AccessDenied',
    status: 403,
  });
});

test('unsigned requests are AccessDenied, whatever the path', async () => {
  for (const path of ['/v20180820/jobs', '/v20180820/jobs/job-00001', '/', '/v20180820/bucket']) {
    const response = await fetch(new URL(path, api.url));
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/<ErrorResponse><Error><Code>AccessDenied<\/Code><Message>Access Denied<\/Message><\/Error>/);
  }
});

/** A ListJobs request signed once, as the bytes a client would send. */
const signedListJobsBytes = (url: string) =>
  signedRequestBytes({ url, credentials: KEY, method: 'GET', path: '/v20180820/jobs', accountId: ACCOUNT });

test('the same signed bytes sent again are served again, as AWS serves them (even two copies at once)', async () => {
  const bytes = await signedListJobsBytes(api.url);
  for (const response of [await sendRaw(api.url, bytes), await sendRaw(api.url, bytes)]) {
    expect(response.status).toBe(200);
    expect(response.text).toContain('<ListJobsResult');
  }
  const twice = await signedListJobsBytes(api.url);
  const statuses = (await Promise.all([sendRaw(api.url, twice), sendRaw(api.url, twice)])).map((r) => r.status);
  expect(statuses).toEqual([200, 200]);
});

test('identical SDK calls at once, and its automatic retries, are all served', async () => {
  const burst = await Promise.all(Array.from({ length: 20 }, () => client.send(new ListJobsCommand({ AccountId: ACCOUNT }))));
  expect(burst.every((out) => out.Jobs?.length === 1)).toBe(true);

  const retrying = new S3ControlClient({ region: 'us-east-1', credentials: KEY, endpointProvider: () => ({ url: new URL(api.url) }), maxAttempts: 3 });
  try {
    throttleListJobs = 1;
    logLines.length = 0;
    const out = await retrying.send(new ListJobsCommand({ AccountId: ACCOUNT }));
    expect(out.$metadata.attempts).toBe(2);
    expect(out.Jobs).toHaveLength(1);
    expect(logLines.map((line) => line.split(' ').slice(1, 5).join(' '))).toEqual([
      'GET /v20180820/jobs 429 TooManyRequestsException',
      expect.stringMatching(/^GET \/v20180820\/jobs 200 /),
    ]);
  } finally {
    retrying.destroy();
  }
});
