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
