/**
 * s5cmd: the same copies as a run file (`cp s3://src/key s3://target/prefix+key` per object), with as many workers
 * as the others have requests in flight. s5cmd has no tagging command, so it runs for copy only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnMeasured } from '../child-process';
import { objectKeys, TARGET_BUCKET } from '../workload';
import { type ContenderContext, measure } from './context';

export function runS5cmd(ctx: ContenderContext, binary: string) {
  const { target, stack } = ctx;
  if (target.operation !== 'copy') throw new Error('s5cmd runs for copy only');
  const dir = mkdtempSync(join(tmpdir(), 'bench-s5cmd-'));
  const runFile = join(dir, 'commands.txt');
  writeFileSync(runFile, objectKeys(target.objects).map((k) => `cp s3://${target.sourceBucket}/${k} s3://${TARGET_BUCKET}/${target.mark}${k}\n`).join(''));
  return measure(ctx, 's5cmd', async (clock) => {
    clock.start();
    const child = spawnMeasured(binary, ['--endpoint-url', stack.s3.endpoint, '--numworkers', String(ctx.concurrency), '--log', 'error', 'run', runFile], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: stack.s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
        AWS_REGION: stack.s3.region,
      },
    });
    const code = await child.exited;
    if (code !== 0) throw new Error(`s5cmd exited with ${code}:\n${child.output().slice(-4000)}`);
    return { peakRssBytes: child.peakRssBytes(), cpuSeconds: child.cpuSeconds() };
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
