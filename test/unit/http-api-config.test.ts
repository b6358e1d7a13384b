/** The HTTP API's config: file and environment, secrets resolved from named variables, every problem reported. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApiConfig, parseApiConfig } from '../../src/http-api/config';

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
