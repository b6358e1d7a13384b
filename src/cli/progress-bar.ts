/**
 * watch's progress display, as pure functions of a job descriptor and a clock: a one-line bar redrawn in place on
 * a terminal, and plain lines (one per change) when the output is a pipe or a file, so scripts and tests can read it.
 */
import type { JobDescriptor } from '../shared/types';
import { describeFailures } from '../shared/types';
import { bucketFromArn } from '../schemas/arn';

/** Seconds as a short duration: 9s, 3m05s, 1h02m; '?' when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return '?';
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

/**
 * Tasks per second over a sliding window of samples (default 30 s): recent enough to follow a pause or a change of
 * priority, long enough not to jump with every poll.
 */
export class RateTracker {
  private samples: { at: number; done: number }[] = [];

  constructor(private readonly windowMs = 30_000) {}

  add(atMs: number, done: number): void {
    this.samples.push({ at: atMs, done });
    while (this.samples.length > 2 && atMs - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  /** Tasks per second, or undefined before two samples a moment apart. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 500) return undefined;
    return Math.max(0, (last.done - first.done) / ((last.at - first.at) / 1000));
  }
}

export interface ProgressView {
  status: string;
  succeeded: number;
  failed: number;
  done: number;
  total?: number;
  /** 0..1, when the total is known. */
  fraction?: number;
  rate?: number;
  etaSeconds?: number;
}

export function progressView(job: JobDescriptor, rate: number | undefined): ProgressView {
  const p = job.ProgressSummary;
  const done = p.NumberOfTasksSucceeded + p.NumberOfTasksFailed;
  const total = p.TotalNumberOfTasks;
  const fraction = total ? Math.min(1, done / total) : total === 0 ? 1 : undefined;
  const etaSeconds = total !== undefined && rate ? Math.max(0, total - done) / rate : undefined;
  return { status: job.Status, succeeded: p.NumberOfTasksSucceeded, failed: p.NumberOfTasksFailed, done, total, fraction, rate, etaSeconds };
}

/** `[########------------]  40%` for a fraction, or a bar of dots while the total is not known yet. */
export function bar(fraction: number | undefined, width = 24): string {
  if (fraction === undefined) return `[${'.'.repeat(width)}]  ?%`;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

/** The terminal line: bar, counts, rate, ETA, status. */
export function formatBarLine(view: ProgressView): string {
  return (
    `${bar(view.fraction)} ${view.done}/${view.total ?? '?'} ` +
    `ok ${view.succeeded} failed ${view.failed} | ${formatRate(view.rate)} tasks/s | ETA ${formatDuration(view.etaSeconds)} | ${view.status}`
  );
}

/** The plain line (no terminal): the same facts as key=value pairs, one line per change. */
export function formatPlainLine(view: ProgressView): string {
  const percent = view.fraction === undefined ? '?' : `${Math.floor(view.fraction * 100)}%`;
  return (
    `status=${view.status} done=${view.done}/${view.total ?? '?'} (${percent}) succeeded=${view.succeeded} ` +
    `failed=${view.failed} rate=${formatRate(view.rate)}/s eta=${formatDuration(view.etaSeconds)}`
  );
}

/** Where a finished job's report is: s3://bucket/key of its manifest.json, or why there is none. */
export function reportLocation(job: JobDescriptor): string {
  const report = job.Report as { Enabled?: boolean; Bucket?: string } | undefined;
  if (!report?.Enabled) return 'none (the job has no report)';
  const bucket = report.Bucket ? bucketFromArn(report.Bucket) : undefined;
  if (!bucket || !job.S3Batch.ReportManifestKey) return 'not written';
  return `s3://${bucket}/${job.S3Batch.ReportManifestKey}`;
}

/** The closing lines of watch (and create-job --wait): final status, counts, failures by code, report. */
export function formatFinal(job: JobDescriptor): string {
  const p = job.ProgressSummary;
  const failures = describeFailures(job.S3Batch.FailedTasksByErrorCode);
  const lines = [
    `Job ${job.JobId} ${job.Status}: ${p.NumberOfTasksSucceeded} succeeded, ${p.NumberOfTasksFailed} failed` +
      `${p.TotalNumberOfTasks !== undefined ? ` of ${p.TotalNumberOfTasks}` : ''}${failures ? ` (${failures})` : ''}`,
  ];
  for (const f of job.FailureReasons) lines.push(`Failure: ${f.FailureCode}: ${f.FailureReason}`);
  if (job.StatusUpdateReason) lines.push(`Reason: ${job.StatusUpdateReason}`);
  lines.push(`Report: ${reportLocation(job)}`);
  return lines.join('\n');
}
