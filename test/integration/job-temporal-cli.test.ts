/**
 * The Temporal CLI path, with the real `temporal` binary: start a job from a JSON file with `temporal workflow
 * start`, read it with `temporal workflow query`, pause and resume it with `temporal workflow update execute`,
 * find it with `temporal workflow list --query "S3BatchJobStatus='…'"`, and check what Temporal Web shows
 * (search attributes, memo, current details); cancel it with our update and with `temporal workflow cancel`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../scripts/lib/exec';
import { ensureTemporalCli } from '../../scripts/tools';
import type { JobDescriptor } from '../../src/shared/types';
import { JobStatusKey, JobOperationKey } from '../../src/shared/search-attributes';
import { createBucket, csvJob, putText, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { getStack } from '../helpers/stack';

let engine: Engine;
let temporal: string;
const data = uniqueBucket('cli-data');
const keys = Array.from({ length: 300 }, (_, i) => `c/${i}`);

beforeAll(async () => {
  temporal = await ensureTemporalCli();
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, keys);
});
afterAll(() => engine?.close());

async function cli(args: string[]): Promise<string> {
  const stack = getStack();
  const result = await runCommand(temporal, [...args, '--address', stack.temporal.address, '-n', stack.temporal.namespace], {
    timeoutMs: 30_000,
  });
  if (result.code !== 0) throw new Error(`temporal ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

async function query(jobId: string): Promise<JobDescriptor> {
  const out = JSON.parse(await cli(['workflow', 'query', '-w', jobId, '--name', 'describeJob', '-o', 'json']));
  return (out.queryResult?.[0] ?? out.result ?? out) as JobDescriptor;
}

async function until(jobId: string, predicate: (j: JobDescriptor) => boolean): Promise<JobDescriptor> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const job = await query(jobId);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`timed out at ${job.Status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('start from a JSON file, query, pause, resume, list, with the temporal CLI', async () => {
  const etag = await putText(engine.s3, data, 'cli.csv', keys.map((k) => `${data},${k}\n`).join(''));
  const request = csvJob({ bucket: data, key: 'cli.csv', etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 'cli' }] } }, data, {
    Description: 'started by the temporal CLI',
    Extensions: { PageSize: 30, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 2 },
  });
  const dir = mkdtempSync(join(tmpdir(), 's3batch-cli-'));
  const file = join(dir, 'job.json');
  writeFileSync(file, JSON.stringify(request));
  const jobId = `cli-job-${Date.now()}`;
  await cli(['workflow', 'start', '--type', 'batchJobWorkflow', '--task-queue', engine.taskQueue, '-w', jobId, '--input-file', file]);

  const active = await until(jobId, (j) => j.Status === 'Active' && j.ProgressSummary.NumberOfTasksSucceeded > 0);
  expect(active.Description).toBe('started by the temporal CLI');
  expect(active.ProgressSummary.TotalNumberOfTasks).toBe(300);

  // Visible in Temporal Web: search attributes, memo, and the progress line under "Current Details".
  const described = await engine.client.workflow.getHandle(jobId).describe();
  expect(described.typedSearchAttributes.get(JobStatusKey)).toBe('Active');
  expect(described.typedSearchAttributes.get(JobOperationKey)).toBe('S3PutObjectTagging');
  expect(described.memo).toMatchObject({ Description: 'started by the temporal CLI', Progress: { Status: 'Active' } });
  const metadata = JSON.parse(await cli(['workflow', 'metadata', '-w', jobId, '-o', 'json']));
  expect(JSON.stringify(metadata)).toMatch(/\*\*Active\*\* \d+% · \d+\/300 tasks/);
  // Running jobs are listed by status.
  const listed = await cli(['workflow', 'list', '--query', `S3BatchJobStatus='Active' AND WorkflowId='${jobId}'`, '-o', 'json']);
  expect(listed).toContain(jobId);

  await cli(['workflow', 'update', 'execute', '-w', jobId, '--name', 'pauseJob', '--input', '{"Reason":"from the CLI"}']);
  const paused = await until(jobId, (j) => j.Status === 'Paused');
  expect(paused.StatusUpdateReason).toBe('from the CLI');
  // An impossible request is refused with the reason.
  await expect(
    cli(['workflow', 'update', 'execute', '-w', jobId, '--name', 'updateJobStatus', '--input', '{"RequestedJobStatus":"Ready"}'])
  ).rejects.toThrow(/only a Suspended job can be confirmed/);
  await cli(['workflow', 'update', 'execute', '-w', jobId, '--name', 'resumeJob', '--input', '{}']);
  const done = await until(jobId, (j) => j.Status === 'Complete');
  expect(done.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 300, NumberOfTasksFailed: 0 });

  const completeList = await cli(['workflow', 'list', '--query', `S3BatchJobStatus='Complete' AND WorkflowId='${jobId}'`, '-o', 'json']);
  expect(completeList).toContain(jobId);
});

/** Starts a slow untagging job over the 300 objects with `temporal workflow start` and waits until tasks run. */
async function startRunningJob(name: string): Promise<string> {
  const etag = await putText(engine.s3, data, `${name}.csv`, keys.map((k) => `${data},${k}\n`).join(''));
  const request = csvJob({ bucket: data, key: `${name}.csv`, etag }, { S3DeleteObjectTagging: {} }, data, {
    Extensions: { PageSize: 30, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 1 },
  });
  const jobId = `${name}-${Date.now()}`;
  await cli(['workflow', 'start', '--type', 'batchJobWorkflow', '--task-queue', engine.taskQueue, '-w', jobId, '--input', JSON.stringify(request)]);
  await until(jobId, (j) => j.ProgressSummary.NumberOfTasksSucceeded > 0);
  return jobId;
}

test('cancel with the temporal CLI: the job ends Cancelled', async () => {
  const jobId = await startRunningJob('cli-cancel');
  await cli(['workflow', 'update', 'execute', '-w', jobId, '--name', 'updateJobStatus', '--input', '{"RequestedJobStatus":"Cancelled","StatusUpdateReason":"stop"}']);
  const result = JSON.parse(await cli(['workflow', 'result', '-w', jobId, '-o', 'json']));
  expect(JSON.stringify(result)).toContain('"Status":"Cancelled"');
});

test('temporal workflow cancel (what Temporal Web\'s Cancel button sends) ends the job Cancelled, counting what ran', async () => {
  const jobId = await startRunningJob('cli-wfcancel');
  await cli(['workflow', 'cancel', '-w', jobId]);
  const result = JSON.parse(await cli(['workflow', 'result', '-w', jobId, '-o', 'json']));
  expect(result.status).toBe('COMPLETED');
  expect(JSON.stringify(result)).toContain('"Status":"Cancelled"');
  const job = await engine.jobs.describeJob(jobId);
  expect(job.Status).toBe('Cancelled');
  expect(job.StatusUpdateReason).toBe('Cancelled through Temporal');
  // Stopped part-way: some tasks ran and were counted, not all 300.
  expect(job.ProgressSummary.NumberOfTasksSucceeded).toBeGreaterThan(0);
  expect(job.ProgressSummary.NumberOfTasksSucceeded).toBeLessThan(300);
});
