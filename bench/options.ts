/**
 * `npm run bench` flags, parsed with node:util and validated with zod, so a typo fails with the flag's name rather
 * than an hour of benchmarking the wrong thing.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

export const USAGE = `npm run bench -- [options]

  --objects N[,N...]        objects per run, e.g. 10000 or 1000,10000,100000 (default 10000)
  --size BYTES              object size in bytes (default 1024)
  --operation OP[,OP...]    copy, tagging (default copy,tagging)
  --concurrency C[,C...]    requests in flight for every contender, each value a run of its own (default 64)
  --latency-ms MS           S3 latency added each way (a Toxiproxy in front of MinIO, for every contender), as
                            from a worker to a real S3 region; 0 talks to MinIO directly (default 0)
  --contenders LIST         limit, s5cmd, s3-batch (default all three; s5cmd runs for copy only)
  --modes LIST              s3-batch task execution: Activity, LocalActivity, Batch (default all three; Batch
                            runs 50 rows per batch activity, the worker config's default)
  --pages LIST              s3-batch MaxConcurrentPages values to try (default 4); tasks per page = C / pages
  --slots LIST              worker maxConcurrentActivityTaskExecutions values to try (default 100)
  --workers LIST            s3-batch worker processes to try (default 1)
  --out DIR                 where results.json and throughput.png go (default bench/results)
  --help`;

const splitList = (s: string) => s.split(',').map((v) => v.trim()).filter(Boolean);
const count = z.coerce.number<string>().int().min(1);
const countList = (max: number) => z.string().transform(splitList).pipe(z.array(count.max(max)).min(1));
const choiceList = <const V extends readonly [string, ...string[]]>(values: V) =>
  z.string().transform(splitList).pipe(z.array(z.enum(values)).min(1));

export const BenchOptions = z
  .object({
    objects: countList(1_000_000).default([10000]),
    size: count.max(64 * 1024 * 1024).default(1024),
    operation: choiceList(['copy', 'tagging']).default(['copy', 'tagging']),
    concurrency: countList(1024).default([64]),
    latencyMs: z.coerce.number<string>().int().min(0).max(1000).default(0),
    contenders: choiceList(['limit', 's5cmd', 's3-batch']).default(['limit', 's5cmd', 's3-batch']),
    modes: choiceList(['Activity', 'LocalActivity', 'Batch']).default(['Activity', 'LocalActivity', 'Batch']),
    pages: countList(64).default([4]),
    slots: countList(2000).default([100]),
    workers: countList(16).default([1]),
    out: z.string().min(1).default('bench/results'),
  })
  .strict();
export type BenchOptions = z.output<typeof BenchOptions>;
export type Operation = BenchOptions['operation'][number];
export type Mode = BenchOptions['modes'][number];

export class BenchUsageError extends Error {}

export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        objects: { type: 'string' },
        size: { type: 'string' },
        operation: { type: 'string' },
        concurrency: { type: 'string' },
        'latency-ms': { type: 'string' },
        contenders: { type: 'string' },
        modes: { type: 'string' },
        pages: { type: 'string' },
        slots: { type: 'string' },
        workers: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new BenchUsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return 'help';
  const { help: _help, 'latency-ms': latencyMs, ...rest } = values;
  const parsed = BenchOptions.safeParse({ ...rest, latencyMs });
  if (!parsed.success) {
    const flag = (key: PropertyKey) => (key === 'latencyMs' ? 'latency-ms' : String(key));
    const where = (path: PropertyKey[]) => `--${flag(path[0]!)}${path.length > 1 ? ` item ${Number(path[1]) + 1}` : ''}`;
    const problems = parsed.error.issues.map((i) => `  ${where(i.path)}: ${i.message}`).join('\n');
    throw new BenchUsageError(`bad option:\n${problems}\n\n${USAGE}`);
  }
  for (const pages of parsed.data.pages) {
    for (const concurrency of parsed.data.concurrency) {
      if (concurrency % pages !== 0) {
        throw new BenchUsageError(`--pages ${pages} does not divide --concurrency ${concurrency}: each page runs concurrency/pages tasks at once`);
      }
    }
  }
  return parsed.data;
}
