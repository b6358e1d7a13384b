/**
 * S3PutObjectLegalHold and S3PutObjectRetention end to end on MinIO: legal holds on and off, GOVERNANCE retention
 * set, shortened and removed (with and without BypassGovernanceRetention), COMPLIANCE retention, and a bucket without
 * Object Lock. Every manifest also holds a missing key and a version id that does not exist; each job's report rows
 * and the objects' state are read back.
 */
import { randomUUID } from 'node:crypto';
import {
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putManifest, readReport, startEngine, uniqueBucket, type Engine, withVersionIds } from '../helpers/engine';

let engine: Engine;
const locked = uniqueBucket('lock-data');
const unlocked = uniqueBucket('lock-none');
const reports = uniqueBucket('lock-reports');
/** Version id of each object, by bucket then key. */
const versions: Record<string, Record<string, string>> = {};

async function putObjects(s3: S3Client, bucket: string, keys: string[]) {
  versions[bucket] ??= {};
  for (const key of keys) {
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
    versions[bucket]![key] = out.VersionId ?? '';
  }
}

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, locked, { objectLock: true });
  await createBucket(engine.s3, unlocked);
  await createBucket(engine.s3, reports);
  await putObjects(engine.s3, locked, ['hold/', 'gov/', 'comp/'].flatMap((p) => [`${p}a`, `${p}b`, `${p}c`]));
  await putObjects(engine.s3, unlocked, ['a', 'b']);
});

afterAll(() => engine?.close());

/**
 * Runs `operation` over bucket,key,versionId rows: `<prefix>a` at its version, `<prefix>b` (latest), a missing key,
 * and `<prefix>c` at a version id that does not exist. Returns the job and its report rows by key (without prefix).
 */
async function runJob(bucket: string, prefix: string, operation: CreateJobInput['Operation']) {
  const rows = [
    `${bucket},${prefix}a,${versions[bucket]![`${prefix}a`]}`,
    `${bucket},${prefix}b,`,
    `${bucket},${prefix}missing,`,
    `${bucket},${prefix}c,${randomUUID()}`,
  ];
  const manifest = await putManifest(engine.s3, reports, `lock-${randomUUID().slice(0, 8)}`, rows);
  const request = withVersionIds(csvJob(manifest, operation, reports));
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  const report = await readReport(engine.s3, reports, job.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(4);
  const byKey = Object.fromEntries(report.rows.map((r) => [r.key.slice(prefix.length), r]));
  // Nothing was retried: a retryable failure reports "gave up after N attempts".
  expect(report.rows.filter((r) => /gave up/.test(r.message))).toEqual([]);
  return { job, byKey };
}

const SUCCEEDED = { status: 'succeeded', httpStatus: '200', errorCode: '', message: 'Successful' };
const MISSING = { status: 'failed', httpStatus: '404', errorCode: 'NoSuchKey' };
const NO_VERSION = { status: 'failed', httpStatus: '404', errorCode: 'NoSuchVersion' };

/** The object's legal hold status, or the error S3 answers (MinIO: none was ever set). */
async function legalHold(key: string, versionId?: string): Promise<string | undefined> {
  return engine.s3
    .send(new GetObjectLegalHoldCommand({ Bucket: locked, Key: key, VersionId: versionId }))
    .then((out) => out.LegalHold?.Status, (err: Error) => err.name);
}

/** The object's retention as `MODE until ISO`, or the error S3 answers when it has none. */
async function retention(key: string, versionId?: string): Promise<string> {
  return engine.s3
    .send(new GetObjectRetentionCommand({ Bucket: locked, Key: key, VersionId: versionId }))
    .then(
      (out) => `${out.Retention?.Mode} until ${out.Retention?.RetainUntilDate?.toISOString()}`,
      (err: Error) => err.name
    );
}

/** A timestamp `ms` from now, in whole seconds so that the date read back compares cleanly. */
const fromNow = (ms: number) => new Date(Math.floor((Date.now() + ms) / 1000) * 1000).toISOString();

test('legal hold ON, then OFF', async () => {
  expect(await legalHold('hold/c')).toBe('NoSuchObjectLockConfiguration');

  const on = await runJob(locked, 'hold/', { S3PutObjectLegalHold: { LegalHold: { Status: 'ON' } } });
  expect(on.byKey.a).toMatchObject({ ...SUCCEEDED, versionId: versions[locked]!['hold/a'] });
  expect(on.byKey.b).toMatchObject(SUCCEEDED);
  expect(on.byKey.missing).toMatchObject(MISSING);
  expect(on.byKey.c).toMatchObject(NO_VERSION);
  expect(on.job.S3Batch.FailedTasksByErrorCode).toEqual({ NoSuchKey: 1, NoSuchVersion: 1 });
  expect(await legalHold('hold/a', versions[locked]!['hold/a'])).toBe('ON');
  expect(await legalHold('hold/b')).toBe('ON');
  // The row with a bad version left the object's real version alone.
  expect(await legalHold('hold/c')).toBe('NoSuchObjectLockConfiguration');

  const off = await runJob(locked, 'hold/', { S3PutObjectLegalHold: { LegalHold: { Status: 'OFF' } } });
  expect(off.byKey.a).toMatchObject(SUCCEEDED);
  expect(off.byKey.b).toMatchObject(SUCCEEDED);
  expect(off.byKey.missing).toMatchObject(MISSING);
  expect(off.byKey.c).toMatchObject(NO_VERSION);
  expect(await legalHold('hold/a', versions[locked]!['hold/a'])).toBe('OFF');
  expect(await legalHold('hold/b')).toBe('OFF');
});

test('GOVERNANCE retention: set; shorten and remove fail without the bypass and work with it', async () => {
  const dayAhead = fromNow(24 * 3600_000);
  const set = await runJob(locked, 'gov/', {
    S3PutObjectRetention: { Retention: { Mode: 'GOVERNANCE', RetainUntilDate: dayAhead } },
  });
  expect(set.byKey.a).toMatchObject(SUCCEEDED);
  expect(set.byKey.b).toMatchObject(SUCCEEDED);
  expect(set.byKey.missing).toMatchObject(MISSING);
  expect(set.byKey.c).toMatchObject(NO_VERSION);
  expect(await retention('gov/a', versions[locked]!['gov/a'])).toBe(`GOVERNANCE until ${dayAhead}`);
  expect(await retention('gov/b')).toBe(`GOVERNANCE until ${dayAhead}`);
  expect(await retention('gov/c')).toBe('NoSuchObjectLockConfiguration');

  // Without the bypass MinIO refuses with InvalidRequest (400); AWS answers AccessDenied (403).
  const hourAhead = fromNow(3600_000);
  const worm = {
    status: 'failed',
    httpStatus: '400',
    errorCode: 'InvalidRequest',
    message: 'Object is WORM protected and cannot be overwritten',
  };
  for (const Retention of [{ Mode: 'GOVERNANCE' as const, RetainUntilDate: hourAhead }, {}]) {
    const refused = await runJob(locked, 'gov/', { S3PutObjectRetention: { Retention } });
    expect(refused.byKey.a).toMatchObject(worm);
    expect(refused.byKey.b).toMatchObject(worm);
    expect(refused.byKey.missing).toMatchObject(MISSING);
    expect(refused.byKey.c).toMatchObject(NO_VERSION);
    expect(await retention('gov/a', versions[locked]!['gov/a'])).toBe(`GOVERNANCE until ${dayAhead}`);
  }

  const shortened = await runJob(locked, 'gov/', {
    S3PutObjectRetention: { BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: hourAhead } },
  });
  expect(shortened.byKey.a).toMatchObject(SUCCEEDED);
  expect(shortened.byKey.b).toMatchObject(SUCCEEDED);
  expect(shortened.byKey.missing).toMatchObject(MISSING);
  expect(shortened.byKey.c).toMatchObject(NO_VERSION);
  expect(await retention('gov/a', versions[locked]!['gov/a'])).toBe(`GOVERNANCE until ${hourAhead}`);
  expect(await retention('gov/b')).toBe(`GOVERNANCE until ${hourAhead}`);

  // Neither Mode nor RetainUntilDate removes the retention.
  const removed = await runJob(locked, 'gov/', {
    S3PutObjectRetention: { BypassGovernanceRetention: true, Retention: {} },
  });
  expect(removed.byKey.a).toMatchObject(SUCCEEDED);
  expect(removed.byKey.b).toMatchObject(SUCCEEDED);
  expect(removed.byKey.missing).toMatchObject(MISSING);
  expect(removed.byKey.c).toMatchObject(NO_VERSION);
  expect(await retention('gov/a', versions[locked]!['gov/a'])).toBe('NoSuchObjectLockConfiguration');
  expect(await retention('gov/b')).toBe('NoSuchObjectLockConfiguration');
});

