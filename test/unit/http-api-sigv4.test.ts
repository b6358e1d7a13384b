/**
 * SigV4 verification: requests signed as the AWS SDK signs them pass; every kind of bad signature, an expired or
 * future-dated request and a presigned URL get AWS's error.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiError } from '../../src/http-api/errors';
import { verifySigV4, type ReceivedRequest } from '../../src/http-api/sigv4';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const secrets = new Map([[KEY.accessKeyId, KEY.secretAccessKey]]);
const NOW = new Date('2026-11-22T06:30:00Z');

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/** Signs like the SDK (payload hash header, uri not double-encoded) and returns the request as the server sees it. */
async function signed(
  options: { method?: string; path?: string; query?: Record<string, string | string[]>; body?: string; key?: typeof KEY; date?: Date; region?: string } = {}
): Promise<ReceivedRequest> {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/v20180820/jobs/abc-123/status';
  const query = options.query ?? { requestedJobStatus: 'Ready', statusUpdateReason: 'go now' };
  const body = options.body ?? '';
  const signer = new SignatureV4({
    credentials: options.key ?? KEY,
    region: options.region ?? 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  const request = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8080,
      path,
      query,
      headers: { host: '127.0.0.1:8080', 'x-amz-account-id': '123456789012', 'content-type': 'application/xml' },
      body,
    },
    { signingDate: options.date ?? NOW }
  );
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : [v]) search.append(k, one);
  const qs = search.toString().replace(/\+/g, '%20');
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, url: `${path}${qs ? `?${qs}` : ''}`, headers, body: Buffer.from(body) };
}

