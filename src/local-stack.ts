/**
 * The running local stack (`npm run stack:up`, started by `npm run demo` and the tests), found by its state file,
 * for the commands a new user runs with no configuration: the CLI's `report` and `redrive` (S3 connections) and
 * `npm run api` (Temporal, and an access key). The connections are exactly those of `npm run worker:stack`
 * (scripts/stack/worker-config.ts builds its config from here): "default" and "minio" (MinIO), "moto", and one
 * Lambda connection per stack function. Only the fields used here are read; scripts/stack/state.ts owns the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { TEMPORAL_PRIORITY_LEVELS } from './shared/priority';

const S3Service = z.object({ endpoint: z.string(), region: z.string(), accessKeyId: z.string(), secretAccessKey: z.string() });

export const LocalStackState = z.object({
  phase: z.literal('running'),
  temporal: z.object({ address: z.string(), namespace: z.string() }),
  s3: S3Service,
  moto: S3Service,
  lambda: z.object({ region: z.string(), functions: z.record(z.string(), z.object({ endpoint: z.string() })) }),
});
export type LocalStackState = z.infer<typeof LocalStackState>;

export interface LocalStack {
  /** The state file it was found by. */
  stateFile: string;
  state: LocalStackState;
}

/** Where the stack keeps its state: `$S3BATCH_STACK_DIR/state.json`, by default `.stack/state.json` here. */
export function localStackStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(resolve(env.S3BATCH_STACK_DIR || '.stack'), 'state.json');
}

/** The running local stack, or undefined when there is none (no state file, or one not in the running phase). */
export function findLocalStack(env: NodeJS.ProcessEnv = process.env): LocalStack | undefined {
  const stateFile = localStackStateFile(env);
  if (!existsSync(stateFile)) return undefined;
  try {
    const parsed = LocalStackState.safeParse(JSON.parse(readFileSync(stateFile, 'utf8')));
    return parsed.success ? { stateFile, state: parsed.data } : undefined;
  } catch {
    return undefined; // being rewritten, or not ours: as if there were no stack
  }
}

/** The worker config (input, before parsing) that points at the stack: what `npm run worker:stack` runs with. */
export function localStackWorkerConfigInput(state: LocalStackState, taskQueue = 's3-batch') {
  const s3 = (c: LocalStackState['s3']) => ({
    endpoint: c.endpoint,
    region: c.region,
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
  });
  return {
    temporal: { address: state.temporal.address, namespace: state.temporal.namespace, taskQueue, priorityLevels: TEMPORAL_PRIORITY_LEVELS },
    s3: { default: s3(state.s3), minio: s3(state.s3), moto: s3(state.moto) },
    lambda: Object.fromEntries(
      Object.entries(state.lambda.functions).map(([name, fn]) => [
        name,
        { endpoint: fn.endpoint, region: state.lambda.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      ])
    ),
  };
}
