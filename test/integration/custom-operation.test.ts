/**
 * A custom operation registered in the worker (the repo's example, examples/custom-operation/set-content-type.ts)
 * run as a real job on MinIO: each object gets the Content-Type its suffix calls for, keeping its metadata and tags;
 * an object already right is not copied; an unknown suffix, a missing key and a bad version fail their rows with
 * their reasons. Parameters the operation's schema refuses, and an operation the worker does not have, fail the job
 * before any task, naming the field or the registered operations.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { setContentType } from '../../examples/custom-operation/set-content-type';
import { createBucket, csvJob, putManifest, readReport, startEngine, uniqueBucket, withVersionIds, type Engine } from '../helpers/engine';

let engine: Engine;
const data = uniqueBucket('custom-data');

beforeAll(async () => {
  engine = await startEngine({ customOperations: [setContentType] });
  await createBucket(engine.s3, data);
});

afterAll(() => engine?.close());

const put = (key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  engine.s3.send(new PutObjectCommand({ Bucket: data, Key: key, Body: `body of ${key}`, ContentType: 'application/octet-stream', ...extra }));
const head = (key: string) => engine.s3.send(new HeadObjectCommand({ Bucket: data, Key: key }));

function job(manifestKey: string, parameters: Record<string, unknown>): CreateJobInput {
  return withVersionIds(
    csvJob({ bucket: data, key: manifestKey }, { CustomOperation: { Name: 'SetContentType', Parameters: parameters } }, data)
  );
}

test('sets each object\'s Content-Type by suffix, keeping metadata and tags; bad rows fail with their reasons', async () => {
  await put('site/index.html', { Metadata: { owner: 'web' }, CacheControl: 'max-age=60', Tagging: 'team=web' });
  const logo = await put('site/logo.png', { ContentType: 'image/png' });
  await put('site/readme.md');
  await put('site/data.bin');
  const rows = [
    `${data},site/index.html,`,
    `${data},site/logo.png,`,
    `${data},site/readme.md,`,
    `${data},site/data.bin,`,
    `${data},site/missing.html,`,
    `${data},site/index.html,${randomUUID()}`,
  ];
  const manifest = await putManifest(engine.s3, data, `custom-${randomUUID().slice(0, 8)}`, rows);
  const { jobId } = await engine.jobs.createJob(job(manifest.key, { Types: { '.md': 'text/markdown' } }));
  const done = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(done.Status).toBe('Complete');
  expect(done.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 6, NumberOfTasksSucceeded: 3, NumberOfTasksFailed: 3 });

  const page = await head('site/index.html');
  expect(page).toMatchObject({ ContentType: 'text/html; charset=utf-8', CacheControl: 'max-age=60', Metadata: { owner: 'web' } });
  expect((await engine.s3.send(new GetObjectTaggingCommand({ Bucket: data, Key: 'site/index.html' }))).TagSet).toEqual([
    { Key: 'team', Value: 'web' },
  ]);
  expect((await head('site/readme.md')).ContentType).toBe('text/markdown');
  // Already right: not copied, so its ETag and modification are the original's.
  expect((await head('site/logo.png')).ETag).toBe(logo.ETag);
  expect((await head('site/data.bin')).ContentType).toBe('application/octet-stream');

  const { rows: report } = await readReport(engine.s3, data, done.S3Batch.ReportManifestKey!);
  expect(report).toHaveLength(6);
  const row = (key: string, versioned = false) => report.find((r) => r.key === key && (r.versionId !== '') === versioned);
  expect(row('site/index.html')).toMatchObject({ status: 'succeeded', message: 'Successful: application/octet-stream -> text/html; charset=utf-8' });
  expect(row('site/logo.png')).toMatchObject({ status: 'succeeded', message: 'Successful: already image/png' });
  expect(row('site/data.bin')).toMatchObject({ status: 'failed', errorCode: 'UnknownSuffix', message: expect.stringMatching(/no content type for "\.bin"/) });
  expect(row('site/missing.html')).toMatchObject({ status: 'failed', errorCode: 'NotFound', httpStatus: '404' });
  expect(row('site/index.html', true)).toMatchObject({ status: 'failed', httpStatus: expect.stringMatching(/^4\d\d$/) });
});

async function startRaw(request: CreateJobInput) {
  return engine.client.workflow.start('batchJobWorkflow', {
    taskQueue: engine.taskQueue,
    workflowId: `custom-${randomUUID()}`,
    args: [request],
  });
}

test('parameters the operation refuses fail the job before any task, naming the field', async () => {
  const handle = await startRaw(job('manifests/none.csv', { Types: { md: 'text/markdown' }, Extra: 1 }));
  await expect(handle.result()).rejects.toMatchObject({
    cause: expect.objectContaining({
      message: expect.stringMatching(
        /Operation\.CustomOperation\.Parameters\.Types\.md: key: expected a suffix such as "\.md".*Operation\.CustomOperation\.Parameters: unknown field "Extra"/
      ),
    }),
  });
});

test('an operation the worker has not registered fails the job, listing the ones it has', async () => {
  const request = job('manifests/none.csv', {});
  const handle = await startRaw({ ...request, Operation: { CustomOperation: { Name: 'Shred', Parameters: {} } } });
  await expect(handle.result()).rejects.toMatchObject({
    cause: expect.objectContaining({
      message: expect.stringMatching(/Operation\.CustomOperation\.Name: no custom operation "Shred" is registered in this worker \(registered: SetContentType\)/),
    }),
  });
});
