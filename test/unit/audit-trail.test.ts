/**
 * The audit trail's schema parts without a stack: what an actor may be (printable text, never empty or huge), the
 * job's start origin, the update validators' words, DescribeJob's CreatedBy and LastChange (also after the state's
 * JSON round trip, as continue-as-new carries it), and the CLI/library identity and its policy (an API key's rules).
 */
import { PolicyCheck } from '../../src/access-policy';
import { defaultIdentity, principalFromEnv, PrincipalConfigError, resolvePrincipal } from '../../src/client-principal';
import { validateJobSpec, type CreateJobInput } from '../../src/schemas/job-spec';
import { accessKeyActor, Actor, actorProblem, JobOrigin, type JobChange } from '../../src/shared/audit';
import { NO_ACCOUNT_ID } from '../../src/shared/constants';
import { describeJob } from '../../src/workflows/describe';
import type { JobState } from '../../src/workflows/job-state';

const A = '111111111111';
const B = '222222222222';
const ROLE_A = `arn:aws:iam::${A}:role/batch`;

describe('Actor', () => {
  test.each(['cli:alice@host', 'access-key:AKIAIOSFODNN7EXAMPLE', 'library:zoë@build-7', 'svc nightly (team a)', 'x'.repeat(200)])(
    'accepts %j',
    (actor) => expect(Actor.safeParse(actor).success).toBe(true)
  );

  test.each([
    ['', 'expected a name'],
    ['x'.repeat(201), 'at most 200 characters'],
    ['alice\n{"audit":"forged"}', 'without control characters'],
    ['bell\u0007', 'without control characters'],
    ['nul\u0000', 'without control characters'],
  ])('refuses %j: %s', (actor, message) => {
    const parsed = Actor.safeParse(actor);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toContain(message);
  });

  test('the HTTP API names the key by its id', () => {
    expect(accessKeyActor('AKIATEAMA')).toBe('access-key:AKIATEAMA');
  });

  test("an update's actor: absent or good passes; anything else is named in the validator's message", () => {
    expect(actorProblem(undefined)).toBeUndefined();
    expect(actorProblem('cli:bob@host')).toBeUndefined();
    expect(actorProblem('a\rb')).toBe('actor: expected printable text without control characters');
    expect(actorProblem(42)).toMatch(/^actor: /);
    expect(actorProblem(null)).toMatch(/^actor: /);
  });
});

describe('JobOrigin (the start input after the request)', () => {
  test('createdBy is optional, an Actor when present, and nothing else is accepted', () => {
    expect(JobOrigin.safeParse({}).success).toBe(true);
    expect(JobOrigin.parse({ createdBy: 'cli:alice@host' })).toEqual({ createdBy: 'cli:alice@host' });
    expect(JobOrigin.safeParse({ createdBy: '' }).error!.issues[0]).toMatchObject({ path: ['createdBy'] });
    expect(JobOrigin.safeParse({ createdBy: 'x', secret: 's' }).success).toBe(false);
  });
});

describe('DescribeJob', () => {
  const request: CreateJobInput = {
    AccountId: A,
    Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } },
    Report: { Enabled: false },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: 'arn:aws:s3:::manifests/m.csv', ETag: '60e460c9d1046e73f7dde5043ac3ae85' },
    },
  };
  const change: JobChange = { Action: 'UpdateJobPriority', Actor: 'access-key:AKIATWO', Time: '2026-01-01T00:01:00.000Z' };

  function stateOf(overrides: Partial<JobState>): JobState {
    const r = validateJobSpec(request);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return {
      job: r.job,
      status: 'Suspended',
      priority: 10,
      createdAt: '2026-01-01T00:00:00.000Z',
      failureReasons: [],
      nextPage: 0,
      pages: {},
      pagesDone: 0,
      succeeded: 0,
      failed: 0,
      failures: {},
      activeSeconds: 0,
      ...overrides,
    };
  }

  test('S3Batch.CreatedBy and LastChange, also after the JSON round trip continue-as-new makes', () => {
    const state = stateOf({ createdBy: 'access-key:AKIAONE', lastChange: change });
    const carried = JSON.parse(JSON.stringify(state)) as JobState;
    for (const s of [state, carried]) {
      expect(describeJob('job-1', request, s, { status: 'New', failureReasons: [] }).S3Batch).toMatchObject({
        CreatedBy: 'access-key:AKIAONE',
        LastChange: change,
      });
    }
  });

  test('before the request is validated, from what the job knows so far', () => {
    const early = { status: 'New' as const, failureReasons: [], createdBy: 'cli:alice@host', lastChange: { ...change, Action: 'CancelJob' as const } };
    expect(describeJob('job-1', request, undefined, early).S3Batch).toMatchObject({ CreatedBy: 'cli:alice@host', LastChange: early.lastChange });
  });

  test('a job from before the audit trail (or never changed) has neither field', () => {
    const s3batch = describeJob('job-1', request, stateOf({}), { status: 'New', failureReasons: [] }).S3Batch;
    expect(s3batch).not.toHaveProperty('CreatedBy');
    expect(s3batch).not.toHaveProperty('LastChange');
  });
});

