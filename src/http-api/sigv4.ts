/**
 * AWS Signature Version 4 verification (header form, as the AWS SDKs sign). The signature is recomputed with
 * @smithy/signature-v4, the signer the SDKs themselves use, over the request as received: method, raw path, query,
 * exactly the headers the client listed in SignedHeaders, and the payload hash; then compared in constant time.
 * Presigned URLs (query-string auth, X-Amz-Signature/X-Amz-Expires in the query) are refused, expired or not: the
 * job calls have no use for them. As at AWS, the same signed request
 * sent again inside the window is served again.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { apiErrors } from './errors';

/** The hash constructor the signer wants: SHA-256, or HMAC-SHA-256 when given a key. */
class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/** AWS refuses requests whose x-amz-date is more than 15 minutes from its clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
const SERVICE = 's3';
const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

export interface ReceivedRequest {
  method: string;
  /** The request target as received: raw (still percent-encoded) path and query. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface VerifiedCaller {
  accessKeyId: string;
  region: string;
}

/** Query parameters that carry query-string authentication: SigV4 presigned URLs, and SigV2's `Signature`. */
const QUERY_AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'Signature'];

function header(headers: ReceivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Parses x-amz-date (20261122T063034Z). */
function parseAmzDate(text: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The query as the signer wants it: decoded names and values, repeated names as arrays. */
export function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    const prior = query[name];
    query[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return query;
}

/**
 * Verifies the request's signature against the configured secrets. Returns the caller, or throws the ApiError AWS
 * would send: AccessDenied (no signature, or a presigned URL), InvalidArgument (both), AuthorizationHeaderMalformed,
 * InvalidAccessKeyId, RequestTimeTooSkewed, XAmzContentSHA256Mismatch, SignatureDoesNotMatch.
 */
export async function verifySigV4(
  request: ReceivedRequest,
  secrets: ReadonlyMap<string, string>,
  now: Date = new Date()
): Promise<VerifiedCaller> {
  const authorization = header(request.headers, 'authorization');
  const url = new URL(request.url, 'http://placeholder');
  const queryAuth = QUERY_AUTH_PARAMS.some((name) => url.searchParams.has(name));
  if (queryAuth) throw authorization ? apiErrors.twoAuthMechanisms() : apiErrors.presignedNotSupported();
  if (!authorization) throw apiErrors.accessDenied();
  const match = AUTH_PATTERN.exec(authorization.trim());
  if (!match) {
    throw apiErrors.authorizationHeaderMalformed('expected AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…');
  }
  const [, accessKeyId, , region, service, signedHeaderList, signature] = match as unknown as string[];
  if (service !== SERVICE) throw apiErrors.authorizationHeaderMalformed(`the service '${service}' is wrong; expecting '${SERVICE}'`);
  const secret = secrets.get(accessKeyId!);
  if (secret === undefined) throw apiErrors.invalidAccessKeyId();

  const signingDate = parseAmzDate(header(request.headers, 'x-amz-date'));
  if (!signingDate) throw apiErrors.accessDenied('AWS authentication requires a valid x-amz-date header');
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) throw apiErrors.requestTimeTooSkewed();

  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host')) throw apiErrors.authorizationHeaderMalformed('host must be a signed header');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(request.headers, name);
    if (value === undefined) throw apiErrors.signatureDoesNotMatch();
    headers[name] = value;
  }

  // The signer trusts x-amz-content-sha256 as the payload hash; make sure it is the body's. UNSIGNED-PAYLOAD is
  // accepted as S3 accepts it (botocore sends it over HTTPS): the headers are still signed, the body is left to TLS.
  const declared = header(request.headers, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== 'UNSIGNED-PAYLOAD') {
    const actual = createHash('sha256').update(request.body).digest('hex');
    if (declared !== actual) throw apiErrors.contentSha256Mismatch();
  }

  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKeyId!, secretAccessKey: secret },
    region: region!,
    service: SERVICE,
    sha256: Sha256,
    // S3 signs the path as sent (no second encoding), as the SDK's S3 Control endpoints say (disableDoubleEncoding).
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: url.pathname,
      query: parseQuery(url.search),
      headers,
      body: request.body,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) }
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(signature!, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw apiErrors.signatureDoesNotMatch();
  return { accessKeyId: accessKeyId!, region: region! };
}
