/**
 * create-job's flags for the common cases, turned into a CreateJob request. Pure (no I/O), so the mapping is unit
 * tested. The request is then validated by the job spec schema itself (src/schemas/job-spec.ts), never by a copy of
 * its rules here: this module only shapes JSON and checks what the schema cannot see (which flags go together).
 *
 * A job file and flags combine; flags win. A flag group replaces its member of the file as a whole: --manifest
 * replaces Manifest.Location, --operation replaces Operation, --report or --no-report replaces Report. Other flags
 * set one field each (--manifest-fields, --manifest-etag, --priority, --description, --connection, ...).
 */
import { z } from 'zod';
// Side effect: user-facing messages for every zod issue (see there).
import '../shared/zod-messages';
import { formatProblems, ManifestField, type SpecProblem } from '../schemas/job-spec';
import { badInput } from './errors';

/** Short operation names for --operation, and the CreateJob member each one fills. */
export const OPERATION_FLAGS = {
  tagging: 'S3PutObjectTagging',
  'delete-tagging': 'S3DeleteObjectTagging',
  copy: 'S3PutObjectCopy',
  lambda: 'LambdaInvoke',
  restore: 'S3InitiateRestoreObject',
  checksum: 'S3ComputeObjectChecksum',
  delete: 'S3DeleteObject',
} as const;
export type OperationFlag = keyof typeof OPERATION_FLAGS;

/** create-job's options as commander hands them over (values already checked by their argParsers). */
export interface JobFlags {
  manifest?: string;
  manifestFields?: string[];
  manifestEtag?: string;
  manifestVersionId?: string;
  /** The CSV manifest's first line is a header (Extensions.ManifestHeaderRow). */
  manifestHeaderRow?: boolean;
  operation?: OperationFlag;
  tag?: [string, string][];
  targetBucket?: string;
  targetPrefix?: string;
  storageClass?: string;
  function?: string;
  userArgument?: [string, string][];
  expirationDays?: number;
  tier?: string;
  confirmDataDeletion?: boolean;
  /** commander's --report <url> / --no-report pair: a URL, false for --no-report, undefined for neither. */
  report?: string | false;
  reportScope?: string;
  priority?: number;
  /** Extensions.MaxTasksPerSecond. */
  maxTasksPerSecond?: number;
  description?: string;
  confirmationRequired?: boolean;
  connection?: string;
  clientToken?: string;
  accountId?: string;
  roleArn?: string;
}

/** Which operation each parameter flag belongs to, for "this flag needs --operation X" errors. */
const PARAMETER_FLAGS: { key: keyof JobFlags; flag: string; operations: OperationFlag[] }[] = [
  { key: 'tag', flag: '--tag', operations: ['tagging', 'copy'] },
  { key: 'targetBucket', flag: '--target-bucket', operations: ['copy'] },
  { key: 'targetPrefix', flag: '--target-prefix', operations: ['copy'] },
  { key: 'storageClass', flag: '--storage-class', operations: ['copy'] },
  { key: 'function', flag: '--function', operations: ['lambda'] },
  { key: 'userArgument', flag: '--user-argument', operations: ['lambda'] },
  { key: 'expirationDays', flag: '--expiration-days', operations: ['restore'] },
  { key: 'tier', flag: '--tier', operations: ['restore'] },
  { key: 'confirmDataDeletion', flag: '--confirm-data-deletion', operations: ['delete'] },
];

const S3_URL = /^s3:\/\/([^/]+)(?:\/(.*))?$/s;

/** bucket and key (possibly empty) of an s3:// URL; a CliError saying what a URL looks like otherwise. */
export function parseS3Url(url: string, flag: string, needKey: boolean): { bucket: string; key: string } {
  const match = S3_URL.exec(url);
  if (!match?.[1] || (needKey && !match[2])) {
    throw badInput(`${flag}: expected ${needKey ? 's3://bucket/key' : 's3://bucket[/prefix]'}, got ${JSON.stringify(url)}`);
  }
  return { bucket: match[1], key: match[2] ?? '' };
}

