/**
 * What an API access key may do, as IAM would say it for S3 Control's job calls: the accounts it acts for (the
 * x-amz-account-id it may send), whether it may create and control jobs or only read them, and the roles it may pass
 * to CreateJob (the `iam:PassRole` analogue). Built from the API config (config.ts); applied by the server (which
 * account, which operation) and by CreateJob (which role).
 *
 * Two modes, chosen by the config as a whole, never key by key, so that one forgotten field cannot open every account:
 * - scoped (some key names `accounts`): every key must name its accounts and its access; a key acts only for its
 *   accounts, and jobs of no account (created by the CLI or the library without an account: the operator's) are
 *   served to no key;
 * - single-tenant (no key names `accounts`, as before keys had policies): every key acts for every account (or the
 *   config's one `accountId`), may write and pass any role, and jobs of no account are served to every account.
 */
import { NO_ACCOUNT_ID } from '../shared/constants';
import { apiErrors } from './errors';

export type KeyAccess = 'read' | 'write';

export interface KeyPolicy {
  accessKeyId: string;
  /** The accounts the key acts for; undefined: any (single-tenant mode). */
  accounts?: readonly string[];
  access: KeyAccess;
  /** Role ARNs, or prefixes ending in `*`, the key may pass; undefined: any (single-tenant mode). */
  roles?: readonly string[];
}

/**
 * A role the key may pass: the exact ARN, or an ARN beginning with a pattern's text before its one trailing `*`.
 * Patterns are checked at start-up to fix the account and the `role/` part, so `*` never reaches another account.
 */
export function rolePatternMatches(pattern: string, roleArn: string): boolean {
  return pattern.endsWith('*') ? roleArn.startsWith(pattern.slice(0, -1)) : roleArn === pattern;
}

/** The calls that change something (CreateJob included): refused to a read-only key, and audited. */
export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'CreateJob',
  'UpdateJobStatus',
  'UpdateJobPriority',
  'UpdateJobRate',
  'PutJobTagging',
  'DeleteJobTagging',
]);

/** The caller of one request: its key's policy, applied. */
export class Caller {
  constructor(readonly policy: KeyPolicy) {}

  /** AccessDenied unless the key may call `operation` for `accountId`. */
  authorize(operation: string, accountId: string): void {
    const { accounts, access, accessKeyId } = this.policy;
    if (accounts && !accounts.includes(accountId)) {
      throw apiErrors.accessDenied(`Access key ${accessKeyId} is not allowed to act for account ${accountId}`);
    }
    if (access === 'read' && WRITE_OPERATIONS.has(operation)) {
      throw apiErrors.accessDenied(`Access key ${accessKeyId} is read-only: it is not allowed to perform ${operation}`);
    }
  }

  /** AccessDenied unless the key may pass `roleArn` to a job (iam:PassRole). */
  checkPassRole(roleArn: unknown): void {
    const { roles, accessKeyId } = this.policy;
    if (!roles) return;
    // Checked before the job spec (as AWS authorizes before it validates): anything but text is no role at all.
    if (typeof roleArn !== 'string') {
      throw apiErrors.accessDenied(`Access key ${accessKeyId} must name a RoleArn it may pass (iam:PassRole); the request has none`);
    }
    if (!roles.some((pattern) => rolePatternMatches(pattern, roleArn))) {
      throw apiErrors.accessDenied(`Access key ${accessKeyId} is not allowed to pass role ${roleArn} (iam:PassRole)`);
    }
  }

  /** Whether a job owned by `owner` (the account in its ARN) is this caller's to see, for `accountId`. */
  ownsJob(owner: string, accountId: string): boolean {
    if (owner === NO_ACCOUNT_ID) return this.policy.accounts === undefined;
    return owner === accountId;
  }

  /** Whether ListJobs lists jobs of no account too (single-tenant mode only). */
  get seesJobsOfNoAccount(): boolean {
    return this.policy.accounts === undefined;
  }
}
