/**
 * Worker configuration: where Temporal is, and the named S3 and Lambda connections that jobs refer to.
 * Endpoints and credentials live only here, never in a job spec or workflow history.
 *
 * Sources, later ones winning: the JSON file named by S3BATCH_WORKER_CONFIG, then environment variables:
 *   S3BATCH_TEMPORAL_ADDRESS (127.0.0.1:7233)  S3BATCH_NAMESPACE (s3-batch)  S3BATCH_TASK_QUEUE (s3-batch)
 *   S3BATCH_PRIORITY_LEVELS (5: the server's matching.priorityLevels)
 *   S3BATCH_TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME, S3BATCH_TEMPORAL_TLS, S3BATCH_TEMPORAL_API_KEY(_FILE): how to reach a
 *     secured cluster or Temporal Cloud (src/schemas/temporal-connection.ts)
 *   S3BATCH_S3_ENDPOINT, S3BATCH_S3_REGION, S3BATCH_S3_FORCE_PATH_STYLE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY:
 *     define (or override) the connection named "default".
 *   S3BATCH_MAX_CONCURRENT_ACTIVITIES (100)  S3BATCH_MAX_CONCURRENT_WORKFLOW_TASKS (40)
 *   S3BATCH_TASK_EXECUTION (LocalActivity): how tasks run when a job does not say
 *   S3BATCH_WEBHOOK_SECRET: the HMAC secret that signs status webhooks (recorded as webhooks.secretEnv, so the
 *     parsed config names the variable and holds no secret)
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
// Side effect: user-facing messages for every zod issue (see there).
import '../shared/zod-messages';
import { PayloadEncryptionConfig } from '../codec/payload-keys';
import { BatchSize, DEFAULT_BATCH_SIZE, DEFAULT_TASK_EXECUTION, TaskExecution } from './job-spec';
import { RolesConfig } from './roles';
import { applyTemporalConnectionEnv, refineTemporalConnection, TEMPORAL_CONNECTION_ENV, TEMPORAL_CONNECTION_FIELDS } from './temporal-connection';

const Credentials = z.union([
  z
    .object({
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      sessionToken: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      /** Names of environment variables holding the keys, so the file itself holds no secret. */
      accessKeyIdEnv: z.string().min(1),
      secretAccessKeyEnv: z.string().min(1),
      sessionTokenEnv: z.string().min(1).optional(),
    })
    .strict(),
]);

export const S3Connection = z
  .object({
    /** Absent for AWS itself; e.g. http://127.0.0.1:9000 for MinIO. */
    endpoint: z.url().optional(),
    region: z.string().min(1).default('us-east-1'),
    /** S3-compatible stores usually want path-style URLs. */
    forcePathStyle: z.boolean().default(false),
    /** Absent: the AWS SDK's default credential chain (env, profile, instance role). */
    credentials: Credentials.optional(),
    /**
     * A request that sends or receives nothing for this long is abandoned and its task retried: a store that hangs
     * must not hold a task until the task's own timeout. Long server-side copies keep the connection busy (S3 sends
     * whitespace while it works), so this is about silence, not total time.
     */
    requestTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
    /** How long to wait for a TCP connection. */
    connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
  })
  .strict();

export const LambdaConnection = z
  .object({
    endpoint: z.url().optional(),
    region: z.string().min(1).default('us-east-1'),
    credentials: Credentials.optional(),
  })
  .strict();

const MiB = 1024 * 1024;

/** Settings of individual operations on this worker. */
export const OperationsConfig = z
  .object({
    copy: z
      .object({
        /** Larger objects are copied part by part (UploadPartCopy); CopyObject itself stops at 5 GiB. */
        multipartThresholdBytes: z.number().int().min(5 * MiB).max(5 * 1024 * MiB).default(5 * 1024 * MiB),
        /** S3 allows parts of 5 MiB to 5 GiB and at most 10,000 of them; larger objects get larger parts. */
        partSizeBytes: z.number().int().min(5 * MiB).max(5 * 1024 * MiB).default(512 * MiB),
      })
      .strict()
      .default({ multipartThresholdBytes: 5 * 1024 * MiB, partSizeBytes: 512 * MiB }),
  })
  .strict();

/**
 * Status webhooks (a job's Extensions.StatusWebhook). Without a secret, jobs that name a webhook are refused: an
 * unsigned notification could be forged by anyone who can reach the receiver.
 */
export const WebhooksConfig = z
  .object({
    /** The HMAC-SHA256 key that signs every delivery. Prefer secretEnv, so the file holds no secret. */
    secret: z.string().min(16, 'use at least 16 characters').optional(),
    /** Name of the environment variable holding the secret. */
    secretEnv: z.string().min(1).optional(),
    /**
     * When set, a job's webhook URL must start with one of these (compared after URL normalisation, so
     * "https://hooks.example.com" means that host, any path). A job spec is written by whoever may create jobs, and
     * the worker makes the call from inside the operator's network: without a list, a job could make the worker POST
     * to any host it can reach (internal services included). Set it unless every job author is trusted.
     */
    allowedUrlPrefixes: z.array(z.url({ protocol: /^https?$/ })).min(1).optional(),
    /** How long one delivery attempt may take (connect, send, answer). */
    timeoutSeconds: z.number().int().min(1).max(60).default(10),
  })
  .strict()
  .refine((w) => !(w.secret && w.secretEnv), { message: 'give secret or secretEnv, not both' });

