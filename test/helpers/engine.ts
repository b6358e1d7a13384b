/**
 * An s3-batch engine on the real local stack for one test file: a worker on its own task queue (so test files do
 * not take each other's tasks), a Temporal client and a JobClient, and helpers to seed objects and read reports.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { splitCsvLine } from '../../src/activities/manifest/csv-row';
import { JobClient } from '../../src/client';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import type { WorkerConfig } from '../../src/schemas/worker-config';
import { workerConfigForStack } from '../../scripts/stack/worker-config';
import { createWorker, type BuiltWorker } from '../../src/worker-runtime';
import type { CustomOperationDefinition } from '../../src/activities/operations/custom';
import { mapConcurrently } from './concurrency';
import { reportChecksumProblems } from './report-checksums';
import { getStack, s3Client, uniqueName } from './stack';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';

export interface Engine {
  config: WorkerConfig;
  s3: S3Client;
  client: Client;
  jobs: JobClient;
  taskQueue: string;
  worker?: BuiltWorker;
  /** Starts the in-process worker, optionally with SDK options and worker-config changes. */
  startWorker(overrides?: Partial<WorkerOptions>, worker?: Partial<WorkerConfig['worker']>): Promise<BuiltWorker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Worker config for the local stack on the given task queue (see scripts/stack/worker-config.ts). */
export function stackWorkerConfig(taskQueue: string): WorkerConfig {
  return workerConfigForStack(getStack(), taskQueue);
}

/**
 * The stack's S3 connections plus `name` (replacing it, for `default`): MinIO reached through `endpoint`, e.g. a
 * fault proxy's, so that only jobs naming that connection go through it.
 */
export function stackConnectionsVia(endpoint: string, name = 'default'): WorkerConfig['s3'] {
  const { s3 } = stackWorkerConfig('unused');
  return { ...s3, [name]: { ...s3.default!, endpoint } };
}

/**
 * `workerConfig` replaces top-level sections of the stack's worker config (e.g. `webhooks`) for this engine's
 * worker; `startWorker(…, worker)` still changes `worker.*` per start.
 */
export async function startEngine(
  options: {
    startWorker?: boolean;
    workerConfig?: Partial<Omit<WorkerConfig, 'temporal'>>;
    /** Operations the worker registers for Operation.CustomOperation. */
    customOperations?: readonly CustomOperationDefinition[];
  } = {}
): Promise<Engine> {
  const taskQueue = uniqueName('test');
  const config: WorkerConfig = { ...stackWorkerConfig(taskQueue), ...options.workerConfig };
  const s3 = s3Client();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const bundle = await workflowBundlePath();
  /** The worker's run(), to await on stop. */
  let running: Promise<unknown> = Promise.resolve();
  const engine: Engine = {
    config,
    s3,
    client,
    jobs: new JobClient(client, { taskQueue }),
    taskQueue,
    async startWorker(overrides, worker) {
      const built = await createWorker(
        { ...config, worker: { ...config.worker, ...worker } },
        { workflowBundlePath: bundle, overrides, customOperations: options.customOperations }
      );
      engine.worker = built;
      running = built.worker.run().catch((err) => console.error('worker failed', err));
      return built;
    },
    async stopWorker() {
      const built = engine.worker;
      if (!built) return;
      // run() settles only once the native worker has let go of its connection; closing the connection before that
      // fails with "Cannot close connection while Workers hold a reference to it".
      if (built.worker.getState() === 'RUNNING') built.worker.shutdown();
      await running;
      await built.close();
      engine.worker = undefined;
    },
    async close() {
      await engine.stopWorker();
      s3.destroy();
      await connection.close();
    },
  };
  if (options.startWorker !== false) await engine.startWorker();
  return engine;
}

export const uniqueBucket = uniqueName;

export async function createBucket(s3: S3Client, bucket: string, options: { objectLock?: boolean } = {}) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: options.objectLock }));
}

/** Puts objects with small bodies, `concurrency` at a time. */
export async function seedObjects(s3: S3Client, bucket: string, keys: string[], concurrency = 32): Promise<void> {
  await mapConcurrently(keys, concurrency, (key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` })));
}

/** URL-encodes a key the way a manifest wants it. */
export function manifestKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/');
}

export async function putText(s3: S3Client, bucket: string, key: string, body: string): Promise<string> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return (out.ETag ?? '').replace(/"/g, '');
}

/** Writes rows (one per line) as `manifests/<name>.csv` in `bucket`; returns where it is and its ETag. */
export async function putManifest(s3: S3Client, bucket: string, name: string, rows: string[]) {
  const key = `manifests/${name}.csv`;
  const etag = await putText(s3, bucket, key, rows.map((r) => `${r}\n`).join(''));
  return { bucket, key, etag };
}

export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}

export interface ParsedReportRow {
  bucket: string;
  key: string;
  versionId: string;
  status: string;
  httpStatus: string;
  errorCode: string;
  message: string;
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToByteArray();
}

/**
 * Reads a job's report (manifest.json and every shard) into rows, after checking every MD5 it gives (each shard's in
 * manifest.json, manifest.json's in manifest.json.md5) against the bytes in the bucket: throws on any mismatch.
 */
export async function readReport(s3: S3Client, bucket: string, manifestKey: string) {
  const manifestBytes = await getBytes(s3, bucket, manifestKey);
  const manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as {
    Format: string;
    ReportSchema: string;
    Results: { TaskExecutionStatus: string; Bucket: string; Key: string; MD5Checksum: string }[];
  };
  const shards = new Map<string, Uint8Array>();
  for (const shard of manifest.Results) shards.set(shard.Key, await getBytes(s3, shard.Bucket, shard.Key));
  const problems = reportChecksumProblems({ manifest: manifestBytes, manifestMd5: await getText(s3, bucket, `${manifestKey}.md5`), shards });
  if (problems.length > 0) throw new Error(`report s3://${bucket}/${manifestKey} fails its checksums:\n${problems.join('\n')}`);
  const rows: ParsedReportRow[] = [];
  for (const shard of manifest.Results) {
    const text = Buffer.from(shards.get(shard.Key)!).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const fields = splitCsvLine(line);
      if (!Array.isArray(fields)) throw new Error(`bad report line ${JSON.stringify(line)}: ${fields.error}`);
      const [b, k, v, status, httpStatus, errorCode, message] = fields;
      rows.push({ bucket: b!, key: k!, versionId: v!, status: status!, httpStatus: httpStatus!, errorCode: errorCode!, message: message! });
    }
  }
  return { manifest, rows };
}

/** A CreateJob request over a CSV manifest, reporting AllTasks into `reportBucket`. */
export function csvJob(
  manifest: { bucket: string; key: string; etag?: string },
  operation: CreateJobInput['Operation'],
  reportBucket: string,
  extra: Partial<CreateJobInput> = {}
): CreateJobInput {
  return {
    AccountId: '123456789012',
    ClientRequestToken: randomUUID(),
    Priority: 10,
    RoleArn: 'arn:aws:iam::123456789012:role/s3-batch',
    Operation: operation,
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
    },
    Report: { Enabled: true, Bucket: `arn:aws:s3:::${reportBucket}`, Format: 'Report_CSV_20180820', Prefix: 'reports', ReportScope: 'AllTasks' },
    ...extra,
  };
}

/** The same request over a manifest whose rows carry a third column, the version id. */
export function withVersionIds(request: CreateJobInput): CreateJobInput {
  const manifest = request.Manifest!;
  return { ...request, Manifest: { ...manifest, Spec: { ...manifest.Spec, Fields: ['Bucket', 'Key', 'VersionId'] } } };
}
