/** Stack configuration from the environment: defaults, and errors that name the variable to fix. */
import { join } from 'node:path';
import { plannedPorts, REPO_ROOT, stackConfigFromEnv, StackConfigError } from '../../scripts/stack/config';

describe('stackConfigFromEnv', () => {
  it('applies the documented defaults', () => {
    const config = stackConfigFromEnv({}, {});
    expect(config.dataDir).toBe(join(REPO_ROOT, '.stack'));
    expect(config.profile).toBe('default');
    expect(config.ports).toEqual({ temporal: 7233, temporalUi: 8233, minio: 9000, minioConsole: 9001, moto: 9002, lambdaBase: 9100, postgres: 5433 });
    expect(config.temporal).toEqual({ namespace: 's3-batch', retentionHours: 2160 });
    expect(config.minio).toEqual({ rootUser: 'minioadmin', rootPassword: 'minioadmin' });
    expect(config.region).toBe('us-east-1');
    expect(config.lambda).toMatchObject({ runtime: 'auto', timeoutSeconds: 30, functions: undefined });
  });

  it('reads every variable', () => {
    const config = stackConfigFromEnv(
      {},
      {
        S3BATCH_STACK_DIR: '/tmp/elsewhere',
        S3BATCH_MINIO_PORT: '19000',
        S3BATCH_NAMESPACE_RETENTION: '2160h',
        S3BATCH_LAMBDA_FUNCTIONS: 'echo, throws',
        S3BATCH_LAMBDA_RUNTIME: 'emulator',
      },
    );
    expect(config.dataDir).toBe('/tmp/elsewhere');
    expect(config.ports.minio).toBe(19000);
    expect(config.temporal.retentionHours).toBe(2160);
    expect(config.lambda.functions).toEqual(['echo', 'throws']);
    expect(config.lambda.runtime).toBe('emulator');
  });

  it.each([
    ['90d', 2160],
    ['30', 720],
    ['48h', 48],
  ])('parses retention %s as %i hours', (value, hours) => {
    expect(stackConfigFromEnv({}, { S3BATCH_NAMESPACE_RETENTION: value }).temporal.retentionHours).toBe(hours);
  });

  it('names each bad variable in one error', () => {
    const attempt = () =>
      stackConfigFromEnv({}, { S3BATCH_MINIO_PORT: 'abc', S3BATCH_NAMESPACE_RETENTION: '2h', S3BATCH_LAMBDA_RUNTIME: 'docker' });
    expect(attempt).toThrow(StackConfigError);
    expect(attempt).toThrow(/S3BATCH_MINIO_PORT="abc" is not a TCP port/);
    expect(attempt).toThrow(/S3BATCH_NAMESPACE_RETENTION="2h" must be a duration of at least one day/);
    expect(attempt).toThrow(/S3BATCH_LAMBDA_RUNTIME must be one of auto, rie, emulator/);
  });

  it('rejects a MinIO password MinIO itself would refuse', () => {
    expect(() => stackConfigFromEnv({}, { S3BATCH_MINIO_ROOT_PASSWORD: 'short' })).toThrow(/minio.rootPassword: .*at least 8/);
  });

  it('detects ports used twice, including the Lambda range', () => {
    const config = stackConfigFromEnv({}, { S3BATCH_LAMBDA_BASE_PORT: '9001' });
    expect(() => plannedPorts(config, 1)).toThrow(/port 9001 is used twice .*S3BATCH_LAMBDA_BASE_PORT/);
    const clear = stackConfigFromEnv({}, {});
    expect(plannedPorts(clear, 3).map((p) => p.port)).toEqual([7233, 8233, 9000, 9001, 9002, 9100, 9101, 9102, 9103, 9104, 9105]);
  });

  it('the cluster profile: chosen by S3BATCH_STACK_PROFILE, plans PostgreSQL and the services\' ports around the frontend\'s', () => {
    expect(() => stackConfigFromEnv({}, { S3BATCH_STACK_PROFILE: 'k8s' })).toThrow(/S3BATCH_STACK_PROFILE must be one of default, cluster/);
    const config = stackConfigFromEnv({}, { S3BATCH_STACK_PROFILE: 'cluster', S3BATCH_POSTGRES_PORT: '25433' });
    expect(config.profile).toBe('cluster');
    expect(config.workers).toBe(2);
    expect(stackConfigFromEnv({}, {}).workers).toBe(0);
    expect(stackConfigFromEnv({ profile: 'cluster' }, { S3BATCH_STACK_WORKERS: '0' }).workers).toBe(0);
    expect(() => stackConfigFromEnv({}, { S3BATCH_STACK_WORKERS: '99' })).toThrow(/S3BATCH_STACK_WORKERS="99" is not a number of worker processes/);
    expect(plannedPorts(config, 0).map((p) => p.port)).toEqual([7233, 8233, 9000, 9001, 9002, 25433, 7243, 6933, 7234, 6934, 7235, 6935, 7239, 6939]);
    // The derived ports are checked too: here the history service's gRPC port would be MinIO's.
    const clash = stackConfigFromEnv({ profile: 'cluster' }, { S3BATCH_TEMPORAL_PORT: '8999' });
    expect(() => plannedPorts(clash, 0)).toThrow(/port 9000 is used twice .*Temporal history gRPC/);
    // Temporal's PostgreSQL schema keeps membership ports in a smallint: a service on 44933 exited at start.
    expect(() => plannedPorts(stackConfigFromEnv({ profile: 'cluster' }, { S3BATCH_TEMPORAL_PORT: '45233' }), 0)).toThrow(
      /S3BATCH_TEMPORAL_PORT=45233: on the cluster profile it must be at most 33061/,
    );
    expect(() => plannedPorts(stackConfigFromEnv({ profile: 'cluster' }, { S3BATCH_TEMPORAL_PORT: '33061' }), 0)).not.toThrow();
    expect(() => plannedPorts(stackConfigFromEnv({}, { S3BATCH_TEMPORAL_PORT: '45233' }), 0)).not.toThrow();
  });
});
