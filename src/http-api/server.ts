/**
 * The S3 Control-compatible HTTP server (node:http): every request is authenticated (SigV4) before anything else,
 * then checked against its key's policy (account, read or write: key-policy.ts), then routed to its operation; errors
 * go out as S3 Control's error XML with AWS's status codes. One log line per request names the access key id, never a
 * secret; every authenticated call that changes something adds one JSON audit line (audit.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError } from '@temporalio/common';
import { AccessDeniedError } from '../access-policy';
import { IdempotencyError, InvalidNextTokenError, JobStatusError, type JobClient } from '../job-client';
import type { ResolvedApiConfig } from './config';
import { ApiError, apiErrors, errorXml } from './errors';
import { accessKeyActor } from '../shared/audit';
import { auditLine } from './audit';
import { Caller, WRITE_OPERATIONS } from './key-policy';
import { route } from './operations';
import { parseQuery, verifySigV4 } from './sigv4';
import { MAX_BODY_BYTES } from './xml';

export interface ApiServerOptions {
  config: ResolvedApiConfig;
  jobs: JobClient;
  /** One line per request; default: none. */
  log?: (line: string) => void;
  /** For tests of clock skew. */
  now?: () => Date;
}

export interface ApiServer {
  server: Server;
  /** http://host:port of the listening server. */
  url: string;
  close(): Promise<void>;
}

/** gRPC RESOURCE_EXHAUSTED: Temporal's rate limits. */
const GRPC_RESOURCE_EXHAUSTED = 8;

/** Any error → the ApiError to send. Unknown errors are internal: logged here, never shown to the caller. */
export function toApiError(err: unknown, jobId: string | undefined): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof WorkflowNotFoundError) return apiErrors.notFound(jobId ?? '');
  if (err instanceof IdempotencyError) return apiErrors.idempotency(err.message);
  if (err instanceof JobStatusError) return apiErrors.jobStatus(err.message);
  if (err instanceof InvalidNextTokenError) return apiErrors.invalidNextToken();
  if (err instanceof AccessDeniedError) return apiErrors.accessDenied(err.message);
  const code = (err as { code?: number; cause?: { code?: number } }).code ?? (err as { cause?: { code?: number } }).cause?.code;
  if (code === GRPC_RESOURCE_EXHAUSTED) return apiErrors.tooManyRequests();
  return apiErrors.internal();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(apiErrors.maxMessageLengthExceeded());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, requestId: string, status: number, xml?: string): void {
  res.statusCode = status;
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', requestId);
  if (xml !== undefined) {
    res.setHeader('Content-Type', 'application/xml');
    res.setHeader('Content-Length', Buffer.byteLength(xml));
    res.end(xml);
  } else {
    res.setHeader('Content-Length', 0);
    res.end();
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ApiServerOptions): Promise<void> {
  const started = Date.now();
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  const url = new URL(rawUrl, 'http://placeholder');
  let keyId = '-';
  let jobId: string | undefined;
  let operationName: string | undefined;
  let accountHeader: string | undefined;
  let status = 200;
  let code = '';
  try {
    const body = await readBody(req);
    // Nothing is served, not even "no such route", without a valid signature inside the clock window. The same
    // signed request sent twice is served twice, as AWS serves it: every call here is idempotent (docs/http-api.md).
    const now = options.now?.() ?? new Date();
    const verified = await verifySigV4({ method, url: rawUrl, headers: req.headers, body }, options.config.secrets, now);
    keyId = verified.accessKeyId;
    const matched = route(method, url.pathname);
    if (!matched) throw apiErrors.notImplemented(`${method} ${url.pathname}`);
    jobId = matched.jobId;
    operationName = matched.name;
    const accountId = req.headers['x-amz-account-id'];
    if (typeof accountId === 'string') accountHeader = accountId;
    if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
      throw apiErrors.invalidRequest('AccountId: the x-amz-account-id header must be a 12-digit account id');
    }
    if (options.config.accountId && accountId !== options.config.accountId) {
      throw apiErrors.accessDenied(`This API serves account ${options.config.accountId} only`);
    }
    // Every verified key has a policy: config.ts builds one per key it gives a secret.
    const caller = new Caller(options.config.policies.get(keyId)!);
    caller.authorize(matched.name, accountId);
    const result = await matched.operation({
      // Every change the call makes records the key as its actor (the job's history and DescribeJob).
      jobs: options.jobs.withActor(accessKeyActor(keyId)),
      accountId,
      caller,
      region: options.config.region,
      query: parseQuery(url.search),
      body: body.toString('utf8'),
      jobId,
    });
    if (result.jobId) jobId = result.jobId;
    send(res, requestId, 200, result.xml);
  } catch (err) {
    const apiError = toApiError(err, jobId);
    if (apiError.code === 'InternalServiceException') {
      options.log?.(`${requestId} internal error: ${(err as Error)?.stack ?? String(err)}`);
    }
    status = apiError.status;
    code = apiError.code;
    send(res, requestId, apiError.status, errorXml(apiError, requestId));
  } finally {
    options.log?.(`${requestId} ${method} ${url.pathname} ${status}${code ? ` ${code}` : ''} ${Date.now() - started}ms key=${keyId}`);
    if (operationName && WRITE_OPERATIONS.has(operationName)) {
      options.log?.(
        auditLine({ requestId, actor: accessKeyActor(keyId), accessKeyId: keyId, accountId: accountHeader, operation: operationName, jobId, status, errorCode: code || undefined })
      );
    }
  }
}

/** Starts listening on the configured host and port (0: any free port). */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const server = createServer((req, res) => {
    void handle(req, res, options);
  });
  const { host, port } = options.config.listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