describe('the CLI and library identity', () => {
  test('defaults to <kind>:<os user>@<host>, and takes no limits unless given a policy', () => {
    expect(defaultIdentity('cli')).toMatch(/^cli:[^@]+@.+$/);
    expect(resolvePrincipal({}, 'library')).toEqual({ identity: defaultIdentity('library') });
    expect(resolvePrincipal({ identity: 'svc:nightly' }, 'cli')).toEqual({ identity: 'svc:nightly' });
  });

  test("a policy follows an API key's rules: accounts, then access, and a write identity lists its roles", () => {
    expect(resolvePrincipal({ policy: { accounts: [A], access: 'read' } }, 'cli').policy).toEqual({ accounts: [A], access: 'read', roles: [] });
    expect(resolvePrincipal({ policy: { accounts: [A], access: 'write', roles: [ROLE_A] } }, 'cli').policy).toEqual({
      accounts: [A],
      access: 'write',
      roles: [ROLE_A],
    });
    const refused: [unknown, RegExp][] = [
      [{ access: 'write' }, /policy: "access" and "roles" need "accounts"/],
      [{ accounts: [A] }, /policy: "access" is required with "accounts"/],
      [{ accounts: [A], access: 'write' }, /a "write" identity must list the "roles"/],
      [{ accounts: [A], access: 'read', roles: [ROLE_A] }, /a "read" identity creates no jobs/],
      [{ accounts: [A], access: 'write', roles: [`arn:aws:iam::${B}:role/batch`] }, /in account 222222222222, which this identity does not act for/],
      [{ accounts: ['12'], access: 'read' }, /policy\.accounts\[0\]: expected a 12-digit account id/],
      [{ accounts: [A], access: 'admin' }, /policy\.access: /],
      [{ accounts: [A], access: 'read', permissions: '*' }, /policy: /],
      [{ accounts: [], access: 'read' }, /policy\.accounts: a key or identity serves at least one account/],
    ];
    for (const [policy, message] of refused) {
      let thrown: unknown;
      try {
        resolvePrincipal({ policy }, 'cli');
      } catch (err) {
        thrown = err;
      }
      expect({ policy, thrown: thrown instanceof PrincipalConfigError }).toEqual({ policy, thrown: true });
      expect((thrown as Error).message).toMatch(message);
    }
  });

  test('from the environment: problems name the variable', () => {
    expect(principalFromEnv({ S3BATCH_IDENTITY: 'cli:bob@ci', S3BATCH_IDENTITY_POLICY: JSON.stringify({ accounts: [A], access: 'read' }) }, 'cli')).toEqual({
      identity: 'cli:bob@ci',
      policy: { accounts: [A], access: 'read', roles: [] },
    });
    expect(principalFromEnv({}, 'cli').identity).toBe(defaultIdentity('cli'));
    expect(() => principalFromEnv({ S3BATCH_IDENTITY_POLICY: '{accounts' }, 'cli')).toThrow(/S3BATCH_IDENTITY_POLICY: expected JSON/);
    expect(() => principalFromEnv({ S3BATCH_IDENTITY: 'bob\n' }, 'cli')).toThrow(/S3BATCH_IDENTITY: expected printable text/);
    expect(() => principalFromEnv({ S3BATCH_IDENTITY_POLICY: '{"access":"read"}' }, 'cli')).toThrow(/S3BATCH_IDENTITY_POLICY: "access" and "roles" need "accounts"/);
  });

  test("the identity's checks: its accounts' jobs only (never jobs of no account), read-only refuses writes, roles as listed", () => {
    const check = new PolicyCheck({ accounts: [A], access: 'read', roles: [] }, 'Identity cli:bob@ci');
    expect(check.ownsJobOfAnyAccount(A)).toBe(true);
    expect(check.ownsJobOfAnyAccount(B)).toBe(false);
    expect(check.ownsJobOfAnyAccount(NO_ACCOUNT_ID)).toBe(false);
    expect(() => check.authorize('DescribeJob', A)).not.toThrow();
    expect(() => check.authorize('UpdateJobPriority', A)).toThrow('Identity cli:bob@ci is read-only: it is not allowed to perform UpdateJobPriority');
    expect(() => check.checkPassRole(ROLE_A)).toThrow('Identity cli:bob@ci is not allowed to pass role');
    expect(new PolicyCheck({ access: 'write' }, 'Identity x').ownsJobOfAnyAccount(NO_ACCOUNT_ID)).toBe(true);
  });
});
