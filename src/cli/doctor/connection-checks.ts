/**
 * The doctor's checks of the worker config's named connections, with the config the CLI reads (S3BATCH_WORKER_CONFIG
 * or S3BATCH_S3_* / AWS_*, else the running local stack's): each S3 connection answers a signed ListBuckets, each
 * Lambda connection a signed dry-run Invoke (all the project's Lambda emulator serves; AWS checks the credentials
 * before it looks for the function, so an unknown function still proves them). The S3 answers' Date headers give the
 * clock check: SigV4 signatures more than 15 minutes off are refused, and timers and report times drift with it.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { Connections } from '../../activities/s3-clients';
import type { WorkerConfig } from '../../schemas/worker-config';
import { errorText, fail, ok, skip, type CheckResult } from './check';

/** Error codes meaning the service refused the credentials themselves (not merely this call). */
const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AuthorizationHeaderMalformed',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);
/** Errors that still prove the service answered a signed request from a known identity. */
const AUTHENTICATED_REFUSALS = new Set(['AccessDenied', 'AccessDeniedException', 'ResourceNotFoundException']);

/** Where the connections were defined, for the fixes. */
export interface ConfigSource {
  /** e.g. `the file named by S3BATCH_WORKER_CONFIG (worker.json)`. */
  where: string;
}

/** A clock reading from a service's Date header. */
export interface ClockSample {
  connection: string;
  /** The server's time (Date header, 1 s resolution). */
  serverMs: number;
  /** Our time halfway through the request. */
  localMs: number;
}

/**
 * The largest skew tolerated. SigV4 allows 15 minutes, but whether a worker polled recently is judged by comparing the
 * server's poll times with this clock (POLLER_FRESH_MS, 2 minutes), and an honest clock is off by far less than this.
 */
export const MAX_CLOCK_SKEW_MS = 60_000;

function httpStatus(err: unknown): number | undefined {
  const e = err as { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
  return e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
}

function errorCode(err: unknown): string {
  const e = err as { Code?: string; name?: string };
  return e.Code ?? e.name ?? 'Error';
}

/** The check's verdict on a call's error: refused credentials, unreachable, or an answer that still proves both. */
function judge(kind: 'S3' | 'Lambda', name: string, endpoint: string, err: unknown, source: ConfigSource): CheckResult {
  const code = errorCode(err);
  const section = kind === 'S3' ? 's3' : 'lambda';
  if (AUTHENTICATED_REFUSALS.has(code)) return ok(`${kind} connection "${name}" (${endpoint}) reachable, credentials accepted (${code} for the probe)`);
  if (code === 'RequestTimeTooSkewed') {
    return fail(`${kind} connection "${name}" (${endpoint}): ${errorText(err)}`, "set this machine's clock right (e.g. enable NTP: timedatectl set-ntp true)");
  }
  if (CREDENTIAL_ERRORS.has(code) || httpStatus(err) === 403 || /environment variable \S+ is not set/.test(errorText(err))) {
    return fail(
      `${kind} connection "${name}" (${endpoint}) refused the credentials: ${errorText(err)}`,
      `fix ${section}.${name}.credentials (access key id and secret) in ${source.where}`
    );
  }
  if (httpStatus(err) === undefined) {
    return fail(
      `${kind} connection "${name}" (${endpoint}) unreachable: ${errorText(err)}`,
      `start the service, or fix ${section}.${name}.endpoint in ${source.where}`
    );
  }
  return fail(`${kind} connection "${name}" (${endpoint}) answered ${httpStatus(err)}: ${errorText(err)}`, `check the service and ${section}.${name} in ${source.where}`);
}

/** Records the Date header of every answer (errors included) the client receives. */
function recordDates(client: S3Client, onDate: (serverMs: number, localMs: number) => void): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const sent = Date.now();
      const out = await next(args);
      const date = (out.response as { headers?: Record<string, string> }).headers?.date;
      const serverMs = date ? Date.parse(date) : NaN;
      if (!Number.isNaN(serverMs)) onDate(serverMs, (sent + Date.now()) / 2);
      return out;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'doctorRecordDate' }
  );
}

export async function checkS3(connections: Connections, config: WorkerConfig, name: string, source: ConfigSource, clock: ClockSample[]): Promise<CheckResult> {
  const endpoint = config.s3[name]?.endpoint ?? `AWS S3, ${config.s3[name]?.region}`;
  try {
    const client = connections.taskS3(name);
    recordDates(client, (serverMs, localMs) => clock.push({ connection: name, serverMs, localMs }));
    await client.send(new ListBucketsCommand({ MaxBuckets: 1 }));
    return ok(`S3 connection "${name}" (${endpoint}) reachable, credentials accepted`);
  } catch (err) {
    return judge('S3', name, endpoint, err, source);
  }
}

export async function checkLambda(connections: Connections, config: WorkerConfig, name: string, source: ConfigSource): Promise<CheckResult> {
  const endpoint = config.lambda[name]?.endpoint ?? `AWS Lambda, ${config.lambda[name]?.region}`;
  try {
    await connections.lambda(name).send(new InvokeCommand({ FunctionName: name, InvocationType: 'DryRun' }));
    return ok(`Lambda connection "${name}" (${endpoint}) reachable, credentials accepted`);
  } catch (err) {
    return judge('Lambda', name, endpoint, err, source);
  }
}

/** The clock line from the S3 answers' Date headers. */
export function checkClock(samples: ClockSample[]): CheckResult {
  const sample = samples[0];
  if (!sample) return skip('clock: not compared (no S3 connection answered)');
  const skewMs = sample.localMs - sample.serverMs;
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  const side = skewMs > 0 ? 'ahead of' : 'behind';
  // The Date header has 1 s resolution: within 2 s is as close as it can tell.
  const summary = seconds <= 2 ? `clock agrees with S3 connection "${sample.connection}" (within 2 s)` : `clock ${seconds} s ${side} S3 connection "${sample.connection}"`;
  if (Math.abs(skewMs) <= MAX_CLOCK_SKEW_MS) return ok(summary);
  return fail(
    `${summary}: worker presence is misjudged beyond 2 minutes, signed requests fail beyond 15, and times in reports drift`,
    "set this machine's clock right (e.g. enable NTP: timedatectl set-ntp true)"
  );
}

/** Every connection check, then the clock. */
export async function connectionChecks(config: WorkerConfig, source: ConfigSource): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const s3Names = Object.keys(config.s3);
  if (s3Names.length === 0) {
    results.push(fail('no S3 connections configured: a worker with this config cannot run any job', 'name a worker config in S3BATCH_WORKER_CONFIG, or set S3BATCH_S3_ENDPOINT and AWS_* for "default"'));
  }
  const connections = new Connections(config);
  const clock: ClockSample[] = [];
  try {
    for (const name of s3Names) results.push(await checkS3(connections, config, name, source, clock));
    for (const name of Object.keys(config.lambda)) results.push(await checkLambda(connections, config, name, source));
  } finally {
    connections.destroy();
  }
  results.push(checkClock(clock));
  return results;
}