test('COMPLIANCE retention: set, and not even the bypass removes it', async () => {
  // Minutes ahead only: COMPLIANCE objects cannot be deleted until then (a throwaway bucket, so that is fine).
  const soon = fromNow(3 * 60_000);
  const set = await runJob(locked, 'comp/', {
    S3PutObjectRetention: { Retention: { Mode: 'COMPLIANCE', RetainUntilDate: soon } },
  });
  expect(set.byKey.a).toMatchObject(SUCCEEDED);
  expect(set.byKey.b).toMatchObject(SUCCEEDED);
  expect(set.byKey.missing).toMatchObject(MISSING);
  expect(set.byKey.c).toMatchObject(NO_VERSION);
  expect(await retention('comp/a', versions[locked]!['comp/a'])).toBe(`COMPLIANCE until ${soon}`);
  expect(await retention('comp/b')).toBe(`COMPLIANCE until ${soon}`);

  const removed = await runJob(locked, 'comp/', {
    S3PutObjectRetention: { BypassGovernanceRetention: true, Retention: {} },
  });
  const worm = { status: 'failed', httpStatus: '400', errorCode: 'InvalidRequest', message: expect.stringMatching(/WORM/) };
  expect(removed.byKey.a).toMatchObject(worm);
  expect(removed.byKey.b).toMatchObject(worm);
  expect(removed.byKey.missing).toMatchObject(MISSING);
  expect(removed.byKey.c).toMatchObject(NO_VERSION);
  expect(await retention('comp/a', versions[locked]!['comp/a'])).toBe(`COMPLIANCE until ${soon}`);
});

test('a bucket without Object Lock fails every task once, saying so', async () => {
  const noLock = {
    status: 'failed',
    httpStatus: '400',
    errorCode: 'InvalidRequest',
    message: 'Bucket is missing ObjectLockConfiguration',
  };
  for (const operation of [
    { S3PutObjectLegalHold: { LegalHold: { Status: 'ON' as const } } },
    { S3PutObjectRetention: { Retention: { Mode: 'GOVERNANCE' as const, RetainUntilDate: fromNow(3600_000) } } },
  ]) {
    const { job, byKey } = await runJob(unlocked, '', operation);
    // MinIO checks the bucket before the key or version, so every row gets the same answer.
    for (const key of ['a', 'b', 'missing', 'c']) expect(byKey[key]).toMatchObject(noLock);
    expect(job.S3Batch.FailedTasksByErrorCode).toEqual({ InvalidRequest: 4 });
  }
});