/** A commander argParser for repeatable key=value flags (--tag, --user-argument). */
export function collectKeyValue(value: string, previous: [string, string][] | undefined): [string, string][] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`expected key=value, got ${JSON.stringify(value)}`);
  return [...(previous ?? []), [value.slice(0, eq), value.slice(eq + 1)]];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function operationFromFlags(flags: JobFlags): Json {
  const op = flags.operation!;
  const tags = flags.tag?.map(([Key, Value]) => ({ Key, Value }));
  switch (op) {
    case 'tagging':
      return { S3PutObjectTagging: { TagSet: tags ?? [] } };
    case 'delete-tagging':
      return { S3DeleteObjectTagging: {} };
    case 'checksum':
      return { S3ComputeObjectChecksum: {} };
    case 'delete':
      // Without the flag the schema refuses the job and says why; no default may say yes to deleting data.
      return { S3DeleteObject: flags.confirmDataDeletion ? { ConfirmDataDeletion: true } : {} };
    case 'copy': {
      if (!flags.targetBucket) throw badInput('--operation copy needs --target-bucket <bucket>');
      return {
        S3PutObjectCopy: {
          TargetResource: `arn:aws:s3:::${flags.targetBucket}`,
          ...(flags.targetPrefix !== undefined && { TargetKeyPrefix: flags.targetPrefix }),
          ...(flags.storageClass !== undefined && { StorageClass: flags.storageClass }),
          ...(tags && { NewObjectTagging: tags }),
        },
      };
    }
    case 'lambda': {
      if (!flags.function) throw badInput('--operation lambda needs --function <name or ARN>');
      const args = flags.userArgument && Object.fromEntries(flags.userArgument);
      return {
        LambdaInvoke: {
          FunctionArn: flags.function,
          // UserArguments exist only in schema 2.0: asking for them is asking for 2.0.
          ...(args ? { InvocationSchemaVersion: '2.0', UserArguments: args } : {}),
        },
      };
    }
    case 'restore':
      return {
        S3InitiateRestoreObject: {
          ...(flags.expirationDays !== undefined && { ExpirationInDays: flags.expirationDays }),
          ...(flags.tier !== undefined && { GlacierJobTier: flags.tier }),
        },
      };
  }
}

function reportFromFlags(flags: JobFlags): Json | undefined {
  if (flags.report === false) {
    if (flags.reportScope) throw badInput('--report-scope makes no sense with --no-report');
    return { Enabled: false };
  }
  if (flags.report === undefined) {
    if (flags.reportScope) throw badInput('--report-scope needs --report s3://bucket/prefix');
    return undefined;
  }
  const { bucket, key } = parseS3Url(flags.report, '--report', false);
  const prefix = key.replace(/\/+$/, '');
  return {
    Enabled: true,
    Bucket: `arn:aws:s3:::${bucket}`,
    Format: 'Report_CSV_20180820',
    ...(prefix && { Prefix: prefix }),
    ReportScope: flags.reportScope ?? 'AllTasks',
  };
}

/**
 * The CreateJob request from an optional job file's JSON and the flags (flags win, see the module comment).
 * Throws a bad-input CliError for flags that do not go together; everything else is the schema's to judge.
 */
export function buildCreateJob(flags: JobFlags, file?: unknown): Json {
  if (file !== undefined && !isObject(file)) throw badInput('the job file must hold a JSON object (a CreateJob request)');
  const job: Json = structuredClone((file as Json | undefined) ?? {});

  for (const p of PARAMETER_FLAGS) {
    if (flags[p.key] === undefined) continue;
    if (!flags.operation) throw badInput(`${p.flag} needs --operation ${p.operations.join(' or ')}`);
    if (!p.operations.includes(flags.operation)) {
      throw badInput(`${p.flag} applies to --operation ${p.operations.join(' or ')}, not ${flags.operation}`);
    }
  }
  if (flags.operation) job.Operation = operationFromFlags(flags);

  const manifest: Json = isObject(job.Manifest) ? { ...job.Manifest } : {};
  const touchesManifest = flags.manifest || flags.manifestFields || flags.manifestEtag || flags.manifestVersionId;
  if (touchesManifest) {
    if (!flags.manifest && !isObject(manifest.Location)) throw badInput('--manifest-fields, --manifest-etag and --manifest-version-id need --manifest s3://bucket/key.csv');
    const spec: Json = isObject(manifest.Spec) ? { ...manifest.Spec } : { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] };
    if (flags.manifestFields) spec.Fields = flags.manifestFields;
    let location: Json = isObject(manifest.Location) ? { ...manifest.Location } : {};
    if (flags.manifest) {
      const { bucket, key } = parseS3Url(flags.manifest, '--manifest', true);
      // A new manifest object: the file's ETag and version belonged to the old one.
      location = { ObjectArn: `arn:aws:s3:::${bucket}/${key}` };
    }
    if (flags.manifestEtag) location.ETag = flags.manifestEtag;
    if (flags.manifestVersionId) location.ObjectVersionId = flags.manifestVersionId;
    job.Manifest = { ...manifest, Spec: spec, Location: location };
  }

  const report = reportFromFlags(flags);
  if (report) job.Report = report;

  if (flags.priority !== undefined) job.Priority = flags.priority;
  if (flags.description !== undefined) job.Description = flags.description;
  if (flags.confirmationRequired) job.ConfirmationRequired = true;
  if (flags.clientToken !== undefined) job.ClientRequestToken = flags.clientToken;
  if (flags.accountId !== undefined) job.AccountId = flags.accountId;
  if (flags.roleArn !== undefined) job.RoleArn = flags.roleArn;
  const extensions = (set: Json) => (job.Extensions = { ...(isObject(job.Extensions) ? job.Extensions : {}), ...set });
  if (flags.connection !== undefined) extensions({ Connection: flags.connection });
  if (flags.manifestHeaderRow) extensions({ ManifestHeaderRow: true });
  if (flags.maxTasksPerSecond !== undefined) extensions({ MaxTasksPerSecond: flags.maxTasksPerSecond });
  return job;
}

