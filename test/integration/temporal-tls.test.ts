/**
 * Temporal over TLS, end to end: the production server (v1.32.1) with mTLS required on its frontend, certificates made
 * by openssl for this run (test/helpers/tls-certs.ts), a worker that connects with its config's `temporal.tls`, jobs
 * created through the built CLI (the S3BATCH_TEMPORAL_TLS_* variables) and through the built HTTP API (its config's
 * `temporal.tls`, the key in a variable), acting on the shared stack's MinIO. Clients without a certificate, with one from another CA, or
 * without TLS are refused. An API key is sent over TLS (no client certificate) to a host name the server serves
 * without client authentication (see temporal-tls-server.ts). Afterwards no history on this server holds the client
 * key or the API key.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { Connection } from '@temporalio/client';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { JobClient } from '../../src/client';
import { parseWorkerConfig, type WorkerConfig } from '../../src/schemas/worker-config';
import { connectTemporalClient } from '../../src/temporal-connection';
import { createWorker, type BuiltWorker } from '../../src/worker-runtime';
import { buildCli, CLI, runS3batch } from '../helpers/cli';
import { linesUntil } from '../helpers/child-output';
import { freePortBlock } from '../helpers/ports';
import { createBucket, csvJob, manifestKey, putManifest, readReport, seedObjects, stackWorkerConfig, uniqueBucket } from '../helpers/engine';
import { scanHistoriesForSecrets } from '../helpers/history-secrets';
import { s3Client, uniqueName } from '../helpers/stack';
import { startTlsTemporalServer, type TlsTemporalServer } from '../helpers/temporal-tls-server';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certs';

const OPEN_HOST = 'apikey.localhost';
const API_KEY = `tmprl-${randomBytes(24).toString('hex')}`;
const ACCESS_KEY = { accessKeyId: 'AKIATLSTEST', secretAccessKey: `tls-${randomUUID()}` };
const ACCOUNT = '123456789012';
/** The HTTP API as `npm run api` runs it, built beside the CLI. */
const API = join(dirname(CLI), '..', 'api.js');

let certs: TestCertificates;
let server: TlsTemporalServer;
let config: WorkerConfig;
let worker: BuiltWorker | undefined;
let running: Promise<unknown> = Promise.resolve();
const s3 = s3Client();
const data = uniqueBucket('tls-data');
const reports = uniqueBucket('tls-reports');
const keys = Array.from({ length: 12 }, (_, i) => `tls/${String(i).padStart(2, '0')}.txt`);

/** The CLI's environment for this server over mTLS (nothing else of the shell's S3BATCH_* settings). */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('S3BATCH_TEMPORAL') && key !== 'S3BATCH_WORKER_CONFIG'));
  return {
    ...env,
    S3BATCH_TEMPORAL_ADDRESS: server.address,
    S3BATCH_NAMESPACE: server.namespace,
    S3BATCH_TASK_QUEUE: config.temporal.taskQueue,
    S3BATCH_CONNECT_TIMEOUT_MS: '10000',
    ...extra,
  };
}

const MTLS_ENV = () => ({ S3BATCH_TEMPORAL_TLS_CERT: certs.client.cert, S3BATCH_TEMPORAL_TLS_KEY: certs.client.key, S3BATCH_TEMPORAL_TLS_CA: certs.ca.cert });

beforeAll(async () => {
  certs = makeTestCertificates();
  // Built first: the compiler and the server both want the CPU.
  await buildCli();
  server = await startTlsTemporalServer(certs, join(certs.dir, 'server'), { openHost: OPEN_HOST });
  const stackConfig = stackWorkerConfig(uniqueName('tls'));
  // Through the schema, as a worker's config file is.
  config = parseWorkerConfig({
    ...stackConfig,
    temporal: {
      address: server.address,
      namespace: server.namespace,
      taskQueue: stackConfig.temporal.taskQueue,
      priorityLevels: stackConfig.temporal.priorityLevels,
      tls: { clientCertFile: certs.client.cert, clientKeyFile: certs.client.key, serverCaFile: certs.ca.cert },
    },
  });
  worker = await createWorker(config, { workflowBundlePath: await workflowBundlePath() });
  running = worker.worker.run().catch((err) => console.error('worker failed', err));
  for (const bucket of [data, reports]) await createBucket(s3, bucket);
  await seedObjects(s3, data, keys);
}, 300_000);

afterAll(async () => {
  if (worker) {
    if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
    await running;
    await worker.close();
  }
  s3.destroy();
  await server?.stop();
});

async function tagOf(key: string): Promise<Record<string, string>> {
  const out = await s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
  return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key!, t.Value!]));
}

