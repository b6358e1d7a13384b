/**
 * The report checksum check (test/helpers/report-checksums.ts) that readReport runs on every report: it passes a
 * report laid out as the writer lays it out (src/activities/report/), and fails on each kind of tampering.
 */
import { createHash } from 'node:crypto';
import { REPORT_FORMAT, REPORT_SCHEMA, reportCsv } from '../../src/activities/report/report-csv';
import type { ReportRow } from '../../src/shared/types';
import { reportChecksumProblems, type ReportFiles } from '../helpers/report-checksums';

const md5 = (text: string | Uint8Array) => createHash('md5').update(text).digest('hex');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

const row = (key: string, status: 'succeeded' | 'failed'): ReportRow => ({
  bucket: 'b',
  key,
  versionId: '',
  result: status === 'succeeded' ? { status, httpStatus: 200, message: 'ok' } : { status, httpStatus: 404, errorCode: 'NoSuchKey', message: 'gone' },
});

/** A report as writeReportShard and writeReportManifest write it: a succeeded and a failed shard, the manifest and its MD5. */
function report(): ReportFiles {
  const succeeded = reportCsv([row('a', 'succeeded'), row('é,"quoted"', 'succeeded')]);
  const failed = reportCsv([row('c', 'failed')]);
  const manifest = JSON.stringify({
    Format: REPORT_FORMAT,
    ReportCreationDate: '2026-12-04T00:00:00.000Z',
    Results: [
      { TaskExecutionStatus: 'failed', Bucket: 'r', MD5Checksum: md5(failed), Key: 'job-1/results/f.csv' },
      { TaskExecutionStatus: 'succeeded', Bucket: 'r', MD5Checksum: md5(succeeded), Key: 'job-1/results/s.csv' },
    ],
    ReportSchema: REPORT_SCHEMA,
  });
  return {
    manifest: bytes(manifest),
    manifestMd5: md5(manifest),
    shards: new Map([
      ['job-1/results/f.csv', bytes(failed)],
      ['job-1/results/s.csv', bytes(succeeded)],
    ]),
  };
}

test('a report whose bytes match its checksums has no problems', () => {
  expect(reportChecksumProblems(report())).toEqual([]);
});

test('one changed byte in a shard is caught, naming the shard', () => {
  const files = report();
  const shard = Buffer.from(files.shards.get('job-1/results/s.csv')!);
  shard[0] = shard[0]! ^ 1;
  const shards = new Map(files.shards).set('job-1/results/s.csv', new Uint8Array(shard));
  expect(reportChecksumProblems({ ...files, shards })).toEqual([expect.stringMatching(/^shard job-1\/results\/s\.csv: MD5 [0-9a-f]{32}, manifest\.json says/)]);
});

test('a shard listed but not read is a problem', () => {
  const files = report();
  const shards = new Map(files.shards);
  shards.delete('job-1/results/f.csv');
  expect(reportChecksumProblems({ ...files, shards })).toEqual(['shard job-1/results/f.csv: listed in manifest.json but not read']);
});

test('a changed manifest.json no longer matches manifest.json.md5', () => {
  const files = report();
  const manifest = bytes(Buffer.from(files.manifest).toString('utf8').replace('"Bucket":"r"', '"Bucket":"x"'));
  expect(reportChecksumProblems({ ...files, manifest })).toEqual([expect.stringMatching(/^manifest\.json has MD5 [0-9a-f]{32}, manifest\.json\.md5 says/)]);
});

test('a wrong manifest.json.md5 is caught', () => {
  expect(reportChecksumProblems({ ...report(), manifestMd5: md5('something else') })).toHaveLength(1);
});

test('a wrong MD5Checksum in a consistent manifest.json is caught', () => {
  const files = report();
  const text = Buffer.from(files.manifest).toString('utf8');
  const failedMd5 = (JSON.parse(text) as { Results: { MD5Checksum: string }[] }).Results[0]!.MD5Checksum;
  const forged = text.replace(failedMd5, md5('not the shard'));
  expect(reportChecksumProblems({ ...files, manifest: bytes(forged), manifestMd5: md5(forged) })).toEqual([
    expect.stringMatching(/^shard job-1\/results\/f\.csv: MD5 /),
  ]);
});
