/**
 * Configuration of the local stack, read from the environment (all optional) and validated with zod.
 *
 * | variable                             | default              | what                                                   |
 * |--------------------------------------|----------------------|--------------------------------------------------------|
 * | S3BATCH_STACK_PROFILE                | default              | `default` (dev server) or `cluster` (see below)        |
 * | S3BATCH_STACK_DIR                    | <repo>/.stack        | data dir: state.json, logs/, temporal/, minio/         |
 * | S3BATCH_TEMPORAL_PORT                | 7233                 | Temporal frontend (gRPC)                               |
 * | S3BATCH_TEMPORAL_UI_PORT             | 8233                 | Temporal Web UI                                        |
 * | S3BATCH_TEMPORAL_NAMESPACE           | s3-batch             | namespace created at start                             |
 * | S3BATCH_NAMESPACE_RETENTION          | 90d                  | closed-workflow retention: `90d`, `2160h` or days      |
 * | S3BATCH_MINIO_PORT                   | 9000                 | MinIO S3 API                                           |
 * | S3BATCH_MINIO_CONSOLE_PORT           | 9001                 | MinIO console                                          |
 * | S3BATCH_MINIO_ROOT_USER              | minioadmin           | MinIO access key (local only)                          |
 * | S3BATCH_MINIO_ROOT_PASSWORD          | minioadmin           | MinIO secret key (local only; at least 8 characters)   |
 * | S3BATCH_MOTO_PORT                    | 9002                 | moto S3 API (credentials: any; we use test/test)       |
 * | S3BATCH_LAMBDA_BASE_PORT             | 9100                 | function i gets invoke port base+2i, runtime API +1    |
 * | S3BATCH_LAMBDA_FUNCTIONS             | all fixtures         | comma list of test/fixtures/lambda/functions/*.mjs     |
 * | S3BATCH_LAMBDA_RUNTIME               | auto                 | `rie` (real emulator), `emulator` (ours), `auto`       |
 * | S3BATCH_LAMBDA_TIMEOUT_SECONDS       | 30                   | per-invocation timeout, as Lambda's function timeout   |
 * | S3BATCH_REGION                       | us-east-1            | region every client is told to use                     |
 * | S3BATCH_STACK_START_TIMEOUT_SECONDS  | 60                   | how long each component may take to become healthy     |
 * | S3BATCH_POSTGRES_PORT                | 5433                 | PostgreSQL (cluster profile only)                      |
 * | S3BATCH_STACK_WORKERS                | 2 cluster, 0 default | worker processes on task queue s3-batch (0-16)         |
 *
 * Profiles: `default` runs `temporal server start-dev` (one process, SQLite). `cluster` runs Temporal as production
 * does: PostgreSQL, the frontend, history, matching and worker services as separate processes, and the standalone
 * Web UI (see temporal-cluster.ts). The frontend and the UI use the same ports in both profiles; the cluster's
 * internal ports are derived from the frontend's (clusterServicePorts).
 * Everything listens on 127.0.0.1 only. Tool binaries come from the tool cache (see scripts/tools.ts).
 */
import { join, resolve } from 'node:path';
import { z } from 'zod';
// Side effect: user-facing messages for every zod issue (src/shared/zod-messages.ts).
import '../../src/shared/zod-messages';

export const STACK_HOST = '127.0.0.1';

/** Repository root: scripts/stack/ is two levels down. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  minio: number;
  minioConsole: number;
  moto: number;
  /** First of the Lambda ports: function i uses base+2i (invoke) and base+2i+1 (runtime API). */
  lambdaBase: number;
  /** PostgreSQL, started by the cluster profile only. */
  postgres: number;
}

/** The variable that sets each port, for error messages that tell the user what to change. */
export const PORT_VARIABLES: Record<keyof StackPorts, string> = {
  temporal: 'S3BATCH_TEMPORAL_PORT',
  temporalUi: 'S3BATCH_TEMPORAL_UI_PORT',
  minio: 'S3BATCH_MINIO_PORT',
  minioConsole: 'S3BATCH_MINIO_CONSOLE_PORT',
  moto: 'S3BATCH_MOTO_PORT',
  lambdaBase: 'S3BATCH_LAMBDA_BASE_PORT',
  postgres: 'S3BATCH_POSTGRES_PORT',
};

export const STACK_PROFILES = ['default', 'cluster'] as const;
export type StackProfile = (typeof STACK_PROFILES)[number];

const portSchema = z.number().int().min(1).max(65535);

