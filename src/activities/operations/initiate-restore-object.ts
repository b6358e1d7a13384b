/**
 * S3InitiateRestoreObject: RestoreObject on the row's object (or version). As on AWS, the task succeeds once S3 has
 * accepted the request; with Extensions.WaitForRestore the page then waits for the restored copy (restore-status.ts).
 */
import { HeadObjectCommand, RestoreObjectCommand, type RestoreObjectCommandInput } from '@aws-sdk/client-s3';
import { classifyAwsError } from '../aws-errors';
import type { OperationParams } from '../../schemas/operations';
import { SUCCESS_MESSAGE, successStatus, type Operation, type TaskObject } from './operation';

export function restoreObjectInput(object: TaskObject, params: OperationParams<'S3InitiateRestoreObject'>): RestoreObjectCommandInput {
  return {
    Bucket: object.bucket,
    Key: object.key,
    VersionId: object.versionId,
    RestoreRequest: {
      // Intelligent-Tiering archive tiers refuse Days (the object moves back to a frequent tier): AWS's jobs omit it.
      Days: params.ExpirationInDays,
      GlacierJobParameters: params.GlacierJobTier ? { Tier: params.GlacierJobTier === 'BULK' ? 'Bulk' : 'Standard' } : undefined,
    },
  };
}

export const initiateRestoreObject: Operation<'S3InitiateRestoreObject'> = {
  run: async ({ s3, signal }, object, params) => {
    try {
      const out = await s3.send(new RestoreObjectCommand(restoreObjectInput(object, params)), { abortSignal: signal });
      // S3 answers 202 for a restore started, 200 when a restored copy exists already (its expiry is then reset).
      return { message: SUCCESS_MESSAGE, httpStatus: successStatus(out.$metadata.httpStatusCode) };
    } catch (err) {
      // A request repeated after its answer was lost (by the SDK or a task retry) meets the restore it started.
      // The object is being restored, which is what the task asked: a success that says so, not a failure.
      if (classifyAwsError(err).code !== 'RestoreAlreadyInProgress') throw err;
      const head = await s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }), {
        abortSignal: signal,
      });
      if (!head.Restore?.includes('ongoing-request="true"')) throw err;
      return { message: `${SUCCESS_MESSAGE}: a restore of this object is already in progress`, httpStatus: 200 };
    }
  },
  errorCodes: {
    // RestoreAlreadyInProgress is a success while the object's restore is under way (see run); otherwise permanent.
    permanent: ['RestoreAlreadyInProgress', 'GlacierExpeditedRetrievalNotAvailable', 'InvalidObjectState'],
  },
};
