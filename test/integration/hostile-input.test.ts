/**
 * Hostile input (issue #8): thousands of generated malformed job specs, manifests of garbage (random bytes, invalid
 * UTF-8, NUL bytes, unbalanced quotes, a 10 MB single row) and HTTP bodies. Every one is rejected with a message
 * saying what and where, or failed per row with a reason in the report; the worker (its own process) stays up and
 * within a memory bound; nothing is left as an unhandled rejection. Inputs come from a seeded PRNG: a failure prints
 * the seed and the input that broke.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { JobClient, JobSpecError } from '../../src/client';
import { parseApiConfig } from '../../src/http-api/config';
import { startApiServer, type ApiServer } from '../../src/http-api/server';
import { validateJobSpec, type CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putText, readReport, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { prng } from '../helpers/prng';
import { signedRequest } from '../helpers/raw-http';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const SEED = Number(process.env.S3BATCH_FUZZ_SEED ?? 8);
const random = prng(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);
let engine: Engine;
let worker: WorkerProcess;
const data = uniqueBucket('fuzz-data');
const tagging: CreateJobInput['Operation'] = { S3PutObjectTagging: { TagSet: [{ Key: 'fuzz', Value: '1' }] } };

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  engine = await startEngine({ startWorker: false });
  worker = await spawnWorker(engine.config);
  await worker.ready;
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, ['good/0', 'good/1', 'good/2']);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await worker?.kill('SIGTERM');
  await engine?.close();
});

afterEach(() => expect(unhandled).toEqual([]));

/** Strings a hostile author might send: empty, huge, control characters, lone surrogates, RTL, emoji, markup. */
function nastyString(): string {
  return pick([
    () => '',
    () => 'x'.repeat(100_000),
    () => '\u0000\u0001\u001f',
    () => '\ud800',
    () => '\udfff\ud800',
    () => '\u202e\u200b',
    () => '😀'.repeat(50),
    () => '<x>&amp;</x>',
    () => '"\',\n\r',
    () => 'arn:aws:s3:::',
    () => 'a'.repeat(int(300)),
  ])();
}

function nastyValue(depth = 0): unknown {
  return pick([
    () => nastyString(),
    () => pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, NaN, Infinity, -Infinity]),
    () => pick([true, false, null, undefined]),
    () => (depth < 3 ? Array.from({ length: int(4) }, () => nastyValue(depth + 1)) : []),
    () => (depth < 3 ? { [nastyString().slice(0, 20)]: nastyValue(depth + 1) } : {}),
    () => deepObject(200 + int(300)),
    () => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
  ])();
}

function deepObject(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { nested: value };
  return value;
}

/** Every [parent, key] place in a JSON value. */
function places(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): typeof out {
  if (Array.isArray(value)) value.forEach((child, i) => (out.push([value, i]), places(child, out)));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, key]);
      places(child, out);
    }
  }
  return out;
}

function mutatedSpec(): unknown {
  const spec = JSON.parse(JSON.stringify(csvJob({ bucket: 'fuzz-bucket', key: 'm.csv', etag: 'e' }, tagging, 'fuzz-reports'))) as Record<string, unknown>;
  const mutations = 1 + int(3);
  for (let m = 0; m < mutations; m++) {
    const all = places(spec);
    const [parent, key] = pick(all);
    const how = int(4);
    if (how === 0) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (how === 1) (parent as Record<string | number, unknown>)[key] = nastyValue();
    else if (how === 2 && !Array.isArray(parent)) parent[nastyString().slice(0, 30) || 'Extra'] = nastyValue();
    else (parent as Record<string | number, unknown>)[key] = pick(['', 0, null, [], {}, 'true']);
  }
  return pick([() => spec, () => spec, () => nastyValue(), () => [spec]])();
}

