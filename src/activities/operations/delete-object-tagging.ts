/** S3DeleteObjectTagging: remove every tag of the object (or of the version the row names). */
import { DeleteObjectTaggingCommand } from '@aws-sdk/client-s3';
import { SUCCESS_MESSAGE, successStatus, type Operation } from './operation';

export const deleteObjectTagging: Operation<'S3DeleteObjectTagging'> = {
  run: async ({ s3, signal }, object) => {
    const out = await s3.send(
      new DeleteObjectTaggingCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
      { abortSignal: signal }
    );
    // DeleteObjectTagging answers 204; AWS reports 200 for a succeeded task.
    return { message: SUCCESS_MESSAGE, httpStatus: successStatus(out.$metadata.httpStatusCode) };
  },
};
