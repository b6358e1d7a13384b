/**
 * The built s3batch CLI (lib/src/cli/main.js, as `npm install -g` would run it), spawned against the real local stack
 * for every command: create-job from a file and from flags, describe-job, list-jobs (status filter, paging),
 * update-job-status Ready and Cancelled, pause, resume, update-job-priority, update-job-rate, watch, report; then bad input and an
 * unreachable server (for every command, redrive included), each with its exit code. A worker from startEngine() runs the jobs on its own task queue.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import type { JobDescriptor } from '../../src/shared/types';
import { expectS3batchExit, startCliEnvironment } from '../helpers/cli';
import { createBucket, csvJob, putManifest, seedObjects, uniqueBucket, type Engine } from '../helpers/engine';


let engine: Engine;
let dir: string;
let env: NodeJS.ProcessEnv;
const data = uniqueBucket('cli-data');
const reports = uniqueBucket('cli-reports');
const keys = Array.from({ length: 40 }, (_, i) => `obj/${i}.txt`);

beforeAll(async () => {
  const cli = await startCliEnvironment('cli-test');
  ({ engine, env } = cli);
  dir = cli.dir;
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
  await seedObjects(engine.s3, data, keys);
}, 180_000);
afterAll(() => engine?.close());

const expectExit = (args: string[], code: number, extraEnv: NodeJS.ProcessEnv = {}) => expectS3batchExit(env, args, code, extraEnv);

async function describe(jobId: string): Promise<JobDescriptor> {
  return JSON.parse((await expectExit(['describe-job', jobId, '--json'], 0)).stdout).Job as JobDescriptor;
}

async function until(jobId: string, predicate: (job: JobDescriptor) => boolean): Promise<JobDescriptor> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = await describe(jobId);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} timed out at ${job.Status}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function jobFile(name: string, request: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(request));
  return path;
}

test('create-job from a file --wait --json, then describe-job (text and JSON), and the same token again', async () => {
  const manifest = await putManifest(engine.s3, data, 'file', keys.slice(0, 10).map((k) => `${data},${k}`));
  const request = csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 's3batch-file' }] } }, reports, { Description: 'from a file' });
  const file = jobFile('file', request);
  const created = await expectExit(['create-job', file, '--wait', '--json', '--interval', '200'], EXIT_CODES.ok);
  const out = JSON.parse(created.stdout);
  expect(out).toMatchObject({ Created: true, Job: { Status: 'Complete', Description: 'from a file', ProgressSummary: { NumberOfTasksSucceeded: 10 } } });

  const described = await describe(out.JobId);
  expect(described).toMatchObject({ JobId: out.JobId, Status: 'Complete' });
  const text = (await expectExit(['describe-job', out.JobId], 0)).stdout;
  expect(text).toMatch(/^Status: +Complete$/m);
  expect(text).toMatch(/^Tasks: +10\/10 \(10 succeeded, 0 failed\)$/m);
  expect(text).toContain(`Report:        s3://${reports}/reports/job-${out.JobId}/manifest.json`);

  // Idempotent: the same token and request name the same job; another request under that token is refused.
  const again = JSON.parse((await expectExit(['create-job', file, '--json'], 0)).stdout);
  expect(again).toEqual({ JobId: out.JobId, Created: false });
  const reused = await expectExit(['create-job', file, '--priority', '99'], EXIT_CODES.refused);
  expect(reused.stderr).toMatch(/ClientRequestToken was already used.*--client-token/);
});

test('create-job from flags --watch: plain progress lines, final status and report; then report (text and JSON)', async () => {
  const rows = [...keys.slice(0, 20).map((k) => `${data},${k}`), `${data},missing/one.txt`, `${data},missing/two.txt`];
  const manifest = await putManifest(engine.s3, data, 'flags', rows);
  const result = await expectExit(
    [
      'create-job',
      '--manifest', `s3://${data}/${manifest.key}`,
      '--manifest-etag', manifest.etag,
      '--operation', 'tagging',
      '--tag', 'via=s3batch-flags',
      '--tag', 'team=cli',
      '--report', `s3://${reports}/flags/`,
      '--priority', '15',
      '--description', 'from flags',
      // "minio" is the stack's second name for MinIO: the report is written, and read back, through it.
      '--connection', 'minio',
      '--watch',
      '--interval', '200',
    ],
    EXIT_CODES.ok
  );
  // Not a terminal: one plain line per change on stderr, the final lines on stdout.
  expect(result.stderr).toMatch(/^Created job \S+$/m);
  expect(result.stderr).toMatch(/^status=\w+ done=\d+\/(\d+|\?) \((\d+%|\?)\) succeeded=\d+ failed=\d+ rate=[\d.?]+\/s eta=\S+$/m);
  const jobId = /Job (\S+) Complete: 20 succeeded, 2 failed of 22 \(NoSuchKey: 2\)/.exec(result.stdout)?.[1];
  expect(jobId).toBeDefined();
  expect(result.stdout).toContain(`Report: s3://${reports}/flags/job-${jobId}/manifest.json`);

  const job = await describe(jobId!);
  expect(job.S3Batch.ReportConnection).toBe('minio');
  expect(job).toMatchObject({ Priority: 15, Description: 'from flags', Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 's3batch-flags' }, { Key: 'team', Value: 'cli' }] } } });

  const text = (await expectExit(['report', jobId!, '--limit', '1'], 0)).stdout;
  expect(text).toContain('Tasks: 22\n  failed: 2\n  succeeded: 20');
  expect(text).toContain('Failed by error code:\n  NoSuchKey: 2');
  expect(text).toMatch(/First 1 failure:\n  s3:\/\/\S+\/missing\/(one|two)\.txt: NoSuchKey 404: /);
  const summary = JSON.parse((await expectExit(['report', jobId!, '--json'], 0)).stdout);
  expect(summary).toMatchObject({ JobId: jobId, TotalTasks: 22, TasksByStatus: { succeeded: 20, failed: 2 }, FailedTasksByErrorCode: { NoSuchKey: 2 } });
  expect(summary.FirstFailures.map((f: { Key: string }) => f.Key).sort()).toEqual(['missing/one.txt', 'missing/two.txt']);
  // A connection the worker config lacks: bad input, saying where connections are defined.
  const unknown = await expectExit(['report', jobId!, '--connection', 'nowhere'], EXIT_CODES.badInput);
  expect(unknown.stderr).toMatch(/unknown S3 connection "nowhere".*\n.*S3BATCH_WORKER_CONFIG/);
});

test('update-job-status Ready confirms a ConfirmationRequired job; watch follows it to Complete', async () => {
  const manifest = await putManifest(engine.s3, data, 'confirm', keys.slice(0, 5).map((k) => `${data},${k}`));
  const created = await expectExit(
    ['create-job', '--manifest', `s3://${data}/${manifest.key}`, '--operation', 'delete-tagging', '--no-report', '--confirmation-required', '--json'],
    0
  );
  const { JobId: jobId } = JSON.parse(created.stdout);
  await until(jobId, (j) => j.Status === 'Suspended');
  // Suspended jobs are listed by that status (visibility is eventually consistent: poll).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const listed = JSON.parse((await expectExit(['list-jobs', '--status', 'Suspended', '--json'], 0)).stdout);
    if (listed.Jobs.some((j: { JobId: string }) => j.JobId === jobId)) break;
    if (Date.now() > deadline) throw new Error('the Suspended job never appeared in list-jobs --status Suspended');
    await new Promise((r) => setTimeout(r, 500));
  }
  const ready = await expectExit(['update-job-status', jobId, 'Ready', '--reason', 'looks right'], 0);
  expect(ready.stdout).toContain(`Job ${jobId}:`);
  const watched = await expectExit(['watch', jobId, '--interval', '200'], EXIT_CODES.ok);
  expect(watched.stdout).toContain(`Job ${jobId} Complete: 5 succeeded, 0 failed of 5`);
  expect(watched.stdout).toContain('Report: none (the job has no report)');
  // A finished job refuses changes, with the reason, and exit code 3; it has no report to summarise.
  const refused = await expectExit(['update-job-status', jobId, 'Ready'], EXIT_CODES.refused);
  expect(refused.stderr).toMatch(/refused: .*Complete/);
  const noReport = await expectExit(['report', jobId], EXIT_CODES.badInput);
  expect(noReport.stderr).toContain('has no report');
});

test('pause, update-job-priority, resume, then update-job-status Cancelled: watch exits with the cancelled code', async () => {
  // 600 rows over 30 objects, one task at a time: slow enough to steer.
  const rows = Array.from({ length: 600 }, (_, i) => `${data},${keys[i % 30]}`);
  const manifest = await putManifest(engine.s3, data, 'steer', rows);
  const request = csvJob(manifest, { S3DeleteObjectTagging: {} }, reports, {
    Extensions: { PageSize: 50, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 1 },
  });
  const { JobId: jobId } = JSON.parse((await expectExit(['create-job', jobFile('steer', request), '--json'], 0)).stdout);
  await until(jobId, (j) => j.Status === 'Active' && j.ProgressSummary.NumberOfTasksSucceeded > 0);

  const paused = JSON.parse((await expectExit(['pause', jobId, '--reason', 'lunch', '--json'], 0)).stdout);
  expect(paused).toMatchObject({ JobId: jobId });
  expect((await until(jobId, (j) => j.Status === 'Paused')).StatusUpdateReason).toBe('lunch');
  // Refused while Paused: a second pause.
  expect((await expectExit(['pause', jobId], EXIT_CODES.refused)).stderr).toMatch(/already Paus/);

  const priority = JSON.parse((await expectExit(['update-job-priority', jobId, '42', '--json'], 0)).stdout);
  expect(priority).toEqual({ JobId: jobId, Priority: 42 });
  expect((await describe(jobId)).Priority).toBe(42);
  expect((await expectExit(['update-job-rate', jobId, '7.5'], 0)).stdout).toBe(`Job ${jobId}: at most 7.5 tasks/s\n`);
  expect((await describe(jobId)).S3Batch.MaxTasksPerSecond).toBe(7.5);
  expect((await expectExit(['describe-job', jobId], 0)).stdout).toMatch(/^Rate limit: +7\.5 tasks\/s$/m);
  expect(JSON.parse((await expectExit(['update-job-rate', jobId, 'none', '--json'], 0)).stdout)).toEqual({ JobId: jobId, MaxTasksPerSecond: null });
  expect((await describe(jobId)).S3Batch.MaxTasksPerSecond).toBeUndefined();

  expect((await expectExit(['resume', jobId], 0)).stdout).toContain(`Job ${jobId}:`);
  await until(jobId, (j) => j.Status === 'Active');
  await expectExit(['update-job-status', jobId, 'Cancelled', '--reason', 'enough'], 0);
  const watched = await expectExit(['watch', jobId, '--json', '--interval', '200'], EXIT_CODES.jobCancelled);
  const final = JSON.parse(watched.stdout).Job as JobDescriptor;
  expect(final.Status).toBe('Cancelled');
  expect(final.ProgressSummary.NumberOfTasksSucceeded).toBeLessThan(600);
});

test('a job that fails: create-job --wait exits with the failed code and says why', async () => {
  const manifest = await putManifest(engine.s3, data, 'etag', [`${data},${keys[0]}`]);
  const result = await expectExit(
    ['create-job', '--manifest', `s3://${data}/${manifest.key}`, '--manifest-etag', '0123456789abcdef0123456789abcdef', '--operation', 'delete-tagging', '--no-report', '--wait', '--interval', '200'],
    EXIT_CODES.jobFailed
  );
  expect(result.stdout).toMatch(/Job \S+ Failed: /);
  expect(result.stdout).toContain('Failure: ManifestETagMismatch');
});

test('list-jobs: status filter, --limit paging with --next-token, text table', async () => {
  const first = JSON.parse((await expectExit(['list-jobs', '--status', 'Complete', '--status', 'Cancelled', '--limit', '1', '--json'], 0)).stdout);
  expect(first.Jobs).toHaveLength(1);
  expect(['Complete', 'Cancelled']).toContain(first.Jobs[0].Status);
  expect(first.NextToken).toEqual(expect.any(String));
  const second = JSON.parse(
    (await expectExit(['list-jobs', '--status', 'Complete', 'Cancelled', '--limit', '1', '--next-token', first.NextToken, '--json'], 0)).stdout
  );
  expect(second.Jobs).toHaveLength(1);
  expect(second.Jobs[0].JobId).not.toBe(first.Jobs[0].JobId);
  const table = (await expectExit(['list-jobs', '--status', 'Complete', '--limit', '2'], 0)).stdout;
  expect(table).toMatch(/^JOB ID +STATUS +OPERATION +PRIORITY +CREATED$/m);
  expect(table).toMatch(/^More: add --next-token \S+$/m);
  // Well-formed but not the server's: only the server can tell, and the message still names the flag.
  const badToken = await expectExit(['list-jobs', '--next-token', 'bm90LWEtdG9rZW4='], EXIT_CODES.badInput);
  expect(badToken.stderr).toContain('--next-token: not a token from an earlier list-jobs');
});

test("list-jobs --account-id: only that account's jobs, and those created without an account", async () => {
  const ids = async (...args: string[]) =>
    (JSON.parse((await expectExit(['list-jobs', ...args, '--json'], 0)).stdout).Jobs as { JobId: string }[]).map((j) => j.JobId);
  const account = async (id: string) =>
    (JSON.parse((await expectExit(['describe-job', id, '--json'], 0)).stdout).Job.JobArn as string).split(':')[4];
  const all = await ids();
  const accounts = new Map(await Promise.all(all.map(async (id) => [id, await account(id)] as const)));
  expect([...accounts.values()]).toContain('123456789012'); // the jobs from files (csvJob) have this account
  for (const asked of ['123456789012', '999999999999']) {
    const listed = await ids('--account-id', asked);
    expect(listed.sort()).toEqual(all.filter((id) => [asked, '000000000000'].includes(accounts.get(id)!)).sort());
  }
});

test('bad input: exit code 2 and a message that says what to fix', async () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['describe-jbo', 'x'], /Did you mean describe-job\?/],
    [['describe-job'], /missing required argument 'job-id'/],
    [['update-job-status', 'x', 'Paused'], /value 'Paused' is invalid for argument 'status'\. Allowed choices are Ready, Cancelled/],
    [['update-job-priority', 'x', 'high'], /'high' is invalid for argument 'priority'\. expected a whole number/],
    [['update-job-rate', 'x', '0'], /'0' is invalid for argument 'rate'\. expected a number of tasks per second from 0\.001 to 100000, or none/],
    [['create-job', '--max-tasks-per-second', 'fast'], /option '--max-tasks-per-second <n>' argument 'fast' is invalid/],
    [['list-jobs', '--status', 'Running'], /Allowed choices are New, Preparing/],
    [['list-jobs', '--limit', '0'], /option '--limit <n>' argument '0' is invalid/],
    [['list-jobs', '--account-id', '12'], /option '--account-id <id>' argument '12' is invalid\. expected a 12-digit account id \(expected 12 digits\)/],
    [['list-jobs', '--next-token', 'not a token!'], /option '--next-token <token>' argument 'not a token!' is invalid\. expected a token printed by list-jobs/],
    [['create-job', '--operation', 'tagging', '--tag', 'no-equals-sign'], /expected key=value/],
    [['create-job', '--operation', 'copy', '--manifest', `s3://${data}/m.csv`, '--no-report'], /--operation copy needs --target-bucket/],
    [['create-job', join(dir, 'does-not-exist.json')], /cannot read the job file .*ENOENT/],
    [['pause'], /missing required argument 'job-id'/],
    [['resume', '  '], /invalid for argument 'job-id'\. expected a job id \(empty\)/],
    [['watch', 'x', '--interval', '0'], /option '--interval <ms>' argument '0' is invalid\. expected a whole number from 1 to 60000/],
    [['report', 'x', '--limit', 'ten'], /option '--limit <n>' argument 'ten' is invalid/],
    [['redrive', 'x', '--priority', 'high'], /option '--priority <n>' argument 'high' is invalid/],
  ];
  for (const [args, message] of cases) {
    const result = await expectExit(args, EXIT_CODES.badInput);
    expect(result.stderr).toMatch(message);
  }
  const notJson = join(dir, 'not-json.json');
  writeFileSync(notJson, '{"Operation": ');
  expect((await expectExit(['create-job', notJson], EXIT_CODES.badInput)).stderr).toMatch(/is not valid JSON/);
  // Every schema problem, by path, with the flag that sets it; no server involved.
  const invalid = jobFile('invalid', { Operation: { S3PutObjectTagging: { TagSet: [{ Key: '' }] } }, Priority: -1 });
  const problems = (await expectExit(['create-job', invalid, '--description', ''], EXIT_CODES.badInput)).stderr;
  expect(problems).toContain('invalid job:');
  expect(problems).toMatch(/- Operation\.S3PutObjectTagging\.TagSet\[0\]\.Key: .* \(flag: --tag\)/);
  expect(problems).toMatch(/- Priority: .* \(flag: --priority\)/);
  expect(problems).toMatch(/- Description: .* \(flag: --description\)/);
  expect(problems).toContain('- Report: required ({Enabled, Bucket, Format, Prefix, ReportScope, ExpectedBucketOwner}) (flag: --report s3://bucket/prefix or --no-report)');
  expect(problems).not.toContain('Invalid input');
  // An unknown job is its own code.
  expect((await expectExit(['describe-job', 'no-such-job-here'], EXIT_CODES.notFound)).stderr).toContain('no job no-such-job-here');
  expect((await expectExit(['watch', 'no-such-job-here'], EXIT_CODES.notFound)).stderr).toContain('no job');
  // --help is not an error, and lists the exit codes.
  const help = await expectExit(['--help'], 0);
  expect(help.stdout).toContain('Exit codes:');
  expect(help.stdout).toContain('S3BATCH_TEMPORAL_ADDRESS');
});

test('an unreachable server: exit code 4 and a message naming S3BATCH_TEMPORAL_ADDRESS', async () => {
  const valid = jobFile('valid', csvJob({ bucket: data, key: 'manifests/file.csv' }, { S3DeleteObjectTagging: {} }, reports));
  const away = { S3BATCH_TEMPORAL_ADDRESS: '127.0.0.1:1', S3BATCH_CONNECT_TIMEOUT_MS: '1000' };
  const commands = [
    ['describe-job', 'x'],
    ['list-jobs'],
    ['create-job', valid],
    ['update-job-status', 'x', 'Ready'],
    ['pause', 'x'],
    ['resume', 'x'],
    ['update-job-priority', 'x', '5'],
    ['update-job-rate', 'x', '5'],
    ['watch', 'x'],
    ['report', 'x'],
    ['redrive', 'x'],
  ];
  for (const args of commands) {
    const result = await expectExit(args, EXIT_CODES.unreachable, away);
    expect(result.stderr).toContain('cannot reach the Temporal server at 127.0.0.1:1');
    expect(result.stderr).toContain('S3BATCH_TEMPORAL_ADDRESS');
  }
  // Bad input is judged before any server is contacted.
  await expectExit(['create-job', '--operation', 'delete-tagging'], EXIT_CODES.badInput, away);
});