/** The resolved configuration; defaults are applied, paths are absolute. */
export const stackConfigSchema = z.object({
  profile: z.enum(STACK_PROFILES),
  dataDir: z.string().min(1),
  ports: z.object({
    temporal: portSchema,
    temporalUi: portSchema,
    minio: portSchema,
    minioConsole: portSchema,
    moto: portSchema,
    lambdaBase: portSchema,
    postgres: portSchema,
  }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like an AWS region, e.g. us-east-1'),
  temporal: z.object({
    namespace: z.string().min(1),
    /** Retention of closed workflows, in hours (Temporal's minimum is one day). */
    retentionHours: z.number().int().min(24),
  }),
  minio: z.object({
    rootUser: z.string().min(3, 'MinIO needs a root user of at least 3 characters'),
    rootPassword: z.string().min(8, 'MinIO needs a root password of at least 8 characters'),
  }),
  moto: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }),
  lambda: z.object({
    runtime: z.enum(['auto', 'rie', 'emulator']),
    functionsDir: z.string().min(1),
    bootstrap: z.string().min(1),
    /** Function names to start; undefined means every fixture in functionsDir. */
    functions: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).optional(),
    timeoutSeconds: z.number().int().min(1).max(900),
  }),
  startTimeoutMs: z.number().int().min(1000),
  /** Worker processes the stack runs on task queue s3-batch (stack-workers.ts). */
  workers: z.number().int().min(0).max(16),
});

export type StackConfig = z.infer<typeof stackConfigSchema>;

export interface StackConfigOverrides {
  profile?: StackProfile;
  dataDir?: string;
  ports?: Partial<StackPorts>;
  region?: string;
  temporal?: Partial<StackConfig['temporal']>;
  minio?: Partial<StackConfig['minio']>;
  lambda?: Partial<StackConfig['lambda']>;
  startTimeoutMs?: number;
  workers?: number;
}

/** Thrown for invalid configuration; the message names each offending variable or field. */
export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'StackConfigError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Environment variables. Each schema key is the variable's name, so every zod issue names what to fix.

function optionalText(fallback: string) {
  return z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === '' ? fallback : raw.trim()));
}

