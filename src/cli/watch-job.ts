/**
 * Follows a job to its end for `watch` and `create-job --watch`: a bar redrawn in place on a terminal (stderr), plain
 * lines otherwise, then the final status and report location. Progress goes to stderr so that `--json` leaves
 * stdout holding exactly one JSON document.
 */
import type { JobClient } from '../job-client';
import type { JobDescriptor } from '../shared/types';
import { formatBarLine, formatPlainLine, progressView, RateTracker } from './progress-bar';
import { watchWorkers } from './worker-presence';

export interface WatchOptions {
  pollMs: number;
  /** Redraw one line in place (a terminal) rather than print a line per change. */
  tty: boolean;
  /** No progress at all (e.g. --wait): only the final descriptor matters. */
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
}

export async function watchJob(jobs: JobClient, jobId: string, options: WatchOptions): Promise<JobDescriptor> {
  const out = options.stream ?? process.stderr;
  const rates = new RateTracker();
  let drawn = false;
  const onProgress = (job: JobDescriptor) => {
    const p = job.ProgressSummary;
    rates.add(Date.now(), p.NumberOfTasksSucceeded + p.NumberOfTasksFailed);
    if (options.quiet) return;
    const view = progressView(job, rates.rate());
    if (options.tty) {
      // \r and "erase line": the bar stays one line however often it is redrawn.
      out.write(`\r\x1b[2K${formatBarLine(view)}`);
      drawn = true;
    } else {
      out.write(`${formatPlainLine(view)}\n`);
    }
  };
  // Whether this identity may see the job comes first: the worker warning names the job's queue.
  await jobs.checkAccess(jobId, 'DescribeJob');
  // A job nobody serves shows no progress at all: say so (on its own line, even under --wait), and why.
  const workers = watchWorkers(jobs, jobId, (text) => out.write(options.tty && drawn ? `\r\x1b[2K${text}` : text));
  try {
    return await jobs.waitForCompletion(jobId, { onProgress, pollMs: options.pollMs });
  } finally {
    workers.stop();
    if (drawn) out.write('\n');
  }
}