/** The flag that sets each part of a request, for problem messages (longest matching path wins). */
const FLAG_FOR_PATH: [string, string][] = [
  ['Manifest', '--manifest'],
  ['Manifest.Location', '--manifest'],
  ['Manifest.Spec.Fields', '--manifest-fields'],
  ['Manifest.Location.ETag', '--manifest-etag'],
  ['Manifest.Location.ObjectVersionId', '--manifest-version-id'],
  ['Operation', '--operation'],
  ['Operation.S3PutObjectTagging.TagSet', '--tag'],
  ['Operation.S3PutObjectCopy.NewObjectTagging', '--tag'],
  ['Operation.S3PutObjectCopy.TargetResource', '--target-bucket'],
  ['Operation.S3PutObjectCopy.TargetKeyPrefix', '--target-prefix'],
  ['Operation.S3PutObjectCopy.StorageClass', '--storage-class'],
  ['Operation.LambdaInvoke.FunctionArn', '--function'],
  ['Operation.LambdaInvoke.UserArguments', '--user-argument'],
  ['Operation.S3InitiateRestoreObject.ExpirationInDays', '--expiration-days'],
  ['Operation.S3InitiateRestoreObject.GlacierJobTier', '--tier'],
  ['Operation.S3DeleteObject.ConfirmDataDeletion', '--confirm-data-deletion'],
  ['Report', '--report s3://bucket/prefix or --no-report'],
  ['Report.Bucket', '--report'],
  ['Report.Prefix', '--report'],
  ['Report.ReportScope', '--report-scope'],
  ['Priority', '--priority'],
  ['Description', '--description'],
  ['ClientRequestToken', '--client-token'],
  ['AccountId', '--account-id'],
  ['RoleArn', '--role-arn'],
  ['Extensions.Connection', '--connection'],
  ['Extensions.ManifestHeaderRow', '--manifest-header-row'],
  ['Extensions.MaxTasksPerSecond', '--max-tasks-per-second'],
];

export function flagForPath(path: string): string | undefined {
  let best: [string, string] | undefined;
  for (const entry of FLAG_FOR_PATH) {
    const [prefix] = entry;
    const matches = path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
    if (matches && (!best || prefix.length > best[0].length)) best = entry;
  }
  return best?.[1];
}

/** Every problem on its own line, with its path and the flag that sets it. */
export function describeProblems(problems: SpecProblem[]): string {
  return problems
    .map((p) => {
      const flag = flagForPath(p.path);
      return `  - ${formatProblems([{ path: p.path || '(job)', message: p.message }])}${flag ? ` (flag: ${flag})` : ''}`;
    })
    .join('\n');
}

/** --manifest-fields: a comma list of the schema's own field names (Bucket,Key[,VersionId]). */
export const ManifestFieldsFlag = z
  .string()
  .transform((s) => s.split(',').map((f) => f.trim()))
  .pipe(z.array(ManifestField));
