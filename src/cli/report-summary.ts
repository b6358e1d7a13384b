/**
 * `report`'s summary of a completion report: counts by task status and by error code, and the first failures.
 * Pure: it folds parsed CSV rows (AWS's column order, see src/activities/report/report-csv.ts) one at a time, so a
 * report of millions of rows is summarised in constant memory.
 */
import { splitCsvLine } from '../activities/manifest/csv-row';

export interface ReportFailure {
  Bucket: string;
  Key: string;
  VersionId: string;
  HTTPStatusCode: string;
  ErrorCode: string;
  ResultMessage: string;
}

export interface ReportSummary {
  JobId: string;
  ReportManifest: string;
  Shards: number;
  TotalTasks: number;
  TasksByStatus: Record<string, number>;
  FailedTasksByErrorCode: Record<string, number>;
  /** The first `limit` failed rows, in shard order. */
  FirstFailures: ReportFailure[];
  /** Lines that are not report rows (a damaged shard), counted rather than hidden. */
  UnreadableLines: number;
}

export class ReportSummarizer {
  readonly summary: ReportSummary;

  constructor(jobId: string, manifest: string, private readonly limit: number) {
    this.summary = {
      JobId: jobId,
      ReportManifest: manifest,
      Shards: 0,
      TotalTasks: 0,
      TasksByStatus: {},
      FailedTasksByErrorCode: {},
      FirstFailures: [],
      UnreadableLines: 0,
    };
  }

  /** Adds every row of one shard's text. */
  addShard(text: string): void {
    this.summary.Shards++;
    for (const line of text.split('\n')) {
      if (line) this.addLine(line.replace(/\r$/, ''));
    }
  }

  addLine(line: string): void {
    const fields = splitCsvLine(line);
    if (!Array.isArray(fields) || fields.length < 7) {
      this.summary.UnreadableLines++;
      return;
    }
    const [bucket, key, versionId, status, httpStatus, errorCode, message] = fields as [string, string, string, string, string, string, string];
    const s = this.summary;
    s.TotalTasks++;
    s.TasksByStatus[status] = (s.TasksByStatus[status] ?? 0) + 1;
    if (status !== 'failed') return;
    const code = errorCode || '(none)';
    s.FailedTasksByErrorCode[code] = (s.FailedTasksByErrorCode[code] ?? 0) + 1;
    if (s.FirstFailures.length < this.limit) {
      s.FirstFailures.push({ Bucket: bucket, Key: key, VersionId: versionId, HTTPStatusCode: httpStatus, ErrorCode: errorCode, ResultMessage: message });
    }
  }
}

/** The summary for people: totals, error codes (most frequent first), then the first failures. */
export function formatReportSummary(s: ReportSummary): string {
  const lines = [`Report ${s.ReportManifest} (${s.Shards} shard${s.Shards === 1 ? '' : 's'})`, `Tasks: ${s.TotalTasks}`];
  for (const [status, count] of Object.entries(s.TasksByStatus).sort()) lines.push(`  ${status}: ${count}`);
  const codes = Object.entries(s.FailedTasksByErrorCode).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (codes.length) {
    lines.push('Failed by error code:');
    for (const [code, count] of codes) lines.push(`  ${code}: ${count}`);
  }
  if (s.FirstFailures.length) {
    lines.push(`First ${s.FirstFailures.length} failure${s.FirstFailures.length === 1 ? '' : 's'}:`);
    for (const f of s.FirstFailures) {
      const version = f.VersionId ? ` (version ${f.VersionId})` : '';
      lines.push(`  s3://${f.Bucket}/${f.Key}${version}: ${f.ErrorCode || '-'} ${f.HTTPStatusCode}: ${f.ResultMessage}`);
    }
  }
  if (s.UnreadableLines) lines.push(`Unreadable lines: ${s.UnreadableLines}`);
  return lines.join('\n');
}
