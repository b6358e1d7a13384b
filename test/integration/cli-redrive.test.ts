/**
 * `s3batch redrive`, the built CLI spawned against the real local stack (as cli.test.ts does): a tagging job with
 * missing objects, the objects created, then `redrive --wait --json` runs exactly the failed rows; the same command
 * again names the same job; text output; refusals and bad input with their exit codes.
 */
import { randomUUID } from 'node:crypto';
import { runCommand, type CommandResult } from '../../scripts/lib/exec';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { CLI, startCliEnvironment } from '../helpers/cli';
import { createBucket, csvJob, putManifest, seedObjects, uniqueBucket, type Engine } from '../helpers/engine';


let engine: Engine;
let env: NodeJS.ProcessEnv;
const data = uniqueBucket('cli-redrive-data');
const reports = uniqueBucket('cli-redrive-reports');
const present = Array.from({ length: 6 }, (_, i) => `obj/${i}.txt`);
const missing = ['gone/1.txt', 'gone/2.txt'];

beforeAll(async () => {
  const cli = await startCliEnvironment('cli-redrive-test');
  ({ engine, env } = cli);
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
  await seedObjects(engine.s3, data, present);
}, 180_000);
afterAll(() => engine?.close());

async function expectExit(args: string[], code: number): Promise<CommandResult> {
  const result = await runCommand(process.execPath, [CLI, ...args], { env, timeoutMs: 100_000 });
  if (result.code !== code) {
    throw new Error(`s3batch ${args.join(' ')} exited ${result.code} (${result.signal ?? ''}), expected ${code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}

test('redrive --wait --json runs the failed rows; again gives the same job; then refused: nothing to redrive', async () => {
  const manifest = await putManifest(engine.s3, data, 'cli-redrive', [...present, ...missing].map((k) => `${data},${k}`));
  const { jobId: oldId } = await engine.jobs.createJob(
    csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'via', Value: 'redrive' }] } }, reports)
  );
  const old = await engine.jobs.waitForCompletion(oldId, { timeoutMs: 60_000 });
  expect(old.ProgressSummary).toMatchObject({ NumberOfTasksSucceeded: 6, NumberOfTasksFailed: 2 });
  await seedObjects(engine.s3, data, missing);

  const out = JSON.parse((await expectExit(['redrive', oldId, '--wait', '--json', '--interval', '200'], EXIT_CODES.ok)).stdout);
  expect(out).toMatchObject({
    Created: true,
    RedriveOf: oldId,
    Job: {
      Status: 'Complete',
      Description: `Redrive of ${oldId}`,
      ProgressSummary: { TotalNumberOfTasks: 2, NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 0 },
    },
  });

  const again = await expectExit(['redrive', oldId], EXIT_CODES.ok);
  expect(again.stdout.trim()).toBe(`Job ${out.JobId} already redrives ${oldId}`);
  // Another request under the default token (a different description) is the token-reuse refusal.
  const reused = await expectExit(['redrive', oldId, '--description', 'something else'], EXIT_CODES.refused);
  expect(reused.stderr).toMatch(/ClientRequestToken was already used/);

  const nothing = await expectExit(['redrive', out.JobId], EXIT_CODES.refused);
  expect(nothing.stderr.trim()).toBe(`s3batch: refused: job ${out.JobId} has no failed tasks: nothing to redrive`);
});

test('redrive --watch prints progress and the final status; a new token makes a new job', async () => {
  const manifest = await putManifest(engine.s3, data, 'cli-redrive-watch', [`${data},later/x.txt`, `${data},${present[0]}`]);
  const { jobId: oldId } = await engine.jobs.createJob(csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }, reports));
  await engine.jobs.waitForCompletion(oldId, { timeoutMs: 60_000 });
  await seedObjects(engine.s3, data, ['later/x.txt']);
  // Jobs outlive test runs on the shared server: a fixed token would name a job of an earlier run.
  const token = `cli-redrive-${randomUUID()}`;
  const result = await expectExit(['redrive', oldId, '--watch', '--interval', '200', '--client-token', token, '--priority', '7'], EXIT_CODES.ok);
  expect(result.stderr).toMatch(new RegExp(`^Created job \\S+ \\(redrive of ${oldId}\\)$`, 'm'));
  expect(result.stdout).toMatch(/Job \S+ Complete/);
});

test('bad input and unknown jobs', async () => {
  await expectExit(['redrive'], EXIT_CODES.badInput);
  await expectExit(['redrive', 'x', '--client-token', 'y'.repeat(65)], EXIT_CODES.badInput);
  const unknown = await expectExit(['redrive', 'no-such-job-redrive'], EXIT_CODES.notFound);
  expect(unknown.stderr).toMatch(/no job no-such-job-redrive/);
  const help = await expectExit(['redrive', '--help'], EXIT_CODES.ok);
  expect(help.stdout).toMatch(/failed tasks of a finished job/);
});
