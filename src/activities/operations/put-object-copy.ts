/**
 * S3PutObjectCopy: CopyObject from the row's object (or version) to TargetResource, key = TargetKeyPrefix + key.
 * Fields map one to one onto CopyObject's parameters. Objects over 5 GB need multipart copy (operations issue).
 */
import { CopyObjectCommand, type CopyObjectCommandInput } from '@aws-sdk/client-s3';
import { bucketFromArn } from '../../spec/arn';
import type { ResolvedOperation } from '../../spec/operations';
import { SUCCESS_MESSAGE, type OperationHandler, type TaskObject } from './operation';

type Params = Extract<ResolvedOperation, { name: 'S3PutObjectCopy' }>['params'];
type Grant = NonNullable<Params['AccessControlGrants']>[number];

/** CopySource is `bucket/key` URL-encoded (slashes may stay), with `?versionId=` for a version. */
export function copySource(object: TaskObject): string {
  const key = object.key.split('/').map(encodeURIComponent).join('/');
  return `${object.bucket}/${key}${object.versionId ? `?versionId=${encodeURIComponent(object.versionId)}` : ''}`;
}

function grantHeader(grants: Grant[] | undefined, permission: Grant['Permission']): string | undefined {
  const matching = (grants ?? []).filter((g) => g.Permission === permission);
  if (matching.length === 0) return undefined;
  return matching.map((g) => `${g.Grantee.TypeIdentifier}="${g.Grantee.Identifier}"`).join(', ');
}

function taggingHeader(tags: NonNullable<Params['NewObjectTagging']>): string {
  return tags.map((t) => `${encodeURIComponent(t.Key)}=${encodeURIComponent(t.Value)}`).join('&');
}

export function copyObjectInput(object: TaskObject, params: Params): CopyObjectCommandInput {
  const meta = params.NewObjectMetadata;
  const sse = meta?.SSEAlgorithm === 'KMS' || params.SSEAwsKmsKeyId ? 'aws:kms' : meta?.SSEAlgorithm;
  return {
    Bucket: bucketFromArn(params.TargetResource)!,
    Key: `${params.TargetKeyPrefix ?? ''}${object.key}`,
    CopySource: copySource(object),
    MetadataDirective: params.MetadataDirective,
    ...(params.MetadataDirective === 'REPLACE' && meta
      ? {
          CacheControl: meta.CacheControl,
          ContentDisposition: meta.ContentDisposition,
          ContentEncoding: meta.ContentEncoding,
          ContentLanguage: meta.ContentLanguage,
          ContentType: meta.ContentType,
          Expires: meta.HttpExpiresDate ? new Date(meta.HttpExpiresDate) : undefined,
          Metadata: meta.UserMetadata,
        }
      : {}),
    TaggingDirective: params.NewObjectTagging ? 'REPLACE' : undefined,
    Tagging: params.NewObjectTagging ? taggingHeader(params.NewObjectTagging) : undefined,
    StorageClass: params.StorageClass,
    ACL: params.CannedAccessControlList,
    GrantFullControl: grantHeader(params.AccessControlGrants, 'FULL_CONTROL'),
    GrantRead: grantHeader(params.AccessControlGrants, 'READ'),
    GrantReadACP: grantHeader(params.AccessControlGrants, 'READ_ACP'),
    GrantWriteACP: grantHeader(params.AccessControlGrants, 'WRITE_ACP'),
    CopySourceIfModifiedSince: params.ModifiedSinceConstraint ? new Date(params.ModifiedSinceConstraint) : undefined,
    CopySourceIfUnmodifiedSince: params.UnModifiedSinceConstraint ? new Date(params.UnModifiedSinceConstraint) : undefined,
    ServerSideEncryption: sse as CopyObjectCommandInput['ServerSideEncryption'],
    SSEKMSKeyId: params.SSEAwsKmsKeyId,
    BucketKeyEnabled: params.BucketKeyEnabled,
    ChecksumAlgorithm: params.ChecksumAlgorithm as CopyObjectCommandInput['ChecksumAlgorithm'],
    WebsiteRedirectLocation: params.RedirectLocation,
    RequestPayer: params.RequesterPays ? 'requester' : undefined,
    ObjectLockLegalHoldStatus: params.ObjectLockLegalHoldStatus,
    ObjectLockMode: params.ObjectLockMode,
    ObjectLockRetainUntilDate: params.ObjectLockRetainUntilDate ? new Date(params.ObjectLockRetainUntilDate) : undefined,
  };
}

export const putObjectCopy: OperationHandler<Params> = async ({ s3, signal }, object, params) => {
  const out = await s3.send(new CopyObjectCommand(copyObjectInput(object, params)), { abortSignal: signal });
  return { message: SUCCESS_MESSAGE, httpStatus: out.$metadata.httpStatusCode };
};
