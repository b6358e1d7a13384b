/**
 * The contract every operation implements: act on one object, return a short success message, or throw the AWS
 * error (classified by aws-errors.ts into retry or permanent failure). The operations issue adds more handlers.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Connections } from '../s3-clients';

export interface TaskObject {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface OperationContext {
  /** The S3 client of the job's connection. */
  s3: S3Client;
  connections: Connections;
  /** Aborted when Temporal cancels the task. Pass it to every SDK call. */
  signal: AbortSignal;
}

export interface OperationOutcome {
  message: string;
  httpStatus?: number;
}

export type OperationHandler<P> = (ctx: OperationContext, object: TaskObject, params: P) => Promise<OperationOutcome>;

/** AWS writes this ResultMessage for successful S3 tasks. */
export const SUCCESS_MESSAGE = 'Successful';
