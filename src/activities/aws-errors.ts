/**
 * One table that decides what an AWS error means for a task: retry it (throttling, server errors, network trouble)
 * or fail the task once (the request itself is wrong for this object). Classification uses the error's name/code,
 * HTTP status and the SDK's $retryable hint, never the constructor name (unmodelled errors share one class, and
 * minifiers rename classes).
 */
import { truncate } from '../shared/types';
import { TaskFailure, type OperationErrorCodes } from './operations/operation';

export interface ClassifiedError {
  retryable: boolean;
  /** S3's error code, or a network error name (ECONNRESET, TimeoutError, …). */
  code: string;
  httpStatus?: number;
  message: string;
}

/** Codes that mean "try again later" whatever the HTTP status says. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'OperationAborted',
  'XMinioServerNotInitialized',
  'XMinioStorageFull',
  'TimeoutError',
  'RequestAbortedError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'NetworkingError',
]);

/** Codes that are the object's or the request's fault: retrying cannot help. */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'NoSuchKey',
  'NoSuchBucket',
  'NoSuchVersion',
  'NotFound',
  'AccessDenied',
  'InvalidObjectState',
  'InvalidArgument',
  'InvalidRequest',
  'InvalidBucketName',
  'InvalidTag',
  'InvalidStorageClass',
  'MethodNotAllowed',
  'NotImplemented',
  'PreconditionFailed',
  'EntityTooLarge',
  'KeyTooLongError',
  'MalformedXML',
  'InvalidDigest',
  'BadDigest',
  'ObjectLockConfigurationNotFoundError',
  'InvalidRetentionPeriod',
]);

/** Classifies an error; `codes` are an operation's own table, consulted before the common one. */
export function classifyAwsError(err: unknown, codes: OperationErrorCodes = {}): ClassifiedError {
  if (err instanceof TaskFailure) {
    return { retryable: err.retryable, code: err.code, httpStatus: err.httpStatus, message: truncate(err.message) };
  }
  const e = (err ?? {}) as {
    name?: string;
    Code?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    $response?: { statusCode?: number };
  };
  const httpStatus = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const code = e.Code ?? (e.name && e.name !== 'Error' ? e.name : undefined) ?? e.code ?? 'UnknownError';
  const message = truncate(e.message || code);
  let retryable: boolean;
  if (codes.retryable?.includes(code)) retryable = true;
  else if (codes.permanent?.includes(code)) retryable = false;
  else if (RETRYABLE_CODES.has(code)) retryable = true;
  else if (PERMANENT_CODES.has(code)) retryable = false;
  else if (e.$retryable) retryable = true;
  else if (httpStatus === undefined) retryable = true; // no HTTP answer at all: a network problem
  else retryable = httpStatus >= 500 || httpStatus === 429;
  // S3 answers 404 for HEAD without a body, so the code may be the generic "NotFound" or "UnknownError".
  const normalisedCode = code === 'UnknownError' && httpStatus ? `Http${httpStatus}` : code;
  return { retryable, code: normalisedCode, httpStatus, message };
}