function integerVar(name: string, fallback: number, min: number, max: number, what: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name}=${JSON.stringify(raw)} is not ${what} (an integer ${min}-${max})` });
        return z.NEVER;
      }
      return value;
    });
}

const portVar = (name: string, fallback: number) => integerVar(name, fallback, 1, 65535, 'a TCP port');

/** `90d`, `2160h` or a bare number of days, to whole hours. */
function retentionVar(name: string, fallback: string) {
  return optionalText(fallback).transform((raw, ctx) => {
    const match = /^(\d+)\s*([dh]?)$/i.exec(raw);
    const hours = match ? Number(match[1]) * (match[2]?.toLowerCase() === 'h' ? 1 : 24) : NaN;
    if (!Number.isInteger(hours) || hours < 24) {
      ctx.addIssue({ code: 'custom', message: `${name}=${JSON.stringify(raw)} must be a duration of at least one day: 90d, 2160h or 90 (days)` });
      return z.NEVER;
    }
    return hours;
  });
}

const envSchema = z.object({
  S3BATCH_STACK_PROFILE: optionalText('default').pipe(
    z.enum(STACK_PROFILES, { error: `S3BATCH_STACK_PROFILE must be one of ${STACK_PROFILES.join(', ')}` }),
  ),
  S3BATCH_STACK_DIR: optionalText(join(REPO_ROOT, '.stack')),
  S3BATCH_TEMPORAL_PORT: portVar('S3BATCH_TEMPORAL_PORT', 7233),
  S3BATCH_TEMPORAL_UI_PORT: portVar('S3BATCH_TEMPORAL_UI_PORT', 8233),
  S3BATCH_TEMPORAL_NAMESPACE: optionalText('s3-batch'),
  S3BATCH_NAMESPACE_RETENTION: retentionVar('S3BATCH_NAMESPACE_RETENTION', '90d'),
  S3BATCH_MINIO_PORT: portVar('S3BATCH_MINIO_PORT', 9000),
  S3BATCH_MINIO_CONSOLE_PORT: portVar('S3BATCH_MINIO_CONSOLE_PORT', 9001),
  S3BATCH_MINIO_ROOT_USER: optionalText('minioadmin'),
  S3BATCH_MINIO_ROOT_PASSWORD: optionalText('minioadmin'),
  S3BATCH_MOTO_PORT: portVar('S3BATCH_MOTO_PORT', 9002),
  S3BATCH_LAMBDA_BASE_PORT: portVar('S3BATCH_LAMBDA_BASE_PORT', 9100),
  S3BATCH_POSTGRES_PORT: portVar('S3BATCH_POSTGRES_PORT', 5433),
  // -1: not set, so the profile's default applies.
  S3BATCH_STACK_WORKERS: integerVar('S3BATCH_STACK_WORKERS', -1, 0, 16, 'a number of worker processes'),
  S3BATCH_LAMBDA_FUNCTIONS: z
    .string()
    .optional()
    .transform((raw) => (raw?.trim() ? raw.split(',').map((name) => name.trim()).filter(Boolean) : undefined)),
  S3BATCH_LAMBDA_RUNTIME: optionalText('auto').pipe(
    z.enum(['auto', 'rie', 'emulator'], { error: 'S3BATCH_LAMBDA_RUNTIME must be one of auto, rie, emulator' }),
  ),
  S3BATCH_LAMBDA_TIMEOUT_SECONDS: integerVar('S3BATCH_LAMBDA_TIMEOUT_SECONDS', 30, 1, 900, 'a Lambda timeout in seconds'),
  S3BATCH_REGION: optionalText('us-east-1'),
  S3BATCH_STACK_START_TIMEOUT_SECONDS: integerVar('S3BATCH_STACK_START_TIMEOUT_SECONDS', 60, 1, 3600, 'a number of seconds'),
});

function describeIssues(error: z.ZodError, prefix: (path: PropertyKey[]) => string): string[] {
  return error.issues.map((issue) => {
    const where = prefix(issue.path);
    // Our own transforms already name the variable; zod's generic messages need it prepended.
    return where && !issue.message.includes(where) ? `${where}: ${issue.message}` : issue.message;
  });
}

/**
 * The stack configuration from `env` (defaults documented at the top of this file), with `overrides` applied on top
 * (tests use them for isolated stacks). Throws StackConfigError naming each bad variable or field.
 */
export function stackConfigFromEnv(overrides: StackConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const parsedEnv = envSchema.safeParse(env);
  if (!parsedEnv.success) throw new StackConfigError(describeIssues(parsedEnv.error, (path) => String(path[0] ?? '')));
  const e = parsedEnv.data;

  const profile = overrides.profile ?? e.S3BATCH_STACK_PROFILE;
  const candidate = {
    profile,
    dataDir: resolve(overrides.dataDir ?? e.S3BATCH_STACK_DIR),
    ports: {
      temporal: e.S3BATCH_TEMPORAL_PORT,
      temporalUi: e.S3BATCH_TEMPORAL_UI_PORT,
      minio: e.S3BATCH_MINIO_PORT,
      minioConsole: e.S3BATCH_MINIO_CONSOLE_PORT,
      moto: e.S3BATCH_MOTO_PORT,
      lambdaBase: e.S3BATCH_LAMBDA_BASE_PORT,
      postgres: e.S3BATCH_POSTGRES_PORT,
      ...overrides.ports,
    },
    region: overrides.region ?? e.S3BATCH_REGION,
    temporal: { namespace: e.S3BATCH_TEMPORAL_NAMESPACE, retentionHours: e.S3BATCH_NAMESPACE_RETENTION, ...overrides.temporal },
    minio: { rootUser: e.S3BATCH_MINIO_ROOT_USER, rootPassword: e.S3BATCH_MINIO_ROOT_PASSWORD, ...overrides.minio },
    moto: { accessKeyId: 'test', secretAccessKey: 'test' },
    lambda: {
      runtime: e.S3BATCH_LAMBDA_RUNTIME,
      functionsDir: join(REPO_ROOT, 'test', 'fixtures', 'lambda', 'functions'),
      bootstrap: join(REPO_ROOT, 'test', 'fixtures', 'lambda', 'bootstrap.mjs'),
      functions: e.S3BATCH_LAMBDA_FUNCTIONS,
      timeoutSeconds: e.S3BATCH_LAMBDA_TIMEOUT_SECONDS,
      ...overrides.lambda,
    },
    startTimeoutMs: overrides.startTimeoutMs ?? e.S3BATCH_STACK_START_TIMEOUT_SECONDS * 1000,
    workers: overrides.workers ?? (e.S3BATCH_STACK_WORKERS >= 0 ? e.S3BATCH_STACK_WORKERS : profile === 'cluster' ? 2 : 0),
  };
  const parsed = stackConfigSchema.safeParse(candidate);
  if (!parsed.success) throw new StackConfigError(describeIssues(parsed.error, (path) => path.map(String).join('.')));
  return parsed.data;
}

/** The ports of Lambda function number `index` (0-based) in the order the stack starts them. */
export function lambdaPorts(config: StackConfig, index: number): { invoke: number; runtimeApi: number } {
  const invoke = config.ports.lambdaBase + 2 * index;
  return { invoke, runtimeApi: invoke + 1 };
}

/** The cluster_membership table stores rpc ports as smallint: a larger membership port makes a service exit at start. */
const MAX_MEMBERSHIP_PORT = 32767;

/**
 * The cluster profile's Temporal ports besides the frontend's gRPC port (config.ports.temporal), derived from it as
 * Temporal's own development config lays them out around 7233: gRPC of history +1, matching +2, worker +6; the
 * frontend's HTTP API +10; each service's membership (ringpop) port 300 below its gRPC port.
 */
export function clusterServicePorts(config: StackConfig): {
  frontend: { grpc: number; membership: number; http: number };
  history: { grpc: number; membership: number };
  matching: { grpc: number; membership: number };
  worker: { grpc: number; membership: number };
} {
  const base = config.ports.temporal;
  const service = (offset: number) => ({ grpc: base + offset, membership: base + offset - 300 });
  return {
    frontend: { ...service(0), http: base + 10 },
    history: service(1),
    matching: service(2),
    worker: service(6),
  };
}

/**
 * Every port the stack will listen on, with the variable that sets it; throws StackConfigError if two collide
 * (including the Lambda range, which grows with the number of functions, and the cluster profile's own ports).
 */
export function plannedPorts(config: StackConfig, lambdaFunctionCount: number): Array<{ port: number; variable: string; what: string }> {
  const planned = [
    { port: config.ports.temporal, variable: PORT_VARIABLES.temporal, what: 'Temporal frontend' },
    { port: config.ports.temporalUi, variable: PORT_VARIABLES.temporalUi, what: 'Temporal Web UI' },
    { port: config.ports.minio, variable: PORT_VARIABLES.minio, what: 'MinIO S3 API' },
    { port: config.ports.minioConsole, variable: PORT_VARIABLES.minioConsole, what: 'MinIO console' },
    { port: config.ports.moto, variable: PORT_VARIABLES.moto, what: 'moto S3 API' },
  ];
  if (config.profile === 'cluster') {
    const cluster = clusterServicePorts(config);
    const derived = `${PORT_VARIABLES.temporal} (derived)`;
    planned.push({ port: config.ports.postgres, variable: PORT_VARIABLES.postgres, what: 'PostgreSQL' });
    planned.push({ port: cluster.frontend.http, variable: derived, what: 'Temporal frontend HTTP API' });
    for (const [name, ports] of Object.entries(cluster)) {
      if (name !== 'frontend') planned.push({ port: ports.grpc, variable: derived, what: `Temporal ${name} gRPC` });
      planned.push({ port: ports.membership, variable: derived, what: `Temporal ${name} membership` });
    }
  }
  const membershipProblems: string[] = [];
  if (config.profile === 'cluster' && clusterServicePorts(config).worker.membership > MAX_MEMBERSHIP_PORT) {
    membershipProblems.push(
      `${PORT_VARIABLES.temporal}=${config.ports.temporal}: on the cluster profile it must be at most ${MAX_MEMBERSHIP_PORT - 6 + 300}, ` +
        `because Temporal keeps each service's membership port (${PORT_VARIABLES.temporal} - 300 + 0..6) in a PostgreSQL smallint`,
    );
  }
  for (let i = 0; i < lambdaFunctionCount; i++) {
    const { invoke, runtimeApi } = lambdaPorts(config, i);
    planned.push({ port: invoke, variable: PORT_VARIABLES.lambdaBase, what: `Lambda function #${i + 1} invoke` });
    planned.push({ port: runtimeApi, variable: PORT_VARIABLES.lambdaBase, what: `Lambda function #${i + 1} runtime API` });
  }
  const problems: string[] = [...membershipProblems];
  const seen = new Map<number, string>();
  for (const { port, variable, what } of planned) {
    if (port < 1 || port > 65535) problems.push(`${variable}: ${what} would need port ${port}, outside 1-65535`);
    const other = seen.get(port);
    if (other) problems.push(`port ${port} is used twice (${other} and ${what} via ${variable}); change one of them`);
    seen.set(port, `${what} via ${variable}`);
  }
  if (problems.length > 0) throw new StackConfigError(problems);
  return planned;
}
