/**
 * S3 and Lambda clients for the worker's named connections, built once per worker (not per task) and resolved by
 * name, so that job specs carry names and the worker holds endpoints and credentials.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { WorkerConfig } from '../spec/worker-config';

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

export class Connections {
  private readonly s3Clients = new Map<string, S3Client>();
  private readonly lambdaClients = new Map<string, LambdaClient>();

  constructor(private readonly config: Pick<WorkerConfig, 's3' | 'lambda'>) {}

  s3(name: string): S3Client {
    let client = this.s3Clients.get(name);
    if (!client) {
      const conn = this.config.s3[name];
      if (!conn) throw new UnknownConnectionError('S3', name, Object.keys(this.config.s3));
      client = new S3Client({
        endpoint: conn.endpoint,
        region: conn.region,
        forcePathStyle: conn.forcePathStyle,
        credentials: resolveCredentials(conn.credentials, name),
        // Retries belong to Temporal (visible, durable, with backoff): the SDK tries once.
        maxAttempts: 1,
      });
      this.s3Clients.set(name, client);
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
    return name in this.config[kind];
  }

  destroy(): void {
    for (const client of this.s3Clients.values()) client.destroy();
    for (const client of this.lambdaClients.values()) client.destroy();
  }
}
