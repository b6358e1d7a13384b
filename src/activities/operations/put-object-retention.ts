/**
 * S3PutObjectRetention: set, extend, shorten or remove the object's retention (the version's, when the row names
 * one). Shortening or removing GOVERNANCE retention needs BypassGovernanceRetention; COMPLIANCE retention can only
 * be extended. Buckets without Object Lock fail per task, as for legal holds (see put-object-legal-hold.ts).
 */
import { PutObjectRetentionCommand, type PutObjectRetentionCommandInput } from '@aws-sdk/client-s3';
import type { OperationParams } from '../../schemas/operations';
import { SUCCESS_MESSAGE, successStatus, type Operation, type TaskObject } from './operation';
import { OBJECT_LOCK_PERMANENT_CODES } from './put-object-legal-hold';

export function putObjectRetentionInput(
  object: TaskObject,
  params: OperationParams<'S3PutObjectRetention'>
): PutObjectRetentionCommandInput {
  const { Mode, RetainUntilDate } = params.Retention;
  return {
    Bucket: object.bucket,
    Key: object.key,
    VersionId: object.versionId,
    BypassGovernanceRetention: params.BypassGovernanceRetention,
    // Neither Mode nor date removes the retention: S3 and MinIO take an empty <Retention/> for that (with the
    // bypass for GOVERNANCE); a request without the element is MalformedXML.
    Retention: Mode && RetainUntilDate ? { Mode, RetainUntilDate: new Date(RetainUntilDate) } : {},
  };
}

export const putObjectRetention: Operation<'S3PutObjectRetention'> = {
  run: async ({ s3, signal }, object, params) => {
    const out = await s3.send(new PutObjectRetentionCommand(putObjectRetentionInput(object, params)), {
      abortSignal: signal,
    });
    return { message: SUCCESS_MESSAGE, httpStatus: successStatus(out.$metadata.httpStatusCode) };
  },
  errorCodes: { permanent: [...OBJECT_LOCK_PERMANENT_CODES, 'InvalidRetentionPeriod'] },
};
