/**
 * `npm run bench:manifest` flags, parsed with node:util and validated with zod (the same way as bench/options.ts).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BenchUsageError } from './options';

export const MANIFEST_USAGE = `npm run bench:manifest -- [options]

  --rows N[,N...]        manifest sizes in rows, e.g. 100000,1000000 (default); at most 10,000,000
  --page-size N          the job's PageSize: rows per page (default 250, the job default; at most 1000)
  --pages N              the job's MaxConcurrentPages: pages read at once (default 4, the job default)
  --max-ratio R          the peak RSS of the largest manifest may be at most R times the smallest's (default 1.5)
  --out DIR              where results.json goes (default bench/results-manifest)
  --help`;

const splitList = (s: string) => s.split(',').map((v) => v.trim()).filter(Boolean);
const count = z.coerce.number<string>().int().min(1);

export const MAX_MANIFEST_ROWS = 10_000_000;

export const ManifestBenchOptions = z
  .object({
    rows: z
      .string()
      .transform(splitList)
      .pipe(z.array(count.max(MAX_MANIFEST_ROWS)).min(1))
      .transform((rows) => [...new Set(rows)].sort((a, b) => a - b))
      .default([100_000, 1_000_000]),
    pageSize: count.max(1000).default(250),
    pages: count.max(100).default(4),
    maxRatio: z.coerce.number<string>().min(1).default(1.5),
    out: z.string().min(1).default('bench/results-manifest'),
  })
  .strict();
export type ManifestBenchOptions = z.output<typeof ManifestBenchOptions>;

const FLAG_OF: Record<string, string> = { rows: 'rows', pageSize: 'page-size', pages: 'pages', maxRatio: 'max-ratio', out: 'out' };

export function parseManifestBenchArgs(argv: string[]): ManifestBenchOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rows: { type: 'string' },
        'page-size': { type: 'string' },
        pages: { type: 'string' },
        'max-ratio': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new BenchUsageError(`${(err as Error).message}\n\n${MANIFEST_USAGE}`);
  }
  if (values.help) return 'help';
  const parsed = ManifestBenchOptions.safeParse({
    rows: values.rows,
    pageSize: values['page-size'],
    pages: values.pages,
    maxRatio: values['max-ratio'],
    out: values.out,
  });
  if (!parsed.success) {
    const where = (path: PropertyKey[]) =>
      `--${FLAG_OF[String(path[0])] ?? String(path[0])}${path.length > 1 ? ` item ${Number(path[1]) + 1}` : ''}`;
    const problems = parsed.error.issues.map((i) => `  ${where(i.path)}: ${i.message}`).join('\n');
    throw new BenchUsageError(`bad option:\n${problems}\n\n${MANIFEST_USAGE}`);
  }
  return parsed.data;
}
