/**
 * What every command that talks to Temporal needs: the settings from the environment (checked with zod) and a
 * JobClient, connected on first use so that `--help` and input errors never wait for a server.
 */
import { clientDataConverter } from '../codec/data-converter';
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { principalFromEnv } from '../client-principal';
import { JobClient } from '../job-client';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from '../shared/constants';
import {
  applyTemporalConnectionEnv,
  DEFAULT_TEMPORAL_ADDRESS,
  TEMPORAL_CONNECTION_ENV,
  TemporalConnectionConfig,
} from '../schemas/temporal-connection';
import { TemporalConnectionError, temporalConnectOptions, type TemporalConnectOptions } from '../temporal-connection';
import { CliError, unreachableMessage } from './errors';
import { EXIT_CODES, type ExitCode } from './exit-codes';

export const CliEnv = z.object({
  S3BATCH_TEMPORAL_ADDRESS: z.string().min(1).default(DEFAULT_TEMPORAL_ADDRESS),
  ...TEMPORAL_CONNECTION_ENV,
  S3BATCH_NAMESPACE: z.string().min(1).default(DEFAULT_NAMESPACE),
  S3BATCH_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** How long to wait for the server before giving up with the unreachable exit code. */
  S3BATCH_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** Who the CLI acts as, and what that identity may do: checked by principalFromEnv (client-principal.ts). */
  S3BATCH_IDENTITY: z.string().optional(),
  S3BATCH_IDENTITY_POLICY: z.string().optional(),
});
export type CliEnv = z.infer<typeof CliEnv>;

/** The environment variables the CLI reads, for --help. */
export const ENV_HELP = `Environment:
  S3BATCH_TEMPORAL_ADDRESS    Temporal server host:port (127.0.0.1:7233)
  S3BATCH_NAMESPACE           Temporal namespace (s3-batch)
  S3BATCH_TASK_QUEUE          task queue of the workers that run jobs (s3-batch)
  S3BATCH_CONNECT_TIMEOUT_MS  how long to wait for the server (5000)
  S3BATCH_TEMPORAL_TLS_CERT   client certificate (PEM file) for a server that requires mTLS, with
  S3BATCH_TEMPORAL_TLS_KEY    its private key (PEM file), and
  S3BATCH_TEMPORAL_TLS_CA     the CA of the server's certificate (PEM file; default: the system's CAs)
  S3BATCH_TEMPORAL_TLS_SERVER_NAME  the name on the server's certificate, when not the address's host
  S3BATCH_TEMPORAL_TLS=true   TLS without a client certificate
  S3BATCH_TEMPORAL_API_KEY    API key (Temporal Cloud), or S3BATCH_TEMPORAL_API_KEY_FILE naming a file holding it;
                              without these, the worker config's temporal.tls / apiKeyFile / apiKeyEnv apply
  S3BATCH_IDENTITY            who you are, recorded with every change you make (cli:<os user>@<host>)
  S3BATCH_IDENTITY_POLICY     what that identity may do, as an API key's policy (JSON: accounts, access, roles)
  S3BATCH_WORKER_CONFIG       worker config file: the S3 connections \`report\` reads with (or S3BATCH_S3_* / AWS_*;
                              neither: the running local stack's, found in S3BATCH_STACK_DIR or .stack/)
  S3BATCH_DEBUG=1             print stack traces`;

export class CliContext {
  /** What the command asks the process to exit with (commands set it; errors override it). */
  exitCode: ExitCode = EXIT_CODES.ok;
  private parsedEnv?: CliEnv;
  private connection?: Connection;
  private jobClient?: JobClient;

  constructor(readonly processEnv: NodeJS.ProcessEnv = process.env) {}

  /** Parsed on first use, so that --help and usage errors do not depend on the environment. */
  get env(): CliEnv {
    if (!this.parsedEnv) {
      const parsed = CliEnv.safeParse(this.processEnv);
      if (!parsed.success) {
        throw new CliError(
          EXIT_CODES.badInput,
          `bad environment:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`
        );
      }
      this.parsedEnv = parsed.data;
    }
    return this.parsedEnv;
  }

  get address(): string {
    return this.processEnv.S3BATCH_TEMPORAL_ADDRESS || DEFAULT_TEMPORAL_ADDRESS;
  }

  async jobs(): Promise<JobClient> {
    if (this.jobClient) return this.jobClient;
    // Read before connecting, so that a missing certificate or key is a bad-input error, not an unreachable server.
    const options = connectOptions(this.processEnv, this.env);
    // Checked before connecting: a wrong identity or policy is bad input, whatever the server.
    const principal = principalFromEnv(this.processEnv, 'cli');
    try {
      this.connection = await Connection.connect({ ...options, connectTimeout: this.env.S3BATCH_CONNECT_TIMEOUT_MS });
    } catch (err) {
      throw new CliError(EXIT_CODES.unreachable, unreachableMessage(this.address, (err as Error).message));
    }
    const client = new Client({ connection: this.connection, namespace: this.env.S3BATCH_NAMESPACE, dataConverter: clientDataConverter() });
    this.jobClient = new JobClient(client, { taskQueue: this.env.S3BATCH_TASK_QUEUE, principal });
    return this.jobClient;
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }
}

/** Where the security settings live in the worker config file, when the CLI reads them from there. */
const SECURITY_FIELDS = ['tls', 'apiKeyFile', 'apiKeyEnv'] as const;

/**
 * The connection the CLI makes: its address from S3BATCH_TEMPORAL_ADDRESS; TLS and API key from the S3BATCH_TEMPORAL_*
 * variables over the worker config's `temporal` section (S3BATCH_WORKER_CONFIG), so a CLI next to a worker connects
 * as the worker does. Problems are bad input (exit code 2) naming the field.
 */
function connectOptions(processEnv: NodeJS.ProcessEnv, env: CliEnv): TemporalConnectOptions {
  let fromFile: Record<string, unknown> = {};
  const file = processEnv.S3BATCH_WORKER_CONFIG;
  if (file) {
    let temporal: Record<string, unknown> | undefined;
    try {
      temporal = JSON.parse(readFileSync(file, 'utf8')).temporal;
    } catch (err) {
      throw new CliError(EXIT_CODES.badInput, `cannot read the worker config ${file} (S3BATCH_WORKER_CONFIG): ${(err as Error).message}`);
    }
    if (temporal && typeof temporal === 'object') {
      fromFile = Object.fromEntries(SECURITY_FIELDS.filter((f) => temporal[f] !== undefined).map((f) => [f, temporal[f]]));
    }
  }
  const where = file ? `the worker config ${file} and S3BATCH_TEMPORAL_* variables` : 'S3BATCH_TEMPORAL_* variables';
  const parsed = TemporalConnectionConfig.safeParse({ ...applyTemporalConnectionEnv(fromFile, env), address: env.S3BATCH_TEMPORAL_ADDRESS });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - temporal.${i.path.join('.')}: ${i.message}`);
    throw new CliError(EXIT_CODES.badInput, `bad Temporal connection settings (${where}):\n${problems.join('\n')}`);
  }
  try {
    return temporalConnectOptions(parsed.data, processEnv);
  } catch (err) {
    if (err instanceof TemporalConnectionError) throw new CliError(EXIT_CODES.badInput, `${err.message}\n(from ${where})`);
    throw err;
  }
}
