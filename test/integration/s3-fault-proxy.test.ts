/**
 * The fault proxy itself, against MinIO: requests pass through unchanged (signatures verify), and each fault kind
 * does what it says: SlowDown and InternalError answer with S3's codes without reaching MinIO, a reset never reaches
 * it, a lost response reaches it (the object changed) while the client hears nothing.
 */
import { GetObjectTaggingCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { classifyAwsError } from '../../src/activities/aws-errors';
import { Connections } from '../../src/activities/s3-clients';
import { WorkerConfig } from '../../src/schemas/worker-config';
import { createBucket, putText, uniqueBucket } from '../helpers/engine';
import { requestSignature, startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy';
import { getStack, s3Client } from '../helpers/stack';

const direct = s3Client();
const bucket = uniqueBucket('faults');
let proxy: FaultProxy;
let viaProxy: S3Client;

beforeAll(async () => {
  await createBucket(direct, bucket);
  await putText(direct, bucket, 'k', 'body');
  proxy = await startFaultProxy({ target: getStack().s3.endpoint, rates: {}, seed: 7 });
  const { s3 } = getStack();
  // No SDK retries: each call is one request, so the fault it met is the error it gets.
  viaProxy = new S3Client({
    endpoint: proxy.endpoint,
    region: s3.region,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
});

afterAll(async () => {
  viaProxy?.destroy();
  await proxy?.close();
  direct.destroy();
});

const tag = (value: string) =>
  viaProxy.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [{ Key: 't', Value: value }] } }));
const tagNow = async () => (await direct.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }))).TagSet?.[0]?.Value;

test('without faults, signed requests pass through and are counted by method, path and query names', async () => {
  await tag('clean');
  expect(await tagNow()).toBe('clean');
  await viaProxy.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a b', Body: 'x' }));
  expect(proxy.requests().get(`PUT /${bucket}/k?tagging`)).toBe(1);
  expect(proxy.requests().get(`PUT /${bucket}/dir/a b`)).toBe(1);
  expect(requestSignature({ method: 'GET', url: '/b/k?versionId=1&tagging&X-Amz-Date=2' })).toBe('GET /b/k?tagging&versionId');
});

test.each([
  ['SlowDown', 503],
  ['InternalError', 500],
] as const)('%s answers %s with S3\'s code, and MinIO never sees the request', async (kind, status) => {
  proxy.setRates({ [kind]: 1 });
  await expect(tag(kind)).rejects.toMatchObject({ name: kind, $metadata: { httpStatusCode: status } });
  expect(await tagNow()).not.toBe(kind);
  expect(proxy.injected()[kind]).toBeGreaterThanOrEqual(1);
});

test('a reset connection fails the call before MinIO acts; a lost response fails it after', async () => {
  proxy.setRates({ reset: 1 });
  await expect(tag('reset')).rejects.toThrow();
  expect(await tagNow()).not.toBe('reset');
  proxy.setRates({ lostResponse: 1 });
  await expect(tag('lost')).rejects.toThrow();
  expect(await tagNow()).toBe('lost');
  expect(proxy.injected()).toMatchObject({ reset: 1, lostResponse: 1 });
  proxy.setRates({});
});

test("a hung request is abandoned after the connection's requestTimeoutSeconds, as a retryable error", async () => {
  const { s3 } = getStack();
  const connections = new Connections(
    WorkerConfig.parse({
      s3: {
        default: {
          endpoint: proxy.endpoint,
          region: s3.region,
          forcePathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
          requestTimeoutSeconds: 1,
        },
      },
    })
  );
  proxy.setRates({ hang: 1 });
  try {
    // The task's client (one attempt: Temporal retries tasks); the many-call client would repeat the hung call.
    const call = connections
      .taskS3('default')
      .send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [{ Key: 't', Value: 'hang' }] } }));
    const err = await call.then(
      () => undefined,
      (e: unknown) => e
    );
    expect(err).toBeDefined();
    expect(classifyAwsError(err)).toMatchObject({ retryable: true });
    expect(await tagNow()).not.toBe('hang');
    expect(proxy.injected().hang).toBe(1);
  } finally {
    proxy.setRates({});
    connections.destroy();
  }
});