describe('refused without a client certificate', () => {
  const refused = async (options: Parameters<typeof Connection.connect>[0]) => {
    // Connecting checks the server (getSystemInfo): a refused handshake fails here, or at the first call.
    const attempt = Connection.connect({ address: server.address, connectTimeout: 5_000, ...options }).then(async (connection) => {
      try {
        await connection.workflowService.describeNamespace({ namespace: server.namespace });
      } finally {
        await connection.close();
      }
    });
    return attempt.then(
      () => undefined,
      (err: Error) => err
    );
  };

  test('the SDK: TLS without a certificate, a certificate of another CA, plain TCP; with the certificate it connects', async () => {
    const ca = readFileSync(certs.ca.cert);
    const noCert = await refused({ tls: { serverRootCACertificate: ca } });
    expect(noCert).toBeInstanceOf(Error);
    expect(noCert!.message).toMatch(/Failed to connect|UNAVAILABLE|certificate|handshake|Connection dropped|14/i);
    const stranger = await refused({
      tls: { serverRootCACertificate: ca, clientCertPair: { crt: readFileSync(certs.strangerClient.cert), key: readFileSync(certs.strangerClient.key) } },
    });
    expect(stranger).toBeInstanceOf(Error);
    expect(await refused({})).toBeInstanceOf(Error);
    // The same calls with the right certificate succeed: what is refused above is the missing or foreign certificate.
    const client = await connectTemporalClient({ ...config.temporal });
    try {
      await client.workflowService.describeNamespace({ namespace: server.namespace });
    } finally {
      await client.connection.close();
    }
  });

  test('the CLI: without the TLS variables, exit code 4 and a message naming them', async () => {
    const result = await runS3batch(cliEnv({ S3BATCH_CONNECT_TIMEOUT_MS: '3000' }), ['list-jobs']);
    expect(result.code).toBe(EXIT_CODES.unreachable);
    expect(result.stderr).toContain(`cannot reach the Temporal server at ${server.address}`);
    expect(result.stderr).toContain('S3BATCH_TEMPORAL_TLS_CERT');
    const onlyCa = await runS3batch(cliEnv({ S3BATCH_CONNECT_TIMEOUT_MS: '3000', S3BATCH_TEMPORAL_TLS_CA: certs.ca.cert }), ['list-jobs']);
    expect(onlyCa.code).toBe(EXIT_CODES.unreachable);
  });
});

test('a job created with the CLI over mTLS runs to the end: every object tagged, the report complete', async () => {
  const manifest = await putManifest(s3, data, 'cli', keys.map((k) => `${data},${manifestKey(k)}`));
  const result = await runS3batch(cliEnv(MTLS_ENV()), [
    'create-job',
    '--manifest', `s3://${data}/${manifest.key}`,
    '--manifest-etag', manifest.etag,
    '--operation', 'tagging',
    '--tag', 'via=cli-mtls',
    '--report', `s3://${reports}/cli/`,
    '--wait',
    '--json',
    '--interval', '300',
  ]);
  if (result.code !== EXIT_CODES.ok) throw new Error(`create-job exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  const out = JSON.parse(result.stdout);
  expect(out).toMatchObject({ Created: true, Job: { Status: 'Complete', ProgressSummary: { TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 } } });
  for (const key of keys) expect(await tagOf(key)).toEqual({ via: 'cli-mtls' });
  const report = await readReport(s3, reports, `cli/job-${out.JobId}/manifest.json`);
  expect(report.rows.map((r) => r.key).sort()).toEqual([...keys].sort());
  expect(new Set(report.rows.map((r) => r.status))).toEqual(new Set(['succeeded']));
}, 180_000);

test('a job created through the HTTP API (npm run api, its config naming the certificate and a variable with the key) runs to the end', async () => {
  const keyPem = readFileSync(certs.client.key, 'utf8');
  const apiConfigFile = join(certs.dir, 'api.json');
  const [port] = await freePortBlock(1);
  writeFileSync(
    apiConfigFile,
    JSON.stringify({
      listen: { host: '127.0.0.1', port },
      accessKeys: [{ accessKeyId: ACCESS_KEY.accessKeyId, secretAccessKeyEnv: 'TLS_TEST_API_SECRET' }],
      temporal: {
        address: server.address,
        namespace: server.namespace,
        taskQueue: config.temporal.taskQueue,
        tls: { clientCertFile: certs.client.cert, clientKeyEnv: 'TLS_TEST_CLIENT_KEY', serverCaFile: certs.ca.cert, serverName: 'localhost' },
      },
    })
  );
  const env = { ...cliEnv(), S3BATCH_API_CONFIG: apiConfigFile, TLS_TEST_API_SECRET: ACCESS_KEY.secretAccessKey, TLS_TEST_CLIENT_KEY: keyPem };
  const child = spawn(process.execPath, [API], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const s3control = new S3ControlClient({
    region: 'us-east-1',
    credentials: ACCESS_KEY,
    maxAttempts: 1,
    endpointProvider: () => ({ url: new URL(`http://127.0.0.1:${port}`) }),
  });
  try {
    const output = await linesUntil(child, /s3-batch API on .*\n/);
    // The start-up line says how it connects, naming the files and the variable, never what they hold.
    expect(output).toContain(
      `(Temporal ${server.address}, mTLS (client certificate ${certs.client.cert}, server CA ${certs.ca.cert}, server name localhost), namespace ${server.namespace}`
    );
    const manifest = await putManifest(s3, data, 'api', keys.map((k) => `${data},${manifestKey(k)}`));
    const request = csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 'api-mtls' }] } }, reports, { ConfirmationRequired: false });
    const { JobId } = await s3control.send(new CreateJobCommand({ ...(request as CreateJobCommand['input']), AccountId: ACCOUNT }));
    let job = (await s3control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId }))).Job!;
    const deadline = Date.now() + 120_000;
    while (!['Complete', 'Failed', 'Cancelled'].includes(job.Status!) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      job = (await s3control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId }))).Job!;
    }
    expect(job).toMatchObject({ Status: 'Complete', ProgressSummary: { TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 } });
    for (const key of keys) expect(await tagOf(key)).toEqual({ via: 'api-mtls' });
    for (const line of keyPem.split('\n').filter((l) => l && !l.startsWith('-----'))) expect(output).not.toContain(line);
  } finally {
    s3control.destroy();
    child.kill('SIGTERM');
  }
}, 180_000);

