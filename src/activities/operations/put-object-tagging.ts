/** S3PutObjectTagging: replace the object's tag set (the version's, when the row names one). */
import { PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { SUCCESS_MESSAGE, type Operation } from './operation';

export const putObjectTagging: Operation<'S3PutObjectTagging'> = {
  run: async ({ s3, signal }, object, params) => {
    const out = await s3.send(
      new PutObjectTaggingCommand({
        Bucket: object.bucket,
        Key: object.key,
        VersionId: object.versionId,
        Tagging: { TagSet: params.TagSet.map((tag) => ({ Key: tag.Key, Value: tag.Value })) },
      }),
      { abortSignal: signal }
    );
    return { message: SUCCESS_MESSAGE, httpStatus: out.$metadata.httpStatusCode };
  },
};
