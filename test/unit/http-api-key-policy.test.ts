/**
 * Key policies under hostile configuration: thousands of generated key lists (fields missing, mistyped, wildcards,
 * roles of other accounts, scoped and unscoped keys mixed). Each either stops at start-up with an ApiConfigError, or
 * gives keys that act only for their accounts, pass only roles of those accounts, and write only when told: never an
 * open door. Inputs come from a seeded PRNG: a failure prints the seed and the config.
 */
import { ApiConfigError, parseApiConfig } from '../../src/http-api/config';
import { Caller, WRITE_OPERATIONS } from '../../src/http-api/key-policy';
import { prng } from '../helpers/prng';

const SEED = Number(process.env.S3BATCH_FUZZ_SEED ?? 16);
const random = prng(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const some = <T>(items: readonly T[]): T[] => Array.from({ length: int(3) }, () => pick(items));

const ACCOUNTS = ['111111111111', '222222222222', '333333333333'];
const ROLES = [
  'arn:aws:iam::111111111111:role/batch',
  'arn:aws:iam::111111111111:role/team-*',
  'arn:aws:iam::111111111111:role/*',
  'arn:aws:iam::222222222222:role/batch',
  'arn:aws:iam::222222222222:role/team-a/*',
  'arn:aws-cn:iam::333333333333:role/x',
  '*',
  'arn:aws:iam::*',
  'arn:aws:iam::111111111111:*',
  'arn:aws:iam::1111111111*',
  'arn:aws:iam::111111111111:role/*admin',
  '',
  'batch',
];
const PROBE_ROLES = [
  'arn:aws:iam::111111111111:role/batch',
  'arn:aws:iam::111111111111:role/team-x',
  'arn:aws:iam::222222222222:role/batch',
  'arn:aws:iam::222222222222:role/team-a/deep',
  'arn:aws:iam::333333333333:role/x',
  'arn:aws-cn:iam::333333333333:role/x',
  'arn:aws:iam::444444444444:role/batch',
];

/** Mostly plausible keys with one or two things wrong (or nothing), so that both modes are reached. */
function hostileKey(i: number, oldStyle: boolean): Record<string, unknown> {
  if (oldStyle) {
    const key: Record<string, unknown> = { accessKeyId: `K${i}`, secretAccessKey: 's' };
    if (random() < 0.1) key[pick(['accounts', 'access', 'roles'])] = pick<unknown>([[ACCOUNTS[0]], 'write', ['*']]);
    return key;
  }
  if (random() < 0.5) {
    const access = pick(['read', 'write']);
    const key: Record<string, unknown> = { accessKeyId: `K${i}`, secretAccessKey: 's', accounts: [pick(ACCOUNTS), ...some(ACCOUNTS)], access };
    if (access === 'write' || random() < 0.1) key.roles = some(ROLES.slice(0, random() < 0.8 ? 6 : ROLES.length));
    return key;
  }
  const key: Record<string, unknown> = { accessKeyId: pick([`K${i}`, `K${i}`, 'K0', '']) };
  if (random() < 0.9) key.secretAccessKey = pick(['s', 's', '']);
  if (random() < 0.1) key.secretAccessKeyEnv = 'SECRET';
  if (random() < 0.7) key.accounts = pick<unknown>([some(ACCOUNTS), some(ACCOUNTS), [], ['12'], '111111111111', [111111111111], null]);
  if (random() < 0.7) key.access = pick<unknown>(['read', 'write', 'write', 'admin', true, '']);
  if (random() < 0.6) key.roles = pick<unknown>([some(ROLES), some(ROLES), [], '*', [null]]);
  if (random() < 0.05) key[pick(['role', 'account', 'Access', 'permissions'])] = 'x';
  return key;
}

test('every generated key config is refused at start-up or closed: no key acts, writes or passes roles beyond what it names', () => {
  let accepted = 0;
  let scoped = 0;
  for (let i = 0; i < 3000; i++) {
    const oldStyle = random() < 0.2;
    const accessKeys = Array.from({ length: 1 + int(3) }, (_, k) => hostileKey(k, oldStyle));
    const input = { accessKeys, ...(random() < 0.1 ? { accountId: pick(ACCOUNTS) } : {}) };
    const where = `seed ${SEED}, case ${i}: ${JSON.stringify(input)}`;
    let config: ReturnType<typeof parseApiConfig>;
    try {
      config = parseApiConfig(input, { SECRET: 'from-env' });
    } catch (err) {
      if (!(err instanceof ApiConfigError)) throw new Error(`${where}: threw ${(err as Error).stack}`);
      continue;
    }
    accepted++;
    const anyScoped = accessKeys.some((key) => 'accounts' in key);
    expect({ where, mode: config.mode }).toEqual({ where, mode: anyScoped ? 'scoped' : 'single-tenant' });
    if (!anyScoped) continue;
    scoped++;
    for (const key of accessKeys) {
      const policy = config.policies.get(key.accessKeyId as string)!;
      const caller = new Caller(policy);
      const accounts = key.accounts as string[];
      for (const account of [...ACCOUNTS, '444444444444']) {
        const acts = (() => {
          try {
            caller.authorize('DescribeJob', account);
            return true;
          } catch {
            return false;
          }
        })();
        expect({ where, account, acts }).toEqual({ where, account, acts: accounts.includes(account) });
        for (const operation of WRITE_OPERATIONS) {
          if (key.access !== 'write') expect(() => caller.authorize(operation, account)).toThrow(/read-only|not allowed to act/);
        }
      }
      for (const role of PROBE_ROLES) {
        let passes = true;
        try {
          caller.checkPassRole(role);
        } catch {
          passes = false;
        }
        if (passes) {
          expect({ where, role, write: key.access }).toEqual({ where, role, write: 'write' });
          expect({ where, role, inAccount: accounts.includes(role.split(':')[4]!) }).toEqual({ where, role, inAccount: true });
          expect({ where, role, listed: (key.roles as string[]).some((r) => r === role || (r.endsWith('*') && role.startsWith(r.slice(0, -1)))) }).toEqual({
            where,
            role,
            listed: true,
          });
        }
      }
      expect(() => caller.checkPassRole(undefined)).toThrow(/must name a RoleArn/);
    }
  }
  // The generator reaches both modes, and most configs are mistakes that stop at start-up.
  expect(scoped).toBeGreaterThan(20);
  expect(accepted - scoped).toBeGreaterThan(20);
});
