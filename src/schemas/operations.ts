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

/** Every algorithm S3 names (spec §4.1 and §4.10), for a copy's new checksum and for S3ComputeObjectChecksum alike. */
export const ChecksumAlgorithm = z.enum(['CRC32', 'CRC32C', 'CRC64NVME', 'MD5', 'SHA1', 'SHA256', 'SHA512', 'XXHASH64', 'XXHASH3', 'XXHASH128']);

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
    // SSEAlgorithm (and the deprecated, ignored fields) are not metadata: encrypting while keeping the source's
    // metadata is a COPY with NewObjectMetadata { SSEAlgorithm }.
    const { SSEAlgorithm: _sse, ContentLength: _l, ContentMD5: _m, RequesterCharged: _r, ...metadata } = op.NewObjectMetadata ?? {};
    if (Object.keys(metadata).length > 0 && op.MetadataDirective !== 'REPLACE') {
      ctx.addIssue({
        code: 'custom',
        path: ['MetadataDirective'],
        message: `NewObjectMetadata (${Object.keys(metadata).join(', ')}) needs MetadataDirective REPLACE (with COPY the source metadata is kept)`,
      });
    }
    op.AccessControlGrants?.forEach((grant, i) => {
      if (grant.Permission === 'WRITE') {
        ctx.addIssue({
          code: 'custom',
          path: ['AccessControlGrants', i, 'Permission'],
          message: 'WRITE cannot be granted on an object (CopyObject has no such grant); use FULL_CONTROL, READ, READ_ACP or WRITE_ACP',
        });
      }
    });
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

export const S3PutObjectAcl = z
  .object({
    AccessControlPolicy: z
      .object({
        AccessControlList: z
          .object({
            Owner: z.object({ ID: z.string().min(1).optional(), DisplayName: z.string().optional() }).strict(),
            Grants: z.array(Grant).max(100).optional(),
          })
          .strict()
          .optional(),
        CannedAccessControlList: CannedAcl.optional(),
      })
      .strict()
      .refine((p) => (p.AccessControlList === undefined) !== (p.CannedAccessControlList === undefined), {
        message: 'give exactly one of AccessControlList and CannedAccessControlList',
      }),
  })
  .strict();

export const S3InitiateRestoreObject = z
  .object({
    /** Days the restored copy stays readable (Glacier Flexible Retrieval and Deep Archive; omit for Intelligent-Tiering). */
    ExpirationInDays: z.number().int().min(0).optional(),
    GlacierJobTier: z.enum(['BULK', 'STANDARD']).optional(),
  })
  .strict();

export const S3PutObjectLegalHold = z
  .object({ LegalHold: z.object({ Status: z.enum(['ON', 'OFF']) }).strict() })
  .strict();

export const S3PutObjectRetention = z
  .object({
    BypassGovernanceRetention: z.boolean().optional(),
    /** Neither Mode nor RetainUntilDate: the retention is removed. */
    Retention: z
      .object({ Mode: z.enum(['COMPLIANCE', 'GOVERNANCE']).optional(), RetainUntilDate: Timestamp.optional() })
      .strict()
      .refine((r) => (r.Mode === undefined) === (r.RetainUntilDate === undefined), {
        message: 'give Mode and RetainUntilDate together (or neither, to remove the retention)',
      }),
  })
  .strict();

export const LambdaInvoke = z
  .object({
    /** A function name or ARN, optionally qualified by version or alias (`name:alias`). */
    FunctionArn: z.string().min(1).max(1024),
    InvocationSchemaVersion: z.enum(['1.0', '2.0']).default('1.0'),
    UserArguments: z
      .record(z.string().min(1).max(64), z.string().max(1024))
      .refine((args) => Object.keys(args).length >= 1 && Object.keys(args).length <= 10, {
        message: 'expected 1 to 10 entries',
      })
      .optional(),
  })
  .strict()
  .superRefine((op, ctx) => {
    if (op.UserArguments && op.InvocationSchemaVersion !== '2.0') {
      ctx.addIssue({ code: 'custom', path: ['UserArguments'], message: 'UserArguments needs InvocationSchemaVersion "2.0"' });
    }
  });

export const S3ComputeObjectChecksum = z
  .object({
    ChecksumAlgorithm: ChecksumAlgorithm.default('CRC64NVME'),
    ChecksumType: z.enum(['FULL_OBJECT', 'COMPOSITE']).default('FULL_OBJECT'),
  })
  .strict()
  .superRefine((op, ctx) => {
    if (op.ChecksumAlgorithm === 'CRC64NVME' && op.ChecksumType === 'COMPOSITE') {
      ctx.addIssue({ code: 'custom', path: ['ChecksumType'], message: 'CRC64NVME supports only FULL_OBJECT' });
    }
  });