test('3,000 malformed job specs: each is refused with problems naming where, or is valid; none throws', () => {
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const spec = mutatedSpec();
    let result: ReturnType<typeof validateJobSpec>;
    try {
      result = validateJobSpec(spec);
    } catch (err) {
      throw new Error(`seed ${SEED}, case ${i}: validateJobSpec threw ${(err as Error).stack}\ninput: ${JSON.stringify(spec)?.slice(0, 2000)}`);
    }
    if (result.ok) continue;
    refused++;
    for (const problem of result.problems) {
      const where = `seed ${SEED}, case ${i}: ${JSON.stringify(problem).slice(0, 300)} for ${JSON.stringify(spec)?.slice(0, 500)}`;
      if (typeof problem.path !== 'string' || typeof problem.message !== 'string' || problem.message.trim() === '') throw new Error(`unclear problem: ${where}`);
      // A message says what is wrong; it does not echo a 100 KB value back.
      if (problem.message.length > 1000) throw new Error(`message of ${problem.message.length} characters: ${where}`);
    }
  }
  expect(refused).toBeGreaterThan(2500);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('malformed specs through the client and the worker: refused, or failed with a reason; the worker stays up', async () => {
  let thrown = 0;
  for (let i = 0; i < 15; i++) {
    const spec = mutatedSpec();
    const attempt = await engine.jobs.createJob(spec as CreateJobInput).then(
      (created) => created,
      (err: unknown) => err
    );
    if (attempt instanceof JobSpecError) {
      thrown++;
      expect(attempt.message.length).toBeGreaterThan(10);
      continue;
    }
    if (attempt instanceof Error) throw new Error(`seed ${SEED}, case ${i}: createJob failed with ${attempt.name}: ${attempt.message}`);
    // The client let it through (it names a manifest that cannot be read): the job must end Failed, with a reason.
    const job = await engine.jobs.waitForCompletion((attempt as { jobId: string }).jobId, { timeoutMs: 60_000 });
    expect(job.Status).toBe('Failed');
    expect(job.FailureReasons[0]?.FailureReason).toEqual(expect.any(String));
  }
  expect(thrown).toBeGreaterThan(0);
  // A job that names a connection the worker does not have passes the client and fails in the worker.
  const elsewhere = await engine.jobs.createJob(csvJob({ bucket: data, key: 'm.csv' }, tagging, data, { Extensions: { Connection: 'nowhere' } }));
  const failed = await engine.jobs.waitForCompletion(elsewhere.jobId, { timeoutMs: 60_000 });
  expect(failed.FailureReasons[0]?.FailureReason).toMatch(/Extensions\.Connection: unknown S3 connection "nowhere"/);
});

/** The manifest's lines as the engine counts them: split at \n, a last empty piece dropped. */
function lineCount(bytes: Buffer): number {
  let lines = 0;
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      lines++;
      start = i + 1;
    }
  }
  return lines + (start < bytes.length ? 1 : 0);
}

async function runManifest(name: string, body: Buffer) {
  await engine.s3.send(new PutObjectCommand({ Bucket: data, Key: `${name}.csv`, Body: body }));
  const { jobId } = await engine.jobs.createJob(csvJob({ bucket: data, key: `${name}.csv` }, tagging, data, { Extensions: { PageSize: 50 } }));
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 });
  expect(job.Status).toBe('Complete');
  const total = lineCount(body);
  expect(job.ProgressSummary.TotalNumberOfTasks).toBe(total);
  expect(job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed).toBe(total);
  const { rows } = await readReport(engine.s3, data, job.S3Batch.ReportManifestKey!);
  expect(rows).toHaveLength(total);
  for (const row of rows.filter((r) => r.status === 'failed')) {
    expect(row.errorCode).not.toBe('');
    expect(row.message).not.toBe('');
  }
  return { job, rows };
}

const peakRssKiB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${worker.child.pid}/status`, 'utf8'))?.[1] ?? 0);

test('manifests of garbage: every line is a task once, bad ones failed with a reason', async () => {
  const good = ['good/0', 'good/1', 'good/2'].map((k) => Buffer.from(`${data},${k}\n`));
  const garbage = [
    Buffer.from(Array.from({ length: 2000 }, () => int(256))),
    Buffer.from([0xff, 0xfe, 0x2c, 0xc3, 0x28, 0x0a]),
    Buffer.from(`${data},key\u0000with-nul\n`),
    Buffer.from(`${data},"unbalanced\n`),
    Buffer.from(`${data},${'k'.repeat(100_000)}\n`),
    Buffer.from(`${data},a,b,c,d,e\r\n\r\n\n`),
    Buffer.from(`\u202e${data},x\r`),
    Buffer.from('\n'),
  ];
  const body = Buffer.concat([...good, ...garbage.sort(() => random() - 0.5).flatMap((g) => [g, Buffer.from('\n')]), good[0]!]);
  const { rows } = await runManifest(`garbage-${randomUUID().slice(0, 8)}`, body);
  // The good rows still ran.
  expect(rows.filter((r) => r.status === 'succeeded' && r.key.startsWith('good/')).length).toBe(4);
});

