/**
 * Priority, best effort as on AWS: with one saturated worker (2 task slots), tasks of a higher-priority job start
 * before those of a lower one, and UpdateJobPriority applies to tasks not yet started. Uses Temporal's task
 * priority (the stack's dev server runs the priority matcher).
 */
import type { JobDescriptor } from '../../src/shared/types';
import { createBucket, csvJob, putText, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';

let engine: Engine;
const data = uniqueBucket('prio-data');
const keys = Array.from({ length: 150 }, (_, i) => `p/${i}`);
const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'p', Value: '1' }] } };

beforeAll(async () => {
  engine = await startEngine({ startWorker: false });
  await engine.startWorker({ maxConcurrentActivityTaskExecutions: 2 });
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, keys);
});
afterAll(() => engine?.close());

const done = (j: JobDescriptor) => j.ProgressSummary.NumberOfTasksSucceeded + j.ProgressSummary.NumberOfTasksFailed;

async function job(name: string, priority: number): Promise<string> {
  const etag = await putText(engine.s3, data, `${name}.csv`, keys.map((k) => `${data},${k}\n`).join(''));
  const { jobId } = await engine.jobs.createJob(
    csvJob({ bucket: data, key: `${name}.csv`, etag }, tagging, data, {
      Priority: priority,
      Report: { Enabled: false },
      Extensions: { PageSize: 50, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 8 },
    })
  );
  return jobId;
}

async function waitUntil(jobId: string, predicate: (j: JobDescriptor) => boolean): Promise<JobDescriptor> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const j = await engine.jobs.describeJob(jobId);
    if (predicate(j)) return j;
    if (Date.now() > deadline) throw new Error(`timed out at ${j.Status} ${done(j)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a higher-priority job started later overtakes a lower-priority one on a saturated worker', async () => {
  const low = await job('low', 1);
  await waitUntil(low, (j) => done(j) >= 10);
  const high = await job('high', 1_000_000);
  await engine.jobs.waitForCompletion(high, { timeoutMs: 120_000 });
  const lowWhenHighDone = await engine.jobs.describeJob(low);
  expect(lowWhenHighDone.Status).toBe('Active');
  expect(done(lowWhenHighDone)).toBeLessThan(100);
  const lowFinal = await engine.jobs.waitForCompletion(low, { timeoutMs: 120_000 });
  expect(lowFinal.ProgressSummary.NumberOfTasksSucceeded).toBe(150);
}, 300_000);

test('UpdateJobPriority reorders tasks not yet started', async () => {
  const first = await job('first', 10);
  await waitUntil(first, (j) => done(j) >= 10);
  const second = await job('second', 10);
  await waitUntil(second, (j) => j.Status === 'Active');
  const answer = await engine.jobs.updateJobPriority(second, 1_000_000);
  expect(answer).toEqual({ JobId: second, Priority: 1_000_000 });
  expect((await engine.jobs.describeJob(second)).Priority).toBe(1_000_000);
  await engine.jobs.waitForCompletion(second, { timeoutMs: 120_000 });
  const firstWhenSecondDone = await engine.jobs.describeJob(first);
  expect(firstWhenSecondDone.Status).toBe('Active');
  expect(done(firstWhenSecondDone)).toBeLessThan(150);
  await engine.jobs.waitForCompletion(first, { timeoutMs: 120_000 });
  await expect(engine.jobs.updateJobPriority(first, 5)).rejects.toThrow(/the job is Complete; a finished job cannot change/);
}, 300_000);
