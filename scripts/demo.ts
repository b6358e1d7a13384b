/**
 * npm run demo: the main job on the embedded stack, end to end.
 *
 * Starts the local stack (or reuses it), seeds a demo bucket in MinIO with objects and a CSV manifest, starts a
 * worker in this process, creates a real S3PutObjectCopy job through the JobClient, shows live progress in the
 * terminal, and prints the report location and the job's Temporal Web URL. The stack stays up afterwards so the
 * job can be browsed in Temporal Web; `npm run stack:down` stops it.
 *
 *   DEMO_OBJECTS (default 2000)   how many objects the job copies
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { JobClient } from '../src/job-client';
import type { JobDescriptor } from '../src/shared/types';
import { createWorker } from '../src/worker-runtime';
import { stackConfigFromEnv, stackUp } from './stack/index';
import { ensureBucket, stackS3Client, workerConfigForStack } from './stack/worker-config';

const Env = z.object({ DEMO_OBJECTS: z.coerce.number().int().min(1).max(1_000_000).default(2000) });

function bar(job: JobDescriptor): string {
  const total = job.ProgressSummary.TotalNumberOfTasks ?? 0;
  const ok = job.ProgressSummary.NumberOfTasksSucceeded;
  const failed = job.ProgressSummary.NumberOfTasksFailed;
  const done = ok + failed;
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(job.Status).padEnd(10)} ${done}/${total || '?'} (${ok} succeeded, ${failed} failed) ${job.ProgressSummary.Timers.ElapsedTimeInActiveSeconds}s active`;
}

async function seed(s3: S3Client, bucket: string, count: number): Promise<string[]> {
  await ensureBucket(s3, bucket);
  const keys = Array.from({ length: count }, (_, i) => `photos/2026/img ${String(i).padStart(6, '0')}.jpg`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `demo object ${key}`, ContentType: 'image/jpeg' }));
      }
    })
  );
  return keys;
}

async function main(): Promise<void> {
  const env = Env.parse(process.env);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  console.log('Starting the local stack (first run builds the Go tools; later runs take seconds)...');
  const stack = await stackUp(stackConfigFromEnv(), { log: (line) => console.log(`  ${line}`) });
  const config = workerConfigForStack(stack, 's3-batch-demo');
  const s3 = stackS3Client(stack.s3);

  const runId = Date.now().toString(36);
  const source = 'demo-source';
  const target = 'demo-target';
  const reports = 'demo-reports';
  console.log(`Seeding ${env.DEMO_OBJECTS} objects into s3://${source} on MinIO (${stack.s3.endpoint})...`);
  const keys = await seed(s3, source, env.DEMO_OBJECTS);
  for (const bucket of [target, reports]) await ensureBucket(s3, bucket);
  // One row per object, keys URL-encoded as S3 Batch Operations manifests want them.
  const manifest = keys.map((k) => `${source},${encodeURIComponent(k).replace(/%2F/g, '/')}\n`).join('');
  const manifestKey = `manifests/demo-${runId}.csv`;
  const put = await s3.send(new PutObjectCommand({ Bucket: source, Key: manifestKey, Body: manifest }));

  const built = await createWorker(config);
  const running = built.worker.run();
  const connection = await Connection.connect({ address: stack.temporal.address });
  const jobs = new JobClient(new Client({ connection, namespace: stack.temporal.namespace }), { taskQueue: config.temporal.taskQueue });

  const { jobId } = await jobs.createJob({
    AccountId: '123456789012',
    ClientRequestToken: `demo-${runId}`,
    Description: `Demo: copy ${keys.length} photos to s3://${target}/backup/`,
    Priority: 10,
    RoleArn: 'arn:aws:iam::123456789012:role/s3-batch-demo',
    Operation: {
      S3PutObjectCopy: {
        TargetResource: `arn:aws:s3:::${target}`,
        TargetKeyPrefix: `backup/${runId}/`,
        NewObjectTagging: [{ Key: 'copied-by', Value: 's3-batch' }],
      },
    },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: `arn:aws:s3:::${source}/${manifestKey}`, ETag: put.ETag!.replace(/"/g, '') },
    },
    Report: { Enabled: true, Bucket: `arn:aws:s3:::${reports}`, Format: 'Report_CSV_20180820', Prefix: 'demo', ReportScope: 'AllTasks' },
    Extensions: { PageSize: 100, MaxConcurrentPages: 4 },
  });
  const webUrl = `${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows/${jobId}`;
  console.log(`\nJob ${jobId} created. Watch it in Temporal Web: ${webUrl}\n`);

  const interactive = process.stdout.isTTY;
  const final = await jobs.waitForCompletion(jobId, {
    pollMs: 300,
    onProgress: (job) => {
      if (interactive) process.stdout.write(`\r${bar(job)}`);
      else console.log(bar(job));
    },
  });
  if (interactive) process.stdout.write('\n');

  console.log(`\n${final.S3Batch.Summary}`);
  if (final.S3Batch.ReportManifestKey) {
    const reportManifest = await s3.send(new GetObjectCommand({ Bucket: reports, Key: final.S3Batch.ReportManifestKey }));
    const parsed = JSON.parse(await reportManifest.Body!.transformToString()) as { Results: { Key: string }[] };
    console.log(`Report: s3://${reports}/${final.S3Batch.ReportManifestKey} (${parsed.Results.length} result file(s))`);
  }
  console.log(`Temporal Web: ${webUrl}`);
  // Works with no configuration: the CLI finds the running stack's connections (src/local-stack.ts).
  console.log(`Its report, summarised: npm run s3batch -- report ${jobId}`);
  console.log('The stack keeps running for you to look around; stop it with `npm run stack:down`.');

  built.worker.shutdown();
  await running;
  await built.close();
  await connection.close();
  s3.destroy();
  if (final.Status !== 'Complete') process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