test('an API key over TLS, without a client certificate: the CLI and the client library read the jobs', async () => {
  const apiKeyEnv = { S3BATCH_TEMPORAL_API_KEY: API_KEY, S3BATCH_TEMPORAL_TLS_CA: certs.ca.cert, S3BATCH_TEMPORAL_TLS_SERVER_NAME: OPEN_HOST };
  const listed = await runS3batch(cliEnv(apiKeyEnv), ['list-jobs', '--json']);
  if (listed.code !== EXIT_CODES.ok) throw new Error(`list-jobs exited ${listed.code}:\n${listed.stdout}\n${listed.stderr}`);
  const jobs = JSON.parse(listed.stdout) as { Jobs: { Status: string }[] };
  expect(jobs.Jobs.length).toBeGreaterThanOrEqual(2);
  expect(jobs.Jobs.every((j) => j.Status === 'Complete')).toBe(true);
  // The library, from a key file: the same fields the worker config takes.
  const keyFile = join(certs.dir, 'api-key');
  writeFileSync(keyFile, `${API_KEY}\n`);
  const client = await connectTemporalClient({ address: server.address, namespace: server.namespace, apiKeyFile: keyFile, tls: { serverCaFile: certs.ca.cert, serverName: OPEN_HOST } });
  try {
    const listedByLibrary = await new JobClient(client, { taskQueue: config.temporal.taskQueue }).listJobs();
    expect(listedByLibrary.length).toBe(jobs.Jobs.length);
  } finally {
    await client.connection.close();
  }
  // Without the open host name, the same API key client must show a certificate: the key alone does not pass mTLS.
  const refusedWithKey = await runS3batch(cliEnv({ ...apiKeyEnv, S3BATCH_TEMPORAL_TLS_SERVER_NAME: 'localhost', S3BATCH_CONNECT_TIMEOUT_MS: '3000' }), ['list-jobs']);
  expect(refusedWithKey.code).toBe(EXIT_CODES.unreachable);
}, 120_000);

test('no history on the TLS server holds the client key or the API key', async () => {
  const keyPem = readFileSync(certs.client.key, 'utf8');
  // Each base64 line of the key's body, so that a re-wrapped or partial copy is found too.
  const keyLines = keyPem.split('\n').filter((line) => line && !line.startsWith('-----') && line.length >= 16);
  expect(keyLines.length).toBeGreaterThan(0);
  const client = await connectTemporalClient({ ...config.temporal });
  try {
    const { runs, leaks } = await scanHistoriesForSecrets(client, [...keyLines, API_KEY]);
    // Two jobs (CLI, HTTP API): each a job workflow and at least one page.
    expect(runs).toBeGreaterThanOrEqual(4);
    expect(leaks).toEqual([]);
  } finally {
    await client.connection.close();
  }
});
