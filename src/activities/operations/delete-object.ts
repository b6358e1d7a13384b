/**
 * S3DeleteObject (beyond AWS): delete the object, or the version the row names.
 *
 * S3's DeleteObject answers success for a key or version that is not there, and so does this task: afterwards the
 * object is gone either way, and a delete retried after a lost response must not fail for having worked the first
 * time. Without a version on a versioned bucket, S3 adds a delete marker (the data stays, as noncurrent versions);
 * the report names the marker so it can be removed to undo the delete.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { SUCCESS_MESSAGE, successStatus, type Operation } from './operation';
import { OBJECT_LOCK_PERMANENT_CODES } from './put-object-legal-hold';

export const deleteObject: Operation<'S3DeleteObject'> = {
  run: async ({ s3, signal }, object, params) => {
    const out = await s3.send(
      new DeleteObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        VersionId: object.versionId,
        BypassGovernanceRetention: params.BypassGovernanceRetention || undefined,
      }),
      { abortSignal: signal }
    );
    const marker = object.versionId === undefined && out.DeleteMarker && out.VersionId;
    return {
      message: marker ? `${SUCCESS_MESSAGE}: delete marker ${out.VersionId} added` : SUCCESS_MESSAGE,
      httpStatus: successStatus(out.$metadata.httpStatusCode),
    };
  },
  // A version under retention or legal hold is refused with AccessDenied (MinIO: InvalidRequest): not retried.
  errorCodes: { permanent: OBJECT_LOCK_PERMANENT_CODES },
};
