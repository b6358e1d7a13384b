/**
 * `s3batch doctor` and the no-worker warning of the job commands, with the built CLI against the real local stack:
 * a healthy stack prints only ok lines and exits 0; a wrong namespace, an S3 connection with a bad secret and an
 * unreachable server are each named with their fix (exit 8); and once the worker stops, describe-job, watch and
 * create-job --watch say that nothing polls the job's task queue, and doctor's worker line fails with the command
 * that starts one.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandResult } from '../../scripts/lib/exec';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { CLI, expectS3batchExit, runS3batch, startCliEnvironment } from '../helpers/cli';
import type { Engine } from '../helpers/engine';
import { uniqueName } from '../helpers/stack';

let engine: Engine;
let env: NodeJS.ProcessEnv;
let dir: string;
const jobsToEnd: string[] = [];

beforeAll(async () => {
  const cli = await startCliEnvironment('cli-doctor');
  ({ engine, env, dir } = cli);
}, 180_000);
afterAll(async () => {
  // Jobs created while no worker ran would wait for one forever.
  for (const id of jobsToEnd) await engine.client.workflow.getHandle(id).terminate('cli-doctor test done').catch(() => undefined);
  await engine?.close();
});

const s3batch = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runS3batch(env, args, extraEnv);
const expectExit = (args: string[], code: number, extraEnv: NodeJS.ProcessEnv = {}) => expectS3batchExit(env, args, code, extraEnv);

/** The doctor's lines, each with its fix (the indented `fix:` lines that follow it). */
function checkLines(stdout: string): { line: string; fix?: string }[] {
  const checks: { line: string; fix?: string }[] = [];
  for (const line of stdout.split('\n')) {
    if (/^(ok|FAIL|skip) /.test(line)) checks.push({ line });
    else if (/^ {6}fix: /.test(line)) checks[checks.length - 1]!.fix = line.trim().slice('fix: '.length);
    else if (/^ {11}\S/.test(line)) checks[checks.length - 1]!.fix += `\n${line.trim()}`;
  }
  return checks;
}

function failed(stdout: string) {
  return checkLines(stdout).filter((c) => c.line.startsWith('FAIL'));
}

/** Spawns the CLI and resolves with its stderr once `pattern` appears in it (then stops the command). */
function stderrUntil(args: string[], pattern: RegExp, timeoutMs = 90_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3batch ${args.join(' ')}: no ${pattern} on stderr within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (pattern.test(stderr)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(stderr);
      }
    });
  });
}

