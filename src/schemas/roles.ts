/**
 * Roles in the worker config: what a job's RoleArn grants, as an IAM role's policy does on AWS. A role names the
 * connections its jobs use and the S3 locations they may touch, per use:
 *   manifestRead  where the job's manifest (or inventory manifest.json) may be read from
 *   reportWrite   where the completion report and generated manifests may be written
 *   actOn         the objects the job's tasks may act on, per operation kind (see OPERATION_ACCESS)
 *   lambda        the Lambda connection and the functions LambdaInvoke jobs may call
 *
 * A location is `bucket` (the whole bucket) or `bucket/prefix/`: the object's key starts with the prefix, character
 * for character (S3's Prefix parameter; IAM's `arn:aws:s3:::bucket/prefix*`). A prefix must end with "/", so that
 * `logs/` cannot also grant `logs-archive/`; `*` and `?` are refused (they are not patterns here).
 *
 * Pure functions and types: safe in workflow code.
 */
import { z } from 'zod';
import type { OperationName } from './operations';

/** `arn:aws:iam::111122223333:role/name` (a path may precede the name, as IAM allows). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\/-]{1,512}$/;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export type AccessKind = 'readOnly' | 'write' | 'delete';

/** What each operation does to a manifest row's object: the actOn list its rows are checked against. */
export const OPERATION_ACCESS: Record<OperationName, AccessKind> = {
  S3ComputeObjectChecksum: 'readOnly',
  S3PutObjectCopy: 'readOnly', // reads the row's object; the copy's target is checked against `write`
  S3PutObjectTagging: 'write',
  S3DeleteObjectTagging: 'write',
  S3PutObjectAcl: 'write',
  S3InitiateRestoreObject: 'write',
  S3PutObjectLegalHold: 'write',
  S3PutObjectRetention: 'write',
  S3UpdateObjectEncryption: 'write',
  LambdaInvoke: 'write',
  // An operator's own code: it may change the object; it may not delete unless it is S3DeleteObject.
  CustomOperation: 'write',
  S3DeleteObject: 'delete',
};

/** A parsed location. `prefix` is '' for the whole bucket. */
export interface Location {
  bucket: string;
  prefix: string;
}

/** Why a location text is refused, or undefined. */
function locationProblem(text: string): string | undefined {
  const slash = text.indexOf('/');
  const bucket = slash < 0 ? text : text.slice(0, slash);
  const prefix = slash < 0 ? '' : text.slice(slash + 1);
  if (!BUCKET.test(bucket)) return `"${text}": expected "bucket" or "bucket/prefix/" with a valid bucket name`;
  if (slash >= 0 && prefix === '') return `"${text}": drop the trailing "/" to mean the whole bucket`;
  if (/[*?]/.test(prefix)) return `"${text}": * and ? are not patterns here; a prefix matches every key that starts with it`;
  if (prefix && !prefix.endsWith('/')) {
    return `"${text}": a prefix must end with "/" (otherwise "${prefix}" would also grant "${prefix}-other/…")`;
  }
  if (prefix.startsWith('/') || prefix.includes('//') || prefix.split('/').some((part) => part === '..' || part === '.')) {
    return `"${text}": a prefix may not start with "/" nor hold "//", "." or ".." segments`;
  }
  return undefined;
}

export function parseLocation(text: string): Location {
  const slash = text.indexOf('/');
  return slash < 0 ? { bucket: text, prefix: '' } : { bucket: text.slice(0, slash), prefix: text.slice(slash + 1) };
}

export function formatLocation(l: Location): string {
  return l.prefix ? `${l.bucket}/${l.prefix}` : l.bucket;
}

/** Whether `inner` lies within `outer` (same bucket, and outer's prefix starts inner's). */
function covers(outer: Location, inner: Location): boolean {
  return outer.bucket === inner.bucket && inner.prefix.startsWith(outer.prefix);
}

/** Whether the object `bucket`/`key` lies in one of the locations. */
export function allows(locations: readonly string[], bucket: string, key: string): boolean {
  return locations.some((text) => covers(parseLocation(text), { bucket, prefix: key }));
}

const LocationText = z.string().superRefine((text, ctx) => {
  const problem = locationProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A list of locations; one inside another is a mistake (the narrower one grants nothing more: which was meant?). */
const Locations = z.array(LocationText).superRefine((list, ctx) => {
  if (list.some((t) => locationProblem(t))) return;
  list.forEach((text, i) => {
    const other = list.findIndex((o, j) => j !== i && covers(parseLocation(o), parseLocation(text)) && (o !== text || j < i));
    if (other >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: [i],
        message: `"${text}" overlaps "${list[other]}" (listed too): list each location once, the widest you mean`,
      });
    }
  });
});

const ConnectionName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a connection name');

export const RolePolicy = z
  .object({
    /** The S3 connections the role's jobs may use; the first is used when a job names none. */
    connections: z.array(ConnectionName).min(1, 'name at least one S3 connection'),
    manifestRead: Locations.min(1, 'name at least one location manifests may be read from'),
    reportWrite: Locations.default([]),
    actOn: z
      .object({ readOnly: Locations.default([]), write: Locations.default([]), delete: Locations.default([]) })
      .strict(),
    lambda: z
      .object({
        connection: ConnectionName,
        /** Function names (or ARNs: compared by name) LambdaInvoke jobs may call. */
        functions: z.array(z.string().min(1)).min(1, 'name at least one function'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((role, ctx) => {
    const { readOnly, write, delete: deletes } = role.actOn;
    if (readOnly.length + write.length + deletes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['actOn'], message: 'empty policy: name at least one location under readOnly, write or delete' });
    }
    // The completion report is the record of what a job did: a role that may delete where it writes reports could
    // erase it (its own, or another job's of the same role).
    for (const [i, text] of deletes.entries()) {
      const report = role.reportWrite.find((r) => covers(parseLocation(r), parseLocation(text)) || covers(parseLocation(text), parseLocation(r)));
      if (report) {
        ctx.addIssue({
          code: 'custom',
          path: ['actOn', 'delete', i],
          message: `"${text}" overlaps reportWrite "${report}": jobs of this role could delete completion reports`,
        });
      }
    }
  });

export type RolePolicy = z.infer<typeof RolePolicy>;

export const RolesConfig = z.record(z.string(), RolePolicy).superRefine((roles, ctx) => {
  for (const arn of Object.keys(roles)) {
    if (!ROLE_ARN.test(arn)) {
      ctx.addIssue({ code: 'custom', path: [arn], message: 'expected a role ARN, arn:aws:iam::<12-digit account>:role/<name>' });
    }
  }
});

export type RolesConfig = z.infer<typeof RolesConfig>;

/** The worker's start-up line about roles: whether jobs are held to roles, or it runs single-tenant. */
export function rolesStartupLine(roles: RolesConfig | undefined): string {
  return roles
    ? `roles: ${Object.keys(roles).length} configured; every job must name one in RoleArn, and runs within it`
    : 'roles: none configured; single-tenant mode: RoleArn is recorded and grants nothing, every job may use every connection';
}
