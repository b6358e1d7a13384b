/**
 * HTTP API configuration: where to listen, which access keys may call it, and the Temporal namespace and task queue
 * whose jobs it serves. Secrets are read here and kept in memory only; they are never logged.
 *
 * Sources, later ones winning: the JSON file named by S3BATCH_API_CONFIG, then environment variables:
 *   S3BATCH_API_HOST (127.0.0.1)  S3BATCH_API_PORT (8080)  S3BATCH_API_REGION (us-east-1: the region of job ARNs)
 *   S3BATCH_API_ACCOUNT_ID: when set, only this x-amz-account-id is served (otherwise any 12 digits)
 *   S3BATCH_API_ACCESS_KEY_ID + S3BATCH_API_SECRET_ACCESS_KEY: one more access key
 *   S3BATCH_TEMPORAL_ADDRESS  S3BATCH_NAMESPACE  S3BATCH_TASK_QUEUE: the same variables as the worker's
 *   S3BATCH_TEMPORAL_TLS_*, S3BATCH_TEMPORAL_API_KEY(_FILE): TLS and API key, as the worker's (temporal-connection.ts)
 * Each key in the file may say what it may do (`accounts`, `access`, `roles`: see key-policy.ts for the two modes).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
// Side effect: user-facing messages for every zod issue (see there).
import '../shared/zod-messages';
import type { LocalStack } from '../local-stack';
import { PolicyFields, scopedPolicy } from '../access-policy';
import type { KeyPolicy } from './key-policy';
import {
  applyTemporalConnectionEnv,
  refineTemporalConnection,
  TEMPORAL_CONNECTION_ENV,
  TEMPORAL_CONNECTION_FIELDS,
  type TemporalConnectionSettings,
} from '../schemas/temporal-connection';

/** What a key may do (key-policy.ts). All three absent: a single-tenant key, as before keys had policies. */
const KeyPolicyFields = PolicyFields;

const AccessKey = z
  .object({
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1).optional(),
    /** Name of the environment variable holding the secret, so the file itself holds none. */
    secretAccessKeyEnv: z.string().min(1).optional(),
    ...KeyPolicyFields,
  })
  .strict()
  .superRefine((key, ctx) => {
    if ((key.secretAccessKey === undefined) === (key.secretAccessKeyEnv === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected exactly one of secretAccessKey (the secret) or secretAccessKeyEnv (the variable holding it)',
      });
    }
  });

export const ApiConfig = z
  .object({
    listen: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    region: z.string().min(1).default('us-east-1'),
    accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id').optional(),
    accessKeys: z.array(AccessKey).min(1, 'at least one access key is needed: nothing is served without authentication'),
    temporal: z
      .object({
        /** address, and TLS / API key (src/schemas/temporal-connection.ts), as in the worker config. */
        ...TEMPORAL_CONNECTION_FIELDS,
        namespace: z.string().min(1).default('s3-batch'),
        taskQueue: z.string().min(1).default('s3-batch'),
      })
      .strict()
      .superRefine(refineTemporalConnection)
      .default({ address: '127.0.0.1:7233', namespace: 's3-batch', taskQueue: 's3-batch' }),
  })
  .strict();

export type ApiConfigInput = z.input<typeof ApiConfig>;

/** The config with every secret resolved: access key id → secret. */
export interface ResolvedApiConfig {
  listen: { host: string; port: number };
  region: string;
  accountId?: string;
  secrets: ReadonlyMap<string, string>;
  /** Access key id → what it may do. */
  policies: ReadonlyMap<string, KeyPolicy>;
  /** Scoped (keys name their accounts) or single-tenant (no key does): see key-policy.ts. */
  mode: 'scoped' | 'single-tenant';
  temporal: TemporalConnectionSettings & { namespace: string; taskQueue: string };
}

