/** S3DeleteObjectTagging: remove every tag of the object (or of the version the row names). */
import { DeleteObjectTaggingCommand } from '@aws-sdk/client-s3';
import type { ResolvedOperation } from '../../spec/operations';
import { SUCCESS_MESSAGE, type OperationHandler } from './operation';

type Params = Extract<ResolvedOperation, { name: 'S3DeleteObjectTagging' }>['params'];

export const deleteObjectTagging: OperationHandler<Params> = async ({ s3, signal }, object) => {
  const out = await s3.send(
    new DeleteObjectTaggingCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
    { abortSignal: signal }
  );
  // DeleteObjectTagging answers 204; AWS reports 200 for a succeeded task.
  return { message: SUCCESS_MESSAGE, httpStatus: out.$metadata.httpStatusCode === 204 ? 200 : out.$metadata.httpStatusCode };
};
