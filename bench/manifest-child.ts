/**
 * One manifest size of the memory bench, run as its own process so that its peak RSS is that of a worker doing only
 * this: the worker's prepareManifest over the whole manifest, then its readPage for every page, `pages` at a time
 * (the job's MaxConcurrentPages), each page's rows checked and dropped as a page workflow would drop them.
 * Input: BENCH_MANIFEST_INPUT (JSON). Output: `BENCH_READY` once loaded, then one line `BENCH_RESULT <json>`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { prepareManifest } from '../src/activities/manifest/prepare';
import { readPage } from '../src/activities/manifest/read-page';
import { Connections } from '../src/activities/s3-clients';
import type { ManifestRef } from '../src/shared/page-context';
import { parseWorkerConfig } from '../src/schemas/worker-config';
import { runAsActivity } from './activity-context';
import { ManifestCoverage } from './manifest-rows';
import { runConcurrently } from './workload';

export const ManifestChildInput = z
  .object({
    workerConfig: z.unknown(),
    connection: z.string().min(1),
    bucket: z.string().min(1),
    key: z.string().min(1),
    etag: z.string().min(1),
    rows: z.number().int().min(1),
    pageSize: z.number().int().min(1),
    pages: z.number().int().min(1),
  })
  .strict();
export type ManifestChildInput = z.input<typeof ManifestChildInput>;

export interface ManifestChildResult {
  prepared: { etag: string; size: number; rows: number; pageBytes: number; pageCount: number };
  preparedJsonBytes: number;
  prepareHeartbeats: number;
  prepareSeconds: number;
  pagingSeconds: number;
  rowsRead: number;
  largestPageJsonBytes: number;
  startRssBytes: number;
  preparedRssBytes: number;
  problems: string[];
}

function highWaterMark(): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

async function main(): Promise<void> {
  const input = ManifestChildInput.parse(JSON.parse(process.env.BENCH_MANIFEST_INPUT ?? 'null'));
  const connections = new Connections(parseWorkerConfig(input.workerConfig));
  connections.s3(input.connection);
  const startRssBytes = highWaterMark();
  console.log('BENCH_READY');

  // Preparing, as the job workflow's prepareManifest activity runs it.
  let started = process.hrtime.bigint();
  const { result: prepared, heartbeats } = await runAsActivity('prepareManifest', () =>
    prepareManifest(connections, {
      manifest: { connection: input.connection, bucket: input.bucket, key: input.key, etag: input.etag },
      pageSize: input.pageSize,
    })
  );
  const prepareSeconds = seconds(started);
  const preparedRssBytes = highWaterMark();

  // Paging, as the page workflows' readPage activities run it: the same byte ranges the job cuts (startPage).
  const manifest: ManifestRef = {
    connection: input.connection,
    bucket: input.bucket,
    key: input.key,
    etag: prepared.etag,
    // No Spec.Fields: bucket,key[,versionId], as a job without Fields reads it.
    columns: { bucket: 0, key: 1, versionId: 2, count: -1 },
  };
  const coverage = new ManifestCoverage(input.rows);
  let largestPageJsonBytes = 0;
  started = process.hrtime.bigint();
  await runConcurrently(prepared.pageCount, input.pages, async (pageIndex) => {
    const start = pageIndex * prepared.pageBytes;
    const range = { start, end: Math.min(prepared.size, start + prepared.pageBytes) };
    const { result } = await runAsActivity('readPage', () => readPage(connections, { manifest, range }));
    // The result is what a page workflow's history records: measure it, check it, then let it go.
    largestPageJsonBytes = Math.max(largestPageJsonBytes, Buffer.byteLength(JSON.stringify(result)));
    coverage.addPage(pageIndex, result.rows);
  });
  const pagingSeconds = seconds(started);
  connections.destroy();

  const problems = coverage.finish(prepared.pageCount);
  if (prepared.rows !== input.rows) problems.unshift(`prepareManifest counted ${prepared.rows} rows, the manifest has ${input.rows}`);
  const result: ManifestChildResult = {
    prepared,
    preparedJsonBytes: Buffer.byteLength(JSON.stringify(prepared)),
    prepareHeartbeats: heartbeats,
    prepareSeconds,
    pagingSeconds,
    rowsRead: coverage.rowsRead,
    largestPageJsonBytes,
    startRssBytes,
    preparedRssBytes,
    problems,
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
