/**
 * The first hour: with no configuration at all, the s3batch CLI's `report` and `npm run api` find the running local
 * stack (its state file, as `npm run worker:stack` does), say which connections they use, and work. Both run as a
 * user runs them (`tsx src/cli/main.ts`, `tsx src/api.ts`), in child processes whose environment names no worker
 * config, no S3 endpoint and no API key: only where the stack keeps its state (S3BATCH_STACK_DIR).
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { DescribeJobCommand, ListJobsCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { runCommand } from '../../scripts/lib/exec';
import { createBucket, csvJob, manifestKey, putManifest, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { linesUntil } from '../helpers/child-output';
import { freePortBlock } from '../helpers/ports';
import { getStack } from '../helpers/stack';

const ROOT = resolve(__dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const ACCOUNT = '123456789012';
let engine: Engine;
let jobId: string;

/** The environment of a user who configured nothing: every s3-batch and AWS variable removed. */
function bareEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(S3BATCH_|AWS_)/.test(name)));
  return { ...env, S3BATCH_STACK_DIR: dirname(process.env.S3BATCH_STACK_STATE!), ...extra };
}

beforeAll(async () => {
  engine = await startEngine();
  const data = uniqueBucket('first-hour');
  const reports = uniqueBucket('first-hour-reports');
  for (const b of [data, reports]) await createBucket(engine.s3, b);
  const keys = ['a.txt', 'b.txt', 'c.txt'];
  await seedObjects(engine.s3, data, keys);
  const manifest = await putManifest(engine.s3, data, 'first-hour', [...keys, 'missing.txt'].map((k) => `${data},${manifestKey(k)}`));
  const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'hour', Value: 'first' }] } };
  ({ jobId } = await engine.jobs.createJob(csvJob(manifest, tagging, reports)));
  await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
});

afterAll(async () => {
  await engine?.close();
});

test('s3batch report reads the report with the local stack\'s connections when no worker config is given, and says so', async () => {
  const out = await runCommand(TSX, ['src/cli/main.ts', 'report', jobId], { cwd: ROOT, env: bareEnvironment({}), timeoutMs: 120_000 });
  expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("using the local stack's S3 connections (default, minio, moto)") });
  expect(out.stderr).toContain(process.env.S3BATCH_STACK_STATE);
  expect(out.stdout).toContain(jobId);
  expect(out.stdout).toMatch(/succeeded: 3/);
  expect(out.stdout).toMatch(/NoSuchKey/);
});

test('npm run api serves the local stack with its MinIO key when nothing is configured, and says so', async () => {
  const [port] = await freePortBlock(1);
  const child = spawn(TSX, ['src/api.ts'], {
    cwd: ROOT,
    env: bareEnvironment({ S3BATCH_API_PORT: String(port), S3BATCH_TASK_QUEUE: engine.taskQueue }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const client = new S3ControlClient({
    region: 'us-east-1',
    credentials: { accessKeyId: getStack().s3.accessKeyId, secretAccessKey: getStack().s3.secretAccessKey },
    endpointProvider: () => ({ url: new URL(`http://127.0.0.1:${port}`) }),
  });
  try {
    const output = await linesUntil(child, /s3-batch API on /);
    expect(output).toContain(`No API config (S3BATCH_API_CONFIG or S3BATCH_API_ACCESS_KEY_ID) given: serving the local stack found in ${process.env.S3BATCH_STACK_STATE}`);
    const described = await client.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: jobId }));
    expect(described.Job).toMatchObject({ JobId: jobId, Status: 'Complete' });
    const listed = await client.send(new ListJobsCommand({ AccountId: ACCOUNT }));
    expect(listed.Jobs?.map((j) => j.JobId)).toContain(jobId);
  } finally {
    client.destroy();
    child.kill('SIGTERM');
  }
});
