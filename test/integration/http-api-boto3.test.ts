/**
 * The HTTP API as a Python service meets it: boto3's s3control client (from the stack's moto venv, where boto3 comes
 * with moto) in a child process (test/fixtures/boto3/s3control_service.py), against the API server on a free port,
 * backed by the real stack and an in-process worker. botocore signs no per-call nonce, so tight describe-job polls
 * send identical signed requests within one second; every one must be served, with the default (legacy) and the
 * standard retry modes, and without a retry hiding a refusal.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { runCommand } from '../../scripts/lib/exec';
import { cachePaths, toolCacheDir } from '../../scripts/tools/cache';
import { venvPaths } from '../../scripts/tools/moto-venv';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer, type ApiServer } from '../../src/http-api/server';
import { JobClient } from '../../src/job-client';
import { createBucket, manifestKey, putManifest, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';

const SCRIPT = resolve(__dirname, '../fixtures/boto3/s3control_service.py');
const ACCOUNT = '123456789012';
const KEY = { accessKeyId: 'AKIAS3BATCHBOTO3', secretAccessKey: `secret-${randomUUID()}` };
const POLLS = 60;

let engine: Engine;
let api: ApiServer;
const served: string[] = [];

beforeAll(async () => {
  engine = await startEngine();
  api = await startApiServer({
    config: parseApiConfig({
      listen: { host: '127.0.0.1', port: 0 },
      accessKeys: [KEY],
      temporal: { address: engine.config.temporal.address, namespace: engine.config.temporal.namespace, taskQueue: engine.taskQueue },
    }),
    jobs: new JobClient(engine.client, { taskQueue: engine.taskQueue }),
    log: (line) => served.push(line),
  });
});

afterAll(async () => {
  await api?.close();
  await engine?.close();
});

test('boto3 drives the whole job lifecycle; 2 x 60 tight describe-job polls are all served', async () => {
  const data = uniqueBucket('boto3-data');
  const reports = uniqueBucket('boto3-reports');
  for (const b of [data, reports]) await createBucket(engine.s3, b);
  const keys = Array.from({ length: 10 }, (_, i) => `boto3/${i}.txt`);
  await seedObjects(engine.s3, data, keys);
  const manifest = await putManifest(engine.s3, data, 'boto3', keys.map((k) => `${data},${manifestKey(k)}`));

  const python = venvPaths(cachePaths(toolCacheDir())).python;
  const run = await runCommand(python, [SCRIPT], {
    env: {
      PATH: process.env.PATH,
      API_URL: api.url,
      ACCESS_KEY_ID: KEY.accessKeyId,
      SECRET_ACCESS_KEY: KEY.secretAccessKey,
      ACCOUNT_ID: ACCOUNT,
      MANIFEST_ARN: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`,
      MANIFEST_ETAG: manifest.etag,
      REPORT_BUCKET: reports,
      POLLS: String(POLLS),
    },
    timeoutMs: 300_000,
  });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const out = JSON.parse(run.stdout);

  const [first, again] = out.created;
  expect(first).toMatch(/^[0-9a-f-]{36}$/);
  expect(again).toBe(first);
  expect(out.idempotency).toMatchObject({ code: 'IdempotencyException', status: 409 });
  for (const mode of ['default', 'standard']) {
    expect({ mode, ...out.polls[mode] }).toEqual({ mode, polls: POLLS, answered: POLLS, errors: [], retries: 0, sameSecond: expect.any(Number) });
  }
  // Tight polls fall in the same second, so identical signatures really were sent (and served).
  expect(out.polls.default.sameSecond + out.polls.standard.sameSecond).toBeGreaterThan(0);
  expect(served.filter((line) => / 403 /.test(line) && !/SignatureDoesNotMatch/.test(line))).toEqual([]);

  expect(out.suspended).toBe('Suspended');
  expect(out.listedSuspended).toContain(first);
  expect(out.priority).toBe(42);
  expect(out.tags).toEqual([{ Key: 'team', Value: 'python' }]);
  expect(out.tagsAfterDelete).toEqual([]);
  expect(['Ready', 'Active', 'Complete']).toContain(out.confirmAnswer);
  expect(out.confirmed).toEqual({
    status: 'Complete',
    progress: expect.objectContaining({ TotalNumberOfTasks: keys.length, NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 }),
  });
  expect(out.cancelled).toEqual({ status: 'Cancelled', reason: 'not needed' });
  expect(out.badRequest).toEqual({ code: 'InvalidRequest', status: 400, message: expect.stringContaining('Report.Bucket: required when Enabled is true') });
  expect(out.wrongSignature).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
});
