/** watch's display and report's summary, as pure functions (src/cli/progress-bar.ts, src/cli/report-summary.ts). */
import { EXIT_CODES, exitCodeForStatus, exitCodesHelp } from '../../src/cli/exit-codes';
import { bar, formatBarLine, formatDuration, formatFinal, formatPlainLine, formatRate, progressView, RateTracker, reportLocation } from '../../src/cli/progress-bar';
import { formatReportSummary, ReportSummarizer } from '../../src/cli/report-summary';
import { reportLine } from '../../src/activities/report/report-csv';
import type { JobDescriptor } from '../../src/shared/types';

function job(over: Partial<JobDescriptor> = {}, progress: Partial<JobDescriptor['ProgressSummary']> = {}): JobDescriptor {
  return {
    JobId: 'j-1',
    JobArn: 'arn',
    ConfirmationRequired: false,
    Status: 'Active',
    Operation: { S3DeleteObjectTagging: {} },
    Priority: 10,
    ProgressSummary: { TotalNumberOfTasks: 200, NumberOfTasksSucceeded: 90, NumberOfTasksFailed: 10, Timers: { ElapsedTimeInActiveSeconds: 5 }, ...progress },
    FailureReasons: [],
    Report: { Enabled: true, Bucket: 'arn:aws:s3:::reports', Format: 'Report_CSV_20180820' },
    CreationTime: '2026-11-22T00:00:00.000Z',
    S3Batch: { FailedTasksByErrorCode: { NoSuchKey: 10 }, Summary: 'Active', PagesDone: 1 },
    ...over,
  };
}

test('durations and rates', () => {
  expect(formatDuration(9.4)).toBe('9s');
  expect(formatDuration(185)).toBe('3m05s');
  expect(formatDuration(3720)).toBe('1h02m');
  expect(formatDuration(undefined)).toBe('?');
  expect(formatDuration(Infinity)).toBe('?');
  expect(formatRate(12.345)).toBe('12.3');
  expect(formatRate(1234.5)).toBe('1235');
  expect(formatRate(undefined)).toBe('?');
});

test('rate over a sliding window, and ETA from it', () => {
  const rates = new RateTracker(10_000);
  rates.add(0, 0);
  expect(rates.rate()).toBeUndefined();
  rates.add(2000, 40);
  expect(rates.rate()).toBe(20);
  rates.add(20_000, 40); // stalled: the window forgets the fast start
  rates.add(22_000, 50);
  expect(rates.rate()).toBe(5);
  const view = progressView(job(), 20);
  expect(view).toMatchObject({ done: 100, total: 200, fraction: 0.5, etaSeconds: 5 });
  expect(progressView(job({}, { TotalNumberOfTasks: undefined }), 20)).toMatchObject({ fraction: undefined, etaSeconds: undefined });
});

test('bar line and plain line', () => {
  expect(bar(0.5, 10)).toBe('[#####-----]  50%');
  expect(bar(undefined, 4)).toBe('[....]  ?%');
  const view = progressView(job(), 20);
  expect(formatBarLine(view)).toBe('[############------------]  50% 100/200 ok 90 failed 10 | 20.0 tasks/s | ETA 5s | Active');
  expect(formatPlainLine(view)).toBe('status=Active done=100/200 (50%) succeeded=90 failed=10 rate=20.0/s eta=5s');
});

test('final lines: status, counts, failures, report location', () => {
  const done = job({ Status: 'Complete', S3Batch: { FailedTasksByErrorCode: { NoSuchKey: 10 }, Summary: '', PagesDone: 1, ReportManifestKey: 'p/job-j-1/manifest.json' } });
  expect(formatFinal(done)).toBe('Job j-1 Complete: 90 succeeded, 10 failed of 200 (NoSuchKey: 10)\nReport: s3://reports/p/job-j-1/manifest.json');
  expect(reportLocation(job({ Report: { Enabled: false } }))).toMatch(/none/);
  expect(formatFinal(job({ Status: 'Failed', FailureReasons: [{ FailureCode: 'ManifestETagMismatch', FailureReason: 'changed' }] }))).toContain(
    'Failure: ManifestETagMismatch: changed'
  );
});

test('exit codes by final status, and the table in --help', () => {
  expect(exitCodeForStatus('Complete')).toBe(EXIT_CODES.ok);
  expect(exitCodeForStatus('Failed')).toBe(EXIT_CODES.jobFailed);
  expect(exitCodeForStatus('Cancelled')).toBe(EXIT_CODES.jobCancelled);
  expect(new Set(Object.values(EXIT_CODES)).size).toBe(Object.keys(EXIT_CODES).length);
  for (const code of Object.values(EXIT_CODES)) expect(exitCodesHelp()).toMatch(new RegExp(`^  ${code}  `, 'm'));
});

test('report summary: counts by status and error code, first failures, damaged lines counted', () => {
  const s = new ReportSummarizer('j-1', 's3://r/m.json', 2);
  const ok = (key: string) => reportLine({ bucket: 'b', key, versionId: '', result: { status: 'succeeded', httpStatus: 200, message: 'Successful' } });
  const bad = (key: string, code: string) =>
    reportLine({ bucket: 'b', key, versionId: 'v', result: { status: 'failed', httpStatus: 404, errorCode: code, message: `no, "${key}"` } });
  s.addShard([ok('a'), ok('b'), ''].join('\n'));
  s.addShard([bad('c', 'NoSuchKey'), bad('d,e', 'NoSuchKey'), bad('f', 'AccessDenied'), 'not,a,row', ''].join('\n'));
  expect(s.summary).toMatchObject({
    Shards: 2,
    TotalTasks: 5,
    TasksByStatus: { succeeded: 2, failed: 3 },
    FailedTasksByErrorCode: { NoSuchKey: 2, AccessDenied: 1 },
    UnreadableLines: 1,
  });
  expect(s.summary.FirstFailures).toEqual([
    { Bucket: 'b', Key: 'c', VersionId: 'v', HTTPStatusCode: '404', ErrorCode: 'NoSuchKey', ResultMessage: 'no, "c"' },
    { Bucket: 'b', Key: 'd,e', VersionId: 'v', HTTPStatusCode: '404', ErrorCode: 'NoSuchKey', ResultMessage: 'no, "d,e"' },
  ]);
  const text = formatReportSummary(s.summary);
  expect(text).toContain('Failed by error code:\n  NoSuchKey: 2\n  AccessDenied: 1');
  expect(text).toContain('s3://b/c (version v): NoSuchKey 404: no, "c"');
});