const ConnectionName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a connection name');

export const WorkerConfig = z
  .object({
    temporal: z
      .object({
        /** address, and TLS / API key (src/schemas/temporal-connection.ts). */
        ...TEMPORAL_CONNECTION_FIELDS,
        namespace: z.string().min(1).default('s3-batch'),
        taskQueue: z.string().min(1).default('s3-batch'),
        /** The server's `matching.priorityLevels` (5 by default); job priorities are spread over these levels. */
        priorityLevels: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .superRefine(refineTemporalConnection)
      .default({ address: '127.0.0.1:7233', namespace: 's3-batch', taskQueue: 's3-batch', priorityLevels: 5 }),
    s3: z.record(ConnectionName, S3Connection).default({}),
    lambda: z.record(ConnectionName, LambdaConnection).default({}),
    operations: OperationsConfig.default(() => OperationsConfig.parse({})),
    webhooks: WebhooksConfig.default(() => WebhooksConfig.parse({})),
    /**
     * What each job's RoleArn grants (src/schemas/roles.ts), keyed by role ARN. Absent: no roles, every job may use
     * every connection (a single-tenant worker; the worker says so at start-up).
     */
    roles: RolesConfig.optional(),
    /** Encrypt every workflow payload (src/codec/); absent: S3BATCH_PAYLOAD_KEYS, else no encryption. */
    payloadEncryption: PayloadEncryptionConfig.optional(),
    worker: z
      .object({
        maxConcurrentActivityTaskExecutions: z.number().int().min(1).max(2000).default(100),
        maxConcurrentWorkflowTaskExecutions: z.number().int().min(2).max(500).default(40),
        maxCachedWorkflows: z.number().int().min(0).optional(),
        /** Local-activity slots: tasks of LocalActivity jobs run at once by this worker. */
        maxConcurrentLocalActivityExecutions: z.number().int().min(1).max(2000).default(100),
        /** How tasks run when a job's Extensions.TaskExecution does not say (see bench/ for why LocalActivity). */
        taskExecution: TaskExecution.default(DEFAULT_TASK_EXECUTION),
        /** Rows per batch activity for Batch-mode jobs whose Extensions.BatchSize does not say. */
        batchSize: BatchSize.default(DEFAULT_BATCH_SIZE),
        /**
         * Tasks run at once by this worker; the rest of its activity slots hold polled tasks waiting, started in
         * job-priority order. Absent: every slot runs (ordering is then left to the server).
         */
        maxConcurrentTasks: z.number().int().min(1).optional(),
      })
      .strict()
      .default({
        maxConcurrentActivityTaskExecutions: 100,
        maxConcurrentWorkflowTaskExecutions: 40,
        maxConcurrentLocalActivityExecutions: 100,
        taskExecution: DEFAULT_TASK_EXECUTION,
        batchSize: DEFAULT_BATCH_SIZE,
      }),
  })
  .strict()
  .superRefine((config, ctx) => {
    // A role naming a connection the worker lacks would fail every job it runs: a start-up error instead.
    for (const [arn, role] of Object.entries(config.roles ?? {})) {
      role.connections.forEach((name, i) => {
        if (!Object.hasOwn(config.s3, name)) {
          ctx.addIssue({ code: 'custom', path: ['roles', arn, 'connections', i], message: `unknown S3 connection "${name}": s3 does not define it` });
        }
      });
      if (role.lambda && !Object.hasOwn(config.lambda, role.lambda.connection)) {
        const message = `unknown Lambda connection "${role.lambda.connection}": lambda does not define it`;
        ctx.addIssue({ code: 'custom', path: ['roles', arn, 'lambda', 'connection'], message });
      }
    }
    if (config.roles && Object.keys(config.roles).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: 'empty: define at least one role, or leave roles out for a single-tenant worker' });
    }
  });

export type WorkerConfig = z.infer<typeof WorkerConfig>;
export type WorkerConfigInput = z.input<typeof WorkerConfig>;
export type S3ConnectionConfig = z.infer<typeof S3Connection>;
export type LambdaConnectionConfig = z.infer<typeof LambdaConnection>;
export type WebhooksConfig = z.infer<typeof WebhooksConfig>;

