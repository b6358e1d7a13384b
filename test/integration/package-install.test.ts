/**
 * s3-batch as another service installs it: `npm pack` (the prepack build), the tarball installed offline into a
 * fresh project (test/helpers/package-install.ts), and that project's own TypeScript (test/fixtures/package-consumer/)
 * type-checked against the packaged declarations and compiled. Then, from the installed package only: the `s3batch`
 * binary, the client entry loading without the worker's native core or the S3 client, and one job on the real stack
 * run by a worker built from `s3-batch/worker` (with an operation of the consumer's own) and created with JobClient.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runCommand } from '../../scripts/lib/exec';
import type { JobDescriptor } from '../../src/shared/types';
import { createBucket, csvJob, putManifest, readReport, seedObjects, stackWorkerConfig, uniqueBucket } from '../helpers/engine';
import { installConsumer, mustRun, packProject, tarballFiles, toolEnv, TSC } from '../helpers/package-install';
import { getStack, s3Client, uniqueName } from '../helpers/stack';

let work: string;
let tarball: string;
let consumer: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 's3batch-package-'));
  tarball = await packProject(work);
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  await installConsumer(consumer, tarball);
  // The consumer's build: node16 resolution reads the package's `exports`, and emits dist/ for the runs below.
  await mustRun(process.execPath, [TSC, '-p', 'tsconfig.json'], consumer, 120_000);
}, 420_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball ships the built lib/ with declarations, and no sources, tests or source maps', async () => {
  const files = await tarballFiles(tarball);
  expect(files).toEqual(
    expect.arrayContaining([
      'package.json',
      'lib/src/client.js',
      'lib/src/client.d.ts',
      'lib/src/worker-api.js',
      'lib/src/worker-api.d.ts',
      'lib/src/cli/main.js',
      'lib/src/workflows/index.js',
    ])
  );
  expect(files.filter((path) => !/^lib\/src\/.+\.(js|d\.ts)$/.test(path) && !['package.json', 'README.md'].includes(path))).toEqual([]);
});

test('the consumer type-checks against the packaged declarations with node10 resolution too (typesVersions)', async () => {
  await mustRun(process.execPath, [TSC, '-p', 'tsconfig.json', '--noEmit', '--module', 'commonjs', '--moduleResolution', 'node'], consumer, 120_000);
});

test('the installed s3batch binary prints its help', async () => {
  const help = await mustRun(process.execPath, [join(consumer, 'node_modules/.bin/s3batch'), '--help'], consumer, 60_000);
  expect(help.stdout).toMatch(/^Usage: s3batch/m);
  expect(help.stdout).toContain('create-job');
});

/** The packages a fresh Node process has loaded after requiring `entry` from the consumer. */
async function packagesLoadedBy(entry: string): Promise<string[]> {
  const script =
    `require(${JSON.stringify(entry)});` +
    'const names = Object.keys(require.cache).map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(p)?.[1]).filter(Boolean);' +
    'console.log(JSON.stringify([...new Set(names)]));';
  const { stdout } = await mustRun(process.execPath, ['-e', script], consumer, 60_000);
  return JSON.parse(stdout) as string[];
}

test('loading the client entry loads neither the Temporal worker (native core) nor the AWS S3 and Lambda clients', async () => {
  const client = await packagesLoadedBy('s3-batch');
  expect(client).toEqual(expect.arrayContaining(['s3-batch', '@temporalio/client']));
  for (const heavy of ['@temporalio/worker', '@temporalio/core-bridge', '@aws-sdk/client-s3', '@aws-sdk/client-lambda']) {
    expect(client).not.toContain(heavy);
  }
  // The same probe sees them when they are loaded: the worker entry does load both.
  expect(await packagesLoadedBy('s3-batch/worker')).toEqual(expect.arrayContaining(['@temporalio/worker', '@aws-sdk/client-s3']));
});

test('a job runs on the stack with only the installed package: a worker from s3-batch/worker, the job from JobClient', async () => {
  const stack = getStack();
  const taskQueue = uniqueName('package');
  const workerConfig = join(consumer, 'worker-config.json');
  writeFileSync(workerConfig, JSON.stringify(stackWorkerConfig(taskQueue)));
  const env = toolEnv({
    S3BATCH_WORKER_CONFIG: workerConfig,
    S3BATCH_TEMPORAL_ADDRESS: stack.temporal.address,
    S3BATCH_NAMESPACE: stack.temporal.namespace,
    S3BATCH_TASK_QUEUE: taskQueue,
  });

  const s3 = s3Client();
  const data = uniqueBucket('package-data');
  const keys = ['a.txt', 'b/c.txt', 'd.txt'];
  await createBucket(s3, data);
  await seedObjects(s3, data, keys);
  const manifest = await putManifest(s3, data, `package-${randomUUID().slice(0, 8)}`, keys.map((key) => `${data},${key}`));
  const requestFile = join(consumer, 'job.json');
  writeFileSync(requestFile, JSON.stringify(csvJob(manifest, { CustomOperation: { Name: 'Greet', Parameters: { Greeting: 'Hello' } } }, data)));

  // The worker bundles its workflows from the installed lib/src/workflows (no prebuilt bundle).
  const worker = spawn(process.execPath, [join(consumer, 'dist/worker.js')], { cwd: consumer, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let workerOutput = '';
  worker.stdout.on('data', (chunk: Buffer) => (workerOutput += chunk));
  worker.stderr.on('data', (chunk: Buffer) => (workerOutput += chunk));
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  try {
    const run = await runCommand(process.execPath, [join(consumer, 'dist/run-job.js'), requestFile], { cwd: consumer, env, timeoutMs: 150_000 });
    if (run.code !== 0) throw new Error(`run-job ended with ${run.code ?? run.signal}:\n${run.stdout}\n${run.stderr}\nworker:\n${workerOutput}`);
    const job = JSON.parse(run.stdout.trim().split('\n').pop()!) as JobDescriptor;
    expect(job.Status).toBe('Complete');
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 3, NumberOfTasksSucceeded: 3, NumberOfTasksFailed: 0 });
    expect(workerOutput).toContain(`consumer worker polling ${taskQueue}`);

    const { rows } = await readReport(s3, data, job.S3Batch.ReportManifestKey!);
    expect(rows.map((row) => [row.key, row.status, row.message]).sort()).toEqual(keys.map((key) => [key, 'succeeded', `Hello ${key}`]).sort());
  } finally {
    worker.kill('SIGTERM');
    await exited;
    s3.destroy();
  }
}, 240_000);
