/**
 * The chaos run (issues #8, #15): one tagging job over `tasks` manifest rows while a driver, bounded in count and
 * time, SIGKILLs and restarts its two worker processes (one task queue), crashes (SIGKILL, not a clean stop) and
 * restarts parts of Temporal, and the workers' S3 traffic goes through a fault path. At the end it checks what we
 * promise: status Complete, succeeded + failed = rows, every row once in the report, and each object's tags agree
 * with its report row.
 *
 * Runs its own Temporal (own data dir and ports, so the crashes disturb nobody) beside the shared stack's MinIO: a dev
 * server, crashed once (chaos-temporal.ts), or a cluster whose history service, matching service and PostgreSQL are
 * each crashed once (chaos-cluster.ts). Used by `npm run chaos [-- --cluster]` (test/chaos/main.ts) and, smaller, by
 * test/integration/chaos.test.ts and cluster-chaos.test.ts.
 */
import { GetObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import type { StackState } from '../../scripts/stack/index';
import { stackS3Client, workerConfigForStack } from '../../scripts/stack/worker-config';
import { JobClient } from '../../src/client';
import type { JobDescriptor } from '../../src/shared/types';
import type { WorkerConfig } from '../../src/schemas/worker-config';
import type { TaskExecution } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putText, readReport, seedObjects, uniqueBucket } from '../helpers/engine';
import { prng } from '../helpers/prng';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { startChaosCluster } from './chaos-cluster';
import { type ChaosTemporal, sleep, startChaosDevServer } from './chaos-temporal';

/** Where the workers' S3 traffic goes, and what it did to it. */
export interface S3FaultPath {
  /** The endpoint the workers use instead of MinIO's. */
  endpoint: string;
  /** Faults injected so far, by kind (e.g. { SlowDown: 12, reset: 3 }). */
  injected(): Record<string, number>;
  /** Requests seen whose method and path say they are a task's tagging call, counted per object key. */
  taggingRequests(): Map<string, number>;
  /** A short outage of the path (connections stalled and cut), made at each chaos step. */
  outage?(): Promise<void>;
  close(): Promise<void>;
}

export interface ChaosOptions {
  stack: StackState;
  /** Manifest rows; `missing` of them name keys that do not exist (they must fail with NoSuchKey). */
  tasks: number;
  missing: number;
  /** Worker SIGKILLs at most (each followed by a restart of that worker). */
  kills: number;
  /** `dev`: a Temporal dev server; `cluster`: the cluster profile's services and PostgreSQL. Default `dev`. */
  temporal?: 'dev' | 'cluster';
  /** Crash (SIGKILL) and restart Temporal's parts once each as the tasks progress: the dev server at a third of the
   * tasks; the cluster's history service, matching service and PostgreSQL at 10%, 25% and 40%. */
  restartTemporal: boolean;
  /** Seconds between chaos steps are drawn from this range. */
  stepSeconds: [number, number];
  /** The whole run, job included, must end within this. */
  timeLimitMs: number;
  /** Builds the fault path in front of MinIO; absent, workers talk to MinIO directly. */
  faults?: (minioEndpoint: string, seed: number) => Promise<S3FaultPath>;
  seed: number;
  /** The job's Extensions.TaskExecution; absent, the worker default (LocalActivity). */
  taskExecution?: TaskExecution;
  log: (line: string) => void;
  /** Job extensions on top of the run's own (e.g. lower concurrency, so a short run outlasts its chaos). */
  jobExtensions?: Record<string, number>;
}

export interface ChaosFigures {
  status: string;
  rows: number;
  succeeded: number;
  failed: number;
  workerKills: number;
  workerStarts: number;
  /** Crashes (SIGKILL, then a start) by target: `dev server`, or `history`, `matching`, `postgres`. */
  temporalCrashes: Record<string, number>;
  injectedFaults: Record<string, number>;
  /** Tagging requests beyond one per row that reached the fault path: retries and work redone after kills. */
  repeatedRequests: number;
  reportRows: number;
  duplicateReportRows: number;
  /** Rows missing from the report, or in it but not in the manifest. */
  unreportedRows: number;
  /** Objects whose tags disagree with their report row. */
  stateMismatches: number;
  seconds: number;
}

