/**
 * Secrets never enter workflow history (Temporal Web shows it). This file runs last (test/sequencer.js): it runs a
 * job of its own with a status webhook signed by a secret only this worker knows, then reads the history of every
 * workflow in the namespace (every run of every job and page the whole test run started: inputs, results,
 * signals, updates, memo, search attributes, failures) and looks for each configured secret: the S3 and Lambda
 * secret keys of the worker config, the webhook secret, and the secret of an HTTP API access key this file creates and
 * changes a job with. Payload bytes are decoded as UTF-8 before searching.
 *
 * The stack's dev server has no TLS: the Temporal client key and API key are looked for in the histories of the TLS
 * test's own server (temporal-tls.test.ts), with the same scan (test/helpers/history-secrets.ts).
 *
 * Secrets under 8 characters (moto's and the Lambda emulator's "test") are left out: they occur in ordinary words
 * (task queue names begin with "test-") and a match would prove nothing.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateJobCommand,
  PutJobTaggingCommand,
  S3ControlClient,
  UpdateJobPriorityCommand,
  UpdateJobStatusCommand,
} from '@aws-sdk/client-s3-control';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer } from '../../src/http-api/server';
import type { WorkerConfig } from '../../src/schemas/worker-config';
import { createBucket, csvJob, putManifest, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { scanHistoriesForSecrets } from '../helpers/history-secrets';

const WEBHOOK_SECRET = `whsec-${randomBytes(16).toString('hex')}`;
const API_KEY = { accessKeyId: 'AKIASECRETSCAN', secretAccessKey: `apisec-${randomBytes(16).toString('hex')}` };
let engine: Engine;
let receiver: Server;
let received = 0;

function configuredSecrets(config: WorkerConfig): string[] {
  const keys: string[] = [];
  for (const connection of [...Object.values(config.s3), ...Object.values(config.lambda)]) {
    const credentials = connection.credentials;
    if (credentials && 'secretAccessKey' in credentials) {
      keys.push(credentials.secretAccessKey);
      if (credentials.sessionToken) keys.push(credentials.sessionToken);
    }
  }
  return [...new Set([...keys, WEBHOOK_SECRET, API_KEY.secretAccessKey])].filter((secret) => secret.length >= 8);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  engine = await startEngine({ workerConfig: { webhooks: { secret: WEBHOOK_SECRET, allowedUrlPrefixes: [url], timeoutSeconds: 5 } } });
  const bucket = uniqueBucket('secrets');
  await createBucket(engine.s3, bucket);
  await seedObjects(engine.s3, bucket, ['s/1', 's/2']);
  // Successes, a failure, a report and signed webhook deliveries: the paths a secret could leak through.
  const manifest = await putManifest(engine.s3, bucket, 'secrets', [`${bucket},s/1`, `${bucket},s/2`, `${bucket},s/missing`]);
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }, bucket, { Extensions: { StatusWebhook: { Url: url } } })
  );
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 1 });
  await apiJob(manifest, bucket);
}, 120_000);

/** A job created, tagged, reprioritised and confirmed through the HTTP API with a scoped key: its secret signs each call. */
async function apiJob(manifest: { bucket: string; key: string; etag: string }, bucket: string): Promise<void> {
  const account = '123456789012';
  const role = `arn:aws:iam::${account}:role/s3-batch`;
  const { temporal } = engine.config;
  const config = parseApiConfig({
    listen: { host: '127.0.0.1', port: 0 },
    accessKeys: [{ ...API_KEY, accounts: [account], access: 'write', roles: [role] }],
    temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue: engine.taskQueue },
  });
  const api = await startApiServer({ config, jobs: engine.jobs });
  const s3control = new S3ControlClient({ region: 'us-east-1', credentials: API_KEY, endpointProvider: () => ({ url: new URL(api.url) }) });
  try {
    const request = csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'api' }] } }, bucket);
    const { JobId } = await s3control.send(
      new CreateJobCommand({ ...(request as CreateJobCommand['input']), AccountId: account, RoleArn: role, ConfirmationRequired: true })
    );
    const jobId = JobId!;
    for (let job = await engine.jobs.describeJob(jobId); job.Status !== 'Suspended'; job = await engine.jobs.describeJob(jobId)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await s3control.send(new PutJobTaggingCommand({ AccountId: account, JobId: jobId, Tags: [{ Key: 'scan', Value: 'api' }] }));
    await s3control.send(new UpdateJobPriorityCommand({ AccountId: account, JobId: jobId, Priority: 7 }));
    await s3control.send(new UpdateJobStatusCommand({ AccountId: account, JobId: jobId, RequestedJobStatus: 'Ready' }));
    const done = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
    expect(done).toMatchObject({ Status: 'Complete', Priority: 7, ProgressSummary: { NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 1 } });
  } finally {
    s3control.destroy();
    await api.close();
  }
}
afterAll(async () => {
  await engine?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('no configured secret appears in the history of any workflow of the run', async () => {
  const secrets = configuredSecrets(engine.config);
  expect(secrets).toEqual(expect.arrayContaining([WEBHOOK_SECRET, API_KEY.secretAccessKey]));
  expect(secrets.length).toBeGreaterThan(1);
  // The webhook job delivered, signed with the secret: it was in use, not merely configured.
  expect(received).toBeGreaterThan(0);

  const { runs, events, leaks } = await scanHistoriesForSecrets(engine.client, secrets);
  console.log(`secret scan: ${runs} workflow runs, ${events} events, ${secrets.length} secrets, ${leaks.length} found`);
  expect(runs).toBeGreaterThan(0);
  expect(leaks).toEqual([]);
}, 30 * 60_000);
