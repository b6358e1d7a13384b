/**
 * Health checks and waiting for them: ports, TCP reachability, S3 ListBuckets, and one poller that turns a slow or
 * crashed start into an error naming the component, its port and its log file (with the log's last lines).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { formatSeconds, sleep } from '../lib/exec';
import { STACK_HOST } from './config';
import { isProcessAlive } from './processes';

/** True if nothing listens on host:port (we could bind it ourselves). */
export function isPortFree(port: number, host = STACK_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True if a TCP connection to host:port is accepted within `timeoutMs`. */
export function canConnect(port: number, host = STACK_HOST, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A ListBuckets call succeeds against an S3-compatible endpoint; otherwise why not. */
export async function checkS3ListBuckets(endpoint: string, region: string, credentials: S3Credentials): Promise<HealthResult> {
  const client = new S3Client({
    endpoint,
    region,
    // A copy: the SDK tags the credentials object it is given (`$source`), and callers pass parts of the stack state.
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    forcePathStyle: true,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
  });
  try {
    await client.send(new ListBucketsCommand({}));
    return { healthy: true };
  } catch (error) {
    return { healthy: false, detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    client.destroy();
  }
}

export interface HealthResult {
  healthy: boolean;
  /** Why not, when not healthy. */
  detail?: string;
}

/** The last lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 15): string {
  if (!existsSync(logFile)) return '(no log file yet)';
  const text = readFileSync(logFile, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/** Thrown when a component does not become healthy in time or exits while starting. */
export class ComponentStartError extends Error {
  constructor(
    readonly component: string,
    message: string,
    readonly logFile: string,
  ) {
    super(`${message}\n  log: ${logFile}\n  --- last lines of the log ---\n${logTail(logFile).replace(/^/gm, '  | ')}`);
    this.name = 'ComponentStartError';
  }
}

export interface WaitForHealthyOptions {
  component: string;
  /** Where it should answer, e.g. `127.0.0.1:9000`, for the error message. */
  address: string;
  /** The variable that sets its port, for the error message. */
  portVariable?: string;
  pid: number;
  logFile: string;
  timeoutMs: number;
  check: () => Promise<HealthResult>;
  intervalMs?: number;
}

/** Polls `check` until healthy; fails early if the process exits, or after the timeout, with the log's tail. */
export async function waitForHealthy(options: WaitForHealthyOptions): Promise<void> {
  const started = Date.now();
  let last: HealthResult = { healthy: false, detail: 'not checked yet' };
  for (;;) {
    if (!isProcessAlive(options.pid)) {
      throw new ComponentStartError(
        options.component,
        `${options.component} (pid ${options.pid}) exited while starting on ${options.address}`,
        options.logFile,
      );
    }
    last = await options.check();
    if (last.healthy) return;
    if (Date.now() - started > options.timeoutMs) {
      const port = options.portVariable ? ` (port set by ${options.portVariable})` : '';
      throw new ComponentStartError(
        options.component,
        `${options.component} did not become healthy on ${options.address}${port} within ` +
          `${formatSeconds(options.timeoutMs / 1000)}; last check: ${last.detail ?? 'unhealthy'}`,
        options.logFile,
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** Thrown when a port the stack needs is taken by a program that is not part of this stack. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string | undefined,
    what: string,
  ) {
    super(
      `port ${STACK_HOST}:${port} (${what}) is already in use by a program that is not part of this stack; ` +
        (variable ? `stop it or set ${variable} to a free port` : 'stop it or choose another port'),
    );
    this.name = 'PortInUseError';
  }
}

/** Checks every planned port at once, so the user learns about all conflicts in one go (reports the first). */
export async function assertPortsFree(planned: Array<{ port: number; variable?: string; what: string }>): Promise<void> {
  const results = await Promise.all(planned.map(async (p) => ({ ...p, free: await isPortFree(p.port) })));
  const taken = results.filter((p) => !p.free);
  const first = taken[0];
  if (!first) return;
  const error = new PortInUseError(first.port, first.variable, first.what);
  if (taken.length > 1) {
    error.message += `\n  also in use: ${taken.slice(1).map((p) => `${p.port} (${p.what}${p.variable ? `, ${p.variable}` : ''})`).join(', ')}`;
  }
  throw error;
}
