/**
 * Requests SigV4-signed once and sent as raw bytes over a socket, for what the SDK will not do: send the very same
 * signed request twice, or sign with another date.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

export interface SignedBytesOptions {
  /** The server, http://host:port. */
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  method: string;
  path: string;
  accountId: string;
  body?: string | Buffer;
  signingDate?: Date;
}

/**
 * One request signed as the SDK signs (payload hash, path not double-encoded) as the bytes sent on the wire. Like
 * the SDK it signs a unique amz-sdk-invocation-id: without one, two requests signed in the same second would be the
 * same request.
 */
export async function signedRequestBytes(options: SignedBytesOptions): Promise<Buffer> {
  const { hostname, port, host } = new URL(options.url);
  const body = options.body ?? '';
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  const signed = await signer.sign(
    {
      method: options.method,
      protocol: 'http:',
      hostname,
      port: Number(port),
      path: options.path,
      query: {},
      headers: {
        host,
        'x-amz-account-id': options.accountId,
        'amz-sdk-invocation-id': randomUUID(),
        'content-length': String(Buffer.byteLength(body)),
        ...(body ? { 'content-type': 'application/xml' } : {}),
      },
      body,
    },
    { signingDate: options.signingDate }
  );
  const headerLines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = `${options.method} ${options.path} HTTP/1.1\r\n${headerLines.join('')}connection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.from(body)]);
}

/** Signs and sends one request (any body, bytes included); the status and body of the answer. */
export async function signedRequest(options: SignedBytesOptions): Promise<{ status: number; text: string }> {
  return sendRaw(options.url, await signedRequestBytes(options));
}

/**
 * Sends raw bytes on a fresh connection; returns the response's status and body. The request says `connection:
 * close`, so the server closes the socket after answering (closing our side first could drop the answer).
 */
export function sendRaw(url: string, bytes: Buffer): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const response = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
      resolve({ status, text: response.slice(response.indexOf('\r\n\r\n') + 4) });
    });
  });
}
