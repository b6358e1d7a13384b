/**
 * The "limit" contender, run as its own process by the bench: the same operation code, S3 clients and SDK calls as
 * the worker's task activity (src/activities/operations), in a plain loop at a fixed concurrency, with no Temporal.
 * Input: BENCH_LIMIT_INPUT (JSON). Output: one line `BENCH_RESULT <json>`.
 */
import { z } from 'zod';
import { OperationsConfig } from '../src/schemas/worker-config';
import { CustomOperations } from '../src/activities/operations/custom';
import { runOperation } from '../src/activities/operations/registry';
import { Connections } from '../src/activities/s3-clients';
import { CreateJobRequest } from '../src/schemas/job-spec';
import { resolveOperation } from '../src/schemas/operations';
import { parseWorkerConfig } from '../src/schemas/worker-config';
import { objectKey, runConcurrently } from './workload';

export const LimitInput = z
  .object({
    workerConfig: z.unknown(),
    connection: z.string().min(1),
    operation: CreateJobRequest.shape.Operation,
    sourceBucket: z.string().min(1),
    objects: z.number().int().min(1),
    concurrency: z.number().int().min(1),
  })
  .strict();
export type LimitInput = z.input<typeof LimitInput>;

export interface LimitResult {
  succeeded: number;
  failed: number;
  firstError?: string;
  seconds: number;
}

async function main(): Promise<void> {
  const input = LimitInput.parse(JSON.parse(process.env.BENCH_LIMIT_INPUT ?? 'null'));
  const connections = new Connections(parseWorkerConfig(input.workerConfig));
  const s3 = connections.taskS3(input.connection);
  const operation = resolveOperation(input.operation);
  let succeeded = 0;
  let failed = 0;
  let firstError: string | undefined;
  // Clients and code are loaded: from here on it is the loop the bench times.
  const settings = OperationsConfig.parse({});
  const custom = new CustomOperations();
  console.log('BENCH_READY');
  const started = process.hrtime.bigint();
  await runConcurrently(input.objects, input.concurrency, async (i) => {
    try {
      // A signal per call, as each task activity has its own (one shared signal would collect a listener per call).
      const signal = new AbortController().signal;
      const ctx = { s3, connections, settings, signal, jobId: 'limit', taskId: String(i), attemptId: String(i) };
      await runOperation(ctx, { bucket: input.sourceBucket, key: objectKey(i) }, operation, custom);
      succeeded++;
    } catch (err) {
      failed++;
      firstError ??= (err as Error).message;
    }
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  connections.destroy();
  const result: LimitResult = { succeeded, failed, firstError, seconds };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
