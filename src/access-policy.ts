/**
 * What a principal may do with jobs, as IAM would say it for S3 Control's job calls: the accounts it acts for, whether
 * it may create and control jobs or only read them, and the roles it may pass to CreateJob (the `iam:PassRole`
 * analogue). One policy model for every door: the HTTP API's access keys (http-api/key-policy.ts, http-api/config.ts)
 * and the configured identity of the CLI and the client library (client-principal.ts) are held to the same checks.
 */
import { z } from 'zod';
import { NO_ACCOUNT_ID } from './shared/constants';

export type Access = 'read' | 'write';

export interface AccessPolicy {
  /** The accounts the principal acts for; undefined: any (single-tenant). */
  accounts?: readonly string[];
  access: Access;
  /** Role ARNs, or prefixes ending in `*`, the principal may pass; undefined: any (single-tenant). */
  roles?: readonly string[];
}

/** A call the principal's policy does not allow (the HTTP API answers it as AWS's AccessDenied, 403). */
export class AccessDeniedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessDenied';
  }
}

/** The calls that change something (CreateJob included): refused to a read-only principal, and audited. */
export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'CreateJob',
  'UpdateJobStatus',
  'UpdateJobPriority',
  'UpdateJobRate',
  'PutJobTagging',
  'DeleteJobTagging',
]);

/**
 * A role the principal may pass: the exact ARN, or an ARN beginning with a pattern's text before its one trailing
 * `*`. Patterns are checked when configured to fix the account and the `role/` part, so `*` never reaches another
 * account.
 */
export function rolePatternMatches(pattern: string, roleArn: string): boolean {
  return pattern.endsWith('*') ? roleArn.startsWith(pattern.slice(0, -1)) : roleArn === pattern;
}

/** A policy applied to one principal's calls; refusals name the principal (`Access key AKIA…`, `Identity cli:…`). */
export class PolicyCheck {
  constructor(
    readonly policy: AccessPolicy,
    /** How refusals name the principal. */
    readonly principal: string,
    private readonly deny: (message: string) => Error = (message) => new AccessDeniedError(message)
  ) {}

  /** Refused unless the principal may call `operation` for `accountId`. */
  authorize(operation: string, accountId: string): void {
    const { accounts, access } = this.policy;
    if (accounts && !accounts.includes(accountId)) {
      throw this.deny(`${this.principal} is not allowed to act for account ${accountId}`);
    }
    if (access === 'read' && WRITE_OPERATIONS.has(operation)) {
      throw this.deny(`${this.principal} is read-only: it is not allowed to perform ${operation}`);
    }
  }

  /** Refused unless the principal may pass `roleArn` to a job (iam:PassRole). */
  checkPassRole(roleArn: unknown): void {
    const { roles } = this.policy;
    if (!roles) return;
    // Checked before the job spec (as AWS authorizes before it validates): anything but text is no role at all.
    if (typeof roleArn !== 'string') {
      throw this.deny(`${this.principal} must name a RoleArn it may pass (iam:PassRole); the request has none`);
    }
    if (!roles.some((pattern) => rolePatternMatches(pattern, roleArn))) {
      throw this.deny(`${this.principal} is not allowed to pass role ${roleArn} (iam:PassRole)`);
    }
  }

  /** Whether a job owned by `owner` (the account in its ARN) is this principal's to see, for `accountId`. */
  ownsJob(owner: string, accountId: string): boolean {
    if (owner === NO_ACCOUNT_ID) return this.policy.accounts === undefined;
    return owner === accountId;
  }

  /** Whether a job owned by `owner` is the principal's in any of its accounts (no accounts named: every job is). */
  ownsJobOfAnyAccount(owner: string): boolean {
    const { accounts } = this.policy;
    return accounts === undefined || (owner !== NO_ACCOUNT_ID && accounts.includes(owner));
  }

  /** Whether ListJobs lists jobs of no account too (single-tenant only). */
  get seesJobsOfNoAccount(): boolean {
    return this.policy.accounts === undefined;
  }
}

// ---- Configuring a policy ----

const ACCOUNT_ID = /^\d{12}$/;
/**
 * A role a principal may pass: an IAM role ARN, or one ending in `*` to match every role whose ARN begins with the
 * rest. The account and `role/` are always spelled out, so a pattern never reaches into another account.
 */
const ROLE_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]*\*?$/;

/** A policy's fields, as configured (an API key's, or an identity's). All three absent: single-tenant. */
export const PolicyFields = {
  /** The accounts the principal acts for. */
  accounts: z
    .array(z.string().regex(ACCOUNT_ID, 'expected a 12-digit account id'))
    .min(1, 'a key or identity serves at least one account (one for no account could do nothing)')
    .optional(),
  /** "read": DescribeJob, ListJobs, GetJobTagging only; "write": also CreateJob and every job change. */
  access: z.enum(['read', 'write']).optional(),
  /** The roles the principal may pass to CreateJob (iam:PassRole): role ARNs, or ARN prefixes ending in `*`. */
  roles: z
    .array(
      z
        .string()
        .regex(
          ROLE_PATTERN,
          'expected an IAM role ARN (arn:aws:iam::123456789012:role/name), or one ending in * (arn:aws:iam::123456789012:role/team-a-*)'
        )
    )
    .optional(),
};

/**
 * The policy of a principal that names its accounts, or what is wrong with it (pushed onto `problems`, each starting
 * with `where`): "access" is required, a read principal passes no roles, a write principal lists the roles it may
 * pass ([] for none), and every role is in one of its accounts.
 */
export function scopedPolicy(
  fields: { accounts: string[]; access?: Access; roles?: string[] },
  where: string,
  problems: string[],
  /** What the messages call the principal. */
  noun = 'key'
): AccessPolicy {
  const { accounts, access, roles } = fields;
  if (access === undefined) problems.push(`${where}: "access" is required with "accounts": "read" or "write"`);
  if (access === 'read' && roles !== undefined) {
    problems.push(`${where}: a "read" ${noun} creates no jobs, so it passes no roles; remove "roles" or make it a "write" ${noun}`);
  }
  if (access === 'write' && roles === undefined) {
    problems.push(
      `${where}: a "write" ${noun} must list the "roles" it may pass to CreateJob (iam:PassRole); [] for a ${noun} that only controls existing jobs`
    );
  }
  for (const role of roles ?? []) {
    const roleAccount = role.split(':')[4]!;
    if (!accounts.includes(roleAccount)) {
      problems.push(`${where}: role ${role} is in account ${roleAccount}, which this ${noun} does not act for (accounts: ${accounts.join(', ')})`);
    }
  }
  return { accounts, access: access ?? 'read', roles: access === 'write' ? (roles ?? []) : [] };
}
