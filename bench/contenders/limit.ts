/** The limit: bench/limit-loop.ts in its own process, with the worker's S3 connection settings. */
import { join } from 'node:path';
import { workerConfigForStack } from '../../scripts/stack/worker-config';
import { spawnMeasured } from '../child-process';
import type { LimitInput, LimitResult } from '../limit-loop';
import { jobOperation } from '../workload';
import { type ContenderContext, measure } from './context';

export function runLimit(ctx: ContenderContext) {
  return measure(ctx, 'limit', async (clock) => {
    const input: LimitInput = {
      workerConfig: workerConfigForStack(ctx.stack),
      connection: 'minio',
      operation: jobOperation(ctx.target),
      sourceBucket: ctx.target.sourceBucket,
      objects: ctx.target.objects,
      concurrency: ctx.concurrency,
    };
    // BENCH_LIMIT_NODE_ARGS adds node flags to the limit's process, as BENCH_WORKER_NODE_ARGS does to the worker's.
    const nodeArgs = (process.env.BENCH_LIMIT_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawnMeasured(process.execPath, [...nodeArgs, '--import', 'tsx', join(__dirname, '..', 'limit-loop.ts')], {
      env: { ...process.env, BENCH_LIMIT_INPUT: JSON.stringify(input) },
    });
    await child.waitFor('BENCH_READY', 60_000);
    const cpuBefore = child.cpuSeconds();
    clock.start();
    const code = await child.exited;
    const line = /^BENCH_RESULT (.*)$/m.exec(child.output());
    if (code !== 0 || !line) throw new Error(`limit loop failed (exit ${code}):\n${child.output().slice(-4000)}`);
    const result = JSON.parse(line[1]!) as LimitResult;
    if (result.failed > 0) console.warn(`  limit: ${result.failed} calls failed, first: ${result.firstError}`);
    return { peakRssBytes: child.peakRssBytes(), cpuSeconds: child.cpuSeconds() - cpuBefore };
  });
}
