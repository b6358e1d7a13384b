/**
 * npm run bench:manifest -- --rows 100000,1000000
 *
 * Streaming and memory: seeds CSV manifests of each size in the local stack's MinIO, then for each runs the worker's
 * prepareManifest and readPage over it in a child process (bench/manifest-child.ts) whose peak RSS is read from /proc,
 * checks that the pages returned every row exactly once, and compares the peak RSS of the largest manifest with the
 * smallest's. Also reports what the workflows keep: the JSON size of the prepared manifest (the job's state) and of
 * the largest page (a page workflow's readPage result). Prints a table and writes <out>/results.json; exits 1 if a
 * check fails. Not part of `npm test`.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { stackConfigFromEnv, stackUp, readStackState, type StackState } from '../scripts/stack/index';
import { checkS3ListBuckets } from '../scripts/stack/health';
import { stackS3Client, workerConfigForStack } from '../scripts/stack/worker-config';
import { spawnMeasured } from './child-process';
import type { ManifestChildInput, ManifestChildResult } from './manifest-child';
import { MANIFEST_USAGE, parseManifestBenchArgs, type ManifestBenchOptions } from './manifest-options';
import { formatManifestTable, formatRatio, type ManifestRunResult, ratioCheck } from './manifest-rows';
import { seedManifest, type SeededManifest } from './manifest-seed';
import { BenchUsageError } from './options';
import { MAX_NUMBERED_PAGES } from '../src/activities/manifest/prepare';

/**
 * What the job workflow may keep about a manifest, in JSON bytes, whatever its size: five numbers, plus each page's
 * first line number for manifests of up to MAX_NUMBERED_PAGES pages (a number of at most 11 characters each).
 */
const PREPARED_JSON_LIMIT = 256 + MAX_NUMBERED_PAGES * 12;

/**
 * The running stack if there is one (only MinIO is needed, and it must be healthy), else a started one. A stack that
 * is running but unwell is reported, not restarted: it may be someone else's.
 */
async function stackForBench(): Promise<StackState> {
  const config = stackConfigFromEnv();
  const running = readStackState(config.dataDir);
  if (!running) return stackUp(config, { log: (line) => console.log(`  ${line}`) });
  const health = await checkS3ListBuckets(running.s3.endpoint, running.s3.region, running.s3);
  if (!health.healthy) throw new Error(`the stack in ${config.dataDir} is running but its MinIO is not healthy: ${health.detail}`);
  console.log(`  stack: using the running stack in ${config.dataDir} (MinIO ${running.s3.endpoint})`);
  return running;
}

async function runSize(stack: StackState, manifest: SeededManifest, rows: number, options: ManifestBenchOptions): Promise<ManifestRunResult> {
  const input: ManifestChildInput = {
    workerConfig: workerConfigForStack(stack),
    connection: 'minio',
    bucket: manifest.bucket,
    key: manifest.key,
    etag: manifest.etag,
    rows,
    pageSize: options.pageSize,
    pages: options.pages,
  };
  // Plain node with tsx's loader, as the throughput bench's limit loop runs; the same in every size, so it cancels out.
  const child = spawnMeasured(process.execPath, ['--import', 'tsx', join(__dirname, 'manifest-child.ts')], {
    env: { ...process.env, BENCH_MANIFEST_INPUT: JSON.stringify(input) },
  });
  const code = await child.exited;
  const line = /^BENCH_RESULT (.*)$/m.exec(child.output());
  if (code !== 0 || !line) throw new Error(`manifest child failed (exit ${code}):\n${child.output().slice(-4000)}`);
  const r = JSON.parse(line[1]!) as ManifestChildResult;
  return {
    rows,
    manifestBytes: r.prepared.size,
    pageSize: options.pageSize,
    concurrentPages: options.pages,
    pages: r.prepared.pageCount,
    pageBytes: r.prepared.pageBytes,
    rowsRead: r.rowsRead,
    prepareSeconds: r.prepareSeconds,
    pagingSeconds: r.pagingSeconds,
    startRssBytes: r.startRssBytes,
    preparedRssBytes: r.preparedRssBytes,
    peakRssBytes: child.peakRssBytes(),
    preparedJsonBytes: r.preparedJsonBytes,
    largestPageJsonBytes: r.largestPageJsonBytes,
    problems: manifest.bytes === r.prepared.size ? r.problems : [`manifest is ${r.prepared.size} bytes, expected ${manifest.bytes}`, ...r.problems],
  };
}

function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

async function main(): Promise<void> {
  const options = parseManifestBenchArgs(process.argv.slice(2));
  if (options === 'help') return console.log(MANIFEST_USAGE);
  const stack = await stackForBench();
  const s3 = stackS3Client(stack.s3);
  const results: ManifestRunResult[] = [];
  try {
    for (const rows of options.rows) {
      const seedStarted = Date.now();
      const manifest = await seedManifest(s3, rows);
      const seeded = manifest.written ? `written in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s` : 'reused';
      console.log(`${rows.toLocaleString('en-US')} rows: s3://${manifest.bucket}/${manifest.key}, ${manifest.bytes.toLocaleString('en-US')} bytes (${seeded})`);
      const result = await runSize(stack, manifest, rows, options);
      console.log(
        `  prepared in ${result.prepareSeconds.toFixed(1)} s, ${result.pages} pages read in ${result.pagingSeconds.toFixed(1)} s,` +
          ` peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ${result.rowsRead.toLocaleString('en-US')} rows read`
      );
      for (const problem of result.problems) console.error(`  WRONG: ${problem}`);
      results.push(result);
    }
  } finally {
    s3.destroy();
  }

  const check = ratioCheck(results, options.maxRatio);
  const preparedSizes = [...new Set(results.map((r) => r.preparedJsonBytes))];
  // Five numbers and the capped page index: bounded whatever the manifest's size.
  const preparedTooBig = results.filter((r) => r.preparedJsonBytes > PREPARED_JSON_LIMIT);
  const largestPage = Math.max(...results.map((r) => r.largestPageJsonBytes));
  console.log(`\n${formatManifestTable(results)}\n`);
  console.log(formatRatio(check));
  console.log(
    `What the workflows keep: the job, prepareManifest's result, ${preparedSizes.join(' / ')} bytes of JSON for` +
      ` ${results.map((r) => r.rows.toLocaleString('en-US')).join(' / ')} rows (five numbers, and each page's first line number up to ${MAX_NUMBERED_PAGES.toLocaleString('en-US')} pages);` +
      ` a page, at most one page of rows (PageSize ${options.pageSize}), ${largestPage.toLocaleString('en-US')} bytes at most.`
  );
  mkdirSync(options.out, { recursive: true });
  const jsonPath = join(options.out, 'results.json');
  writeFileSync(jsonPath, `${JSON.stringify({ runAt: new Date().toISOString(), machine: machine(), options, ratio: check ?? null, results }, null, 2)}\n`);
  console.log(`Wrote ${jsonPath}`);

  const wrong = results.filter((r) => r.problems.length > 0);
  if (wrong.length > 0) {
    console.error(`Rows read do not match the manifest for: ${wrong.map((r) => `${r.rows} rows`).join(', ')}`);
    process.exitCode = 1;
  }
  if (preparedTooBig.length > 0) {
    console.error(`prepareManifest's result is over ${PREPARED_JSON_LIMIT} bytes for: ${preparedTooBig.map((r) => `${r.rows} rows`).join(', ')}`);
    process.exitCode = 1;
  }
  if (check && !check.pass) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof BenchUsageError ? err.message : err);
  process.exit(err instanceof BenchUsageError ? 2 : 1);
});
