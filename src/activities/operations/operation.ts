/**
 * The contract every operation implements: act on one object and return a short success message, or throw. S3 and
 * Lambda errors are classified by aws-errors.ts (the common table, then the operation's own `errorCodes`) into a
 * retry or a permanent task failure; an operation that decides for itself throws a TaskFailure.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { OperationName, OperationParams } from '../../schemas/operations';
import type { Connections } from '../s3-clients';

export interface TaskObject {
  bucket: string;
  key: string;
  versionId?: string;
}

/** Worker-config settings that operations read (not job fields: they tune this worker, not the job's meaning). */
export interface OperationSettings {
  copy: {
    /** Objects larger than this are copied with multipart UploadPartCopy (CopyObject's own limit is 5 GiB). */
    multipartThresholdBytes: number;
    /** Part size for multipart copies; raised when the object would need more than 10,000 parts. */
    partSizeBytes: number;
  };
}

export interface OperationContext {
  /** The S3 client of the job's connection. */
  s3: S3Client;
  connections: Connections;
  settings: OperationSettings;
  /** Aborted when Temporal cancels the task. Pass it to every SDK call. */
  signal: AbortSignal;
  jobId: string;
  /** Stable for the manifest row across retries (Lambda's taskId). */
  taskId: string;
  /** Unique per attempt (Lambda's invocationId). */
  attemptId: string;
  /** The job's Extensions.LambdaConnection, if it names one. */
  lambdaConnection?: string;
}

export interface OperationOutcome {
  message: string;
  httpStatus?: number;
}

export type OperationHandler<P> = (ctx: OperationContext, object: TaskObject, params: P) => Promise<OperationOutcome>;

/** Codes an operation classifies differently from, or in addition to, the common table in aws-errors.ts. */
export interface OperationErrorCodes {
  retryable?: readonly string[];
  permanent?: readonly string[];
}

export interface Operation<N extends OperationName> {
  run: OperationHandler<OperationParams<N>>;
  errorCodes?: OperationErrorCodes;
}

/**
 * A task outcome the operation decided itself (a Lambda's TemporaryFailure, a response it could not parse): the
 * code, message and HTTP status go to the report as given; `retryable` failures are retried within the budget.
 */
export class TaskFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly httpStatus?: number
  ) {
    super(message);
    this.name = code;
  }
}

/** AWS writes this ResultMessage for successful S3 tasks. */
export const SUCCESS_MESSAGE = 'Successful';

/** AWS reports 200 for a succeeded task even when S3 answered 202 or 204. */
export function successStatus(status: number | undefined): number {
  return status !== undefined && status >= 200 && status < 300 ? 200 : (status ?? 200);
}
