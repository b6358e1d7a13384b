/**
 * s3-batch end to end: a worker process (lib/src/worker.js, as users run it, with a prebuilt workflow bundle so
 * bundling is neither timed nor in its peak RSS), and a job created through the JobClient, timed from CreateJob
 * to Complete with the report written. History events are summed over every run of the job and its pages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';
import { workerConfigForStack } from '../../scripts/stack/worker-config';
import { JobClient } from '../../src/job-client';
import type { JobDescriptor } from '../../src/shared/types';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { spawnMeasured } from '../child-process';
import type { Mode } from '../options';
import { ensureManifest, jobOperation, TARGET_BUCKET } from '../workload';
import { type ContenderContext, measure } from './context';

const ROOT = resolve(__dirname, '../..');
/** The worker as production runs it (Dockerfile): compiled, plain node. Under tsx, source maps are on, and every
 * stack the SDK captures (one per workflow promise) costs a source-map lookup: tens of percent of its CPU. */
export const COMPILED_WORKER = join(ROOT, 'lib/src/worker.js');

export interface S3BatchSettings {
  mode: Mode;
  pages: number;
  /** Worker activity slots (maxConcurrentActivityTaskExecutions). */
  slots: number;
  /** Worker processes on the job's task queue. */
  workers: number;
}

export function s3BatchLabel(s: S3BatchSettings, concurrency: number): string {
  return `s3-batch ${s.mode} ${s.pages}x${concurrency / s.pages} slots ${s.slots}${s.workers > 1 ? ` ${s.workers} workers` : ''}`;
}

async function historyEvents(client: Client, jobId: string): Promise<number> {
  let events = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${jobId}' OR WorkflowId STARTS_WITH '${jobId}/page-'` })) {
    events += wf.historyLength;
  }
  return events;
}

export function runS3Batch(ctx: ContenderContext, client: Client, settings: S3BatchSettings) {
  const label = s3BatchLabel(settings, ctx.concurrency);
  return measure(ctx, label, async (clock) => {
    const taskQueue = `bench-${ctx.target.mark.replace(/[^A-Za-z0-9-]/g, '-')}`;
    const config = workerConfigForStack(ctx.stack, taskQueue);
    config.worker.maxConcurrentActivityTaskExecutions = settings.slots;
    const dir = mkdtempSync(join(tmpdir(), 'bench-worker-'));
    const configPath = join(dir, 'worker-config.json');
    writeFileSync(configPath, JSON.stringify(config));
    const manifest = await ensureManifest(ctx.s3, ctx.objectSize, ctx.target.objects);
    // BENCH_WORKER_NODE_ARGS adds node flags to the worker, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
    const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const bundle = await workflowBundlePath();
    const workers = Array.from({ length: settings.workers }, () =>
      spawnMeasured(process.execPath, [...nodeArgs, COMPILED_WORKER], {
        cwd: ROOT,
        env: { ...process.env, S3BATCH_WORKER_CONFIG: configPath, S3BATCH_WORKFLOW_BUNDLE: bundle },
      })
    );
    const workersCpu = () => workers.reduce((sum, w) => sum + w.cpuSeconds(), 0);
    try {
      await Promise.all(workers.map((w) => w.waitFor('s3-batch worker on', 120_000)));
      const jobs = new JobClient(client, { taskQueue });
      const request: CreateJobInput = {
        AccountId: '123456789012',
        ClientRequestToken: taskQueue,
        Priority: 10,
        RoleArn: 'arn:aws:iam::123456789012:role/s3-batch-bench',
        Operation: jobOperation(ctx.target),
        Manifest: {
          Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
          Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
        },
        Report: { Enabled: true, Bucket: `arn:aws:s3:::${TARGET_BUCKET}`, Format: 'Report_CSV_20180820', Prefix: `reports/${taskQueue}`, ReportScope: 'AllTasks' },
        Extensions: {
          Connection: 'minio',
          TaskExecution: settings.mode,
          MaxConcurrentPages: settings.pages,
          MaxConcurrentTasksPerPage: ctx.concurrency / settings.pages,
        },
      };
      const cpuBefore = workersCpu();
      clock.start();
      const { jobId } = await jobs.createJob(request);
      // The workflow's result (a long poll) ends the timed span the moment the job does; queries only print progress.
      const progress = setInterval(() => {
        jobs.describeJob(jobId).then(
          (job) => console.log(`    ${job.Status} ${job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed}/${job.ProgressSummary.TotalNumberOfTasks ?? '?'}`),
          () => undefined
        );
      }, 15_000);
      const final = (await client.workflow.getHandle(jobId).result().finally(() => clearInterval(progress))) as JobDescriptor;
      const cpuSeconds = workersCpu() - cpuBefore;
      clock.finish();
      if (final.Status !== 'Complete') throw new Error(`${label}: job ${jobId} ended ${final.Status}: ${final.S3Batch.Summary}`);
      // Per process: what one worker needs, whatever the number of workers.
      const peakRssBytes = Math.max(...workers.map((w) => w.peakRssBytes()));
      const events = await historyEvents(client, jobId);
      return {
        peakRssBytes,
        cpuSeconds,
        historyEventsPerThousand: (events / ctx.target.objects) * 1000,
        settings: { ...settings, tasksPerPage: ctx.concurrency / settings.pages, jobId },
      };
    } finally {
      await Promise.all(workers.map((w) => w.stop('SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