export class WorkerConfigError extends Error {
  constructor(source: string, problems: string[]) {
    super(`Invalid worker config (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WorkerConfigError';
  }
}

export function parseWorkerConfig(input: unknown, source = 'worker config'): WorkerConfig {
  const parsed = WorkerConfig.safeParse(input);
  if (!parsed.success) {
    throw new WorkerConfigError(
      source,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    );
  }
  return parsed.data;
}

const EnvOverrides = z.object({
  S3BATCH_WORKER_CONFIG: z.string().min(1).optional(),
  S3BATCH_TEMPORAL_ADDRESS: z.string().min(1).optional(),
  S3BATCH_NAMESPACE: z.string().min(1).optional(),
  S3BATCH_TASK_QUEUE: z.string().min(1).optional(),
  ...TEMPORAL_CONNECTION_ENV,
  S3BATCH_PRIORITY_LEVELS: z.coerce.number().int().min(1).max(100).optional(),
  S3BATCH_S3_ENDPOINT: z.url().optional(),
  S3BATCH_S3_REGION: z.string().min(1).optional(),
  S3BATCH_S3_FORCE_PATH_STYLE: z.enum(['true', 'false', '1', '0']).optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3BATCH_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).optional(),
  S3BATCH_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).optional(),
  S3BATCH_TASK_EXECUTION: TaskExecution.optional(),
  S3BATCH_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  // Read by src/codec/payload-keys.ts (checked there, so its value never appears in an error).
  S3BATCH_PAYLOAD_KEYS: z.string().optional(),
});

/** Every environment variable the worker reads. */
export const WORKER_ENV_VARS = Object.keys(EnvOverrides.shape);

/** Reads the config file (if named) and applies environment overrides. Throws WorkerConfigError with every problem. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const envParsed = EnvOverrides.safeParse(env);
  if (!envParsed.success) {
    throw new WorkerConfigError(
      'environment',
      envParsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    );
  }
  const e = envParsed.data;
  let raw: Record<string, any> = {};
  if (e.S3BATCH_WORKER_CONFIG) {
    try {
      raw = JSON.parse(readFileSync(e.S3BATCH_WORKER_CONFIG, 'utf8'));
    } catch (err) {
      throw new WorkerConfigError(e.S3BATCH_WORKER_CONFIG, [(err as Error).message]);
    }
  }
  const temporal = applyTemporalConnectionEnv(raw.temporal ?? {}, e);
  if (e.S3BATCH_TEMPORAL_ADDRESS) temporal.address = e.S3BATCH_TEMPORAL_ADDRESS;
  if (e.S3BATCH_NAMESPACE) temporal.namespace = e.S3BATCH_NAMESPACE;
  if (e.S3BATCH_TASK_QUEUE) temporal.taskQueue = e.S3BATCH_TASK_QUEUE;
  if (e.S3BATCH_PRIORITY_LEVELS) temporal.priorityLevels = e.S3BATCH_PRIORITY_LEVELS;
  const s3 = { ...(raw.s3 ?? {}) };
  if (e.S3BATCH_S3_ENDPOINT || e.S3BATCH_S3_REGION || e.S3BATCH_S3_FORCE_PATH_STYLE) {
    const base = { ...(s3.default ?? {}) };
    if (e.S3BATCH_S3_ENDPOINT) base.endpoint = e.S3BATCH_S3_ENDPOINT;
    if (e.S3BATCH_S3_REGION) base.region = e.S3BATCH_S3_REGION;
    if (e.S3BATCH_S3_FORCE_PATH_STYLE) base.forcePathStyle = ['true', '1'].includes(e.S3BATCH_S3_FORCE_PATH_STYLE);
    if (!base.credentials && e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY) {
      base.credentials = { accessKeyIdEnv: 'AWS_ACCESS_KEY_ID', secretAccessKeyEnv: 'AWS_SECRET_ACCESS_KEY' };
    }
    s3.default = base;
  }
  const worker = { ...(raw.worker ?? {}) };
  if (e.S3BATCH_MAX_CONCURRENT_ACTIVITIES) worker.maxConcurrentActivityTaskExecutions = e.S3BATCH_MAX_CONCURRENT_ACTIVITIES;
  if (e.S3BATCH_MAX_CONCURRENT_WORKFLOW_TASKS)
    worker.maxConcurrentWorkflowTaskExecutions = e.S3BATCH_MAX_CONCURRENT_WORKFLOW_TASKS;
  if (e.S3BATCH_TASK_EXECUTION) worker.taskExecution = e.S3BATCH_TASK_EXECUTION;
  const webhooks = { ...(raw.webhooks ?? {}) };
  if (e.S3BATCH_WEBHOOK_SECRET) {
    delete webhooks.secret;
    webhooks.secretEnv = 'S3BATCH_WEBHOOK_SECRET';
  }
  return parseWorkerConfig({ ...raw, temporal, s3, worker, webhooks }, e.S3BATCH_WORKER_CONFIG ?? 'environment');
}

/** The webhook secret, read from the environment when the config names a variable; undefined when none is set. */
export function resolveWebhookSecret(webhooks: WebhooksConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (webhooks.secret) return webhooks.secret;
  if (!webhooks.secretEnv) return undefined;
  const value = env[webhooks.secretEnv];
  if (!value) throw new WorkerConfigError('webhooks', [`webhooks.secretEnv: environment variable ${webhooks.secretEnv} is not set`]);
  return value;
}
