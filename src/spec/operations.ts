/**
 * The `Operation` member of a CreateJob request: exactly one of S3 Control's `JobOperation` members.
 * Field names and enums are AWS's (see ../shared/reference/s3-batch-spec.md §4).
 */
import { z } from 'zod';
import { bucketFromArn } from './arn';

export const S3Tag = z
  .object({
    Key: z.string().min(1).max(128),
    Value: z.string().max(256),
  })
  .strict();

const TagSet = z
  .array(S3Tag)
  .max(10, 'S3 allows at most 10 tags per object')
  .superRefine((tags, ctx) => {
    const seen = new Set<string>();
    tags.forEach((tag, i) => {
      if (seen.has(tag.Key)) ctx.addIssue({ code: 'custom', path: [i, 'Key'], message: `duplicate tag key "${tag.Key}"` });
      seen.add(tag.Key);
    });
  });

/** A timestamp as the AWS CLI accepts it: ISO-8601 text or epoch seconds. Normalised to ISO text. */
export const Timestamp = z.union([z.iso.datetime({ offset: true }), z.number().nonnegative()]).transform((value) =>
  typeof value === 'number' ? new Date(value * 1000).toISOString() : new Date(value).toISOString()
);

const BucketArn = z.string().refine((arn) => bucketFromArn(arn) !== undefined, {
  message: 'expected an S3 bucket ARN such as arn:aws:s3:::my-bucket',
});

export const StorageClass = z.enum([
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'GLACIER',
  'INTELLIGENT_TIERING',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
]);

export const CannedAcl = z.enum([
  'private',
  'public-read',
  'public-read-write',
  'aws-exec-read',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
]);

export const Grant = z
  .object({
    Grantee: z
      .object({
        TypeIdentifier: z.enum(['id', 'emailAddress', 'uri']),
        Identifier: z.string().min(1),
        DisplayName: z.string().optional(),
      })
      .strict(),
    Permission: z.enum(['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP']),
  })
  .strict();

export const ChecksumAlgorithm = z.enum(['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME']);

export const S3PutObjectCopy = z
  .object({
    TargetResource: BucketArn,
    TargetKeyPrefix: z.string().min(1).max(1024).optional(),
    CannedAccessControlList: CannedAcl.optional(),
    AccessControlGrants: z.array(Grant).optional(),
    MetadataDirective: z.enum(['COPY', 'REPLACE']).optional(),
    ModifiedSinceConstraint: Timestamp.optional(),
    UnModifiedSinceConstraint: Timestamp.optional(),
    NewObjectMetadata: z
      .object({
        CacheControl: z.string().optional(),
        ContentDisposition: z.string().optional(),
        ContentEncoding: z.string().optional(),
        ContentLanguage: z.string().optional(),
        UserMetadata: z.record(z.string(), z.string()).optional(),
        ContentType: z.string().optional(),
        HttpExpiresDate: Timestamp.optional(),
        SSEAlgorithm: z.enum(['AES256', 'KMS']).optional(),
        // Deprecated in the API; accepted so that AWS CLI input files run unchanged, and ignored.
        ContentLength: z.number().optional(),
        ContentMD5: z.string().optional(),
        RequesterCharged: z.boolean().optional(),
      })
      .strict()
      .optional(),
    NewObjectTagging: TagSet.optional(),
    RedirectLocation: z.string().min(1).max(2048).optional(),
    RequesterPays: z.boolean().optional(),
    StorageClass: StorageClass.optional(),
    SSEAwsKmsKeyId: z.string().min(1).max(2000).optional(),
    ObjectLockLegalHoldStatus: z.enum(['OFF', 'ON']).optional(),
    ObjectLockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).optional(),
    ObjectLockRetainUntilDate: Timestamp.optional(),
    BucketKeyEnabled: z.boolean().optional(),
    ChecksumAlgorithm: ChecksumAlgorithm.optional(),
  })
  .strict()
  .superRefine((op, ctx) => {
    if (op.NewObjectMetadata && op.MetadataDirective !== 'REPLACE') {
      ctx.addIssue({
        code: 'custom',
        path: ['MetadataDirective'],
        message: 'NewObjectMetadata needs MetadataDirective REPLACE (with COPY the source metadata is kept)',
      });
    }
    if ((op.ObjectLockMode === undefined) !== (op.ObjectLockRetainUntilDate === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ObjectLockMode'],
        message: 'ObjectLockMode and ObjectLockRetainUntilDate go together',
      });
    }
  });

export const S3PutObjectTagging = z.object({ TagSet }).strict();
export const S3DeleteObjectTagging = z.object({}).strict();

/** Operation names this engine runs now; the rest of `OperationName` is rejected with a clear reason. */
export const SUPPORTED_OPERATIONS = ['S3PutObjectCopy', 'S3PutObjectTagging', 'S3DeleteObjectTagging'] as const;
export type OperationName = (typeof SUPPORTED_OPERATIONS)[number];

/** Members of AWS's JobOperation that are known but not implemented yet. */
const NOT_YET_SUPPORTED = [
  'LambdaInvoke',
  'S3PutObjectAcl',
  'S3InitiateRestoreObject',
  'S3PutObjectLegalHold',
  'S3PutObjectRetention',
  'S3ReplicateObject',
  'S3ComputeObjectChecksum',
  'S3UpdateObjectEncryption',
] as const;

export const JobOperation = z
  .object({
    S3PutObjectCopy: S3PutObjectCopy.optional(),
    S3PutObjectTagging: S3PutObjectTagging.optional(),
    S3DeleteObjectTagging: S3DeleteObjectTagging.optional(),
    ...Object.fromEntries(NOT_YET_SUPPORTED.map((name) => [name, z.unknown().optional()])),
  })
  .strict()
  .superRefine((op, ctx) => {
    const given = Object.keys(op).filter((name) => (op as Record<string, unknown>)[name] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `expected exactly one operation, got ${given.length === 0 ? 'none' : given.join(', ')}; one of ${[
          ...SUPPORTED_OPERATIONS,
        ].join(', ')}`,
      });
    }
    for (const name of given) {
      if ((NOT_YET_SUPPORTED as readonly string[]).includes(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `${name} is not supported by this version of s3-batch yet` });
      }
    }
  });

export type JobOperationInput = z.input<typeof JobOperation>;

/** A validated operation, tagged by name so code can switch on it. */
export type ResolvedOperation =
  | { name: 'S3PutObjectCopy'; params: z.infer<typeof S3PutObjectCopy> }
  | { name: 'S3PutObjectTagging'; params: z.infer<typeof S3PutObjectTagging> }
  | { name: 'S3DeleteObjectTagging'; params: z.infer<typeof S3DeleteObjectTagging> };

export function resolveOperation(op: z.infer<typeof JobOperation>): ResolvedOperation {
  if (op.S3PutObjectCopy) return { name: 'S3PutObjectCopy', params: op.S3PutObjectCopy };
  if (op.S3PutObjectTagging) return { name: 'S3PutObjectTagging', params: op.S3PutObjectTagging };
  if (op.S3DeleteObjectTagging) return { name: 'S3DeleteObjectTagging', params: op.S3DeleteObjectTagging };
  throw new Error('unreachable: JobOperation was validated to hold exactly one supported operation');
}
