/** Sends a SigV4-signed request to the HTTP API by hand, for bodies no SDK would send (garbage, huge, hostile). */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

export interface SignedRequestOptions {
  baseUrl: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  accountId: string;
  method: string;
  path: string;
  body?: string | Uint8Array;
}

export async function signedRequest(o: SignedRequestOptions): Promise<{ status: number; text: string }> {
  const url = new URL(o.path, o.baseUrl);
  const headers: Record<string, string> = { host: url.host, 'x-amz-account-id': o.accountId };
  if (o.body !== undefined) headers['content-type'] = 'application/xml';
  const signer = new SignatureV4({ credentials: o.credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: true });
  const signed = await signer.sign({
    method: o.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers,
    body: o.body,
  });
  const { host: _host, ...sent } = { ...headers, ...signed.headers };
  const response = await fetch(url, { method: o.method, headers: sent, body: o.body });
  return { status: response.status, text: await response.text() };
}
