/**
 * Load through the HTTP API: 50 small tagging jobs (5 to 16 objects each, about 520 tasks) created at once with
 * @aws-sdk/client-s3-control CreateJob, at five priorities, then run by one worker that runs one task at a time
 * while holding every task it has polled (its priority gate: see job-priority.test.ts). Every job completes with
 * every object tagged; ListJobs pages each job exactly once and filters by status correctly before, while and after
 * they run; and, from the times Temporal recorded, tasks of higher-priority jobs complete before those of lower
 * ones (S3 Batch Operations spec §8.1: higher priority first, best effort).
 *
 * Measured on a 2-core host: the higher-priority task of a pair completed first in 86-95% of all pairs and 82-91%
 * of the pairs in the worker at once; with every job at the same priority, 36-50% and 42-46% (so the assertions
 * below fail). The server's priority-ordered dispatch does much of it: without the gate's limit the figures were
 * about the same (95%, 85%).
 */
import { randomUUID } from 'node:crypto';
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  DescribeJobCommand,
  ListJobsCommand,
  S3ControlClient,
  type JobListDescriptor,
  type JobStatus,
} from '@aws-sdk/client-s3-control';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer, type ApiServer } from '../../src/http-api/server';
import { JobClient } from '../../src/job-client';
import { mapConcurrently } from '../helpers/concurrency';
import { createBucket, manifestKey, putManifest, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { jobTaskTimes, type TaskTimes } from '../helpers/task-history';

const ACCOUNT = '123456789012';
const KEY = { accessKeyId: 'AKIAS3BATCHLOAD', secretAccessKey: `secret-${randomUUID()}` };
const JOBS = 50;
/** Far enough apart to map to distinct Temporal priority keys (src/shared/priority.ts), highest last. */
const PRIORITIES = [1, 100, 10_000, 1_000_000, 100_000_000];

interface LoadJob {
  index: number;
  priority: number;
  keys: string[];
  jobId?: string;
}

let engine: Engine;
let api: ApiServer;
let s3control: S3ControlClient;
const data = uniqueBucket('load-data');
// Interleaved, so that neither creation order nor size goes with priority.
const jobs: LoadJob[] = Array.from({ length: JOBS }, (_, index) => ({
  index,
  priority: PRIORITIES[index % PRIORITIES.length]!,
  keys: Array.from({ length: 5 + ((index * 7) % 12) }, (_, k) => `load/${index}/${k}`),
}));

beforeAll(async () => {
  // The worker starts only once every job exists (the second test), so all 50 compete from the start.
  engine = await startEngine({ startWorker: false });
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, jobs.flatMap((j) => j.keys));
  const config = parseApiConfig({
    listen: { host: '127.0.0.1', port: 0 },
    accessKeys: [KEY],
    temporal: { address: engine.config.temporal.address, namespace: engine.config.temporal.namespace, taskQueue: engine.taskQueue },
  });
  api = await startApiServer({ config, jobs: new JobClient(engine.client, { taskQueue: engine.taskQueue }) });
  // The SDK's defaults (3 attempts), as a user would run it.
  s3control = new S3ControlClient({ region: 'us-east-1', credentials: KEY, endpointProvider: () => ({ url: new URL(api.url) }) });
}, 120_000);

afterAll(async () => {
  s3control?.destroy();
  await api?.close();
  // A failed run leaves nothing running on the shared server (its worker is about to stop): no job, no page.
  if (engine) {
    for await (const wf of engine.client.workflow.list({ query: `TaskQueue = '${engine.taskQueue}' AND ExecutionStatus = 'Running'` })) {
      await engine.client.workflow.getHandle(wf.workflowId, wf.runId).terminate('load test ended');
    }
  }
  await engine?.close();
});

/** Every job ListJobs returns, paging with NextToken, `pageSize` at a time. */
async function listAll(statuses?: JobStatus[], pageSize = 7): Promise<JobListDescriptor[]> {
  const listed: JobListDescriptor[] = [];
  let token: string | undefined;
  do {
    const page = await s3control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: statuses, MaxResults: pageSize, NextToken: token }));
    expect((page.Jobs ?? []).length).toBeLessThanOrEqual(pageSize);
    listed.push(...(page.Jobs ?? []));
    token = page.NextToken;
  } while (token);
  return listed;
}

const ids = () => jobs.map((j) => j.jobId!).sort();
const sortedIds = (listed: JobListDescriptor[]) => listed.map((j) => j.JobId!).sort();

/** Every one of the 50 jobs listed exactly once (the message names any listed twice, and where, or missing). */
function expectEachOnce(listed: JobListDescriptor[], what: string): void {
  const positions = new Map<string, string[]>();
  listed.forEach((j, i) => positions.set(j.JobId!, [...(positions.get(j.JobId!) ?? []), `#${i} ${j.Status}`]));
  const twice = [...positions].filter(([, at]) => at.length > 1).map(([id, at]) => `${id} at ${at.join(', ')}`);
  const missing = ids().filter((id) => !positions.has(id));
  expect({ what, twice, missing, count: listed.length }).toEqual({ what, twice: [], missing: [], count: JOBS });
}

