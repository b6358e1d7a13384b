/**
 * Operations repeated after a lost response (issue #8): the worker's S3 traffic goes through the fault proxy, which
 * forwards the first call of each task to MinIO (or moto) and then cuts the connection before the answer, so the SDK
 * or the task retry sends it again. The objects must end as one application would leave them, compared with a
 * reference made by calling S3 directly; where a repeat leaves something behind (an extra version, an extra delete
 * marker) the test pins exactly that, and docs/reliability.md says so.
 */
import { randomUUID } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { IncomingMessage } from 'node:http';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putManifest, readReport, startEngine, stackWorkerConfig, uniqueBucket, type Engine } from '../helpers/engine';
import { requestSignature, startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy';
import { getStack, motoClient } from '../helpers/stack';

let engine: Engine;
let proxy: FaultProxy;
let motoProxy: FaultProxy;
let moto: S3Client;
const data = uniqueBucket('idem-data');
const versioned = uniqueBucket('idem-ver');
const locked = uniqueBucket('idem-lock');
const target = uniqueBucket('idem-copy');
const reports = uniqueBucket('idem-reports');
const motoData = uniqueBucket('idem-moto');

/** Loses the answer of the first call of each object-changing request signature in the given buckets, once. */
function firstCallLoser(buckets: string[]) {
  const seen = new Set<string>();
  return (req: IncomingMessage) => {
    const signature = requestSignature(req);
    const inScope = req.method !== 'GET' && req.method !== 'HEAD' && buckets.some((b) => signature.includes(` /${b}/`));
    if (!inScope || seen.has(signature)) return false;
    seen.add(signature);
    return true;
  };
}

beforeAll(async () => {
  const stack = getStack();
  proxy = await startFaultProxy({
    target: stack.s3.endpoint,
    rates: { lostResponse: 1 },
    seed: 3,
    eligible: firstCallLoser([data, versioned, locked, target]),
  });
  motoProxy = await startFaultProxy({
    target: stack.moto.endpoint,
    rates: {},
    seed: 4,
    // moto accepts a repeated restore; AWS answers a restore under way with 409 RestoreAlreadyInProgress, so the
    // proxy answers every RestoreObject for keys under `underway/` that way, as AWS would on the repeat.
    answer: (req) =>
      req.method === 'POST' && requestSignature(req).startsWith(`POST /${motoData}/underway/`)
        ? { status: 409, code: 'RestoreAlreadyInProgress', message: 'Object restore is already in progress' }
        : undefined,
  });
  const base = stackWorkerConfig('unused');
  engine = await startEngine({
    workerConfig: {
      s3: {
        ...base.s3,
        default: { ...base.s3.default!, endpoint: proxy.endpoint },
        moto: { ...base.s3.moto!, endpoint: motoProxy.endpoint },
      },
    },
  });
  moto = motoClient();
  for (const bucket of [data, target, reports]) await createBucket(engine.s3, bucket);
  await createBucket(engine.s3, versioned);
  await engine.s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
  await createBucket(engine.s3, locked, { objectLock: true });
  await createBucket(moto, motoData);
});

afterAll(async () => {
  await engine?.close();
  moto?.destroy();
  await proxy?.close();
  await motoProxy?.close();
});

async function put(s3: S3Client, bucket: string, key: string, extra: Record<string, unknown> = {}) {
  return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}`, ...extra }));
}

/** Runs `operation` over `keys` of `bucket`; every row must succeed despite the lost answers. */
async function runJob(bucket: string, keys: string[], operation: CreateJobInput['Operation'], extensions: Record<string, unknown> = {}) {
  const manifest = await putManifest(engine.s3, reports, `idem-${randomUUID().slice(0, 8)}`, keys.map((k) => `${bucket},${k}`));
  const { jobId } = await engine.jobs.createJob(csvJob(manifest, operation, reports, { Extensions: extensions }));
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
  expect({ status: job.Status, reasons: job.FailureReasons }).toEqual({ status: 'Complete', reasons: [] });
  expect(job.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: keys.length, NumberOfTasksFailed: 0 });
  const { rows } = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(rows).toHaveLength(keys.length);
  return rows;
}

const keys = (prefix: string) => Array.from({ length: 4 }, (_, i) => `${prefix}/${i}`);
const lostBefore = () => proxy.injected().lostResponse;

test('S3PutObjectCopy: a repeated copy leaves the same object as one copy (bytes, ETag, metadata, tags)', async () => {
  const sources = keys('copy');
  for (const key of sources) await put(engine.s3, data, key, { Metadata: { origin: key }, Tagging: 'kind=source', ContentType: 'text/x-test' });
  const lost = lostBefore();
  await runJob(data, sources, { S3PutObjectCopy: { TargetResource: `arn:aws:s3:::${target}`, TargetKeyPrefix: 'c/' } });
  expect(proxy.injected().lostResponse - lost).toBe(sources.length);
  for (const key of sources) {
    const [source, copy] = await Promise.all([
      engine.s3.send(new HeadObjectCommand({ Bucket: data, Key: key })),
      engine.s3.send(new HeadObjectCommand({ Bucket: target, Key: `c/${key}` })),
    ]);
    expect(copy).toMatchObject({ ETag: source.ETag, ContentLength: source.ContentLength, ContentType: 'text/x-test', Metadata: { origin: key } });
    const body = await engine.s3.send(new GetObjectCommand({ Bucket: target, Key: `c/${key}` }));
    expect(await body.Body!.transformToString()).toBe(`body of ${key}`);
    const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: target, Key: `c/${key}` }));
    expect(tags.TagSet).toEqual([{ Key: 'kind', Value: 'source' }]);
  }
});

test('S3PutObjectCopy to a versioned bucket: the current version is the one copy; the repeat left one identical noncurrent version', async () => {
  const sources = keys('vcopy');
  for (const key of sources) await put(engine.s3, data, key);
  await runJob(data, sources, { S3PutObjectCopy: { TargetResource: `arn:aws:s3:::${versioned}`, TargetKeyPrefix: 'c/' } });
  for (const key of sources) {
    const out = await engine.s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: `c/${key}` }));
    const versions = (out.Versions ?? []).filter((v) => v.Key === `c/${key}`);
    expect(versions).toHaveLength(2);
    expect(new Set(versions.map((v) => v.ETag)).size).toBe(1);
  }
});

test('tagging, untagging, legal hold and retention: repeats set the same state', async () => {
  const tagged = keys('tag');
  for (const key of tagged) await put(engine.s3, data, key, { Tagging: 'old=1' });
  await runJob(data, tagged, { S3PutObjectTagging: { TagSet: [{ Key: 'new', Value: '2' }] } });
  for (const key of tagged) {
    expect((await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }))).TagSet).toEqual([{ Key: 'new', Value: '2' }]);
  }
  await runJob(data, tagged, { S3DeleteObjectTagging: {} });
  for (const key of tagged) expect((await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }))).TagSet).toEqual([]);

  const held = keys('lock');
  for (const key of held) await put(engine.s3, locked, key);
  await runJob(locked, held, { S3PutObjectLegalHold: { LegalHold: { Status: 'ON' } } });
  const until = new Date(Date.now() + 3600_000);
  until.setMilliseconds(0);
  await runJob(locked, held, { S3PutObjectRetention: { Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until.toISOString() } } });
  for (const key of held) {
    expect((await engine.s3.send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: key }))).LegalHold?.Status).toBe('ON');
    const retention = (await engine.s3.send(new GetObjectRetentionCommand({ Bucket: locked, Key: key }))).Retention;
    expect(retention?.Mode).toBe('GOVERNANCE');
    expect(retention?.RetainUntilDate?.getTime()).toBe(until.getTime());
  }
});

test('S3DeleteObject: a repeated delete still succeeds; on a versioned bucket the data stays as one noncurrent version', async () => {
  const plain = keys('del');
  for (const key of plain) await put(engine.s3, data, key);
  const rows = await runJob(data, plain, { S3DeleteObject: { ConfirmDataDeletion: true } });
  expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
  for (const key of plain) {
    await expect(engine.s3.send(new HeadObjectCommand({ Bucket: data, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  }
  const kept = keys('vdel');
  for (const key of kept) await put(engine.s3, versioned, key);
  const lost = lostBefore();
  await runJob(versioned, kept, { S3DeleteObject: { ConfirmDataDeletion: true } });
  for (const key of kept) {
    const out = await engine.s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: key }));
    expect((out.Versions ?? []).filter((v) => v.Key === key)).toHaveLength(1);
    expect(proxy.injected().lostResponse - lost).toBe(kept.length);
    // MinIO puts no second marker on a marker (AWS S3 does: a repeat there leaves two markers, both hiding the
    // object; removing the newest still leaves it hidden, so an undo removes every marker above the data).
    expect((out.DeleteMarkers ?? []).filter((m) => m.Key === key)).toHaveLength(1);
  }
});

test('S3InitiateRestoreObject: the repeat meets the restore it started (409 RestoreAlreadyInProgress) and succeeds', async () => {
  const archived = keys('underway');
  for (const key of archived) await put(moto, motoData, key, { StorageClass: 'GLACIER' });
  // moto's state manager (as in op-initiate-restore-object.test.ts): requested under a one-step transition, one read
  // moves a restore to "in progress", and a 1000-read transition keeps it there, as a real one stays for hours.
  const endpoint = getStack().moto.endpoint;
  const transition = (body: unknown, path: string) => fetch(`${endpoint}/moto-api/state-manager/${path}`, { method: 'POST', body: JSON.stringify(body) });
  await transition({ model_name: 's3::keyrestore', transition: { progression: 'manual', times: 1 } }, 'set-transition');
  try {
    // The restores under way, as a first attempt whose answer was lost would have left them.
    for (const key of archived) {
      await moto.send(new RestoreObjectCommand({ Bucket: motoData, Key: key, RestoreRequest: { Days: 1 } }));
      expect((await moto.send(new HeadObjectCommand({ Bucket: motoData, Key: key }))).Restore).toBe('ongoing-request="true"');
    }
    await transition({ model_name: 's3::keyrestore', transition: { progression: 'manual', times: 1000 } }, 'set-transition');
    const rows = await runJob(motoData, archived, { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, {
      Connection: 'moto',
      ManifestConnection: 'default',
      ReportConnection: 'default',
    });
    for (const row of rows) expect(row).toMatchObject({ status: 'succeeded', message: 'Successful: a restore of this object is already in progress' });
  } finally {
    await transition({ model_name: 's3::keyrestore' }, 'unset-transition');
  }
});
