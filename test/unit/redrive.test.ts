/**
 * Redrive without servers: the RedriveOf spec rules, the default token, and turning report records (quoted fields,
 * line breaks inside messages, chunk boundaries anywhere) into manifest rows that parse back to the same objects.
 */
import { Readable } from 'node:stream';
import { parseManifestLine } from '../../src/activities/manifest/csv-row';
import { redriveRow, reportRecords } from '../../src/activities/manifest/redrive';
import { reportLine } from '../../src/activities/report/report-csv';
import { redriveToken } from '../../src/job-client';
import { validateJobSpec, type CreateJobInput } from '../../src/schemas/job-spec';
import type { ReportRow } from '../../src/shared/types';

const OLD = '0b3e8f7a-1c2d-5e4f-8a9b-0c1d2e3f4a5b';
const redrive: CreateJobInput = {
  Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } },
  Report: { Enabled: true, Bucket: 'arn:aws:s3:::reports', Format: 'Report_CSV_20180820', Prefix: 'batch/', ReportScope: 'AllTasks' },
  Extensions: { RedriveOf: { JobId: OLD, ReportManifest: `arn:aws:s3:::old-reports/batch/job-${OLD}/manifest.json` } },
};

function problems(input: unknown): string[] {
  const r = validateJobSpec(input);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('Extensions.RedriveOf', () => {
  test('resolves to a manifest built in the report folder, read with the report connection', () => {
    const r = validateJobSpec({ ...redrive, Extensions: { ...redrive.Extensions, ReportConnection: 'reports' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.job.redrive).toEqual({ jobId: OLD, bucket: 'old-reports', key: `batch/job-${OLD}/manifest.json` });
    expect(r.job.manifest).toEqual({
      bucket: 'reports',
      key: '',
      columns: { bucket: 0, key: 1, versionId: 2, count: 3 },
      connection: 'reports',
    });
    expect(r.job.report).toEqual({ bucket: 'reports', prefix: 'batch', scope: 'AllTasks', connection: 'reports' });
  });

  test('jobs without it resolve as before (no redrive field)', () => {
    const { Extensions: _e, ...rest } = redrive;
    const r = validateJobSpec({
      ...rest,
      Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820' }, Location: { ObjectArn: 'arn:aws:s3:::manifests/m.csv' } },
    });
    expect(r.ok && 'redrive' in r.job).toBe(false);
  });

  test('Manifest must be absent', () => {
    expect(
      problems({
        ...redrive,
        Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820' }, Location: { ObjectArn: 'arn:aws:s3:::manifests/m.csv' } },
      })
    ).toEqual([expect.stringMatching(/^Manifest: must be absent with Extensions.RedriveOf/)]);
  });

  test('the report must be enabled', () => {
    expect(problems({ ...redrive, Report: { Enabled: false } })).toEqual([
      expect.stringMatching(/^Report.Enabled: must be true with Extensions.RedriveOf: the built manifest is written into the job's report folder/),
    ]);
  });

  test('ManifestConnection does not apply', () => {
    expect(problems({ ...redrive, Extensions: { ...redrive.Extensions, ManifestConnection: 'm' } })).toEqual([
      expect.stringMatching(/^Extensions.ManifestConnection: does not apply with Extensions.RedriveOf/),
    ]);
  });

  test('ReportManifest is an object ARN, of that job', () => {
    expect(problems({ ...redrive, Extensions: { RedriveOf: { JobId: OLD, ReportManifest: 's3://old/x.json' } } })).toEqual([
      expect.stringMatching(/^Extensions.RedriveOf.ReportManifest: expected the S3 object ARN/),
    ]);
    expect(
      problems({ ...redrive, Extensions: { RedriveOf: { JobId: 'other', ReportManifest: `arn:aws:s3:::old-reports/job-${OLD}/manifest.json` } } })
    ).toEqual([expect.stringMatching(/^Extensions.RedriveOf.ReportManifest: must be the report manifest of job other/)]);
    expect(problems({ ...redrive, Extensions: { RedriveOf: { JobId: OLD } } })).toEqual([
      expect.stringMatching(/^Extensions.RedriveOf.ReportManifest: /),
    ]);
    expect(problems({ ...redrive, Extensions: { RedriveOf: { ...redrive.Extensions!.RedriveOf, Extra: 1 } } })).toEqual([
      expect.stringMatching(/^Extensions.RedriveOf: unknown field/),
    ]);
  });

  test('without RedriveOf a Manifest is still required', () => {
    const { Extensions: _e, ...rest } = redrive;
    expect(problems(rest)).toEqual(['Manifest: required (or ManifestGenerator, or Extensions.RedriveOf)']);
  });
});

describe('redriveToken', () => {
  test('deterministic, distinct per job, valid as a ClientRequestToken', () => {
    expect(redriveToken(OLD)).toBe(`redrive:${OLD}`);
    expect(redriveToken(OLD)).toBe(redriveToken(OLD));
    expect(redriveToken('a')).not.toBe(redriveToken('b'));
    const long = 'x'.repeat(200);
    expect(redriveToken(long)).toHaveLength(56);
    expect(redriveToken(long)).not.toBe(redriveToken(`${long}y`));
  });
});

describe('report records → redrive manifest rows', () => {
  const rows: ReportRow[] = [
    { bucket: 'data', key: 'plain/key.txt', versionId: '', result: { status: 'failed', httpStatus: 404, errorCode: 'NoSuchKey', message: 'gone' } },
    { bucket: 'data', key: 'a%2Cb', versionId: 'v1', result: { status: 'failed', errorCode: 'X', message: 'multi\nline, "quoted"\r\nmessage' } },
    { bucket: 'data', key: 'k,with,commas', versionId: '', result: { status: 'failed', message: '' } },
    { bucket: 'BAD', key: 'x', versionId: '', result: { status: 'failed', errorCode: 'InvalidManifestRow', message: 'bad bucket' } },
    { bucket: 'data', key: 'caf%C3%A9', versionId: '', result: { status: 'failed', message: 'ünïcødé ✓' } },
  ];
  const text = rows.map((r) => `${reportLine(r)}\n`).join('');

  async function recordsOf(chunks: string[]): Promise<string[][]> {
    const out: string[][] = [];
    for await (const record of reportRecords(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(record);
    return out;
  }

  test('one record per report row, whatever the chunking (even inside a UTF-8 character)', async () => {
    const expected = rows.map((r) => [r.bucket, r.key, r.versionId]);
    expect(await recordsOf([text])).toEqual(expected);
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const out: string[][] = [];
      for await (const record of reportRecords(Readable.from(chunks))) out.push(record);
      expect(out).toEqual(expected);
    }
  });

  test('blank lines are skipped; a last record without a line break counts; short records are padded', async () => {
    expect(await recordsOf(['\n\nb,k1,,failed\n\n', 'b,k2'])).toEqual([
      ['b', 'k1', ''],
      ['b', 'k2', ''],
    ]);
    expect(await recordsOf(['"b","k"'])).toEqual([['b', 'k', '']]);
  });

  test('each row parses back, as a manifest row, to the failed object', async () => {
    const columns = { bucket: 0, key: 1, versionId: 2, count: 3 };
    const parsed = (await recordsOf([text])).map((r) => parseManifestLine(redriveRow(r).replace(/\n$/, ''), 0, columns));
    expect(parsed[0]).toMatchObject({ bucket: 'data', rawKey: 'plain/key.txt', key: 'plain/key.txt', versionId: undefined });
    expect(parsed[1]).toMatchObject({ bucket: 'data', rawKey: 'a%2Cb', key: 'a,b', versionId: 'v1' });
    expect(parsed[2]).toMatchObject({ bucket: 'data', rawKey: 'k,with,commas', key: 'k,with,commas' });
    // A row that was bad in the old job is bad again, for the same reason.
    expect(parsed[3]?.error).toMatch(/"BAD" is not a valid bucket name/);
    expect(parsed[4]).toMatchObject({ key: 'café' });
    for (const row of rows) expect(redriveRow([row.bucket, row.key, row.versionId])).not.toMatch(/\n./);
  });
});
