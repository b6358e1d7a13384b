/**
 * Durability: SIGKILL the worker mid-job and start a new one; the job completes and every row is in the report
 * exactly once. Every task mode: normal activities (retried after the heartbeat timeout), local activities
 * (re-run when the page's workflow task times out and another worker replays it) and batches (retried after the
 * heartbeat timeout, from their last heartbeat: job-batch-mode.test.ts checks that no recorded row runs again).
 */
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import type { JobDescriptor } from '../../src/shared/types';
import {
  createBucket,
  csvJob,
  putText,
  readReport,
  seedObjects,
  stackWorkerConfig,
  startEngine,
  uniqueBucket,
  type Engine,
} from '../helpers/engine';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

let engine: Engine;
const data = uniqueBucket('durable-data');
const keys = Array.from({ length: 400 }, (_, i) => `d/${i}`);
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  // No in-process worker: the workers here are processes that the test kills.
  engine = await startEngine({ startWorker: false });
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, keys);
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await engine?.close();
});

async function progressOf(jobId: string): Promise<JobDescriptor | undefined> {
  try {
    return await engine.jobs.describeJob(jobId);
  } catch {
    return undefined; // no worker to answer the query right now
  }
}

test.each(['Activity', 'LocalActivity', 'Batch'] as const)('SIGKILL the worker mid-job (%s): completes, every row once', async (mode) => {
  const config = stackWorkerConfig(engine.taskQueue);
  const first = await spawnWorker(config);
  workers.push(first);
  await first.ready;
  // The worker as users run it, in its own process, runs on the Node 24 that npm ci installed, like the tests.
  expect(first.output()).toMatch(/; Node v24\.\d+\.\d+\n/);
  const etag = await putText(engine.s3, data, `manifest-${mode}.csv`, keys.map((k) => `${data},${k}\n`).join(''));
  const { jobId } = await engine.jobs.createJob(
    csvJob({ bucket: data, key: `manifest-${mode}.csv`, etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'mode', Value: mode }] } }, data, {
      Extensions: { TaskExecution: mode, BatchSize: 10, PageSize: 50, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 4 },
    })
  );
  let before: JobDescriptor | undefined;
  for (;;) {
    before = await progressOf(jobId);
    if (before && before.ProgressSummary.NumberOfTasksSucceeded >= 60) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await first.kill('SIGKILL');
  // Really mid-job, and really gone.
  expect(before.ProgressSummary.NumberOfTasksSucceeded).toBeLessThan(400);
  expect(() => process.kill(first.child.pid!, 0)).toThrow();
  const second = await spawnWorker(config);
  workers.push(second);
  await second.ready;
  const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 240_000 });
  expect(final.Status).toBe('Complete');
  expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 400, NumberOfTasksSucceeded: 400, NumberOfTasksFailed: 0 });
  const report = await readReport(engine.s3, data, final.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(400);
  expect(new Set(report.rows.map((r) => r.key))).toEqual(new Set(keys));
  const tags = await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: keys[399]! }));
  expect(tags.TagSet).toEqual([{ Key: 'mode', Value: mode }]);
  await second.kill('SIGTERM');
}, 300_000);