async function rejection(request: ReceivedRequest, now = NOW): Promise<ApiError> {
  try {
    await verifySigV4(request, secrets, now);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the request to be refused');
}

test('a correctly signed request passes and names its caller', async () => {
  const request = await signed();
  await expect(verifySigV4(request, secrets, NOW)).resolves.toEqual({ accessKeyId: KEY.accessKeyId, region: 'us-east-1' });
  const body = '<PutJobTaggingRequest><Tags/></PutJobTaggingRequest>';
  await expect(verifySigV4(await signed({ method: 'PUT', path: '/v20180820/jobs/abc-123/tagging', query: {}, body }), secrets, NOW)).resolves.toBeTruthy();
  // Repeated query names (ListJobs jobStatuses) and any region in the scope.
  const list = await signed({ method: 'GET', path: '/v20180820/jobs', query: { jobStatuses: ['Active', 'Complete'], maxResults: '5' }, region: 'eu-west-1' });
  await expect(verifySigV4(list, secrets, NOW)).resolves.toMatchObject({ accessKeyId: KEY.accessKeyId, region: 'eu-west-1' });
});

test('no Authorization header: AccessDenied', async () => {
  const request = await signed();
  delete request.headers.authorization;
  expect(await rejection(request)).toMatchObject({ code: 'AccessDenied', status: 403 });
});

test('wrong secret, or any signed part changed: SignatureDoesNotMatch', async () => {
  expect(await rejection(await signed({ key: { ...KEY, secretAccessKey: 'wrong' } }))).toMatchObject({
    code: 'SignatureDoesNotMatch',
    status: 403,
  });
  const tamperedQuery = await signed();
  tamperedQuery.url = tamperedQuery.url.replace('Ready', 'Cancelled');
  expect((await rejection(tamperedQuery)).code).toBe('SignatureDoesNotMatch');
  const tamperedHeader = await signed();
  tamperedHeader.headers['x-amz-account-id'] = '999999999999';
  expect((await rejection(tamperedHeader)).code).toBe('SignatureDoesNotMatch');
  const tamperedMethod = await signed();
  tamperedMethod.method = 'GET';
  expect((await rejection(tamperedMethod)).code).toBe('SignatureDoesNotMatch');
});

test('a body that is not the signed one: XAmzContentSHA256Mismatch', async () => {
  const request = await signed({ method: 'PUT', path: '/v20180820/jobs/abc-123/tagging', query: {}, body: '<a/>' });
  request.body = Buffer.from('<b/>');
  expect(await rejection(request)).toMatchObject({ code: 'XAmzContentSHA256Mismatch', status: 400 });
});

test('UNSIGNED-PAYLOAD (as botocore sends over HTTPS) is accepted; its headers are still checked', async () => {
  const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const headers = { host: '127.0.0.1:8080', 'x-amz-account-id': '123456789012', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  const out = await signer.sign(
    { method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: '/v20180820/jobs/abc-123/tagging', query: {}, headers, body: '<a/>' },
    { signingDate: NOW }
  );
  const request: ReceivedRequest = {
    method: 'PUT',
    url: '/v20180820/jobs/abc-123/tagging',
    headers: Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from('<a/>'),
  };
  await expect(verifySigV4(request, secrets, NOW)).resolves.toBeTruthy();
  request.headers['x-amz-account-id'] = '999999999999';
  expect((await rejection(request)).code).toBe('SignatureDoesNotMatch');
});

test('unknown access key: InvalidAccessKeyId', async () => {
  expect(await rejection(await signed({ key: { ...KEY, accessKeyId: 'AKIDUNKNOWN' } }))).toMatchObject({
    code: 'InvalidAccessKeyId',
    status: 403,
  });
});

test('more than 15 minutes off: RequestTimeTooSkewed, either way', async () => {
  expect(await rejection(await signed({ date: new Date(NOW.getTime() - 16 * 60_000) }))).toMatchObject({
    code: 'RequestTimeTooSkewed',
    status: 403,
  });
  expect((await rejection(await signed({ date: new Date(NOW.getTime() + 16 * 60_000) }))).code).toBe('RequestTimeTooSkewed');
  await expect(verifySigV4(await signed({ date: new Date(NOW.getTime() - 14 * 60_000) }), secrets, NOW)).resolves.toBeTruthy();
});

test('a request expires 15 minutes after its x-amz-date, and is not accepted more than 15 minutes early', async () => {
  const request = await signed();
  const at = (ms: number) => new Date(NOW.getTime() + ms);
  // The same request, checked at different server times: accepted up to exactly 15 minutes either side.
  await expect(verifySigV4(request, secrets, at(15 * 60_000))).resolves.toBeTruthy();
  expect((await rejection(request, at(15 * 60_000 + 1000))).code).toBe('RequestTimeTooSkewed');
  await expect(verifySigV4(request, secrets, at(-15 * 60_000))).resolves.toBeTruthy();
  expect((await rejection(request, at(-15 * 60_000 - 1000))).code).toBe('RequestTimeTooSkewed');
  // Far off either way, and no usable date at all.
  expect((await rejection(request, at(24 * 3600_000))).code).toBe('RequestTimeTooSkewed');
  expect((await rejection(request, at(-24 * 3600_000))).code).toBe('RequestTimeTooSkewed');
  const undated = await signed();
  undated.headers['x-amz-date'] = '2026-11-22 06:30:00';
  expect(await rejection(undated)).toMatchObject({ code: 'AccessDenied', status: 403, message: expect.stringMatching(/x-amz-date/) });
});

test('presigned URLs (query-string auth) are refused, expired or not; with an Authorization header too, InvalidArgument', async () => {
  const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const presign = async (signingDate: Date, expiresIn: number): Promise<ReceivedRequest> => {
    const out = await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 8080, path: '/v20180820/jobs', query: {}, headers: { host: '127.0.0.1:8080' } },
      { signingDate, expiresIn }
    );
    const search = new URLSearchParams(out.query as Record<string, string>).toString();
    expect(search).toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
    return { method: 'GET', url: `/v20180820/jobs?${search}`, headers: { host: '127.0.0.1:8080' }, body: Buffer.alloc(0) };
  };
  const fresh = await rejection(await presign(NOW, 900));
  expect(fresh).toMatchObject({ code: 'AccessDenied', status: 403, message: expect.stringMatching(/^Presigned URLs .* are not supported/) });
  const expired = await rejection(await presign(new Date(NOW.getTime() - 2 * 3600_000), 60));
  expect(expired).toMatchObject({ code: 'AccessDenied', status: 403, message: fresh.message });

  const both = await signed({ method: 'GET', path: '/v20180820/jobs', query: {} });
  both.url += '?X-Amz-Signature=0000';
  expect(await rejection(both)).toMatchObject({ code: 'InvalidArgument', status: 400, message: expect.stringMatching(/^Only one auth mechanism allowed/) });
});

test('a malformed header or another service: AuthorizationHeaderMalformed', async () => {
  const request = await signed();
  request.headers.authorization = 'AWS AKIDEXAMPLE:abc';
  expect(await rejection(request)).toMatchObject({ code: 'AuthorizationHeaderMalformed', status: 400 });
  const otherService = await signed();
  otherService.headers.authorization = String(otherService.headers.authorization).replace('/s3/aws4_request', '/iam/aws4_request');
  expect((await rejection(otherService)).code).toBe('AuthorizationHeaderMalformed');
});
