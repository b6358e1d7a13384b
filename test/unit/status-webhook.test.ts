import { WorkerConfig } from '../../src/schemas/worker-config';
/**
 * Status webhooks without a server stack: the signature scheme, the body of a notification, the queue, one
 * delivery attempt against a local HTTP server (how each answer is classified), and the URL checks (spec and
 * the worker's allow-list in validateJob).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { Connections } from '../../src/activities/s3-clients';
import {
  deliverStatusWebhook,
  isWebhookUrlAllowed,
  signBody,
  signedRequest,
  verifySignature,
  type WebhookSettings,
} from '../../src/activities/status-webhook';
import { validateJob } from '../../src/activities/validate-job';
import { WebhookErrorType, type StatusWebhookEvent } from '../../src/shared/status-webhook';
import { validateJobSpec, type CreateJobInput } from '../../src/schemas/job-spec';
import { loadWorkerConfig, parseWorkerConfig, resolveWebhookSecret, WorkerConfigError } from '../../src/schemas/worker-config';
import type { JobState, WebhookState } from '../../src/workflows/job-state';
import { enqueue, MAX_PENDING_CHANGES, statusEvent } from '../../src/workflows/status-webhook';

const SECRET = 'unit-test-secret-0123456789';

const base: CreateJobInput = {
  AccountId: '123456789012',
  Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } },
  Report: { Enabled: true, Bucket: 'arn:aws:s3:::reports', Format: 'Report_CSV_20180820', Prefix: 'r/', ReportScope: 'AllTasks' },
  Manifest: {
    Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
    Location: { ObjectArn: 'arn:aws:s3:::manifests/m.csv', ETag: '60e460c9d1046e73f7dde5043ac3ae85' },
  },
  Extensions: { StatusWebhook: { Url: 'https://hooks.example.com/s3-batch' } },
};

function stateOf(overrides: Partial<JobState> = {}): JobState {
  const r = validateJobSpec(base);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return {
    job: r.job,
    status: 'Active',
    priority: 10,
    createdAt: '2026-01-01T00:00:00.000Z',
    failureReasons: [],
    prepared: { etag: 'e', size: 30, rows: 3, pageBytes: 30, pageCount: 1 },
    nextPage: 1,
    pages: {},
    pagesDone: 1,
    succeeded: 2,
    failed: 1,
    failures: { NoSuchKey: 1 },
    activeSeconds: 5,
    ...overrides,
  };
}

function event(sequence = 1): StatusWebhookEvent {
  return statusEvent('job-1', stateOf(), 'Ready', 'go', sequence);
}

describe('signature', () => {
  test('sha256=<hex HMAC-SHA256 of the raw body>, checked in constant time', () => {
    const body = '{"JobId":"j","Sequence":1}';
    const expected = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(signBody(SECRET, body)).toBe(`sha256=${expected}`);
    expect(verifySignature(SECRET, body, `sha256=${expected}`)).toBe(true);
    expect(verifySignature(SECRET, `${body} `, `sha256=${expected}`)).toBe(false);
    expect(verifySignature('another-secret-0123456789', body, `sha256=${expected}`)).toBe(false);
    expect(verifySignature(SECRET, body, undefined)).toBe(false);
    expect(verifySignature(SECRET, body, 'sha256=00')).toBe(false);
  });

  test('a delivery: the body is the JSON of the event; headers sign it and name the delivery', () => {
    const e = event(7);
    const { body, headers } = signedRequest(SECRET, { url: 'https://x/', event: e });
    expect(JSON.parse(body)).toEqual(e);
    expect(headers).toEqual({
      'Content-Type': 'application/json',
      'User-Agent': 's3-batch',
      'X-S3Batch-Signature': signBody(SECRET, body),
      'X-S3Batch-Delivery': 'job-1/7',
    });
  });
});

describe('notification body', () => {
  test('a running job: status, previous status, reason, sequence, time, progress; nothing terminal', () => {
    const e = statusEvent('job-1', stateOf({ status: 'Pausing' }), 'Active', 'lunch', 6);
    expect(e).toEqual({
      JobId: 'job-1',
      JobArn: 'arn:aws:s3:local:123456789012:job/job-1',
      Sequence: 6,
      Time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      Status: 'Pausing',
      PreviousStatus: 'Active',
      StatusUpdateReason: 'lunch',
      ProgressSummary: {
        TotalNumberOfTasks: 3,
        NumberOfTasksSucceeded: 2,
        NumberOfTasksFailed: 1,
        Timers: { ElapsedTimeInActiveSeconds: 5 },
      },
      Summary: 'Pausing: 3 of 3 tasks done, 1 failed (NoSuchKey: 1)',
    });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  test('the first notification has no previous status and no reason', () => {
    const e = statusEvent('job-1', stateOf({ status: 'New', prepared: undefined, succeeded: 0, failed: 0, failures: {} }), null, undefined, 1);
    expect(e).toMatchObject({ Sequence: 1, Status: 'New', PreviousStatus: null, StatusUpdateReason: null });
    expect(e.ProgressSummary.TotalNumberOfTasks).toBeUndefined();
  });

  test('terminal notifications carry the failure reasons and where the report is', () => {
    const complete = statusEvent('job-1', stateOf({ status: 'Complete', reportManifestKey: 'r/job-job-1/manifest.json' }), 'Completing', undefined, 9);
    expect(complete).toMatchObject({
      Status: 'Complete',
      FailureReasons: [],
      Report: { Bucket: 'reports', ManifestKey: 'r/job-job-1/manifest.json' },
      Summary: 'Complete with 1 failed task of 3 (NoSuchKey: 1)',
    });
    const failures = [{ FailureCode: 'ManifestUnreadable', FailureReason: 'NoSuchKey' }];
    const failed = statusEvent('job-1', stateOf({ status: 'Failed', failureReasons: failures }), 'Preparing', 'The manifest could not be prepared', 3);
    expect(failed).toMatchObject({ Status: 'Failed', FailureReasons: failures, Report: null });
  });

  test('a full queue drops the oldest waiting change (never the one in flight) and counts it', () => {
    const webhook: WebhookState = { sequence: 0, pending: [], delivered: 0, rejected: 0, undelivered: 0 };
    for (let i = 1; i <= MAX_PENDING_CHANGES + 2; i++) enqueue(webhook, event(i));
    expect(webhook.pending).toHaveLength(MAX_PENDING_CHANGES);
    expect(webhook.undelivered).toBe(2);
    expect(webhook.pending.map((e) => e.Sequence).slice(0, 3)).toEqual([1, 4, 5]);
    expect(webhook.pending.at(-1)?.Sequence).toBe(MAX_PENDING_CHANGES + 2);
  });
});

describe('one delivery attempt', () => {
  let server: Server;
  let url: string;
  let answer: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        answer(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/s3-batch`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (received.length = 0));

  const settings = (): WebhookSettings => ({ secret: SECRET, allowedUrlPrefixes: [url], timeoutMs: 2000 });
  const reply = (status: number, text = '', headers: Record<string, string> = {}) => {
    answer = (_req, res) => {
      res.writeHead(status, headers);
      res.end(text);
    };
  };
  async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }

  test('2xx: delivered, POSTed as signed JSON', async () => {
    reply(204);
    const sent = event(3);
    await expect(deliverStatusWebhook(settings(), { url, event: sent })).resolves.toEqual({ status: 204 });
    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-s3batch-delivery']).toBe('job-1/3');
    expect(verifySignature(SECRET, got!.body, got!.headers['x-s3batch-signature'] as string)).toBe(true);
    expect(JSON.parse(got!.body)).toEqual(sent);
  });

  test.each([500, 502, 503, 408, 429, 401, 404])('%i: retryable (the receiver may come back or be fixed)', async (status) => {
    reply(status, 'not now');
    const err = await failure(deliverStatusWebhook(settings(), { url, event: event() }));
    expect(err.nonRetryable).toBe(false);
    expect(err.type).toBe(WebhookErrorType.Unavailable);
    expect(err.message).toContain(`answered ${status}: not now`);
  });

  test.each([400, 413, 415, 422])('%i: rejected for good (the same bytes will never be accepted)', async (status) => {
    reply(status);
    const err = await failure(deliverStatusWebhook(settings(), { url, event: event() }));
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe(WebhookErrorType.Rejected);
  });

  test('redirects are not followed (they would lead past the allow-list)', async () => {
    reply(302, '', { Location: 'http://169.254.169.254/latest/meta-data/' });
    const err = await failure(deliverStatusWebhook(settings(), { url, event: event() }));
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toMatch(/answered 302.*redirects are not followed/);
    expect(received).toHaveLength(1);
  });

  test('nobody listening, or no answer in time: unreachable, retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = `http://127.0.0.1:${port}/`;
    const refused = await failure(deliverStatusWebhook({ secret: SECRET, timeoutMs: 2000 }, { url: down, event: event() }));
    expect(refused).toMatchObject({ type: WebhookErrorType.Unreachable, nonRetryable: false });
    expect(refused.message).toMatch(/unreachable: ECONNREFUSED/);

    answer = () => undefined; // never answers
    const slow = await failure(deliverStatusWebhook({ ...settings(), timeoutMs: 200 }, { url, event: event() }));
    expect(slow).toMatchObject({ type: WebhookErrorType.Unreachable, nonRetryable: false });
    expect(slow.message).toMatch(/no answer in 200 ms/);
  });

  test('a worker without the secret, or whose allow-list excludes the URL, does not call', async () => {
    reply(200);
    const noSecret = await failure(deliverStatusWebhook({ timeoutMs: 2000 }, { url, event: event() }));
    expect(noSecret).toMatchObject({ type: WebhookErrorType.NotConfigured, nonRetryable: false });
    const elsewhere = await failure(
      deliverStatusWebhook({ ...settings(), allowedUrlPrefixes: ['https://hooks.example.com/'] }, { url, event: event() })
    );
    expect(elsewhere.message).toMatch(/not allowed by this worker's webhooks.allowedUrlPrefixes/);
    expect(received).toHaveLength(0);
  });
});

describe('which URLs a job may name', () => {
  const connections = new Connections(WorkerConfig.parse({ s3: { default: {} } }));
  const withUrl = (Url: string): CreateJobInput => ({ ...base, Extensions: { StatusWebhook: { Url } } });
  const validate = (request: CreateJobInput, webhooks?: { hasSecret: boolean; allowedUrlPrefixes?: string[] }) => {
    const r = validateJob(connections, request, { priorityLevels: 5, taskExecution: 'Activity', webhooks });
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };

  test('the allow-list is a prefix of the normalised URL: same scheme and host, path under the prefix', () => {
    const allowed = ['https://Hooks.Example.com', 'http://127.0.0.1:8080/hooks/'];
    expect(isWebhookUrlAllowed('https://hooks.example.com/any/path?x=1', allowed)).toBe(true);
    expect(isWebhookUrlAllowed('http://127.0.0.1:8080/hooks/s3', allowed)).toBe(true);
    expect(isWebhookUrlAllowed('https://hooks.example.com.evil.net/', allowed)).toBe(false);
    expect(isWebhookUrlAllowed('https://hooks.example.com:444/', allowed)).toBe(false);
    expect(isWebhookUrlAllowed('http://hooks.example.com/', allowed)).toBe(false);
    expect(isWebhookUrlAllowed('http://127.0.0.1:8080/other', allowed)).toBe(false);
    expect(isWebhookUrlAllowed('http://127.0.0.1:8080/hooks/../admin', allowed)).toBe(false);
    expect(isWebhookUrlAllowed('https://anywhere.example.org/', undefined)).toBe(true);
  });

  test('validateJob: a webhook needs a worker secret, and a URL the allow-list allows', () => {
    const job = withUrl('https://hooks.example.com/s3-batch');
    expect(validate(job, { hasSecret: true })).toEqual([]);
    expect(validate(job, { hasSecret: true, allowedUrlPrefixes: ['https://hooks.example.com/'] })).toEqual([]);
    expect(validate(job, undefined)).toEqual([
      expect.stringMatching(/^Extensions\.StatusWebhook\.Url: this worker has no webhook secret .*S3BATCH_WEBHOOK_SECRET/),
    ]);
    expect(validate(job, { hasSecret: false, allowedUrlPrefixes: ['https://hooks.example.com/'] })).toHaveLength(1);
    expect(validate(job, { hasSecret: true, allowedUrlPrefixes: ['https://internal.example.com/', 'http://127.0.0.1/'] })).toEqual([
      'Extensions.StatusWebhook.Url: https://hooks.example.com/s3-batch is not allowed by this worker\'s webhooks.allowedUrlPrefixes (https://internal.example.com/, http://127.0.0.1/)',
    ]);
    // Jobs without a webhook do not care whether the worker has a secret.
    expect(validate({ ...base, Extensions: {} }, undefined)).toEqual([]);
  });

  test('the spec: http(s) only, no credentials in the URL, defaults applied', () => {
    expect(validate(withUrl('ftp://hooks.example.com/'), { hasSecret: true })).toEqual([
      'Extensions.StatusWebhook.Url: expected an http(s) URL, got the scheme ftp',
    ]);
    expect(validate(withUrl('hooks.example.com'), { hasSecret: true })).toEqual([
      expect.stringMatching(/^Extensions\.StatusWebhook\.Url: expected an http\(s\) URL such as/),
    ]);
    expect(validate(withUrl('https://user:token@hooks.example.com/'), { hasSecret: true })).toEqual([
      expect.stringMatching(/^Extensions\.StatusWebhook\.Url: must not carry credentials/),
    ]);
    const r = validateJobSpec(withUrl('https://hooks.example.com/'));
    expect(r.ok && r.job.extensions.StatusWebhook).toEqual({ Url: 'https://hooks.example.com/', GiveUpAfterHours: 24, MaxRetryIntervalSeconds: 60 });
  });
});

describe('worker config', () => {
  test('S3BATCH_WEBHOOK_SECRET is recorded by name; the secret is read when the worker starts', () => {
    const config = loadWorkerConfig({ S3BATCH_WEBHOOK_SECRET: SECRET });
    expect(config.webhooks).toEqual({ secretEnv: 'S3BATCH_WEBHOOK_SECRET', timeoutSeconds: 10 });
    expect(JSON.stringify(config)).not.toContain(SECRET);
    expect(resolveWebhookSecret(config.webhooks, { S3BATCH_WEBHOOK_SECRET: SECRET })).toBe(SECRET);
    expect(() => resolveWebhookSecret(config.webhooks, {})).toThrow(/environment variable S3BATCH_WEBHOOK_SECRET is not set/);
    expect(resolveWebhookSecret(loadWorkerConfig({}).webhooks, {})).toBeUndefined();
  });

  test('secret or secretEnv, long enough; allow-list entries are http(s) URLs', () => {
    expect(parseWorkerConfig({ webhooks: { secret: SECRET, allowedUrlPrefixes: ['https://hooks.example.com/'] } }).webhooks).toEqual({
      secret: SECRET,
      allowedUrlPrefixes: ['https://hooks.example.com/'],
      timeoutSeconds: 10,
    });
    expect(() => parseWorkerConfig({ webhooks: { secret: SECRET, secretEnv: 'X' } })).toThrow(/webhooks: give secret or secretEnv, not both/);
    expect(() => parseWorkerConfig({ webhooks: { secret: 'short' } })).toThrow(/webhooks\.secret: use at least 16 characters/);
    expect(() => parseWorkerConfig({ webhooks: { allowedUrlPrefixes: ['ftp://x/'] } })).toThrow(WorkerConfigError);
    expect(() => loadWorkerConfig({ S3BATCH_WEBHOOK_SECRET: 'short' })).toThrow(/S3BATCH_WEBHOOK_SECRET: use at least 16 characters/);
  });
});
