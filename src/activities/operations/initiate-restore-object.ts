/**
 * S3InitiateRestoreObject: RestoreObject on the row's object (or version). As on AWS, the task succeeds once S3 has
 * accepted the request; with Extensions.WaitForRestore the page then waits for the restored copy (restore-status.ts).
 */
import { RestoreObjectCommand, type RestoreObjectCommandInput } from '@aws-sdk/client-s3';
import type { OperationParams } from '../../spec/operations';
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
    const out = await s3.send(new RestoreObjectCommand(restoreObjectInput(object, params)), { abortSignal: signal });
    // S3 answers 202 for a restore started, 200 when a restored copy exists already (its expiry is then reset).
    return { message: SUCCESS_MESSAGE, httpStatus: successStatus(out.$metadata.httpStatusCode) };
  },
  errorCodes: {
    // An overlapping restore with another duration or a same-or-slower tier: AWS fails the task, and so do we.
    permanent: ['RestoreAlreadyInProgress', 'GlacierExpeditedRetrievalNotAvailable', 'InvalidObjectState'],
  },
};
