/**
 * Status webhooks on the real stack: a receiver on 127.0.0.1 that is down (connection refused, then 503) for the
 * first deliveries still gets every status change of a job, once each, in order, with valid signatures; the
 * queue survives continue-as-new; the workflow does not end while changes are pending, and gives up after
 * GiveUpAfterHours; a URL outside the worker's allow-list fails the job's validation.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import type { StatusWebhookEvent } from '../../src/shared/status-webhook';
import type { JobDescriptor } from '../../src/shared/types';
import {
  createBucket,
  csvJob,
  manifestKey,
  putManifest,
  seedObjects,
  startEngine,
  uniqueBucket,
  type Engine,
} from '../helpers/engine';

const SECRET = 'integration-webhook-secret-0123456789';

/** A webhook receiver whose availability the test controls. Records every request it answers. */
class Receiver {
  private server?: Server;
  /** Requests answered 2xx, in arrival order. */
  readonly accepted: { body: string; headers: IncomingHttpHeaders }[] = [];
  /** Deliveries (X-S3Batch-Delivery) answered 503. */
  readonly refused: string[] = [];
  /** While > 0, requests are answered 503 (and this counts down). */
  unavailableFor = 0;
  /** Answer 503 to everything. */
  alwaysUnavailable = false;
  /** A status to answer to particular deliveries (X-S3Batch-Delivery), instead of the above. */
  answerFor?: (delivery: string) => number | undefined;

  constructor(readonly port: number) {}

  static async reservePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  url(path = '/hooks/s3-batch'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const special = this.answerFor?.(String(req.headers['x-s3batch-delivery']));
        if (special) {
          res.writeHead(special).end('no');
          return;
        }
        if (this.alwaysUnavailable || this.unavailableFor > 0) {
          this.unavailableFor = Math.max(0, this.unavailableFor - 1);
          this.refused.push(String(req.headers['x-s3batch-delivery']));
          res.writeHead(503).end('maintenance');
          return;
        }
        this.accepted.push({ body, headers: req.headers });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  events(): StatusWebhookEvent[] {
    return this.accepted.map((r) => JSON.parse(r.body) as StatusWebhookEvent);
  }
}

let engine: Engine;
let receiver: Receiver;
const data = uniqueBucket('hook-data');
const reports = uniqueBucket('hook-reports');
const keys = Array.from({ length: 200 }, (_, i) => `h/${i}.txt`);
const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'hooked', Value: 'yes' }] } };

beforeAll(async () => {
  receiver = new Receiver(await Receiver.reservePort());
  engine = await startEngine({
    workerConfig: {
      webhooks: { secret: SECRET, allowedUrlPrefixes: [receiver.url('/hooks/')], timeoutSeconds: 5 },
    },
  });
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
  await seedObjects(engine.s3, data, keys);
});
afterAll(async () => {
  await receiver?.down();
  await engine?.close();
});

