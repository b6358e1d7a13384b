/**
 * npm run bench -- --objects 10000
 *
 * Seeds N objects in the local stack's MinIO, then runs the same operation over them with each contender in turn:
 * the limit (a direct SDK loop), s5cmd (copy only) and s3-batch in each chosen execution setting. Every run is
 * checked in S3 (objects copied or carrying the run's tag are counted), then a table is printed and
 * <out>/results.json and <out>/throughput.png are written. Not part of `npm test`.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { runCommand } from '../scripts/lib/exec';
import { cachePaths, toolCacheDir } from '../scripts/tools/cache';
import { ensureS5cmd } from '../scripts/tools/s5cmd';
import { readStackState, stackConfigFromEnv, stackUp, type StackState } from '../scripts/stack/index';
import { stackS3Client } from '../scripts/stack/worker-config';
import { renderThroughputChart } from './chart';
import type { ContenderContext } from './contenders/context';
import { runLimit } from './contenders/limit';
import { runS3Batch, s3BatchLabel, type S3BatchSettings } from './contenders/s3-batch';
import { runS5cmd } from './contenders/s5cmd';
import { BenchUsageError, parseBenchArgs, USAGE, type BenchOptions } from './options';
import { formatTable, type RunResult, withRatios } from './results';
import { seedSource, sourceBucket } from './workload';
import { startToxiproxy, type Toxiproxy } from '../test/helpers/toxiproxy';
const ROOT = resolve(__dirname, '..');

function s3BatchSettings(options: BenchOptions): S3BatchSettings[] {
  return options.modes.flatMap((mode) =>
    options.pages.flatMap((pages) => options.slots.flatMap((slots) => options.workers.map((workers) => ({ mode, pages, slots, workers }))))
  );
}

/**
 * The stack as the contenders see it: with `--latency-ms`, S3 is a Toxiproxy in front of MinIO that delays each
 * direction by that much (as a worker a region away from S3 sees it), so concurrency rather than CPU bounds the run.
 * The bench's own checks, and the CPU it reads from MinIO's process, still go to MinIO itself.
 */
async function stackWithLatency(stack: StackState, latencyMs: number): Promise<{ stack: StackState; toxiproxy?: Toxiproxy }> {
  if (latencyMs === 0) return { stack };
  const toxiproxy = await startToxiproxy();
  const listen = await toxiproxy.proxy('s3', new URL(stack.s3.endpoint).host);
  for (const stream of ['upstream', 'downstream'] as const) {
    await toxiproxy.addToxic('s3', { name: `latency-${stream}`, type: 'latency', stream, attributes: { latency: latencyMs, jitter: 0 } });
  }
  return { stack: { ...stack, s3: { ...stack.s3, endpoint: `http://${listen}` } }, toxiproxy };
}

function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/**
 * The stack to run on: with S3BATCH_STACK_STATE, a stack that is already running (its state file), used as it is and
 * never restarted (a stack other work shares); else the local stack, started if need be.
 */
async function benchStack(): Promise<StackState> {
  const stateFile = process.env.S3BATCH_STACK_STATE;
  if (!stateFile) return stackUp(stackConfigFromEnv(), { log: (line) => console.log(`  ${line}`) });
  const state = readStackState(stateFile);
  if (!state) throw new Error(`no running stack at ${stateFile} (S3BATCH_STACK_STATE)`);
  return state;
}

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2));
  if (options === 'help') return console.log(USAGE);
  const wantsS5cmd = options.contenders.includes('s5cmd') && options.operation.includes('copy');
  const s5cmd = wantsS5cmd ? await ensureS5cmd(cachePaths(toolCacheDir())) : undefined;
  if (options.contenders.includes('s3-batch')) {
    console.log('Compiling the worker (npm run build) ...');
    const build = await runCommand('npm', ['run', 'build'], { cwd: ROOT });
    if (build.code !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  }
  const stack = await benchStack();
  const s3 = stackS3Client(stack.s3);
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection, namespace: stack.temporal.namespace });
  const runId = Date.now().toString(36);
  const results: RunResult[] = [];
  const seen = await stackWithLatency(stack, options.latencyMs);
  // Labels say the concurrency and latency when a run has more than one of them to tell apart.
  const suffix = (concurrency: number) =>
    options.concurrency.length > 1 || options.latencyMs > 0 ? ` @${concurrency}${options.latencyMs ? ` +${options.latencyMs} ms` : ''}` : '';
  try {
    const most = Math.max(...options.objects);
    console.log(`Seeding ${most} objects of ${options.size} bytes in s3://${sourceBucket(options.size)} ...`);
    console.log(`  ${await seedSource(s3, options.size, most)} written (the rest were there from an earlier run)`);

    for (const operation of options.operation) {
      for (const objects of [...options.objects].sort((a, b) => a - b)) {
        for (const concurrency of options.concurrency) {
          const runs: Array<[string, (ctx: ContenderContext) => Promise<RunResult>]> = [];
          if (options.contenders.includes('limit')) runs.push([`limit${suffix(concurrency)}`, runLimit]);
          if (s5cmd && operation === 'copy') runs.push([`s5cmd${suffix(concurrency)}`, (ctx) => runS5cmd(ctx, s5cmd)]);
          if (options.contenders.includes('s3-batch')) {
            for (const settings of s3BatchSettings(options)) {
              runs.push([`${s3BatchLabel(settings, concurrency)}${suffix(concurrency)}`, (ctx) => runS3Batch(ctx, client, settings)]);
            }
          }
          for (const [label, run] of runs) {
            const slug = label.replace(/[^A-Za-z0-9]+/g, '-');
            const ctx: ContenderContext = {
              stack: seen.stack,
              s3,
              objectSize: options.size,
              concurrency,
              latencyMs: options.latencyMs,
              target: {
                operation,
                sourceBucket: sourceBucket(options.size),
                objects,
                mark: operation === 'copy' ? `runs/${runId}/${slug}/` : `${runId}-${slug}`,
              },
            };
            console.log(`${operation} x ${objects}: ${label} ...`);
            const result = await run(ctx);
            console.log(`  ${result.tasksPerSecond.toFixed(0)} tasks/s, ${result.seconds.toFixed(1)} s, verified ${result.verified}/${objects}`);
            results.push({ ...result, contender: label });
          }
        }
      }
    }
  } finally {
    await seen.toxiproxy?.close();
    await connection.close();
    s3.destroy();
  }

  const final = withRatios(results);
  console.log(`\n${formatTable(final)}\n`);
  mkdirSync(options.out, { recursive: true });
  const jsonPath = join(options.out, 'results.json');
  writeFileSync(jsonPath, `${JSON.stringify({ runId, machine: machine(), options, results: final }, null, 2)}\n`);
  const pngPath = join(options.out, 'throughput.png');
  const m = machine();
  await renderThroughputChart(final, pngPath, {
    title: 'Tasks per second on the local stack (MinIO, Temporal dev server)',
    subtitle:
      `${m.cores} cores (${m.cpu}), ${options.size}-byte objects, ${options.concurrency.join(' or ')} requests in flight` +
      (options.latencyMs ? `, S3 latency +${options.latencyMs} ms each way` : ''),
  });
  console.log(`Wrote ${jsonPath} and ${pngPath}`);
  const short = final.filter((r) => r.verified !== r.objects);
  if (short.length > 0) {
    console.error(`Work missing in S3 for: ${short.map((r) => `${r.contender} ${r.operation} ${r.verified}/${r.objects}`).join('; ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err instanceof BenchUsageError ? err.message : err);
  process.exit(err instanceof BenchUsageError ? 2 : 1);
});
