/**
 * What an API access key may do (the policy model of ../access-policy.ts, one policy per key): built from the API
 * config (config.ts); applied by the server (which account, which operation) and by CreateJob (which role).
 *
 * Two modes, chosen by the config as a whole, never key by key, so that one forgotten field cannot open every account:
 * - scoped (some key names `accounts`): every key must name its accounts and its access; a key acts only for its
 *   accounts, and jobs of no account (created by the CLI or the library without an account: the operator's) are
 *   served to no key;
 * - single-tenant (no key names `accounts`, as before keys had policies): every key acts for every account (or the
 *   config's one `accountId`), may write and pass any role, and jobs of no account are served to every account.
 */
import { PolicyCheck, type AccessPolicy } from '../access-policy';
import { apiErrors } from './errors';

export { rolePatternMatches, WRITE_OPERATIONS, type Access as KeyAccess } from '../access-policy';

export interface KeyPolicy extends AccessPolicy {
  accessKeyId: string;
}

/** The caller of one request: its key's policy, applied; refusals are AWS's AccessDenied naming the key. */
export class Caller extends PolicyCheck {
  constructor(override readonly policy: KeyPolicy) {
    super(policy, `Access key ${policy.accessKeyId}`, (message) => apiErrors.accessDenied(message));
  }
}
