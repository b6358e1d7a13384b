/**
 * Who the CLI and the client library act as: an identity, recorded as the actor of every change they make (the job's
 * history, DescribeJob's S3Batch.CreatedBy and LastChange, and the Temporal client's own identity), and optionally
 * what that identity may do, as an HTTP API key's policy says it (accounts, access, roles: ../access-policy.ts).
 *
 * Both are the caller's own word: anyone who reaches the Temporal frontend can send any identity, or none. They keep
 * an honest client honest (a team's service or CI cannot touch another account's jobs by mistake) and say who did
 * what; Temporal's own authorization (docs/security.md) is what stops a dishonest one.
 *
 * Environment (the CLI; a service may call principalFromEnv too):
 *   S3BATCH_IDENTITY         who (default `cli:<os user>@<host>`, or `library:<os user>@<host>` for the library)
 *   S3BATCH_IDENTITY_POLICY  JSON: {"accounts": [...], "access": "read" | "write", "roles": [...]} (absent: anything)
 */
import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
// Side effect: user-facing messages for every zod issue (see there).
import './shared/zod-messages';
import { PolicyFields, scopedPolicy, type AccessPolicy } from './access-policy';
import { Actor } from './shared/audit';
import { zodProblems } from './shared/problems';

export const IDENTITY_ENV = 'S3BATCH_IDENTITY';
export const IDENTITY_POLICY_ENV = 'S3BATCH_IDENTITY_POLICY';

/** What an identity may do: an API key's policy fields. With none of them, the identity may do anything. */
export const IdentityPolicy = z.object(PolicyFields).strict();
export type IdentityPolicyInput = z.input<typeof IdentityPolicy>;

export interface Principal {
  /** The actor recorded for every change. */
  identity: string;
  /** Absent: no limits (single-tenant, as a key without a policy). */
  policy?: AccessPolicy;
}

/** The identity or its policy is wrong: each problem names the setting and says what it expects. */
export class PrincipalConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid client identity:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PrincipalConfigError';
  }
}

/** `<kind>:<os user>@<host>`: who runs this process, as the OS says (no secret, and no claim beyond it). */
export function defaultIdentity(kind: 'cli' | 'library'): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the variable, or nothing pretended.
    user = process.env.USER || process.env.USERNAME || 'unknown';
  }
  return `${kind}:${user}@${hostname()}`;
}

/**
 * The principal from explicit settings (`where` names their source in problems), defaults filled in. A policy that
 * names `access` or `roles` must name its `accounts` too, and then follows the rules of a scoped API key.
 */
export function resolvePrincipal(
  settings: { identity?: unknown; policy?: unknown },
  kind: 'cli' | 'library',
  where: { identity: string; policy: string } = { identity: 'identity', policy: 'policy' }
): Principal {
  const problems: string[] = [];
  const identity = Actor.safeParse(settings.identity ?? defaultIdentity(kind));
  if (!identity.success) problems.push(...zodProblems(identity.error.issues, [where.identity]).map((p) => `${p.path}: ${p.message}`));
  let policy: AccessPolicy | undefined;
  if (settings.policy !== undefined) {
    const parsed = IdentityPolicy.safeParse(settings.policy);
    if (!parsed.success) {
      problems.push(...zodProblems(parsed.error.issues).map((p) => `${where.policy}${p.path ? `.${p.path}` : ''}: ${p.message}`));
    } else if (parsed.data.accounts === undefined) {
      if (parsed.data.access !== undefined || parsed.data.roles !== undefined) {
        problems.push(`${where.policy}: "access" and "roles" need "accounts": name the account(s) this identity acts for`);
      }
    } else {
      policy = scopedPolicy({ ...parsed.data, accounts: parsed.data.accounts }, where.policy, problems, 'identity');
    }
  }
  if (problems.length || !identity.success) throw new PrincipalConfigError(problems);
  return { identity: identity.data, ...(policy ? { policy } : {}) };
}

/** The principal from S3BATCH_IDENTITY and S3BATCH_IDENTITY_POLICY (JSON). */
export function principalFromEnv(env: NodeJS.ProcessEnv, kind: 'cli' | 'library' = 'library'): Principal {
  const rawPolicy = env[IDENTITY_POLICY_ENV];
  let policy: unknown;
  if (rawPolicy !== undefined && rawPolicy !== '') {
    try {
      policy = JSON.parse(rawPolicy);
    } catch (err) {
      throw new PrincipalConfigError([`${IDENTITY_POLICY_ENV}: expected JSON ({"accounts": [...], "access": "read" | "write", "roles": [...]}): ${(err as Error).message}`]);
    }
  }
  return resolvePrincipal({ identity: env[IDENTITY_ENV] || undefined, policy }, kind, { identity: IDENTITY_ENV, policy: IDENTITY_POLICY_ENV });
}
