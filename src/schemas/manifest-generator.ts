/**
 * Generated manifests: S3 Control's `ManifestGenerator: { S3JobManifestGenerator }`, as AWS spells it, and the
 * resolved filter the engine's listing applies. Pure; safe in workflow code.
 */
import { z } from 'zod';
import { bucketFromArn } from './arn';
import { Timestamp } from './operations';

const BucketArn = z.string().refine((arn) => bucketFromArn(arn) !== undefined, {
  message: 'expected an S3 bucket ARN such as arn:aws:s3:::my-bucket',
});

const OneString = (what: string) =>
  z
    .array(z.string().min(1).max(1024))
    .length(1, `AWS accepts exactly one ${what} in this list`)
    .optional();

export const STORAGE_CLASSES = ['STANDARD', 'STANDARD_IA', 'ONEZONE_IA', 'GLACIER', 'INTELLIGENT_TIERING', 'DEEP_ARCHIVE', 'GLACIER_IR'] as const;
export const REPLICATION_STATUSES = ['COMPLETED', 'FAILED', 'REPLICA', 'NONE'] as const;

const ObjectEncryption = z
  .object({
    SSES3: z.object({}).strict().optional(),
    SSEKMS: z.object({ KmsKeyArn: z.string().min(1).optional(), BucketKeyEnabled: z.boolean().optional() }).strict().optional(),
    DSSEKMS: z.object({ KmsKeyArn: z.string().min(1).optional() }).strict().optional(),
    SSEC: z.object({}).strict().optional(),
    NOTSSE: z.object({}).strict().optional(),
  })
  .strict()
  .refine((e) => Object.values(e).filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of SSES3, SSEKMS, DSSEKMS, SSEC, NOTSSE',
  });

export const ManifestGeneratorFilter = z
  .object({
    EligibleForReplication: z.boolean().optional(),
    CreatedAfter: Timestamp.optional(),
    CreatedBefore: Timestamp.optional(),
    ObjectReplicationStatuses: z.array(z.enum(REPLICATION_STATUSES)).min(1).optional(),
    KeyNameConstraint: z
      .object({
        MatchAnyPrefix: OneString('prefix'),
        MatchAnySuffix: OneString('suffix'),
        MatchAnySubstring: OneString('substring'),
      })
      .strict()
      .optional(),
    ObjectSizeGreaterThanBytes: z.number().int().min(0).optional(),
    ObjectSizeLessThanBytes: z.number().int().min(0).optional(),
    MatchAnyStorageClass: z.array(z.enum(STORAGE_CLASSES)).min(1).optional(),
    MatchAnyObjectEncryption: z.array(ObjectEncryption).length(1, 'AWS accepts exactly one encryption type').optional(),
  })
  .strict()
  .superRefine((filter, ctx) => {
    if (filter.CreatedAfter && filter.CreatedBefore && Date.parse(filter.CreatedAfter) >= Date.parse(filter.CreatedBefore)) {
      ctx.addIssue({ code: 'custom', path: ['CreatedBefore'], message: 'must be later than CreatedAfter: no object can match' });
    }
  });

export const S3JobManifestGenerator = z
  .object({
    ExpectedBucketOwner: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id').optional(),
    SourceBucket: BucketArn,
    EnableManifestOutput: z.boolean(),
    ManifestOutputLocation: z
      .object({
        ExpectedManifestBucketOwner: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id').optional(),
        Bucket: BucketArn,
        ManifestPrefix: z.string().min(1).max(512).optional(),
        ManifestEncryption: z
          .object({ SSES3: z.object({}).strict().optional(), SSEKMS: z.object({ KeyId: z.string().min(1) }).strict().optional() })
          .strict()
          .optional(),
        ManifestFormat: z.literal('S3InventoryReport_CSV_20211130'),
      })
      .strict()
      .optional(),
    Filter: ManifestGeneratorFilter.optional(),
  })
  .strict()
  .superRefine((gen, ctx) => {
    if (gen.EnableManifestOutput && !gen.ManifestOutputLocation) {
      ctx.addIssue({ code: 'custom', path: ['ManifestOutputLocation'], message: 'required when EnableManifestOutput is true' });
    }
  });

export const JobManifestGenerator = z.object({ S3JobManifestGenerator }).strict();
export type JobManifestGenerator = z.infer<typeof JobManifestGenerator>;