test('a 10 MB single row fails as one task; the worker stays within a memory bound and keeps working', async () => {
  const row = Buffer.alloc(10 * 1024 * 1024, 'k');
  const { rows } = await runManifest(`huge-row-${randomUUID().slice(0, 8)}`, Buffer.concat([Buffer.from(`${data},`), row, Buffer.from(`\n${data},good/1\n`)]));
  expect(rows.map((r) => r.status).sort()).toEqual(['failed', 'succeeded']);
  expect(rows.find((r) => r.status === 'failed')!.message).toMatch(/longer than|too long|bytes/i);
  // Reading a 10 MB line must not hold it several times over: the worker's peak stays under 1 GiB (it starts near 250 MiB).
  expect(peakRssKiB()).toBeLessThan(1024 * 1024);
  const after = await engine.jobs.createJob(csvJob({ bucket: data, key: 'ok.csv', etag: await putText(engine.s3, data, 'ok.csv', `${data},good/2\n`) }, tagging, data));
  expect((await engine.jobs.waitForCompletion(after.jobId, { timeoutMs: 60_000 })).Status).toBe('Complete');
});

describe('HTTP API', () => {
  const ACCOUNT = '123456789012';
  const KEY = { accessKeyId: 'AKIAFUZZ', secretAccessKey: `secret-${randomUUID()}` };
  let api: ApiServer;
  beforeAll(async () => {
    const config = parseApiConfig({
      listen: { host: '127.0.0.1', port: 0 },
      accessKeys: [KEY],
      temporal: { address: engine.config.temporal.address, namespace: engine.config.temporal.namespace, taskQueue: engine.taskQueue },
    });
    api = await startApiServer({ config, jobs: new JobClient(engine.client, { taskQueue: engine.taskQueue }) });
  });
  afterAll(() => api?.close());

  const validXml = `<?xml version="1.0" encoding="UTF-8"?><CreateJobRequest xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><Operation><S3PutObjectTagging><TagSet><member><Key>a</Key><Value>b</Value></member></TagSet></S3PutObjectTagging></Operation><Report><Enabled>false</Enabled></Report><Priority>5</Priority><RoleArn>arn:aws:iam::123456789012:role/x</RoleArn><ClientRequestToken>TOKEN</ClientRequestToken><Manifest><Spec><Format>S3BatchOperations_CSV_20180820</Format><Fields><member>Bucket</member><member>Key</member></Fields></Spec><Location><ObjectArn>arn:aws:s3:::b/m.csv</ObjectArn><ETag>e</ETag></Location></Manifest></CreateJobRequest>`;

  function hostileBody(): string | Buffer {
    return pick<() => string | Buffer>([
      () => Buffer.from(Array.from({ length: int(3000) }, () => int(256))),
      () => validXml.slice(0, int(validXml.length)),
      () => validXml.replace('<Priority>5</Priority>', `<Priority>${nastyString().slice(0, 200)}</Priority>`),
      () => validXml.replace('CreateJobRequest', pick(['Foo', 'createjobrequest', 'CreateJobRequest x="'])),
      () => `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><CreateJobRequest>&lol2;</CreateJobRequest>`,
      () => `<CreateJobRequest>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</CreateJobRequest>`,
      () => validXml.replace('<Operation>', '<Operation><Operation>'),
      () => validXml.replace('</Manifest>', `</Manifest><Description>${'d'.repeat(int(2000))}</Description>`),
      () => `${validXml}${'x'.repeat(int(100))}`,
      () => '',
    ])();
  }

  test('500 hostile CreateJob bodies: each an AWS-style 4xx error, never a 5xx; the API still serves', async () => {
    for (let i = 0; i < 500; i++) {
      const raw = hostileBody();
      const body = typeof raw === 'string' ? raw.replace('TOKEN', randomUUID()) : raw;
      const answer = await signedRequest({ url: api.url, credentials: KEY, accountId: ACCOUNT, method: 'POST', path: '/v20180820/jobs', body });
      const where = `seed ${SEED}, case ${i}: ${answer.status} ${answer.text.slice(0, 300)} for ${String(body).slice(0, 300)}`;
      if (answer.status < 400 || answer.status >= 500) {
        // A body that happens to be a valid request may create a job; anything else must be refused by the client's fault.
        if (answer.status === 200) continue;
        throw new Error(`not a 4xx: ${where}`);
      }
      if (!/<Code>\w+<\/Code>/.test(answer.text) || !/<Message>[^<]+<\/Message>/.test(answer.text)) throw new Error(`no AWS error body: ${where}`);
    }
    const huge = await signedRequest({ url: api.url, credentials: KEY, accountId: ACCOUNT, method: 'POST', path: '/v20180820/jobs', body: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    const list = await signedRequest({ url: api.url, credentials: KEY, accountId: ACCOUNT, method: 'GET', path: '/v20180820/jobs' });
    expect(list.status).toBe(200);
  }, 180_000);
});