test('50 CreateJob calls at once: 50 jobs, each listed exactly once, with its priority, by status', async () => {
  await Promise.all(
    jobs.map(async (job) => {
      const manifest = await putManifest(engine.s3, data, `job-${job.index}`, job.keys.map((k) => `${data},${manifestKey(k)}`));
      const out = await s3control.send(
        new CreateJobCommand({
          AccountId: ACCOUNT,
          ClientRequestToken: randomUUID(),
          ConfirmationRequired: false,
          Priority: job.priority,
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/s3-batch`,
          Description: `load ${job.index}`,
          Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'load', Value: String(job.index) }] } },
          Manifest: {
            Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
            Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
          },
          Report: { Enabled: false },
        })
      );
      job.jobId = out.JobId;
    })
  );
  expect(new Set(ids()).size).toBe(JOBS);

  // No worker yet: every job is New. Visibility is eventually consistent, so wait until it shows all of them.
  const deadline = Date.now() + 60_000;
  let listed = await listAll();
  while (listed.length < JOBS && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    listed = await listAll();
  }
  expectEachOnce(listed, 'before the worker starts');
  const byId = new Map(jobs.map((j) => [j.jobId!, j]));
  for (const entry of listed) {
    expect(entry).toMatchObject({ Status: 'New', Operation: 'S3PutObjectTagging', Priority: byId.get(entry.JobId!)!.priority });
  }
  expect(sortedIds(await listAll(['New']))).toEqual(ids());
  expect(await listAll(['Active', 'Complete'])).toEqual([]);
}, 120_000);

test('all 50 complete; ListJobs stays correct while they run and after', async () => {
  // One task at a time; up to 1000 polled tasks wait in the worker's priority gate.
  await engine.startWorker(undefined, { maxConcurrentTasks: 1, maxConcurrentActivityTaskExecutions: 1000, taskExecution: 'Activity' });

  const running = { passes: 0, sawActive: 0 };
  const deadline = Date.now() + 240_000;
  for (;;) {
    const all = await listAll();
    expectEachOnce(all, `while running, pass ${running.passes}`);
    for (const statuses of [['Active'], ['Complete'], ['New', 'Preparing', 'Ready']] as JobStatus[][]) {
      const listed = await listAll(statuses);
      for (const entry of listed) expect(statuses).toContain(entry.Status);
      expect(new Set(sortedIds(listed)).size).toBe(listed.length);
      if (statuses[0] === 'Active') running.sawActive = Math.max(running.sawActive, listed.length);
    }
    running.passes++;
    const unfinished = all.filter((j) => j.Status !== 'Complete').length;
    if (unfinished === 0) break;
    if (Date.now() > deadline) {
      throw new Error(`${unfinished} jobs unfinished: ${all.filter((j) => j.Status !== 'Complete').map((j) => `${j.JobId} ${j.Status}`).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log(`ListJobs while running: ${running.passes} passes, up to ${running.sawActive} jobs Active at once`);
  // The checks above ran while jobs were running, not only once all had finished.
  expect(running.sawActive).toBeGreaterThan(0);

  for (const job of jobs) {
    const { Job } = await s3control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: job.jobId }));
    expect(Job).toMatchObject({
      Status: 'Complete',
      Priority: job.priority,
      ProgressSummary: { TotalNumberOfTasks: job.keys.length, NumberOfTasksSucceeded: job.keys.length, NumberOfTasksFailed: 0 },
    });
  }
  const objects = jobs.flatMap((job) => job.keys.map((key) => ({ key, index: job.index })));
  const tagged = await mapConcurrently(objects, 16, async ({ key, index }) => {
    const out = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: key }));
    return out.TagSet?.find((t) => t.Key === 'load')?.Value === String(index);
  });
  expect(tagged.filter((ok) => !ok)).toHaveLength(0);

  // After: exactly once each, whatever the page size; the filters agree.
  for (const pageSize of [1, 7, 50, 1000]) expectEachOnce(await listAll(undefined, pageSize), `after, ${pageSize} a page`);
  expect(sortedIds(await listAll(['Complete']))).toEqual(ids());
  expect(await listAll(['Active', 'New', 'Preparing', 'Ready', 'Suspended', 'Failed', 'Cancelled'])).toEqual([]);
}, 300_000);

test('tasks of higher-priority jobs ran first (from history)', async () => {
  const tasks: (TaskTimes & { priority: number })[] = [];
  for (const job of jobs) {
    const times = await jobTaskTimes(engine.client, job.jobId!);
    expect(times).toHaveLength(job.keys.length);
    tasks.push(...times.map((t) => ({ ...t, priority: job.priority })));
  }

  // Every pair of tasks of jobs with different priorities: did the higher one complete first (by the
  // ActivityTaskCompleted times Temporal recorded)? This is the server's priority dispatch and the worker's gate
  // together; in arrival order about half would. Which of the two ordered a pair cannot be told from history (a
  // task's started time is its dispatch, not its turn at the gate; with a FIFO gate the split looked the same), so
  // the gate alone is tested in job-priority.test.ts and test/unit/priority-gate.test.ts.
  let pairs = 0;
  let higherFirst = 0;
  for (const high of tasks) {
    for (const low of tasks) {
      if (high.priority <= low.priority) continue;
      pairs++;
      if (high.completed < low.completed) higherFirst++;
    }
  }
  console.log(`priority: the higher-priority task completed first in ${((100 * higherFirst) / pairs).toFixed(1)}% of ${pairs} pairs`);
  expect(higherFirst / pairs).toBeGreaterThan(0.75);
}, 120_000);