/** The filter as the listing applies it (all criteria AND together). JSON-safe. */
export interface ResolvedFilter {
  /** ISO timestamps; strict comparisons on LastModified. */
  createdAfter?: string;
  createdBefore?: string;
  prefix?: string;
  suffix?: string;
  substring?: string;
  /** Strict size bounds, in bytes. */
  sizeGreaterThan?: number;
  sizeLessThan?: number;
  storageClasses?: string[];
  /** Needs a HEAD per listed object: SSE-S3 | SSE-KMS (optionally a key ARN) | DSSE-KMS | SSE-C | NOT-SSE. */
  encryption?: { type: 'SSE-S3' | 'SSE-KMS' | 'DSSE-KMS' | 'SSE-C' | 'NOT-SSE'; kmsKeyArn?: string; bucketKeyEnabled?: boolean };
  /** Needs a HEAD per listed object (x-amz-replication-status; NONE: absent). */
  replicationStatuses?: string[];
  /**
   * EligibleForReplication true: only objects that an enabled rule of the source bucket's replication configuration
   * covers (its prefix and tags; tags need a GetObjectTagging per object, only when a rule filters on them).
   */
  eligibleForReplication?: true;
}

/** What the engine lists and where the listing goes. */
export interface ResolvedGenerator {
  sourceBucket: string;
  /** Connection the source bucket is listed with. */
  connection: string;
  /** 'All': every version (ListObjectVersions; delete markers are not objects and are left out). */
  versions: 'Current' | 'All';
  filter: ResolvedFilter;
  /**
   * Where the generated manifest (AWS's S3InventoryReport_CSV_20211130: manifest.json and gzipped CSV data files)
   * is written: `<prefix>/job-<id>/`. EnableManifestOutput: ManifestOutputLocation; else the report folder, as a
   * working copy the pages read.
   */
  output: {
    connection: string;
    bucket: string;
    prefix?: string;
    kmsKeyId?: string;
    sse?: 'AES256' | 'aws:kms';
    kept: boolean;
    /** ManifestOutputLocation.ExpectedManifestBucketOwner (or, in the report folder, Report.ExpectedBucketOwner). */
    expectedOwner?: string;
  };
  /** S3JobManifestGenerator.ExpectedBucketOwner: the source bucket's, sent on every listing call. */
  expectedOwner?: string;
}

export function resolveFilter(filter: z.infer<typeof ManifestGeneratorFilter> | undefined): ResolvedFilter {
  if (!filter) return {};
  const enc = filter.MatchAnyObjectEncryption?.[0];
  const encryption: ResolvedFilter['encryption'] = !enc
    ? undefined
    : enc.SSES3
      ? { type: 'SSE-S3' }
      : enc.SSEKMS
        ? { type: 'SSE-KMS', kmsKeyArn: enc.SSEKMS.KmsKeyArn, bucketKeyEnabled: enc.SSEKMS.BucketKeyEnabled }
        : enc.DSSEKMS
          ? { type: 'DSSE-KMS', kmsKeyArn: enc.DSSEKMS.KmsKeyArn }
          : enc.SSEC
            ? { type: 'SSE-C' }
            : { type: 'NOT-SSE' };
  const resolved: ResolvedFilter = {
    createdAfter: filter.CreatedAfter,
    createdBefore: filter.CreatedBefore,
    prefix: filter.KeyNameConstraint?.MatchAnyPrefix?.[0],
    suffix: filter.KeyNameConstraint?.MatchAnySuffix?.[0],
    substring: filter.KeyNameConstraint?.MatchAnySubstring?.[0],
    sizeGreaterThan: filter.ObjectSizeGreaterThanBytes,
    sizeLessThan: filter.ObjectSizeLessThanBytes,
    storageClasses: filter.MatchAnyStorageClass,
    encryption,
    replicationStatuses: filter.ObjectReplicationStatuses,
    // AWS defines only true ("include objects only if they are eligible"); false asks for nothing.
    eligibleForReplication: filter.EligibleForReplication === true ? (true as const) : undefined,
  };
  // Undefined fields are left out, so the resolved job (workflow state) stays small and JSON round-trips equal.
  return Object.fromEntries(Object.entries(resolved).filter(([, v]) => v !== undefined)) as ResolvedFilter;
}
