/** What every contender run gets from the bench: the stack, an S3 client for checks, and the run's target. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { StackState } from '../../scripts/stack/state';
import { cpuSecondsOf, treeCpuSeconds } from '../child-process';
import type { RunResult } from '../results';
import { countDone, type RunTarget, timeToFirstTask } from '../workload';

export interface ContenderContext {
  stack: StackState;
  /** The bench's own client, for seeding and checks. */
  s3: S3Client;
  target: RunTarget;
  objectSize: number;
  concurrency: number;
  /** S3 latency added each way (ctx.stack.s3.endpoint is then the Toxiproxy in front of MinIO). */
  latencyMs: number;
}

/** Marks the timed span of a run: set-up before `start()` and checks after `finish()` are not timed. */
export interface RunClock {
  start(): void;
  /** Optional: without it the span ends when the work resolves. */
  finish(): void;
}

/**
 * Runs `work` (resolving with its peak RSS and any extra fields), timing the span it marks and probing the first
 * task meanwhile, then counts in S3 what was really done.
 */
export async function measure(
  ctx: ContenderContext,
  contender: string,
  work: (clock: RunClock) => Promise<{ peakRssBytes: number; cpuSeconds: number } & Partial<RunResult>>
): Promise<RunResult> {
  let started: number | undefined;
  let finished: number | undefined;
  const stackCpu = () => stackCpuSeconds(ctx.stack);
  let cpuAtStart = stackCpu();
  let cpuAtFinish = cpuAtStart;
  let firstTask: Promise<number | undefined> = Promise.resolve(undefined);
  let workDone!: () => void;
  const done = new Promise<void>((resolve) => (workDone = resolve));
  const clock: RunClock = {
    start() {
      started = Date.now();
      cpuAtStart = stackCpu();
      firstTask = timeToFirstTask(ctx.s3, ctx.target, started, done);
    },
    finish() {
      if (finished !== undefined) return;
      finished = Date.now();
      cpuAtFinish = stackCpu();
      workDone();
    },
  };
  const { cpuSeconds, ...extra } = await work(clock).finally(() => clock.finish());
  if (started === undefined || finished === undefined) throw new Error(`${contender}: the work finished without saying when it started`);
  const seconds = (finished - started) / 1000;
  const perThousand = (cpu: number) => Math.round((cpu / ctx.target.objects) * 1000 * 100) / 100;
  const firstTaskMs = await firstTask;
  const verified = await countDone(ctx.s3, ctx.target);
  return {
    contender,
    operation: ctx.target.operation,
    objects: ctx.target.objects,
    objectSize: ctx.objectSize,
    concurrency: ctx.concurrency,
    latencyMs: ctx.latencyMs,
    verified,
    seconds,
    tasksPerSecond: ctx.target.objects / seconds,
    firstTaskMs,
    cpuSecondsPerThousand: {
      contender: perThousand(cpuSeconds),
      temporal: perThousand(cpuAtFinish.temporal - cpuAtStart.temporal),
      minio: perThousand(cpuAtFinish.minio - cpuAtStart.minio),
      ...(cpuAtStart.postgres !== undefined ? { postgres: perThousand(cpuAtFinish.postgres! - cpuAtStart.postgres) } : {}),
      ...(cpuAtStart.services
        ? { temporalServices: Object.fromEntries(Object.entries(cpuAtStart.services).map(([k, v]) => [k, perThousand(cpuAtFinish.services![k]! - v)])) }
        : {}),
    },
    ...extra,
  };
}

/**
 * CPU seconds so far of the stack's parts: Temporal (the dev server, or on the cluster profile the sum of its
 * services, each also on its own), MinIO, and on the cluster PostgreSQL with its backends.
 */
function stackCpuSeconds(stack: StackState): { temporal: number; minio: number; postgres?: number; services?: Record<string, number> } {
  const minio = cpuSecondsOf(stack.s3.pid);
  if (stack.profile !== 'cluster') return { temporal: cpuSecondsOf(stack.temporal.pid), minio };
  const services = Object.fromEntries(
    stack.processes
      .filter((p) => p.component.startsWith('temporal-') && p.component !== 'temporal-ui')
      .map((p) => [p.component.slice('temporal-'.length), cpuSecondsOf(p.pid)])
  );
  const temporal = Object.values(services).reduce((a, b) => a + b, 0);
  return { temporal, minio, services, ...(stack.postgres ? { postgres: treeCpuSeconds(stack.postgres.pid) } : {}) };
}
