/**
 * Durability across Temporal restarts: crash the dev server mid-job (SIGKILL: no clean shutdown) and start it again on
 * the same SQLite file, later stop it cleanly (SIGTERM) and start it again; the job completes, counts equal the
 * manifest, and every row is in the report once. In the default mode and in Batch mode. Runs its own dev server
 * (own data dir and ports) so the shared stack is not disturbed; MinIO is the shared one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { isProcessAlive, killPidNow, startTemporalDevServer, stopPid, type TemporalDevServer } from '../../scripts/stack/index';
import { workerConfigForStack } from '../../scripts/stack/worker-config';
import { JobClient } from '../../src/client';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import type { JobDescriptor } from '../../src/shared/types';
import { createWorker, type BuiltWorker } from '../../src/worker-runtime';
import { createBucket, csvJob, putText, readReport, seedObjects, uniqueBucket } from '../helpers/engine';
import { freePortBlock } from '../helpers/ports';
import { getStack, s3Client } from '../helpers/stack';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';

const NAMESPACE = 's3-batch-restart';
const s3 = s3Client();

afterAll(() => s3.destroy());

// The default mode, and Batch mode (a batch's activity outlives the server's restart, or is retried after it).
test.each(['LocalActivity', 'Batch'] as const)('crash (SIGKILL) and later stop (SIGTERM) the dev server mid-job, restarting it each time (%s): the job completes, every row once', async (mode) => {
  const dataDir = mkdtempSync(join(tmpdir(), 's3batch-restart-'));
  const data = uniqueBucket('restart-data');
  const keys = Array.from({ length: 400 }, (_, i) => `r/${i}`);
  let server: TemporalDevServer | undefined;
  let worker: BuiltWorker | undefined;
  let connection: Connection | undefined;
  try {
    const [port = 0, uiPort = 0] = await freePortBlock(2);
    const start = () =>
      startTemporalDevServer({ dataDir, port, uiPort, namespace: NAMESPACE, searchAttributes: [...JOB_SEARCH_ATTRIBUTES], headless: true });
    server = await start();

    await createBucket(s3, data);
    await seedObjects(s3, data, keys);
    const etag = await putText(s3, data, 'm.csv', keys.map((k) => `${data},${k}\n`).join(''));

    const base = workerConfigForStack(getStack(), 'restart');
    const config = { ...base, temporal: { ...base.temporal, address: server.address, namespace: NAMESPACE, taskQueue: 'restart' } };
    worker = await createWorker(config, { workflowBundlePath: await workflowBundlePath() });
    void worker.worker.run();
    connection = await Connection.connect({ address: server.address });
    const jobs = new JobClient(new Client({ connection, namespace: NAMESPACE }), { taskQueue: 'restart' });

    const { jobId } = await jobs.createJob(
      csvJob({ bucket: data, key: 'm.csv', etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'r', Value: '1' }] } }, data, {
        Extensions: { TaskExecution: mode, ...(mode === 'Batch' ? { BatchSize: 10 } : {}), PageSize: 50, MaxConcurrentPages: 2, MaxConcurrentTasksPerPage: 3 },
      })
    );
    /** Waits until `succeeded` tasks are done, and checks the job is still mid-way. */
    const waitForSucceeded = async (succeeded: number): Promise<JobDescriptor> => {
      for (;;) {
        // Right after a restart the query can fail until the worker polls again.
        const job = await jobs.describeJob(jobId).catch(() => undefined);
        if (job && job.ProgressSummary.NumberOfTasksSucceeded >= succeeded) {
          expect(job.ProgressSummary.NumberOfTasksSucceeded).toBeLessThan(400);
          return job;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    await waitForSucceeded(50);
    const crashed = server.pid;
    await killPidNow(crashed);
    expect(isProcessAlive(crashed)).toBe(false);
    await new Promise((r) => setTimeout(r, 2000));
    server = await start();

    await waitForSucceeded(200);
    await stopPid(server.pid);
    await new Promise((r) => setTimeout(r, 2000));
    server = await start();

    const final = await jobs.waitForCompletion(jobId, { timeoutMs: 180_000 });
    expect(final.Status).toBe('Complete');
    expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 400, NumberOfTasksSucceeded: 400, NumberOfTasksFailed: 0 });
    const report = await readReport(s3, data, final.S3Batch.ReportManifestKey!);
    expect(report.rows).toHaveLength(400);
    expect(new Set(report.rows.map((r) => r.key))).toEqual(new Set(keys));
  } finally {
    await worker?.close();
    await connection?.close();
    if (server) await stopPid(server.pid);
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 300_000);
