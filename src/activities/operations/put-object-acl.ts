/**
 * S3PutObjectAcl: replace the object's ACL (the version's, when the row names one) with a canned ACL or an explicit
 * list of grants.
 *
 * Explicit grants go out as x-amz-grant-* headers when they fit, not as an AccessControlPolicy body. Both replace
 * the whole ACL on AWS, but the header form needs no Owner (PutObjectAcl cannot change an object's owner, so the
 * body's Owner can only repeat the current one) and it is the form moto applies: moto ignores an object ACL body and
 * resets the object to the bucket's ACL. The body form is kept for what headers cannot carry: an empty grant list,
 * identifiers with quotes or commas, and grant lists too long for S3's 8 KiB request-header limit.
 */
import {
  GetObjectAclCommand,
  PutObjectAclCommand,
  type Grant as SdkGrant,
  type Owner as SdkOwner,
  type PutObjectAclCommandInput,
} from '@aws-sdk/client-s3';
import type { OperationParams } from '../../schemas/operations';
import {
  SUCCESS_MESSAGE,
  successStatus,
  TaskFailure,
  type Operation,
  type OperationContext,
  type TaskObject,
} from './operation';

type AclPolicy = OperationParams<'S3PutObjectAcl'>['AccessControlPolicy'];
type JobGrant = NonNullable<NonNullable<AclPolicy['AccessControlList']>['Grants']>[number];
type Permission = JobGrant['Permission'];

/** Bytes of grant headers above which the body form is used (S3 refuses requests whose headers pass 8 KiB). */
export const GRANT_HEADER_BUDGET = 6 * 1024;

const GRANTEE_TYPES = { id: 'CanonicalUser', emailAddress: 'AmazonCustomerByEmail', uri: 'Group' } as const;

type GrantHeaderName = 'GrantFullControl' | 'GrantRead' | 'GrantWrite' | 'GrantReadACP' | 'GrantWriteACP';

const HEADER_OF: Record<Permission, GrantHeaderName> = {
  FULL_CONTROL: 'GrantFullControl',
  READ: 'GrantRead',
  WRITE: 'GrantWrite',
  READ_ACP: 'GrantReadACP',
  WRITE_ACP: 'GrantWriteACP',
};

/** A job grant as the SDK's Grant: TypeIdentifier id|emailAddress|uri → CanonicalUser|AmazonCustomerByEmail|Group. */
export function toSdkGrant(grant: JobGrant): SdkGrant {
  const { TypeIdentifier, Identifier, DisplayName } = grant.Grantee;
  const type = GRANTEE_TYPES[TypeIdentifier];
  const grantee =
    TypeIdentifier === 'id'
      ? { Type: type, ID: Identifier, DisplayName }
      : TypeIdentifier === 'emailAddress'
        ? { Type: type, EmailAddress: Identifier }
        : { Type: type, URI: Identifier };
  return { Grantee: grantee, Permission: grant.Permission };
}

export type GrantHeaders = Partial<Pick<PutObjectAclCommandInput, GrantHeaderName>>;

/**
 * The grants as x-amz-grant-* header values (`id="…", uri="…"` per permission), or undefined when the header form
 * cannot carry them: no grants (headers alone would not say "remove every grant"), a quote or comma inside an
 * identifier, or more than GRANT_HEADER_BUDGET bytes. DisplayName has no header form; S3 ignores it anyway.
 */
export function grantHeaders(grants: readonly JobGrant[]): GrantHeaders | undefined {
  if (grants.length === 0 || grants.some((g) => /[",]/.test(g.Grantee.Identifier))) return undefined;
  const headers: GrantHeaders = {};
  for (const grant of grants) {
    const name = HEADER_OF[grant.Permission];
    const grantee = `${grant.Grantee.TypeIdentifier}="${grant.Grantee.Identifier}"`;
    headers[name] = headers[name] ? `${headers[name]}, ${grantee}` : grantee;
  }
  const bytes = Object.values(headers).reduce((sum, value) => sum + Buffer.byteLength(value ?? ''), 0);
  return bytes <= GRANT_HEADER_BUDGET ? headers : undefined;
}

/**
 * The PutObjectAcl input for one object, or undefined when it needs the body form, the policy names no Owner.ID and
 * no `owner` was given: S3 refuses an AccessControlPolicy body without its Owner, so the caller looks it up first.
 */
export function putObjectAclInput(
  object: TaskObject,
  policy: AclPolicy,
  owner?: SdkOwner
): PutObjectAclCommandInput | undefined {
  const target = { Bucket: object.bucket, Key: object.key, VersionId: object.versionId };
  if (policy.CannedAccessControlList) return { ...target, ACL: policy.CannedAccessControlList };
  // The schema guarantees exactly one of CannedAccessControlList and AccessControlList.
  const list = policy.AccessControlList!;
  const grants = list.Grants ?? [];
  const headers = grantHeaders(grants);
  if (headers) return { ...target, ...headers };
  const bodyOwner = list.Owner.ID ? { ID: list.Owner.ID, DisplayName: list.Owner.DisplayName } : owner;
  if (!bodyOwner?.ID) return undefined;
  return { ...target, AccessControlPolicy: { Owner: bodyOwner, Grants: grants.map(toSdkGrant) } };
}

/**
 * The object's current owner, for a body without Owner.ID. Looking it up (one GetObjectAcl, which needs
 * s3:GetObjectAcl) beats failing the task: PutObjectAcl cannot change the owner, so the current one is the only
 * value S3 accepts, and AWS's own Batch API requires callers to repeat it.
 */
async function currentOwner({ s3, signal }: OperationContext, object: TaskObject): Promise<SdkOwner> {
  const acl = await s3.send(
    new GetObjectAclCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
    { abortSignal: signal }
  );
  if (!acl.Owner?.ID) {
    throw new TaskFailure(
      'MalformedACLError',
      'the ACL needs AccessControlList.Owner.ID, and GetObjectAcl did not name the object\'s owner',
      false,
      acl.$metadata.httpStatusCode
    );
  }
  return { ID: acl.Owner.ID, DisplayName: acl.Owner.DisplayName };
}

export const putObjectAcl: Operation<'S3PutObjectAcl'> = {
  run: async (ctx, object, params) => {
    const policy = params.AccessControlPolicy;
    // With an owner that has an ID, putObjectAclInput always builds an input.
    const input =
      putObjectAclInput(object, policy) ?? putObjectAclInput(object, policy, await currentOwner(ctx, object))!;
    try {
      const out = await ctx.s3.send(new PutObjectAclCommand(input), { abortSignal: ctx.signal });
      return { message: SUCCESS_MESSAGE, httpStatus: successStatus(out.$metadata.httpStatusCode) };
    } catch (err) {
      // MinIO answers 501 for any ACL but private, with a message about headers; say what it means. Still permanent.
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotImplemented') {
        throw new TaskFailure(
          'NotImplemented',
          `this S3 store does not implement this object ACL (MinIO accepts only private): ${e.message ?? ''}`,
          false,
          e.$metadata?.httpStatusCode
        );
      }
      throw err;
    }
  },
  errorCodes: {
    permanent: [
      'NotImplemented',
      'MalformedACLError',
      'InvalidArgument',
      'InvalidRequest',
      'AccessDenied',
      'AccessControlListNotSupported',
      'UnresolvableGrantByEmailAddress',
      'MissingSecurityHeader',
      'MalformedXML',
    ],
  },
};
