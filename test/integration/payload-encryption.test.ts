/**
 * Payload encryption end to end: a worker and a client with the AES-GCM codec run a real job on MinIO in each task
 * mode; the history, read raw by a client without the codec, holds no plaintext of the job (its bucket, keys and
 * description appear nowhere, and every payload, local-activity marker results included, is binary/encrypted); the codec server decodes a history payload back for Temporal
 * Web; a client with the wrong key cannot read the job.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { clientDataConverter } from '../../src/codec/data-converter';
import { payloadKeysFromEnv } from '../../src/codec/payload-keys';
import { JobClient } from '../../src/client';
import { startCodecServer } from '../../src/codec-server';
import { createBucket, csvJob, putText, readReport, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';

const keyEnv = { S3BATCH_PAYLOAD_KEYS: `t1=${randomBytes(32).toString('base64')}` };
const data = uniqueBucket('enc-data');
const description = `encrypted-job-${randomBytes(4).toString('hex')}`;
let engine: Engine;
let connection: Connection;
let jobs: JobClient;
let codecServer: Server | undefined;

beforeAll(async () => {
  const keys = payloadKeysFromEnv(keyEnv)!;
  engine = await startEngine({
    workerConfig: { payloadEncryption: { keys: [{ id: 't1', key: Buffer.from(keys.keys.get('t1')!).toString('base64') }] } },
  });
  connection = await Connection.connect({ address: engine.config.temporal.address });
  jobs = new JobClient(new Client({ connection, namespace: engine.config.temporal.namespace, dataConverter: clientDataConverter(keyEnv) }), {
    taskQueue: engine.taskQueue,
  });
  await createBucket(engine.s3, data);
});

afterAll(async () => {
  codecServer?.close();
  await connection?.close();
  await engine?.close();
});

function* byteStrings(value: unknown, depth = 0): Generator<string> {
  if (value instanceof Uint8Array) yield Buffer.from(value).toString('latin1');
  else if (typeof value === 'string') yield value;
  else if (value && typeof value === 'object' && depth < 40) {
    for (const child of Object.values(value)) yield* byteStrings(child, depth + 1);
  }
}

test.each(['Activity', 'LocalActivity'] as const)('a job runs with encrypted payloads (%s); raw history shows only ciphertext; the codec server decodes it', async (mode) => {
  const keys = ['a', 'b', 'c'].map((k) => `enc-${mode}/${k}`);
  await seedObjects(engine.s3, data, keys);
  const etag = await putText(engine.s3, data, `m-${mode}.csv`, keys.map((k) => `${data},${k}\n`).join(''));
  // Activity mode schedules its tasks with summaries (user metadata); LocalActivity mode (the default) records each
  // task's result in a marker: both must be encrypted.
  const { jobId } = await jobs.createJob(
    csvJob({ bucket: data, key: `m-${mode}.csv`, etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'enc', Value: '1' }] } }, data, {
      Description: description,
      Extensions: { TaskExecution: mode },
    })
  );
  const job = await jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job).toMatchObject({ Status: 'Complete', Description: description, ProgressSummary: { NumberOfTasksSucceeded: 3 } });
  expect((await readReport(engine.s3, data, job.S3Batch.ReportManifestKey!)).rows).toHaveLength(3);

  // Raw history of the job and its pages, through a client that has no codec (engine.client).
  let payloads = 0;
  let encrypted = 0;
  let markerResults = 0;
  const codec = new AesGcmCodec(payloadKeysFromEnv(keyEnv)!);
  const histories = [jobId, `${jobId}/page-0`];
  let sample: { metadata: Record<string, string>; data: string } | undefined;
  for (const id of histories) {
    const history = await engine.client.workflow.getHandle(id).fetchHistory();
    // Every byte string anywhere in the history (payloads, markers, user metadata, failures). Search attributes stay
    // readable (Temporal indexes them), and hold status, operation and priority only.
    for (const bytes of byteStrings(history)) {
      expect(bytes).not.toContain(data);
      expect(bytes).not.toContain(description);
      for (const key of keys) expect(bytes).not.toContain(key);
    }
    for (const event of history.events ?? []) {
      const input = event.workflowExecutionStartedEventAttributes?.input?.payloads ?? event.activityTaskScheduledEventAttributes?.input?.payloads ?? [];
      // A local activity's marker: `result` is the task's result through the codec (`data`, the SDK's own record of
      // the call, is its type, id and times: no job data, as the byte check above shows).
      const markerResult = event.markerRecordedEventAttributes?.details?.result?.payloads ?? [];
      // An activity's result (the tasks' in Activity mode).
      const activityResult = event.activityTaskCompletedEventAttributes?.result?.payloads ?? [];
      markerResults += markerResult.length;
      // Decoded with the key, a marker's result is the task's result: the check above looked at the right payload.
      for (const decoded of await codec.decode(markerResult)) expect(Buffer.from(decoded.data ?? []).toString()).toMatch(/"status":"succeeded"/);
      for (const p of [...input, ...markerResult, ...activityResult]) {
        payloads++;
        const encoding = Buffer.from(p.metadata?.encoding ?? []).toString();
        if (encoding === 'binary/encrypted') encrypted++;
        const bytes = Buffer.from(p.data ?? []).toString('latin1');
        expect(bytes).not.toContain(data);
        expect(bytes).not.toContain(description);
        if (!sample && id === jobId && event.workflowExecutionStartedEventAttributes) {
          sample = {
            metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
            data: Buffer.from(p.data ?? []).toString('base64'),
          };
        }
      }
    }
  }
  expect(payloads).toBeGreaterThan(0);
  expect(encrypted).toBe(payloads);
  // In LocalActivity mode the three tasks' results were among them, in markers.
  expect(markerResults).toBe(mode === 'LocalActivity' ? 3 : 0);

  // The codec server gives Temporal Web the job's input back.
  codecServer?.close();
  const started = await startCodecServer({ codec: new AesGcmCodec(payloadKeysFromEnv(keyEnv)!), port: 0, token: 'a-token-of-16-chars+' });
  codecServer = started.server;
  const post = (body: unknown, token = 'a-token-of-16-chars+') =>
    fetch(`${started.url}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, Origin: 'http://localhost:8233', 'X-Namespace': 's3-batch' },
      body: JSON.stringify(body),
    });
  const decoded = await post({ payloads: [sample!] });
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
  const [input] = ((await decoded.json()) as { payloads: { data: string }[] }).payloads;
  expect(Buffer.from(input!.data, 'base64').toString()).toContain(description);
  expect((await post({ payloads: [sample!] }, 'wrong-token-of-16-chars')).status).toBe(401);
  const bad = await post({ payloads: [{ data: 'not base64!' }] });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toMatch(/payloads\[0\]\.data: expected base64/);
});

test('a client with another key cannot read the job, and says which key it lacks', async () => {
  const other = new JobClient(
    new Client({
      connection,
      namespace: engine.config.temporal.namespace,
      dataConverter: clientDataConverter({ S3BATCH_PAYLOAD_KEYS: `t2=${randomBytes(32).toString('base64')}` }),
    }),
    { taskQueue: engine.taskQueue }
  );
  const page = await jobs.listJobsPage({ maxResults: 1 });
  const jobId = page.jobs[0]!.JobId;
  expect(page.jobs[0]!.Description).toBe(description);
  await expect(other.describeJob(jobId)).rejects.toThrow(/key "t1", which is not among this process's keys \(t2\)/);
  // It still lists the job, from what Temporal indexes (status, operation, priority), without the encrypted memo.
  for (const client of [other, engine.jobs]) {
    const listed = (await client.listJobs()).find((j) => j.JobId === jobId);
    expect(listed).toMatchObject({ JobId: jobId, Status: 'Complete', Operation: 'S3PutObjectTagging' });
    expect(listed!.Description).toBeUndefined();
    expect(listed!.ProgressSummary).toBeUndefined();
  }
});
