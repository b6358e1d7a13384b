/**
 * The completion report's CSV (Report_CSV_20180820). Columns in the order AWS actually writes them
 * (Bucket, Key, VersionId, TaskStatus, HTTPStatusCode, ErrorCode, ResultMessage), which differs from the
 * ReportSchema string AWS puts in manifest.json; we write that string verbatim too, as AWS does. No header row.
 */
import type { ReportRow } from '../../shared/types';

export const REPORT_FORMAT = 'Report_CSV_20180820';
export const REPORT_SCHEMA = 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage';

export function csvField(value: string, alwaysQuote = false): string {
  if (!alwaysQuote && !/[",\r\n]/.test(value)) return value;
  return `"${value.replace(/"/g, '""')}"`;
}

export function reportLine(row: ReportRow): string {
  const r = row.result;
  return [
    csvField(row.bucket),
    csvField(row.key),
    csvField(row.versionId),
    r.status,
    r.httpStatus === undefined ? '' : String(r.httpStatus),
    csvField(r.errorCode ?? ''),
    csvField(r.message, true),
  ].join(',');
}

export function reportCsv(rows: ReportRow[]): string {
  return rows.map((row) => `${reportLine(row)}\n`).join('');
}
