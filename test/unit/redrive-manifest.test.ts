/**
 * buildRedriveManifest against an in-memory S3 fake: only failed shards are read; a small manifest is one PutObject; a
 * big one is a multipart upload whose parts (all but the last at least S3's 5 MiB) concatenate to the manifest; a
 * missing report is a permanent RedriveReportNotFound; a failure halfway aborts the multipart upload.
 */
import { Readable } from 'node:stream';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { buildRedriveManifest, PART_BYTES, type BuildRedriveManifestInput } from '../../src/activities/manifest/redrive';
import type { Connections } from '../../src/activities/s3-clients';

type Call = { command: string; input: Record<string, unknown> };

function fakeS3(objects: Record<string, string>, options: { failOn?: (call: Call) => boolean } = {}) {
  const calls: Call[] = [];
  const written: Record<string, Buffer> = {};
  const parts: Record<number, Buffer> = {};
  const s3 = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const call = { command: command.constructor.name, input: command.input };
      calls.push(call);
      if (options.failOn?.(call)) throw Object.assign(new Error('access denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      const path = `${call.input.Bucket}/${call.input.Key}`;
      switch (call.command) {
        case 'GetObjectCommand': {
          const text = objects[path];
          if (text === undefined) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
          // Small chunks, as a network stream would give them.
          const bytes = Buffer.from(text);
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += 64 * 1024) chunks.push(bytes.subarray(i, i + 64 * 1024));
          return { Body: Object.assign(Readable.from(chunks), { transformToString: async () => text }) };
        }
        case 'PutObjectCommand':
          written[path] = call.input.Body as Buffer;
          return { ETag: '"single"' };
        case 'CreateMultipartUploadCommand':
          return { UploadId: 'up-1' };
        case 'UploadPartCommand':
          parts[call.input.PartNumber as number] = call.input.Body as Buffer;
          return { ETag: `"part-${call.input.PartNumber}"` };
        case 'CompleteMultipartUploadCommand': {
          const list = (call.input.MultipartUpload as { Parts: { PartNumber: number }[] }).Parts;
          written[path] = Buffer.concat(list.map((p) => parts[p.PartNumber]!));
          return { ETag: `"multi-${list.length}"` };
        }
        case 'AbortMultipartUploadCommand':
          return {};
        default:
          throw new Error(`unexpected ${call.command}`);
      }
    },
  };
  return { connections: { s3: () => s3 } as unknown as Connections, calls, written, parts };
}

const OLD = 'old-job';
const input: BuildRedriveManifestInput = {
  jobId: 'new-job',
  source: { jobId: OLD, bucket: 'reports', key: `batch/job-${OLD}/manifest.json` },
  report: { connection: 'default', bucket: 'reports', prefix: 'batch', scope: 'AllTasks' },
};
const reportManifest = (results: { status: string; key: string }[]) =>
  JSON.stringify({
    Format: 'Report_CSV_20180820',
    ReportSchema: 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage',
    Results: results.map((r) => ({ TaskExecutionStatus: r.status, Bucket: 'reports', Key: r.key, MD5Checksum: '' })),
  });
const failedLine = (i: number) => `data,objects/${String(i).padStart(7, '0')}.txt,,failed,404,NoSuchKey,"The specified key does not exist."\n`;

beforeEach(() => {
  jest.spyOn(Context, 'current').mockReturnValue({ heartbeat: () => undefined, cancellationSignal: undefined } as unknown as Context);
});
afterEach(() => jest.restoreAllMocks());