export const S3UpdateObjectEncryption = z
  .object({
    ObjectEncryption: z
      .object({
        'SSE-KMS': z
          .object({ KMSKeyArn: z.string().min(1).max(2048), BucketKeyEnabled: z.boolean().default(false) })
          .strict(),
      })
      .strict(),
  })
  .strict();

/**
 * Beyond AWS: delete each object, or the version the row names. It destroys data (a named version is gone for good),
 * so the job must say so in so many words: ConfirmationRequired only holds a job until someone confirms it.
 */
export const S3DeleteObject = z
  .object({
    ConfirmDataDeletion: z.literal(true, {
      error: 'S3DeleteObject deletes every object in the manifest (for good where a row names a version): set ConfirmDataDeletion to true to run it',
    }),
    /** Delete versions under GOVERNANCE retention (needs s3:BypassGovernanceRetention on AWS). */
    BypassGovernanceRetention: z.boolean().optional(),
  })
  .strict();

/** Operation names a worker may register (src/custom-operations.ts): letters, digits, `.`, `_`, `-`. */
export const CUSTOM_OPERATION_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;

/**
 * Beyond AWS: an operation the worker's operator registered in TypeScript. The job names it and gives its
 * parameters; the worker validates them with the operation's own schema when the job starts (validateJob), so a
 * job naming an operation no worker has fails at once with the names it does have.
 */
export const CustomOperation = z
  .object({
    Name: z.string().regex(CUSTOM_OPERATION_NAME, 'expected a registered operation name (a letter, then letters, digits, ".", "_" or "-")'),
    Parameters: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** Batch Replication needs the store's own replication engine and configuration; see REPLICATE_UNSUPPORTED. */
export const S3ReplicateObject = z.object({}).strict();

/** Why S3ReplicateObject is refused: said in full, so nobody mistakes it for a silent no-op. */
export const REPLICATE_UNSUPPORTED =
  'S3ReplicateObject is not supported: Batch Replication replays the source bucket\'s replication configuration ' +
  'inside S3 (replica metadata, replication status, delete markers), which no S3 API lets an outside engine do ' +
  'faithfully on S3-compatible stores; use S3PutObjectCopy to a target bucket, or the store\'s own replication ' +
  '(for MinIO: `mc replicate resync`)';

/** The operations this engine runs, each with its parameter schema. */
export const OPERATION_SCHEMAS = {
  S3PutObjectCopy,
  S3PutObjectTagging,
  S3DeleteObjectTagging,
  S3PutObjectAcl,
  S3InitiateRestoreObject,
  S3PutObjectLegalHold,
  S3PutObjectRetention,
  LambdaInvoke,
  S3ComputeObjectChecksum,
  S3UpdateObjectEncryption,
  S3DeleteObject,
  CustomOperation,
} as const;

export type OperationName = keyof typeof OPERATION_SCHEMAS;
export const SUPPORTED_OPERATIONS = Object.keys(OPERATION_SCHEMAS) as OperationName[];

export const JobOperation = z
  .object({
    ...Object.fromEntries(Object.entries(OPERATION_SCHEMAS).map(([name, schema]) => [name, schema.optional()])),
    S3ReplicateObject: S3ReplicateObject.optional(),
  } as { [N in OperationName]: z.ZodOptional<(typeof OPERATION_SCHEMAS)[N]> } & {
    S3ReplicateObject: z.ZodOptional<typeof S3ReplicateObject>;
  })
  .strict()
  .superRefine((op, ctx) => {
    const given = Object.keys(op).filter((name) => (op as Record<string, unknown>)[name] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `expected exactly one operation, got ${given.length === 0 ? 'none' : given.join(', ')}; one of ${SUPPORTED_OPERATIONS.join(
          ', '
        )}`,
      });
    }
    if (given.includes('S3ReplicateObject')) {
      ctx.addIssue({ code: 'custom', path: ['S3ReplicateObject'], message: REPLICATE_UNSUPPORTED });
    }
  });

export type JobOperationInput = z.input<typeof JobOperation>;

/** A validated operation, tagged by name so code can switch on it. */
export type ResolvedOperation = {
  [N in OperationName]: { name: N; params: z.infer<(typeof OPERATION_SCHEMAS)[N]> };
}[OperationName];

export type OperationParams<N extends OperationName> = Extract<ResolvedOperation, { name: N }>['params'];

export function resolveOperation(op: z.infer<typeof JobOperation>): ResolvedOperation {
  for (const name of SUPPORTED_OPERATIONS) {
    const params = (op as Record<string, unknown>)[name];
    if (params !== undefined) return { name, params } as ResolvedOperation;
  }
  throw new Error('unreachable: JobOperation was validated to hold exactly one supported operation');
}
