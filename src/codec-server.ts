/**
 * The codec server: `npm run codec-server`. Temporal Web (and `temporal` CLI with --codec-endpoint) sends it the
 * payloads it shows and gets them back decrypted, so people with the keys see job inputs and results while history
 * holds ciphertext. POST /decode and /encode take and return `{ "payloads": [{ "metadata": {name: base64}, "data":
 * base64 }] }`, as Temporal documents.
 *
 * Configuration: S3BATCH_PAYLOAD_KEYS (required), S3BATCH_CODEC_HOST/PORT (127.0.0.1:8888), S3BATCH_CODEC_ORIGINS
 * (comma list of Web UI origins allowed by CORS; http://localhost:8233 and http://127.0.0.1:8233 by default), and
 * S3BATCH_CODEC_TOKEN: when set, requests must carry `Authorization: Bearer <token>` (Temporal Web can pass the
 * user's access token; put the codec server behind your own auth otherwise, since it decrypts for whoever asks).
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import './node-version-guard';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { AesGcmCodec } from './codec/aes-gcm-codec';
import { PayloadKeyError, payloadKeysFromEnv } from './codec/payload-keys';
import { zodProblems, formatProblems } from './shared/problems';

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const PayloadsBody = z
  .object({ payloads: z.array(z.object({ metadata: z.record(z.string(), Base64).default({}), data: Base64.default('') }).strict()).max(10_000) })
  .strict();

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface CodecServerOptions {
  codec: AesGcmCodec;
  host?: string;
  port?: number;
  origins?: string[];
  token?: string;
}

const toPayload = (p: z.infer<typeof PayloadsBody>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data, 'base64')),
});
const fromPayload = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export async function startCodecServer(options: CodecServerOptions): Promise<{ server: Server; url: string }> {
  const origins = options.origins ?? ['http://localhost:8233', 'http://127.0.0.1:8233'];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin && origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') return answer(204, {});
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method !== 'POST' || (path !== '/decode' && path !== '/encode')) return answer(404, { error: 'POST /decode or /encode' });
    if (options.token && !tokenMatches(req.headers.authorization, options.token)) return answer(401, { error: 'missing or wrong bearer token' });
    let json: unknown;
    try {
      json = JSON.parse(await readBody(req));
    } catch (err) {
      return answer(400, { error: `the body is not JSON: ${(err as Error).message}` });
    }
    const parsed = PayloadsBody.safeParse(json);
    if (!parsed.success) return answer(400, { error: formatProblems(zodProblems(parsed.error.issues)) });
    try {
      const payloads = parsed.data.payloads.map(toPayload);
      const out = path === '/decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
      return answer(200, { payloads: out.map(fromPayload) });
    } catch (err) {
      return answer(400, { error: (err as Error).message });
    }
  };
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(options.port ?? 8888, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return { server, url: `http://${address}:${port}` };
}

const Env = z.object({
  S3BATCH_CODEC_HOST: z.string().min(1).default('127.0.0.1'),
  S3BATCH_CODEC_PORT: z.coerce.number().int().min(0).max(65535).default(8888),
  S3BATCH_CODEC_ORIGINS: z.string().optional(),
  S3BATCH_CODEC_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
});

async function main(): Promise<void> {
  const env = Env.safeParse(process.env);
  if (!env.success) throw new Error(`codec server: ${formatProblems(zodProblems(env.error.issues))}`);
  const keys = payloadKeysFromEnv();
  if (!keys) throw new Error('codec server: set S3BATCH_PAYLOAD_KEYS (id=base64key[,…]) to the keys the workers use');
  const { url } = await startCodecServer({
    codec: new AesGcmCodec(keys),
    host: env.data.S3BATCH_CODEC_HOST,
    port: env.data.S3BATCH_CODEC_PORT,
    origins: env.data.S3BATCH_CODEC_ORIGINS?.split(',').map((o) => o.trim()),
    token: env.data.S3BATCH_CODEC_TOKEN,
  });
  console.log(`s3-batch codec server on ${url} (POST /decode, /encode); keys: ${[...keys.keys.keys()].join(', ')}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof PayloadKeyError ? err.message : (err as Error).message);
    process.exit(1);
  });
}