export class ApiConfigError extends Error {
  constructor(source: string, problems: string[]) {
    super(`Invalid API config (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ApiConfigError';
  }
}

/** Validates a config object and resolves its secrets from `env`. Throws ApiConfigError listing every problem. */
export function parseApiConfig(input: unknown, env: NodeJS.ProcessEnv = process.env, source = 'API config'): ResolvedApiConfig {
  const parsed = ApiConfig.safeParse(input);
  if (!parsed.success) {
    throw new ApiConfigError(source, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const secrets = new Map<string, string>();
  const problems: string[] = [];
  parsed.data.accessKeys.forEach((key, i) => {
    const secret = key.secretAccessKey ?? env[key.secretAccessKeyEnv!];
    if (!secret) problems.push(`accessKeys.${i}: environment variable ${key.secretAccessKeyEnv} is not set`);
    else if (secrets.has(key.accessKeyId)) problems.push(`accessKeys.${i}: access key ${key.accessKeyId} is listed twice`);
    else secrets.set(key.accessKeyId, secret);
  });
  const { policies, mode } = keyPolicies(parsed.data.accessKeys, problems);
  const served = parsed.data.accountId;
  parsed.data.accessKeys.forEach((key, i) => {
    const outside = served ? (key.accounts ?? []).filter((account) => account !== served) : [];
    if (outside.length) problems.push(`accessKeys.${i} (${key.accessKeyId}): account(s) ${outside.join(', ')} not served: accountId is ${served}`);
  });
  if (problems.length) throw new ApiConfigError(source, problems);
  const { listen, region, accountId, temporal } = parsed.data;
  return { listen, region, accountId, secrets, policies, mode, temporal };
}

/**
 * Each key's policy, and the mode. Mixing modes is refused: a key without `accounts` among scoped keys would act for
 * every account, the open door scoping closes. Problems are pushed onto `problems`.
 */
function keyPolicies(
  keys: z.infer<typeof ApiConfig>['accessKeys'],
  problems: string[]
): { policies: Map<string, KeyPolicy>; mode: ResolvedApiConfig['mode'] } {
  const scoped = keys.some((key) => key.accounts !== undefined);
  const policies = new Map<string, KeyPolicy>();
  keys.forEach((key, i) => {
    const where = `accessKeys.${i} (${key.accessKeyId})`;
    if (!scoped) {
      if (key.access !== undefined || key.roles !== undefined) {
        problems.push(`${where}: "access" and "roles" need "accounts": name the account(s) this key acts for`);
      }
      policies.set(key.accessKeyId, { accessKeyId: key.accessKeyId, access: 'write' });
      return;
    }
    if (key.accounts === undefined) {
      problems.push(
        `${where}: names no "accounts" while other keys do; every key must say which accounts it acts for, or a key without them would act for all`
      );
      return;
    }
    policies.set(key.accessKeyId, { accessKeyId: key.accessKeyId, ...scopedPolicy({ ...key, accounts: key.accounts }, where, problems) });
  });
  return { policies, mode: scoped ? 'scoped' : 'single-tenant' };
}

const EnvOverrides = z.object({
  S3BATCH_API_CONFIG: z.string().min(1).optional(),
  S3BATCH_API_HOST: z.string().min(1).optional(),
  S3BATCH_API_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  S3BATCH_API_REGION: z.string().min(1).optional(),
  S3BATCH_API_ACCOUNT_ID: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id').optional(),
  S3BATCH_API_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3BATCH_API_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3BATCH_TEMPORAL_ADDRESS: z.string().min(1).optional(),
  S3BATCH_NAMESPACE: z.string().min(1).optional(),
  S3BATCH_TASK_QUEUE: z.string().min(1).optional(),
  ...TEMPORAL_CONNECTION_ENV,
});

/** Every environment variable the API reads. */
export const API_ENV_VARS = Object.keys(EnvOverrides.shape);

/** Reads the config file (if named) and applies environment overrides. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ResolvedApiConfig {
  const envParsed = EnvOverrides.safeParse(env);
  if (!envParsed.success) {
    throw new ApiConfigError('environment', envParsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = envParsed.data;
  let raw: Record<string, any> = {};
  if (e.S3BATCH_API_CONFIG) {
    try {
      raw = JSON.parse(readFileSync(e.S3BATCH_API_CONFIG, 'utf8'));
    } catch (err) {
      throw new ApiConfigError(e.S3BATCH_API_CONFIG, [(err as Error).message]);
    }
  }
  const listen = { ...(raw.listen ?? {}) };
  if (e.S3BATCH_API_HOST) listen.host = e.S3BATCH_API_HOST;
  if (e.S3BATCH_API_PORT !== undefined) listen.port = e.S3BATCH_API_PORT;
  const temporal = applyTemporalConnectionEnv(raw.temporal ?? {}, e);
  if (e.S3BATCH_TEMPORAL_ADDRESS) temporal.address = e.S3BATCH_TEMPORAL_ADDRESS;
  if (e.S3BATCH_NAMESPACE) temporal.namespace = e.S3BATCH_NAMESPACE;
  if (e.S3BATCH_TASK_QUEUE) temporal.taskQueue = e.S3BATCH_TASK_QUEUE;
  const accessKeys = [...(raw.accessKeys ?? [])];
  if (e.S3BATCH_API_ACCESS_KEY_ID || e.S3BATCH_API_SECRET_ACCESS_KEY) {
    if (!e.S3BATCH_API_ACCESS_KEY_ID || !e.S3BATCH_API_SECRET_ACCESS_KEY) {
      throw new ApiConfigError('environment', ['S3BATCH_API_ACCESS_KEY_ID and S3BATCH_API_SECRET_ACCESS_KEY go together']);
    }
    accessKeys.push({ accessKeyId: e.S3BATCH_API_ACCESS_KEY_ID, secretAccessKeyEnv: 'S3BATCH_API_SECRET_ACCESS_KEY' });
  }
  const input = {
    ...raw,
    listen,
    temporal,
    accessKeys,
    ...(e.S3BATCH_API_REGION ? { region: e.S3BATCH_API_REGION } : {}),
    ...(e.S3BATCH_API_ACCOUNT_ID ? { accountId: e.S3BATCH_API_ACCOUNT_ID } : {}),
  };
  return parseApiConfig(input, env, e.S3BATCH_API_CONFIG ?? 'environment');
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * `npm run api` with nothing configured (no S3BATCH_API_CONFIG, no access key variables) while the local stack runs:
 * the environment to load the config from, with the stack's Temporal and the stack's MinIO key as the one access key
 * (so the AWS profile that reaches the stack's S3 reaches the API too), and a line saying so. Only for an API on a
 * loopback address: anywhere else, keys must be configured. Otherwise `env` unchanged and no note.
 */
export function withLocalStackDefaults(env: NodeJS.ProcessEnv, stack: LocalStack | undefined): { env: NodeJS.ProcessEnv; note?: string } {
  const configured = env.S3BATCH_API_CONFIG || env.S3BATCH_API_ACCESS_KEY_ID || env.S3BATCH_API_SECRET_ACCESS_KEY;
  if (configured || !stack || !LOOPBACK.test(env.S3BATCH_API_HOST || '127.0.0.1')) return { env };
  const { temporal, s3 } = stack.state;
  return {
    env: {
      ...env,
      S3BATCH_TEMPORAL_ADDRESS: env.S3BATCH_TEMPORAL_ADDRESS || temporal.address,
      S3BATCH_NAMESPACE: env.S3BATCH_NAMESPACE || temporal.namespace,
      S3BATCH_API_ACCESS_KEY_ID: s3.accessKeyId,
      S3BATCH_API_SECRET_ACCESS_KEY: s3.secretAccessKey,
    },
    note:
      `No API config (S3BATCH_API_CONFIG or S3BATCH_API_ACCESS_KEY_ID) given: serving the local stack found in ${stack.stateFile}, ` +
      `with its MinIO key as the access key (${s3.accessKeyId}, secret as in the stack's state file)`,
  };
}
