/**
 * The stack's state file, `<dataDir>/state.json`: endpoints, credentials of the local servers and the PIDs we started.
 * It is written twice per start: `phase: "starting"` with the PIDs as they are spawned (so a crashed start can still be
 * cleaned up), then `phase: "running"` with every endpoint once all components are healthy. Only a running state is a
 * StackState; tests and scripts read it through readStackState.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { STACK_PROFILES } from './config';

export const STATE_FILE_NAME = 'state.json';

const ownedProcessSchema = z.object({
  component: z.string(),
  pid: z.number().int().positive(),
  markers: z.array(z.string()),
  logFile: z.string(),
});

const s3EndpointSchema = z.object({
  endpoint: z.url(),
  region: z.string(),
  accessKeyId: z.string(),
  secretAccessKey: z.string(),
  pid: z.number().int().positive(),
});

const lambdaFunctionSchema = z.object({
  /** Invoke endpoint for @aws-sdk/client-lambda, e.g. http://127.0.0.1:9100. */
  endpoint: z.url(),
  pid: z.number().int().positive(),
  /** host:port of the Lambda Runtime API that the function's runtime polls. */
  runtimeApi: z.string(),
  /** `rie`: the AWS Runtime Interface Emulator; `emulator`: scripts/stack/lambda-emulator.ts. */
  kind: z.enum(['rie', 'emulator']),
});

export const stackStateSchema = z.object({
  version: z.literal(1),
  phase: z.literal('running'),
  /** `default`: the Temporal dev server; `cluster`: PostgreSQL and one process per Temporal service (config.ts). */
  profile: z.enum(STACK_PROFILES).default('default'),
  dataDir: z.string(),
  startedAt: z.string(),
  temporal: z.object({
    /** host:port of the frontend, e.g. 127.0.0.1:7233. */
    address: z.string(),
    namespace: z.string(),
    uiUrl: z.url(),
    /** The dev server's PID; on the cluster profile, the frontend service's. */
    pid: z.number().int().positive(),
    /** The Temporal CLI the stack configured the namespace with (health checks use it too). */
    cli: z.string().optional(),
  }),
  /** The cluster profile's PostgreSQL (Temporal's persistence and visibility store). */
  postgres: z
    .object({ address: z.string(), user: z.string(), databases: z.array(z.string()), dataDir: z.string().optional(), pid: z.number().int().positive() })
    .optional(),
  /** MinIO. */
  s3: s3EndpointSchema,
  /** moto server: ACLs, archive storage classes, RestoreObject. */
  moto: s3EndpointSchema,
  lambda: z.object({
    region: z.string(),
    functions: z.record(z.string(), lambdaFunctionSchema),
  }),
  /** Every process this stack started; `stack:down` stops exactly these. */
  processes: z.array(ownedProcessSchema),
});

const startingStateSchema = z.object({
  version: z.literal(1),
  phase: z.literal('starting'),
  profile: z.enum(STACK_PROFILES).default('default'),
  dataDir: z.string(),
  startedAt: z.string(),
  processes: z.array(ownedProcessSchema),
});

const stateFileSchema = z.discriminatedUnion('phase', [stackStateSchema, startingStateSchema]);

export type StackState = z.infer<typeof stackStateSchema>;
export type StartingState = z.infer<typeof startingStateSchema>;
export type StateFile = z.infer<typeof stateFileSchema>;

export function stateFilePath(dataDir: string): string {
  return join(dataDir, STATE_FILE_NAME);
}

/** A directory means its state.json; anything else is taken as the state file itself. */
function resolveStatePath(pathOrDir: string): string {
  return existsSync(pathOrDir) && statSync(pathOrDir).isDirectory() ? stateFilePath(pathOrDir) : pathOrDir;
}

/** Reads and validates a state file in either phase; undefined if there is none. Throws if it is corrupt. */
export function readStateFile(pathOrDir: string): StateFile | undefined {
  const file = resolveStatePath(pathOrDir);
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`stack state file ${file} is not valid JSON (${(error as Error).message}); check no stack process is left running and delete it`);
  }
  const parsed = stateFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`stack state file ${file} does not match this version of the stack scripts: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Atomically replaces the state file (write + rename), so a reader never sees half a file. */
export function writeStateFile(dataDir: string, state: StateFile): void {
  const file = stateFilePath(dataDir);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

export function removeStateFile(dataDir: string): void {
  rmSync(stateFilePath(dataDir), { force: true });
}
