/**
 * S3 and Lambda clients for the worker's named connections, built once per worker (not per task) and resolved by
 * name, so that job specs carry names and the worker holds endpoints and credentials.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { WorkerConfig } from '../schemas/worker-config';

type CredentialsConfig = NonNullable<WorkerConfig['s3'][string]['credentials']>;

function resolveCredentials(credentials: CredentialsConfig | undefined, connection: string) {
  if (!credentials) return undefined;
  if ('accessKeyId' in credentials) return credentials;
  const read = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`connection "${connection}": environment variable ${name} is not set`);
    return value;
  };
  return {
    accessKeyId: read(credentials.accessKeyIdEnv),
    secretAccessKey: read(credentials.secretAccessKeyEnv),
    sessionToken: credentials.sessionTokenEnv ? read(credentials.sessionTokenEnv) : undefined,
  };
}

/** Thrown when a job names a connection the worker does not define; the task or job fails with it, not retried. */
export class UnknownConnectionError extends Error {
  constructor(kind: 'S3' | 'Lambda', name: string, known: string[]) {
    super(`unknown ${kind} connection "${name}"; this worker defines: ${known.join(', ') || '(none)'}`);
    this.name = 'UnknownConnection';
  }
}

/** Attempts per call for the many-call activities' client (the SDK's standard retry mode, with backoff). */
const BULK_ATTEMPTS = 6;

export class Connections {
  private readonly s3Clients = new Map<string, S3Client>();
  private readonly lambdaClients = new Map<string, LambdaClient>();

  constructor(private readonly config: Pick<WorkerConfig, 's3' | 'lambda'>) {}

  /**
   * The client for activities that make many calls (reading a manifest, writing a report, listing a bucket): each
   * call is retried in the SDK (standard mode, with backoff), since one call failing among hundreds must not restart
   * the whole activity, which under a few percent of errors would never finish.
   */
  s3(name: string): S3Client {
    return this.s3Client(name, 'bulk');
  }

  /**
   * The client for a task's own calls: one attempt each. Retries belong to Temporal (visible, durable, with
   * backoff, counted against the task's MaxAttemptsPerTask, and reported when they run out).
   */
  taskS3(name: string): S3Client {
    return this.s3Client(name, 'task');
  }

  private s3Client(name: string, use: 'bulk' | 'task'): S3Client {
    const id = `${use}:${name}`;
    let client = this.s3Clients.get(id);
    if (!client) {
      const conn = this.config.s3[name];
      if (!conn) throw new UnknownConnectionError('S3', name, Object.keys(this.config.s3));
      client = new S3Client({
        endpoint: conn.endpoint,
        region: conn.region,
        forcePathStyle: conn.forcePathStyle,
        credentials: resolveCredentials(conn.credentials, name),
        maxAttempts: use === 'task' ? 1 : BULK_ATTEMPTS,
        requestHandler: {
          requestTimeout: conn.requestTimeoutSeconds * 1000,
          connectionTimeout: conn.connectTimeoutSeconds * 1000,
          // Without it the SDK only logs a warning and keeps waiting.
          throwOnRequestTimeout: true,
        },
      });
      this.s3Clients.set(id, client);
    }
    return client;
  }

  lambda(name: string): LambdaClient {
    let client = this.lambdaClients.get(name);
    if (!client) {
      const conn = this.config.lambda[name];
      if (!conn) throw new UnknownConnectionError('Lambda', name, Object.keys(this.config.lambda));
      client = new LambdaClient({
        endpoint: conn.endpoint,
        region: conn.region,
        credentials: resolveCredentials(conn.credentials, name),
        maxAttempts: 1,
      });
      this.lambdaClients.set(name, client);
    }
    return client;
  }

  has(kind: 's3' | 'lambda', name: string): boolean {
    return Object.hasOwn(this.config[kind], name);
  }

  destroy(): void {
    for (const client of this.s3Clients.values()) client.destroy();
    for (const client of this.lambdaClients.values()) client.destroy();
  }
}