test('a small manifest: failed shards only, one PutObject in the new job folder', async () => {
  const fake = fakeS3({
    [`reports/${input.source.key}`]: reportManifest([
      { status: 'failed', key: 'batch/job-old-job/results/a.csv' },
      { status: 'succeeded', key: 'batch/job-old-job/results/b.csv' },
      { status: 'failed', key: 'batch/job-old-job/results/c.csv' },
    ]),
    'reports/batch/job-old-job/results/a.csv': failedLine(1) + failedLine(2),
    'reports/batch/job-old-job/results/b.csv': 'data,ok.txt,,succeeded,200,,"Successful"\n',
    'reports/batch/job-old-job/results/c.csv': 'data,a%2Cb,v9,failed,500,InternalError,"line one\nline two"\n',
  });
  const built = await buildRedriveManifest(fake.connections, input);
  const text = 'data,objects/0000001.txt,\ndata,objects/0000002.txt,\ndata,a%2Cb,v9\n';
  expect(built).toEqual({
    bucket: 'reports',
    key: 'batch/job-new-job/redrive-manifest.csv',
    etag: 'single',
    size: Buffer.byteLength(text),
    rows: 3,
    shards: 2,
  });
  expect(fake.written['reports/batch/job-new-job/redrive-manifest.csv']!.toString()).toBe(text);
  expect(fake.calls.map((c) => c.input.Key)).not.toContain('batch/job-old-job/results/b.csv');
});

test('a big manifest goes up in parts of at least PART_BYTES, in order', async () => {
  const count = Math.ceil((2.5 * PART_BYTES) / 32);
  let shard = '';
  for (let i = 0; i < count; i++) shard += failedLine(i);
  const fake = fakeS3({
    [`reports/${input.source.key}`]: reportManifest([{ status: 'failed', key: 'batch/job-old-job/results/big.csv' }]),
    'reports/batch/job-old-job/results/big.csv': shard,
  });
  const built = await buildRedriveManifest(fake.connections, input);
  expect(built.rows).toBe(count);
  expect(built.etag).toMatch(/^multi-\d+$/);
  const uploads = fake.calls.filter((c) => c.command === 'UploadPartCommand').map((c) => (c.input.Body as Buffer).length);
  expect(uploads.length).toBeGreaterThanOrEqual(2);
  expect(uploads.slice(0, -1).every((n) => n >= PART_BYTES)).toBe(true);
  const text = fake.written['reports/batch/job-new-job/redrive-manifest.csv']!.toString();
  expect(text.length).toBe(built.size);
  const lines = text.split('\n');
  expect(lines).toHaveLength(count + 1);
  expect(lines[0]).toBe('data,objects/0000000.txt,');
  expect(lines[count - 1]).toBe(`data,objects/${String(count - 1).padStart(7, '0')}.txt,`);
});

test('a report with no failed rows builds an empty manifest (the job then ends NothingToRedrive)', async () => {
  const fake = fakeS3({ [`reports/${input.source.key}`]: reportManifest([{ status: 'succeeded', key: 'x.csv' }]) });
  expect(await buildRedriveManifest(fake.connections, input)).toMatchObject({ rows: 0, shards: 0, size: 0 });
});

test('a missing report manifest is permanent: RedriveReportNotFound', async () => {
  const fake = fakeS3({});
  const err = await buildRedriveManifest(fake.connections, input).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: 'RedriveReportNotFound', nonRetryable: true });
  expect((err as Error).message).toMatch(/report manifest s3:\/\/reports\/batch\/job-old-job\/manifest.json of job old-job/);
});

test('a report manifest that is not one is permanent: RedriveReportUnreadable', async () => {
  const fake = fakeS3({ [`reports/${input.source.key}`]: '{"Results": 3}' });
  await expect(buildRedriveManifest(fake.connections, input)).rejects.toMatchObject({ type: 'RedriveReportUnreadable', nonRetryable: true });
});

test('a failed part write aborts the multipart upload', async () => {
  let shard = '';
  for (let i = 0; i < Math.ceil((2.5 * PART_BYTES) / 32); i++) shard += failedLine(i);
  const fake = fakeS3(
    {
      [`reports/${input.source.key}`]: reportManifest([{ status: 'failed', key: 'big.csv' }]),
      'reports/big.csv': shard,
    },
    { failOn: (call) => call.command === 'UploadPartCommand' && call.input.PartNumber === 2 }
  );
  await expect(buildRedriveManifest(fake.connections, input)).rejects.toMatchObject({ type: 'RedriveManifestWriteFailed' });
  expect(fake.calls.some((c) => c.command === 'AbortMultipartUploadCommand' && c.input.UploadId === 'up-1')).toBe(true);
});
