/**
 * Bounded history: a 100,000-task job completes with no workflow run (job or page, any run of either) over 10,000
 * history events. The cheaper way, stated: the manifest names 1,000 small objects 100 times each, so seeding is
 * quick while every one of the 100,000 tasks is a real PutObjectTagging call on MinIO. Tasks run as local
 * activities here to keep the suite fast; the bench compares both modes. S3BATCH_HISTORY_TEST_TASKS overrides
 * the size (for a quick local run).
 *
 * The worker runs in its own process, as users run it (src/worker.ts): hosted inside jest's module sandbox the same
 * worker spent about 1.7x the CPU per task, which on CI's two cores made this one test take over 25 minutes.
 */
import { createBucket, csvJob, putText, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const TASKS = Number(process.env.S3BATCH_HISTORY_TEST_TASKS ?? 100_000);
const OBJECTS = Math.min(1000, TASKS);

let engine: Engine;
let worker: WorkerProcess | undefined;
const data = uniqueBucket('history-data');

beforeAll(async () => {
  engine = await startEngine({ startWorker: false });
  worker = await spawnWorker(engine.config);
  await worker.ready;
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, Array.from({ length: OBJECTS }, (_, i) => `o/${i}`));
});
afterAll(async () => {
  await worker?.kill('SIGTERM');
  await engine?.close();
});

test(`${TASKS} tasks complete with every run under 10,000 history events`, async () => {
  const rows: string[] = [];
  for (let i = 0; i < TASKS; i++) rows.push(`${data},o/${i % OBJECTS}\n`);
  const etag = await putText(engine.s3, data, 'manifest.csv', rows.join(''));
  const { jobId } = await engine.jobs.createJob(
    csvJob({ bucket: data, key: 'manifest.csv', etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'n', Value: '1' }] } }, data, {
      Report: { Enabled: false },
      Extensions: { TaskExecution: 'LocalActivity', PageSize: 500, MaxConcurrentPages: 8, MaxConcurrentTasksPerPage: 32 },
    })
  );
  const started = Date.now();
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 40 * 60_000, pollMs: 2000 });
  expect(job.Status).toBe('Complete');
  expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: TASKS, NumberOfTasksSucceeded: TASKS, NumberOfTasksFailed: 0 });

  let runs = 0;
  let maxEvents = 0;
  let pageRuns = 0;
  for await (const wf of engine.client.workflow.list({
    query: `WorkflowId = '${jobId}' OR WorkflowId STARTS_WITH '${jobId}/page-'`,
  })) {
    runs++;
    if (wf.workflowId !== jobId) pageRuns++;
    maxEvents = Math.max(maxEvents, wf.historyLength);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`bounded history: ${TASKS} tasks in ${seconds.toFixed(0)} s, ${runs} workflow runs (${pageRuns} page runs), max ${maxEvents} events in one run`);
  expect(pageRuns).toBeGreaterThanOrEqual(job.S3Batch.PagesTotal!);
  expect(maxEvents).toBeGreaterThan(0);
  expect(maxEvents).toBeLessThanOrEqual(10_000);
}, 45 * 60_000);
