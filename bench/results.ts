/** One contender run's measurements, the printed table, and the JSON written next to the chart. */
import type { Operation } from './options';

export interface RunResult {
  /** e.g. `limit`, `s5cmd`, `s3-batch Activity p4x16 s100`. */
  contender: string;
  operation: Operation;
  objects: number;
  objectSize: number;
  concurrency: number;
  /** S3 latency added each way for every contender of the run (a Toxiproxy in front of MinIO); 0 or absent: none. */
  latencyMs?: number;
  /** Objects that show this run's work afterwards (counted in S3, not taken from the contender's word). */
  verified: number;
  seconds: number;
  tasksPerSecond: number;
  /** tasksPerSecond / the limit's, for the same operation, N, concurrency and latency (undefined when no limit run). */
  ratioToLimit?: number;
  peakRssBytes: number;
  /** Temporal history events per 1,000 tasks, over the job's and its pages' runs (s3-batch only). */
  historyEventsPerThousand?: number;
  /**
   * CPU seconds per 1,000 tasks while the run was timed: the contender's own process (the worker, for s3-batch),
   * the Temporal dev server and MinIO. With 2 cores, their sum against the wall time shows what held a run back.
   */
  cpuSecondsPerThousand: {
    contender: number;
    temporal: number;
    minio: number;
    /** Cluster profile: PostgreSQL (its postmaster and backends). */
    postgres?: number;
    /** Cluster profile: each Temporal service (frontend, history, matching, worker); `temporal` is their sum. */
    temporalServices?: Record<string, number>;
  };
  /** From start until the first manifest row's object showed the work, polled every 20 ms. */
  firstTaskMs?: number;
  /** Settings of an s3-batch run (mode, pages, tasks per page, worker slots). */
  settings?: Record<string, string | number>;
}

export function withRatios(results: RunResult[]): RunResult[] {
  return results.map((r) => {
    const limit = results.find(
      (l) =>
        l.contender.startsWith('limit') &&
        l.operation === r.operation &&
        l.objects === r.objects &&
        l.concurrency === r.concurrency &&
        (l.latencyMs ?? 0) === (r.latencyMs ?? 0)
    );
    return limit ? { ...r, ratioToLimit: r.tasksPerSecond / limit.tasksPerSecond } : r;
  });
}

const mib = (bytes: number) => (bytes ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : '-');

/** `own+temporal+minio`, and on the cluster `+pg`, with Temporal's share per service: `2.0+3.1(f0.4 h1.9 m0.6 w0.2)+1.5+0.9`. */
function cpuCell(cpu: RunResult['cpuSecondsPerThousand']): string {
  const services = cpu.temporalServices
    ? `(${Object.entries(cpu.temporalServices).map(([name, v]) => `${name[0]}${v.toFixed(1)}`).join(' ')})`
    : '';
  const postgres = cpu.postgres !== undefined ? `+${cpu.postgres.toFixed(1)}` : '';
  return `${cpu.contender.toFixed(1)}+${cpu.temporal.toFixed(1)}${services}+${cpu.minio.toFixed(1)}${postgres}`;
}

export function formatTable(results: RunResult[]): string {
  const header = ['operation', 'objects', 'contender', 'in flight', 'tasks/s', 'x limit', 'seconds', 'first task', 'peak RSS', 'events/1k', 'CPU s/1k: own+temporal+minio(+pg)', 'verified'];
  const rows = results.map((r) => [
    r.operation,
    r.objects.toLocaleString('en-US'),
    r.contender,
    `${r.concurrency}${r.latencyMs ? ` +${r.latencyMs} ms` : ''}`,
    r.tasksPerSecond.toFixed(0),
    r.ratioToLimit === undefined ? '-' : r.ratioToLimit.toFixed(2),
    r.seconds.toFixed(1),
    r.firstTaskMs === undefined ? '-' : `${r.firstTaskMs} ms`,
    mib(r.peakRssBytes),
    r.historyEventsPerThousand === undefined ? '-' : r.historyEventsPerThousand.toFixed(0),
    cpuCell(r.cpuSecondsPerThousand),
    `${r.verified}/${r.objects}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i <= 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i <= 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}
