/**
 * S3PutObjectLegalHold: set the object's legal hold ON or OFF (the version's, when the row names one).
 *
 * AWS checks the bucket's Object Lock configuration once, before any key. This engine asks no extra question per
 * task: S3 answers PutObjectLegalHold on a bucket without Object Lock with InvalidRequest ("Bucket is missing Object
 * Lock Configuration"; MinIO: "Bucket is missing ObjectLockConfiguration"), which fails the task once with that
 * code and message, and a per-task GetObjectLockConfiguration would double the requests to say the same.
 */
import { PutObjectLegalHoldCommand, type PutObjectLegalHoldCommandInput } from '@aws-sdk/client-s3';
import type { OperationParams } from '../../schemas/operations';
import { SUCCESS_MESSAGE, successStatus, type Operation, type TaskObject } from './operation';

/** Codes that say the bucket or object cannot take Object Lock settings; shared with S3PutObjectRetention. */
export const OBJECT_LOCK_PERMANENT_CODES = [
  'InvalidRequest',
  'ObjectLockConfigurationNotFoundError',
  'NoSuchObjectLockConfiguration',
  'InvalidArgument',
  'MalformedXML',
  'AccessDenied',
] as const;

export function putObjectLegalHoldInput(
  object: TaskObject,
  params: OperationParams<'S3PutObjectLegalHold'>
): PutObjectLegalHoldCommandInput {
  return {
    Bucket: object.bucket,
    Key: object.key,
    VersionId: object.versionId,
    LegalHold: { Status: params.LegalHold.Status },
  };
}

export const putObjectLegalHold: Operation<'S3PutObjectLegalHold'> = {
  run: async ({ s3, signal }, object, params) => {
    const out = await s3.send(new PutObjectLegalHoldCommand(putObjectLegalHoldInput(object, params)), {
      abortSignal: signal,
    });
    return { message: SUCCESS_MESSAGE, httpStatus: successStatus(out.$metadata.httpStatusCode) };
  },
  errorCodes: { permanent: OBJECT_LOCK_PERMANENT_CODES },
};
