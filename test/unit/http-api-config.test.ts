/** The HTTP API's config: file and environment, secrets resolved from named variables, every problem reported. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApiConfig, parseApiConfig, withLocalStackDefaults } from '../../src/http-api/config';

test('secrets come from the file or from named environment variables; at least one key is needed', () => {
  const config = parseApiConfig(
    { accessKeys: [{ accessKeyId: 'A', secretAccessKey: 's1' }, { accessKeyId: 'B', secretAccessKeyEnv: 'B_SECRET' }] },
    { B_SECRET: 's2' }
  );
  expect([...config.secrets]).toEqual([
    ['A', 's1'],
    ['B', 's2'],
  ]);
  expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 });
  expect(config.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 's3-batch', taskQueue: 's3-batch' });
  expect(() => parseApiConfig({ accessKeys: [] }, {})).toThrow(/at least one access key/);
  expect(() => parseApiConfig({ accessKeys: [{ accessKeyId: 'B', secretAccessKeyEnv: 'MISSING' }] }, {})).toThrow(/MISSING is not set/);
  expect(() => parseApiConfig({ accessKeys: [{ accessKeyId: 'A', secretAccessKey: 'x' }], accountId: '12' }, {})).toThrow(/accountId/);
});

test('environment variables override the file; the secret is never copied into the error text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-config-'));
  const file = join(dir, 'api.json');
  writeFileSync(file, JSON.stringify({ listen: { port: 9999 }, accessKeys: [{ accessKeyId: 'FILE', secretAccessKeyEnv: 'FILE_SECRET' }] }));
  const config = loadApiConfig({
    S3BATCH_API_CONFIG: file,
    FILE_SECRET: 'from-env',
    S3BATCH_API_PORT: '0',
    S3BATCH_API_ACCOUNT_ID: '123456789012',
    S3BATCH_API_ACCESS_KEY_ID: 'ENV',
    S3BATCH_API_SECRET_ACCESS_KEY: 'env-secret',
    S3BATCH_TASK_QUEUE: 'jobs',
  });
  expect(config.listen.port).toBe(0);
  expect(config.accountId).toBe('123456789012');
  expect(config.temporal.taskQueue).toBe('jobs');
  expect([...config.secrets.keys()]).toEqual(['FILE', 'ENV']);
  expect(() => loadApiConfig({ S3BATCH_API_ACCESS_KEY_ID: 'ENV' })).toThrow(/go together/);
  try {
    loadApiConfig({ S3BATCH_API_ACCESS_KEY_ID: 'ENV', S3BATCH_API_SECRET_ACCESS_KEY: 'top-secret', S3BATCH_API_PORT: 'x' });
    throw new Error('expected an error');
  } catch (err) {
    expect(String(err)).toMatch(/S3BATCH_API_PORT/);
    expect(String(err)).not.toContain('top-secret');
  }
});

test('with nothing configured, an API on loopback serves the local stack with its MinIO key; otherwise nothing changes', () => {
  const service = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'minioadmin', secretAccessKey: 'minio-secret' };
  const stack = {
    stateFile: '/repo/.stack/state.json',
    state: { phase: 'running' as const, temporal: { address: '127.0.0.1:7299', namespace: 'ns' }, s3: service, moto: service, lambda: { region: 'us-east-1', functions: {} } },
  };
  const served = withLocalStackDefaults({}, stack);
  expect(served.note).toMatch(/^No API config .* serving the local stack found in \/repo\/\.stack\/state\.json, with its MinIO key as the access key \(minioadmin,/);
  expect(served.note).not.toContain('minio-secret');
  const config = loadApiConfig(served.env);
  expect([...config.secrets]).toEqual([['minioadmin', 'minio-secret']]);
  expect(config.temporal).toMatchObject({ address: '127.0.0.1:7299', namespace: 'ns' });
  // Given keys, a config file, a non-loopback address or no stack: the environment as it was.
  for (const env of [{ S3BATCH_API_ACCESS_KEY_ID: 'k', S3BATCH_API_SECRET_ACCESS_KEY: 's' }, { S3BATCH_API_CONFIG: '/etc/api.json' }, { S3BATCH_API_HOST: '0.0.0.0' }]) {
    expect(withLocalStackDefaults(env, stack)).toEqual({ env });
  }
  expect(withLocalStackDefaults({}, undefined)).toEqual({ env: {} });
});

describe('key policies', () => {
  const A = '111111111111';
  const B = '222222222222';
  const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;
  const problems = (accessKeys: unknown[], extra: Record<string, unknown> = {}) => {
    try {
      parseApiConfig({ accessKeys, ...extra }, {});
    } catch (err) {
      return String((err as Error).message);
    }
    throw new Error('expected a config error');
  };

  test('scoped keys: accounts, access and roles as given; keys without accounts are single-tenant, as before', () => {
    const scoped = parseApiConfig({
      accessKeys: [
        { accessKeyId: 'TEAM_A', secretAccessKey: 'a', accounts: [A], access: 'write', roles: [role(A, 'batch'), role(A, 'team-a-*')] },
        { accessKeyId: 'AUDITOR', secretAccessKey: 'r', accounts: [A, B], access: 'read' },
        { accessKeyId: 'ONCALL', secretAccessKey: 'o', accounts: [B], access: 'write', roles: [] },
      ],
    });
    expect(scoped.mode).toBe('scoped');
    expect(Object.fromEntries(scoped.policies)).toEqual({
      TEAM_A: { accessKeyId: 'TEAM_A', accounts: [A], access: 'write', roles: [role(A, 'batch'), role(A, 'team-a-*')] },
      AUDITOR: { accessKeyId: 'AUDITOR', accounts: [A, B], access: 'read', roles: [] },
      ONCALL: { accessKeyId: 'ONCALL', accounts: [B], access: 'write', roles: [] },
    });
    const single = parseApiConfig({ accessKeys: [{ accessKeyId: 'OLD', secretAccessKey: 's' }] });
    expect(single.mode).toBe('single-tenant');
    expect(single.policies.get('OLD')).toEqual({ accessKeyId: 'OLD', access: 'write' });
  });

  test.each<[string, unknown[], Record<string, unknown>, RegExp]>([
    ['a key with no accounts', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [], access: 'read' }], {}, /accessKeys\.0\.accounts: a key or identity serves at least one account/],
    ['an account that is not 12 digits', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: ['12'], access: 'read' }], {}, /accessKeys\.0\.accounts\.0: expected a 12-digit account id/],
    ['an unknown field', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'read', role: 'x' }], {}, /accessKeys\.0: unknown field "role"/],
    ['an unknown access', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'admin' }], {}, /accessKeys\.0\.access: .*"read", "write"/],
    ['no access', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A] }], {}, /accessKeys\.0 \(K\): "access" is required/],
    [
      'a scoped key beside an unscoped one',
      [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'read' }, { accessKeyId: 'OPEN', secretAccessKey: 's' }],
      {},
      /accessKeys\.1 \(OPEN\): names no "accounts" while other keys do/,
    ],
    ['access without accounts', [{ accessKeyId: 'K', secretAccessKey: 's', access: 'read' }], {}, /accessKeys\.0 \(K\): "access" and "roles" need "accounts"/],
    ['a write key without roles', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'write' }], {}, /must list the "roles" it may pass/],
    ['a read key with roles', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'read', roles: [role(A, 'x')] }], {}, /a "read" key creates no jobs/],
    ['a role of another account', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'write', roles: [role(B, 'x')] }], {}, new RegExp(`role .* is in account ${B}, which this key does not act for`)],
    ['every role', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'write', roles: ['*'] }], {}, /accessKeys\.0\.roles\.0: expected an IAM role ARN/],
    ['a role pattern open on the account', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'write', roles: ['arn:aws:iam::*'] }], {}, /roles\.0: expected an IAM role ARN/],
    ['a * inside a role', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A], access: 'write', roles: [`arn:aws:iam::${A}:role/*-admin`] }], {}, /roles\.0: expected an IAM role ARN/],
    ['both secrets', [{ accessKeyId: 'K', secretAccessKey: 's', secretAccessKeyEnv: 'E' }], {}, /accessKeys\.0: expected exactly one of secretAccessKey/],
    ['an account the API does not serve', [{ accessKeyId: 'K', secretAccessKey: 's', accounts: [A, B], access: 'read' }], { accountId: A }, new RegExp(`account\\(s\\) ${B} not served: accountId is ${A}`)],
  ])('a clear start-up error: %s', (_name, keys, extra, expected) => {
    expect(problems(keys, extra)).toMatch(expected);
  });

  test('the environment\'s key names no accounts: beside a scoped file, a clear error rather than a key for every account', () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-config-'));
    const file = join(dir, 'api.json');
    writeFileSync(file, JSON.stringify({ accessKeys: [{ accessKeyId: 'K', secretAccessKeyEnv: 'K_SECRET', accounts: [A], access: 'read' }] }));
    expect(() => loadApiConfig({ S3BATCH_API_CONFIG: file, K_SECRET: 'x', S3BATCH_API_ACCESS_KEY_ID: 'ENV', S3BATCH_API_SECRET_ACCESS_KEY: 'y' })).toThrow(
      /accessKeys\.1 \(ENV\): names no "accounts" while other keys do/
    );
  });
});
