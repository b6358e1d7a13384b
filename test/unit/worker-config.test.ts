import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkerConfig, WorkerConfigError } from '../../src/schemas/worker-config';

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'wc-')), 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('worker config', () => {
  test('defaults, with no file and no variables', () => {
    const config = loadWorkerConfig({});
    expect(config.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 's3-batch', taskQueue: 's3-batch', priorityLevels: 5 });
    expect(config.s3).toEqual({});
  });

  test('tasks run as local activities unless the config or S3BATCH_TASK_EXECUTION says otherwise', () => {
    expect(loadWorkerConfig({}).worker).toMatchObject({ taskExecution: 'LocalActivity', maxConcurrentLocalActivityExecutions: 100 });
    expect(loadWorkerConfig({ S3BATCH_WORKER_CONFIG: file({ worker: { taskExecution: 'Activity' } }) }).worker.taskExecution).toBe('Activity');
    expect(loadWorkerConfig({ S3BATCH_TASK_EXECUTION: 'Activity' }).worker.taskExecution).toBe('Activity');
    expect(() => loadWorkerConfig({ S3BATCH_TASK_EXECUTION: 'Thread' })).toThrow(/S3BATCH_TASK_EXECUTION: /);
  });

  test('Batch mode can be the default, with 50 rows per batch unless the config says otherwise', () => {
    expect(loadWorkerConfig({ S3BATCH_TASK_EXECUTION: 'Batch' }).worker).toMatchObject({ taskExecution: 'Batch', batchSize: 50 });
    const path = file({ worker: { taskExecution: 'Batch', batchSize: 200 } });
    expect(loadWorkerConfig({ S3BATCH_WORKER_CONFIG: path }).worker).toMatchObject({ taskExecution: 'Batch', batchSize: 200 });
    expect(() => loadWorkerConfig({ S3BATCH_WORKER_CONFIG: file({ worker: { batchSize: 0 } }) })).toThrow(/worker\.batchSize: /);
  });

  test('a file, with environment variables winning', () => {
    const path = file({
      temporal: { address: 'temporal:7233' },
      s3: { minio: { endpoint: 'http://minio:9000', forcePathStyle: true, credentials: { accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S' } } },
    });
    const config = loadWorkerConfig({
      S3BATCH_WORKER_CONFIG: path,
      S3BATCH_NAMESPACE: 'jobs',
      S3BATCH_S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3BATCH_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'a',
      AWS_SECRET_ACCESS_KEY: 'b',
    });
    expect(config.temporal).toMatchObject({ address: 'temporal:7233', namespace: 'jobs' });
    expect(config.s3.minio).toMatchObject({ endpoint: 'http://minio:9000', region: 'us-east-1' });
    // The default connection names the variables, so the parsed config holds no secret.
    expect(config.s3.default).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyIdEnv: 'AWS_ACCESS_KEY_ID', secretAccessKeyEnv: 'AWS_SECRET_ACCESS_KEY' },
      requestTimeoutSeconds: 120,
      connectTimeoutSeconds: 10,
    });
  });

  test('every problem is named, with where it came from', () => {
    const path = file({ s3: { bad: { endpoint: 'not a url', surprise: 1 } }, worker: { maxConcurrentActivityTaskExecutions: 0 } });
    expect(() => loadWorkerConfig({ S3BATCH_WORKER_CONFIG: path })).toThrow(WorkerConfigError);
    try {
      loadWorkerConfig({ S3BATCH_WORKER_CONFIG: path });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain(path);
      expect(message).toMatch(/s3\.bad\.endpoint: /);
      expect(message).toMatch(/s3\.bad: unknown field "surprise"/);
      expect(message).toMatch(/worker\.maxConcurrentActivityTaskExecutions: /);
    }
  });

  test('unreadable file and bad variables are clear errors', () => {
    expect(() => loadWorkerConfig({ S3BATCH_WORKER_CONFIG: file('{not json') })).toThrow(/Invalid worker config .*config\.json/s);
    expect(() => loadWorkerConfig({ S3BATCH_S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(/environment[\s\S]*S3BATCH_S3_FORCE_PATH_STYLE/);
  });
});