async function waitFor(jobId: string, predicate: (job: JobDescriptor) => boolean, timeoutMs = 60_000): Promise<JobDescriptor> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await engine.jobs.describeJob(jobId);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`timed out; last status ${job.Status} ${JSON.stringify(job.S3Batch)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const done = (job: JobDescriptor) => job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed;
const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

test('a receiver down for the first deliveries gets every status change once, in order, signed', async () => {
  const manifest = await putManifest(engine.s3, data, 'hooked', keys.map((k) => `${data},${manifestKey(k)}`));
  // Nobody listens on the port yet: the first deliveries meet a refused connection.
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, {
      ConfirmationRequired: true,
      Description: 'webhook test',
      Extensions: {
        PageSize: 20,
        MaxConcurrentPages: 1,
        MaxConcurrentTasksPerPage: 1,
        StatusWebhook: { Url: receiver.url(), MaxRetryIntervalSeconds: 2 },
      },
    })
  );
  // The job does not wait for its notifications: it reaches Suspended with all three still queued.
  const suspended = await waitFor(jobId, (j) => j.Status === 'Suspended');
  expect(suspended.S3Batch.StatusWebhook).toEqual({ Notifications: 3, Delivered: 0, Pending: 3, Rejected: 0, Undelivered: 0 });

  // Back, but answering 503 to the next three requests.
  receiver.unavailableFor = 3;
  await receiver.up();
  await engine.jobs.confirmJob(jobId, 'looks right');
  await waitFor(jobId, (j) => j.Status === 'Active' && done(j) > 0);
  await engine.jobs.pauseJob(jobId, 'lunch');
  await waitFor(jobId, (j) => j.Status === 'Paused');
  await engine.jobs.resumeJob(jobId, 'back');
  const final = (await engine.jobs.handle(jobId).result()) as JobDescriptor;
  expect(final.Status).toBe('Complete');
  expect(final.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 200, NumberOfTasksSucceeded: 200, NumberOfTasksFailed: 0 });

  // Every change, once, in order, numbered 1..N, and the workflow ended only after the last was delivered.
  const events = receiver.events();
  expect(events.map((e) => e.Status)).toEqual([
    'New',
    'Preparing',
    'Suspended',
    'Ready',
    'Active',
    'Pausing',
    'Paused',
    'Active',
    'Completing',
    'Complete',
  ]);
  expect(events.map((e) => e.Sequence)).toEqual(events.map((_, i) => i + 1));
  expect(events.map((e) => e.PreviousStatus)).toEqual([null, ...events.slice(0, -1).map((e) => e.Status)]);
  expect(final.S3Batch.StatusWebhook).toEqual({ Notifications: 10, Delivered: 10, Pending: 0, Rejected: 0, Undelivered: 0 });
  // The 503s were answered to the first undelivered change and it was sent again; nothing went out of turn.
  expect(receiver.refused).toEqual([`${jobId}/1`, `${jobId}/1`, `${jobId}/1`]);

  for (const [i, request] of receiver.accepted.entries()) {
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-s3batch-signature']).toBe(sign(request.body));
    expect(request.headers['x-s3batch-delivery']).toBe(`${jobId}/${i + 1}`);
  }

  // The bodies say what happened.
  for (const e of events) {
    expect(e.JobId).toBe(jobId);
    expect(e.JobArn).toBe(final.JobArn);
    expect(Number.isNaN(Date.parse(e.Time))).toBe(false);
  }
  expect(events.map((e) => Date.parse(e.Time))).toEqual([...events.map((e) => Date.parse(e.Time))].sort((a, b) => a - b));
  expect(events.map((e) => e.StatusUpdateReason)).toEqual([null, null, null, 'looks right', null, 'lunch', null, 'back', null, null]);
  expect(events[0]!.ProgressSummary.TotalNumberOfTasks).toBeUndefined();
  expect(events[2]!.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 200, NumberOfTasksSucceeded: 0 });
  const paused = events[6]!;
  expect(paused.ProgressSummary.NumberOfTasksSucceeded).toBeGreaterThan(0);
  expect(paused.ProgressSummary.NumberOfTasksSucceeded).toBeLessThan(200);
  expect(events.slice(0, -1).every((e) => e.FailureReasons === undefined && e.Report === undefined)).toBe(true);
  expect(events.at(-1)).toMatchObject({
    Status: 'Complete',
    PreviousStatus: 'Completing',
    ProgressSummary: { TotalNumberOfTasks: 200, NumberOfTasksSucceeded: 200, NumberOfTasksFailed: 0 },
    FailureReasons: [],
    Report: { Bucket: reports, ManifestKey: final.S3Batch.ReportManifestKey },
    Summary: 'Complete: all 200 tasks succeeded',
    Time: final.TerminationDate,
  });
});

test('the queue survives continue-as-new: changes pending across runs still arrive, in order', async () => {
  const manifest = await putManifest(engine.s3, data, 'hooked-can', keys.slice(0, 100).map((k) => `${data},${manifestKey(k)}`));
  // Unavailable until the job has continued as new at least once with changes still queued.
  receiver.alwaysUnavailable = true;
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, {
      Extensions: { PageSize: 10, MaxConcurrentPages: 2, PagesPerRun: 2, StatusWebhook: { Url: receiver.url(), MaxRetryIntervalSeconds: 1 } },
    })
  );
  const runs = async () => {
    let n = 0;
    for await (const _ of engine.client.workflow.list({ query: `WorkflowId = '${jobId}'` })) n++;
    return n;
  };
  for (let i = 0; (await runs()) < 3; i++) {
    if (i > 300) throw new Error('the job did not continue as new');
    await new Promise((r) => setTimeout(r, 100));
  }
  const queued = await engine.jobs.describeJob(jobId);
  // Nothing delivered, so what is queued (New, Preparing, Ready, Active at least) went through continue-as-new.
  expect(queued.S3Batch.StatusWebhook!.Delivered).toBe(0);
  expect(queued.S3Batch.StatusWebhook!.Pending).toBeGreaterThanOrEqual(4);
  receiver.alwaysUnavailable = false;

  const final = (await engine.jobs.handle(jobId).result()) as JobDescriptor;
  expect(final.Status).toBe('Complete');
  expect(await runs()).toBeGreaterThan(3);
  const mine = receiver.accepted.filter((r) => String(r.headers['x-s3batch-delivery']).startsWith(`${jobId}/`));
  const events = mine.map((r) => JSON.parse(r.body) as StatusWebhookEvent);
  // At least once: a delivery in flight when a run continues as new is sent again by the next run, under the same
  // X-S3Batch-Delivery; receivers dedupe by it. Order is never broken.
  const sequences = events.map((e) => e.Sequence);
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  const unique = [...new Map(events.map((e) => [e.Sequence, e])).values()];
  expect(unique.map((e) => e.Sequence)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(unique.map((e) => e.Status)).toEqual(['New', 'Preparing', 'Ready', 'Active', 'Completing', 'Complete']);
  for (const r of mine) expect(r.headers['x-s3batch-signature']).toBe(sign(r.body));
  expect(final.S3Batch.StatusWebhook).toEqual({ Notifications: 6, Delivered: 6, Pending: 0, Rejected: 0, Undelivered: 0 });
});

test('a change the receiver rejects for good (400) is skipped and counted; later ones still arrive', async () => {
  const manifest = await putManifest(engine.s3, data, 'hooked-400', keys.slice(0, 5).map((k) => `${data},${manifestKey(k)}`));
  let jobId = '';
  receiver.answerFor = (delivery) => (delivery === `${jobId}/2` ? 400 : undefined);
  try {
    jobId = (
      await engine.jobs.createJob(csvJob(manifest, tagging, reports, { Extensions: { StatusWebhook: { Url: receiver.url() } } }))
    ).jobId;
    const final = (await engine.jobs.handle(jobId).result()) as JobDescriptor;
    const events = receiver.events().filter((e) => e.JobId === jobId);
    expect(events.map((e) => [e.Sequence, e.Status])).toEqual([
      [1, 'New'],
      [3, 'Ready'],
      [4, 'Active'],
      [5, 'Completing'],
      [6, 'Complete'],
    ]);
    expect(final.S3Batch.StatusWebhook).toEqual({ Notifications: 6, Delivered: 5, Pending: 0, Rejected: 1, Undelivered: 0 });
  } finally {
    receiver.answerFor = undefined;
  }
});

test('the workflow waits for pending notifications after the job ends, and gives up after GiveUpAfterHours', async () => {
  receiver.alwaysUnavailable = true;
  try {
    const manifest = await putManifest(engine.s3, data, 'hooked-down', keys.slice(0, 5).map((k) => `${data},${manifestKey(k)}`));
    const { jobId } = await engine.jobs.createJob(
      csvJob(manifest, tagging, reports, {
        // 0.002 h = 7.2 s
        Extensions: { StatusWebhook: { Url: receiver.url(), GiveUpAfterHours: 0.002, MaxRetryIntervalSeconds: 1 } },
      })
    );
    // The job itself is done, but its workflow still runs: six changes wait for the receiver.
    const ended = await waitFor(jobId, (j) => j.Status === 'Complete');
    expect(ended.S3Batch.StatusWebhook).toMatchObject({ Notifications: 6, Delivered: 0, Pending: 6 });
    expect((await engine.jobs.handle(jobId).describe()).status.name).toBe('RUNNING');

    const final = (await engine.jobs.handle(jobId).result()) as JobDescriptor;
    expect(final.Status).toBe('Complete');
    expect(final.S3Batch.StatusWebhook).toEqual({ Notifications: 6, Delivered: 0, Pending: 0, Rejected: 0, Undelivered: 6 });
    // Only the first change was ever tried: later ones never overtake it.
    const tried = receiver.refused.filter((d) => d.startsWith(`${jobId}/`));
    expect(tried.length).toBeGreaterThan(1);
    expect(new Set(tried)).toEqual(new Set([`${jobId}/1`]));
  } finally {
    receiver.alwaysUnavailable = false;
  }
});

test("a webhook outside the worker's allow-list fails the job's validation", async () => {
  const manifest = await putManifest(engine.s3, data, 'hooked-elsewhere', [`${data},${manifestKey(keys[0]!)}`]);
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, reports, { Extensions: { StatusWebhook: { Url: receiver.url('/admin/hooks') } } })
  );
  const failure = await engine.jobs.handle(jobId).result().then(
    () => undefined,
    (err: unknown) => err
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause).toMatchObject({
    type: 'InvalidJobSpec',
    message: expect.stringContaining(
      `Extensions.StatusWebhook.Url: ${receiver.url('/admin/hooks')} is not allowed by this worker's webhooks.allowedUrlPrefixes`
    ),
  });
  // Nothing was sent for it.
  expect(receiver.accepted.concat().filter((r) => String(r.headers['x-s3batch-delivery']).startsWith(`${jobId}/`))).toEqual([]);
});
