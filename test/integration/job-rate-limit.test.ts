/**
 * Extensions.MaxTasksPerSecond: the whole job starts at most its rate of tasks, across its pages, two worker
 * processes and continue-as-new of the job and of its pages, in every task mode (Batch: a batch holds no more rows
 * than the page's credit); UpdateJobRate changes it mid-job.
 * Measured on Temporal's record of when each task started (task-history.ts), never on the test's clock.
 *
 * 600 tasks at 15/s, raised to 30/s after 210. (The example is 50/s over 2,000 tasks: on the 2-core machine
 * shared with other runs, this job without a limit ran at about 50/s in Activity mode, so the rates here stay well
 * below what the machine can do, and the whole test takes under a minute per mode.) A machine so starved that page
 * workflow tasks take over a second each (seen at a load average of 15-25 on the 2 cores, with other suites running)
 * cannot start tasks at either rate, limit or no limit: pages pace by workflow time, and catch up only two seconds.
 * The log line shows the starts per second, to tell such a run from a pacing fault.
 */
import { jobTaskStarts, updateAcceptedTimes } from '../helpers/task-history';
import type { JobDescriptor } from '../../src/shared/types';
import { createBucket, csvJob, putText, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

let engine: Engine;
const data = uniqueBucket('rate-data');
const keys = Array.from({ length: 300 }, (_, i) => `r/${i}`);
const workers: WorkerProcess[] = [];

const TASKS = 600;
const RATE = 15;
const FASTER = 30;
const CHANGE_AFTER = 210;

beforeAll(async () => {
  engine = await startEngine({ startWorker: false });
  // Two workers in their own processes: the pages, and their tasks, run on either.
  for (let i = 0; i < 2; i++) workers.push(await spawnWorker(engine.config));
  await Promise.all(workers.map((w) => w.ready));
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, keys);
}, 120_000);
afterAll(async () => {
  for (const w of workers) await w.kill('SIGTERM');
  await engine?.close();
});

const done = (j: JobDescriptor) => j.ProgressSummary.NumberOfTasksSucceeded + j.ProgressSummary.NumberOfTasksFailed;

/** Tasks per second: the least-squares slope of start count over start time (robust to the pacing's steps). */
function slope(starts: number[]): number {
  const n = starts.length;
  const ts = starts.map((t) => t / 1000);
  const tMean = ts.reduce((a, b) => a + b, 0) / n;
  const iMean = (n - 1) / 2;
  let num = 0;
  let den = 0;
  ts.forEach((t, i) => {
    num += (t - tMean) * (i - iMean);
    den += (t - tMean) ** 2;
  });
  return num / den;
}

test.each(['Activity', 'LocalActivity', 'Batch'] as const)(
  '%s mode: the job holds its rate within 10%% across pages, workers and continue-as-new, and a new rate takes effect',
  async (mode) => {
    const rows = [...keys, ...keys].map((k) => `${data},${k}\n`).join('');
    const etag = await putText(engine.s3, data, `rate-${mode}.csv`, rows);
    const { jobId } = await engine.jobs.createJob(
      csvJob({ bucket: data, key: `rate-${mode}.csv`, etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'rate', Value: mode }] } }, data, {
        Extensions: {
          TaskExecution: mode,
          MaxTasksPerSecond: RATE,
          // Four pages running together; each page continues as new every 50 tasks, the job after every 2 page starts.
          PageSize: 150,
          MaxConcurrentPages: 4,
          MaxConcurrentTasksPerPage: 16,
          TasksPerPageRun: 50,
          PagesPerRun: 2,
        },
      })
    );
    let job = await engine.jobs.describeJob(jobId);
    while (done(job) < CHANGE_AFTER) {
      await new Promise((r) => setTimeout(r, 100));
      job = await engine.jobs.describeJob(jobId);
    }
    expect(job.S3Batch.MaxTasksPerSecond).toBe(RATE);
    expect(await engine.jobs.updateJobRate(jobId, FASTER)).toEqual({ JobId: jobId, MaxTasksPerSecond: FASTER });
    expect((await engine.jobs.describeJob(jobId)).S3Batch.MaxTasksPerSecond).toBe(FASTER);
    const final = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 240_000 });
    expect(final.Status).toBe('Complete');
    expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: TASKS, NumberOfTasksSucceeded: TASKS, NumberOfTasksFailed: 0 });

    // From history: every task's start, and when the job accepted the change.
    let starts: number[] = [];
    for (let tries = 0; tries < 50 && starts.length < TASKS; tries++) {
      // Visibility lists a page's last runs a moment after they close.
      if (tries > 0) await new Promise((r) => setTimeout(r, 200));
      starts = await jobTaskStarts(engine.client, jobId, mode);
    }
    expect(starts).toHaveLength(TASKS);
    const [changed] = await updateAcceptedTimes(engine.client, jobId, 'updateJobRate');
    expect(changed).toBeDefined();
    // Before the change: at the job's rate. After it: at the new one, once the pages have their new shares (a second),
    // until the last second, when the last pages end one after another and fewer tasks are left than a second's worth.
    const before = starts.filter((t) => t < changed!);
    const after = starts.filter((t) => t > changed! + 1000 && t < starts[starts.length - 1]! - 1000);
    const [rateBefore, rateAfter] = [slope(before), slope(after)];
    const perSecond = (from: number) => starts.filter((t) => t >= from).reduce<number[]>((counts, t) => {
      counts[Math.floor((t - from) / 1000)] = (counts[Math.floor((t - from) / 1000)] ?? 0) + 1;
      return counts;
    }, []);
    console.log(
      `${mode}: ${before.length} tasks at ${rateBefore.toFixed(2)}/s (limit ${RATE}), then ${after.length} at ${rateAfter.toFixed(2)}/s (limit ${FASTER}); starts per second from the first: ${perSecond(starts[0]!).join(' ')}`
    );
    expect(before.length).toBeGreaterThanOrEqual(CHANGE_AFTER - 20);
    expect(after.length).toBeGreaterThan(180);
    expect(Math.abs(rateBefore / RATE - 1)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(rateAfter / FASTER - 1)).toBeLessThanOrEqual(0.1);
  },
  300_000
);