test('a healthy stack: one ok line per check, exit 0 (text and JSON)', async () => {
  const { stdout } = await expectExit(['doctor'], EXIT_CODES.ok);
  const lines = checkLines(stdout).map((c) => c.line);
  expect(lines.filter((l) => !l.startsWith('ok '))).toEqual([]);
  expect(lines).toContainEqual(expect.stringMatching(/^ok +Temporal server at \S+ reachable \(version [\d.]+\)$/));
  expect(lines).toContainEqual(expect.stringMatching(/^ok +namespace "s3-batch" present, retention \d+ days?/));
  const attributes = lines.find((l) => l.includes('search attributes registered'));
  for (const { name } of JOB_SEARCH_ATTRIBUTES) expect(attributes).toContain(name);
  // The test's own worker, with the SDK's build id.
  expect(lines).toContainEqual(
    expect.stringMatching(new RegExp(`^ok +1 worker polling task queue "${engine.taskQueue}": \\S+ \\(build @temporalio/worker@`))
  );
  for (const name of Object.keys(engine.config.s3)) {
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ok +S3 connection "${name}" \\(http://\\S+\\) reachable, credentials accepted$`)));
  }
  for (const name of Object.keys(engine.config.lambda)) {
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ok +Lambda connection "${name}" \\(http://\\S+\\) reachable`)));
  }
  expect(lines).toContainEqual(expect.stringMatching(/^ok +clock agrees with S3 connection "\w+"/));
  expect(stdout).toMatch(/^All \d+ checks passed\.$/m);

  const json = JSON.parse((await expectExit(['doctor', '--json'], EXIT_CODES.ok)).stdout) as { ok: boolean; checks: { status: string }[] };
  expect(json.ok).toBe(true);
  expect(json.checks.length).toBe(lines.length);
  expect(json.checks.every((c) => c.status === 'ok')).toBe(true);
});

test('a wrong namespace: named, with the namespaces there are and the command that creates it; exit 8', async () => {
  const namespace = uniqueName('no-such-namespace');
  const { stdout } = await expectExit(['doctor'], EXIT_CODES.unhealthy, { S3BATCH_NAMESPACE: namespace });
  expect(failed(stdout)).toEqual([
    {
      line: `FAIL  namespace "${namespace}" not found on ${env.S3BATCH_TEMPORAL_ADDRESS}`,
      fix: expect.stringMatching(
        new RegExp(`S3BATCH_NAMESPACE .*\\(this server has: .*s3-batch.*\\)[^]*temporal operator namespace create --namespace ${namespace} --address `)
      ),
    },
  ]);
  expect(stdout).toMatch(/^skip +search attributes and workers: not checked/m);
  expect(stdout).toMatch(/^1 of \d+ checks failed\.$/m);
});

test('an S3 connection with a bad secret: that connection named, with the config entry to fix; the others ok', async () => {
  const config = structuredClone(engine.config) as typeof engine.config;
  const minio = config.s3.minio!;
  minio.credentials = { accessKeyId: (minio.credentials as { accessKeyId: string }).accessKeyId, secretAccessKey: 'not-the-secret' };
  const file = join(dir, 'bad-secret.json');
  writeFileSync(file, JSON.stringify(config));
  const { stdout } = await expectExit(['doctor'], EXIT_CODES.unhealthy, { S3BATCH_WORKER_CONFIG: file });
  expect(failed(stdout)).toEqual([
    {
      line: expect.stringMatching(/^FAIL +S3 connection "minio" \(http:\/\/\S+\) refused the credentials: SignatureDoesNotMatch/),
      fix: `fix s3.minio.credentials (access key id and secret) in the worker config ${file} (S3BATCH_WORKER_CONFIG)`,
    },
  ]);
  expect(stdout).toMatch(/^ok +S3 connection "default" .* credentials accepted$/m);
});

test('an unreachable Temporal server: named with its fix; the connections are still checked', async () => {
  const { stdout } = await expectExit(['doctor'], EXIT_CODES.unhealthy, { S3BATCH_TEMPORAL_ADDRESS: '127.0.0.1:1', S3BATCH_CONNECT_TIMEOUT_MS: '1000' });
  expect(failed(stdout)).toEqual([
    { line: expect.stringMatching(/^FAIL +Temporal server at 127\.0\.0\.1:1 unreachable: /), fix: expect.stringContaining('S3BATCH_TEMPORAL_ADDRESS') },
  ]);
  expect(stdout).toMatch(/^ok +S3 connection "default"/m);
});

test('the worker stopped: describe-job, watch and create-job --watch warn, and doctor fails the worker line', async () => {
  // First the worker is seen polling (as the healthy test saw it), so that what follows is its stopping.
  const seen = Date.now() + 60_000;
  while ((await s3batch(['doctor'])).code !== EXIT_CODES.ok && Date.now() < seen) await new Promise((r) => setTimeout(r, 500));
  await expectExit(['doctor'], EXIT_CODES.ok);
  await engine.stopWorker();
  // Nothing runs it: the manifest need not exist (validation happens in the job's first activity).
  const created = await expectExit(['create-job', '--manifest', 's3://no-bucket/m.csv', '--operation', 'tagging', '--tag', 'a=b', '--no-report', '--json'], EXIT_CODES.ok);
  const jobId = (JSON.parse(created.stdout) as { JobId: string }).JobId;
  jobsToEnd.push(jobId);

  // The server remembers a stopped worker's last poll for a while: until that is stale, a query may wait for it.
  const deadline = Date.now() + 240_000;
  let described: CommandResult;
  do {
    described = await s3batch(['describe-job', jobId]);
  } while (described.code !== EXIT_CODES.noWorker && Date.now() < deadline);
  expect(described.code).toBe(EXIT_CODES.noWorker);
  const warning = new RegExp(
    `^s3batch: warning: no worker has polled task queue "${engine.taskQueue}" in namespace "s3-batch" in the last 2 minutes; last poll .* ago by \\S+, so job ${jobId} cannot advance\\.\n` +
      `  Fix: start a worker: \`S3BATCH_NAMESPACE=s3-batch S3BATCH_TASK_QUEUE=${engine.taskQueue} npm run worker\``,
    'm'
  );
  expect(described.stderr).toMatch(warning);
  expect(described.stderr).toMatch(new RegExp(`^s3batch: job ${jobId} is running, and only a worker can tell its status`, 'm'));

  await stderrUntil(['watch', jobId], warning);
  const watched = await stderrUntil(
    ['create-job', '--manifest', 's3://no-bucket/m.csv', '--operation', 'tagging', '--tag', 'a=c', '--no-report', '--watch', '--interval', '200'],
    new RegExp(`^Created job (\\S+)$[^]*no worker has polled task queue "${engine.taskQueue}".*, so job \\1 cannot advance`, 'm')
  );
  jobsToEnd.push(/^Created job (\S+)$/m.exec(watched)![1]!);

  const { stdout } = await expectExit(['doctor'], EXIT_CODES.unhealthy);
  expect(failed(stdout)).toEqual([
    {
      line: expect.stringMatching(new RegExp(`^FAIL +no worker has polled task queue "${engine.taskQueue}" in namespace "s3-batch" in the last 2 minutes; last poll`)),
      fix: expect.stringContaining(`\`S3BATCH_NAMESPACE=s3-batch S3BATCH_TASK_QUEUE=${engine.taskQueue} npm run worker\``),
    },
  ]);
}, 420_000);