const NAMESPACE = 's3-batch-chaos';
const TASK_QUEUE = 'chaos';

export async function runChaos(o: ChaosOptions): Promise<ChaosFigures> {
  const random = prng(o.seed);
  const started = Date.now();
  const deadline = started + o.timeLimitMs;
  const s3 = stackS3Client(o.stack.s3);
  const workers: (WorkerProcess | undefined)[] = [undefined, undefined];
  let temporal: ChaosTemporal | undefined;
  let connection: Connection | undefined;
  let faults: S3FaultPath | undefined;
  const figures = { workerKills: 0, workerStarts: 0, temporalCrashes: {} as Record<string, number> };
  try {
    // The data: `tasks - missing` objects, then rows for all of them plus keys that were never written.
    const bucket = uniqueBucket('chaos');
    const present = Array.from({ length: o.tasks - o.missing }, (_, i) => `obj/${i}`);
    const absent = Array.from({ length: o.missing }, (_, i) => `never-written/${i}`);
    await createBucket(s3, bucket);
    await seedObjects(s3, bucket, present);
    const rows = [...present, ...absent];
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const etag = await putText(s3, bucket, 'manifest.csv', rows.map((k) => `${bucket},${k}\n`).join(''));
    o.log(`seeded ${present.length} objects in ${bucket}; manifest of ${rows.length} rows (${absent.length} missing keys)`);

    temporal = o.temporal === 'cluster' ? await startChaosCluster(NAMESPACE, o.log) : await startChaosDevServer(NAMESPACE);
    faults = o.faults ? await o.faults(o.stack.s3.endpoint, o.seed) : undefined;

    const base = workerConfigForStack(o.stack, TASK_QUEUE);
    // Through the fault path, and quick to give up on a request that hangs there.
    const s3Default = { ...base.s3.default!, endpoint: faults?.endpoint ?? base.s3.default!.endpoint, requestTimeoutSeconds: 5 };
    const config: WorkerConfig = {
      ...base,
      temporal: { ...base.temporal, address: temporal.address, namespace: NAMESPACE, taskQueue: TASK_QUEUE },
      s3: { ...base.s3, default: s3Default },
    };
    const startWorker = async (i: number) => {
      const w = await spawnWorker(config);
      await w.ready;
      workers[i] = w;
      figures.workerStarts++;
    };
    await Promise.all([startWorker(0), startWorker(1)]);

    connection = await Connection.connect({ address: temporal.address });
    const jobs = new JobClient(new Client({ connection, namespace: NAMESPACE }), { taskQueue: TASK_QUEUE });
    const tag = `run-${o.seed}`;
    const { jobId } = await jobs.createJob(
      csvJob({ bucket, key: 'manifest.csv', etag }, { S3PutObjectTagging: { TagSet: [{ Key: 'chaos', Value: tag }] } }, bucket, {
        // Small history budgets, so pages and the job continue as new while workers die under them.
        Extensions: {
          PageSize: 200,
          PagesPerRun: 10,
          TasksPerPageRun: 100,
          MaxAttemptsPerTask: 10,
          ...(o.taskExecution ? { TaskExecution: o.taskExecution } : {}),
          ...o.jobExtensions,
        },
      })
    );
    o.log(
      `job ${jobId} (${o.taskExecution ?? 'default mode'}) started on ${o.temporal === 'cluster' ? 'a cluster' : 'a dev server'} at ${temporal.address}, two workers`
    );

    // The driver: bounded by the kill budget, one crash of each Temporal part and the clock; stops early when the job ends.
    const progress = async (): Promise<JobDescriptor | undefined> => jobs.describeJob(jobId).catch(() => undefined);
    let kills = 0;
    const crashes = o.restartTemporal ? [...temporal.crashes] : [];
    while (Date.now() < deadline && (kills < o.kills || crashes.length > 0)) {
      const [min, max] = o.stepSeconds;
      await sleep((min + random() * (max - min)) * 1000);
      const job = await progress();
      if (job && ['Complete', 'Failed', 'Cancelled'].includes(job.Status)) break;
      const done = job ? job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed : 0;
      const crash = crashes[0];
      if (crash && done >= o.tasks * crash.atShare) {
        crashes.shift();
        o.log(`crash of the ${crash.target} at ${done} tasks done`);
        await crash.crashAndRestart(o.log);
        figures.temporalCrashes[crash.target] = (figures.temporalCrashes[crash.target] ?? 0) + 1;
      } else if (kills < o.kills) {
        const i = kills % 2;
        o.log(`SIGKILL worker ${i} (pid ${workers[i]?.child.pid}) at ${done} tasks done`);
        await workers[i]?.kill('SIGKILL');
        kills++;
        figures.workerKills++;
        await sleep(500);
        await startWorker(i);
      }
      if (faults?.outage) {
        o.log('S3 outage: the TCP path stalls and cuts connections');
        await faults.outage();
      }
    }

    const final = await jobs.waitForCompletion(jobId, { timeoutMs: Math.max(60_000, deadline - Date.now()), pollMs: 2000 });
    o.log(`job ended ${final.Status}: ${JSON.stringify(final.ProgressSummary)}${final.FailureReasons.length ? ` ${JSON.stringify(final.FailureReasons)}` : ''}`);
    const { succeeded, failed, report, duplicates, unreported, mismatches } = await checkOutcome(s3, bucket, rows, tag, final);
    const requests = faults?.taggingRequests();
    const repeated = requests ? [...requests.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0) : 0;
    return {
      status: final.Status,
      rows: rows.length,
      succeeded,
      failed,
      ...figures,
      injectedFaults: faults?.injected() ?? {},
      repeatedRequests: repeated,
      reportRows: report,
      duplicateReportRows: duplicates,
      unreportedRows: unreported,
      stateMismatches: mismatches,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await Promise.all(workers.map((w) => w?.kill('SIGTERM')));
    await connection?.close();
    await temporal?.close();
    await faults?.close();
    s3.destroy();
  }
}

/** Reads the report and every object's tags back, and compares them with the manifest and each other. */
async function checkOutcome(s3: S3Client, bucket: string, rows: string[], tag: string, job: JobDescriptor) {
  const { rows: report } = job.S3Batch.ReportManifestKey
    ? await readReport(s3, bucket, job.S3Batch.ReportManifestKey)
    : { rows: [] };
  const seen = new Map<string, (typeof report)[number]>();
  let duplicates = 0;
  for (const row of report) {
    if (seen.has(row.key)) duplicates++;
    else seen.set(row.key, row);
  }
  const manifest = new Set(rows);
  const unreported = rows.filter((k) => !seen.has(k)).length + [...seen.keys()].filter((k) => !manifest.has(k)).length;
  let mismatches = 0;
  let next = 0;
  const check = async () => {
    while (next < rows.length) {
      const key = rows[next++]!;
      const row = seen.get(key);
      const tags = await s3
        .send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))
        .then((out) => out.TagSet ?? [])
        .catch((err: { name?: string }) => (err.name === 'NoSuchKey' ? undefined : Promise.reject(err)));
      const tagged = tags?.some((t) => t.Key === 'chaos' && t.Value === tag) ?? false;
      // Succeeded ⇔ tagged; a failed row must be a key that does not exist (the only failure this run plants).
      const agrees = row?.status === 'succeeded' ? tagged : row?.status === 'failed' && tags === undefined && row.errorCode === 'NoSuchKey';
      if (!agrees) mismatches++;
    }
  };
  await Promise.all(Array.from({ length: 32 }, check));
  return {
    succeeded: job.ProgressSummary.NumberOfTasksSucceeded,
    failed: job.ProgressSummary.NumberOfTasksFailed,
    report: report.length,
    duplicates,
    unreported,
    mismatches,
  };
}
