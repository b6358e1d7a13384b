/**
 * An HTTP proxy on loopback in front of an S3 endpoint (MinIO) that fails a share of requests the ways S3 and
 * networks do: 503 SlowDown and 500 InternalError answers (S3's XML error bodies), connections reset before the
 * request reaches S3, responses lost after S3 acted (the request was forwarded and answered, the client never hears),
 * requests that hang (never answered, until the client's timeout), and added latency. Requests are forwarded byte for byte, Host header included, so SigV4 signatures still verify.
 *
 * Which request gets which fault is drawn from a seeded PRNG, so a run can be replayed.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prng } from './prng';

export type FaultKind = 'SlowDown' | 'InternalError' | 'reset' | 'lostResponse' | 'hang';

export interface FaultRates {
  /** Share of requests (0–1) answered 503 SlowDown without reaching S3. */
  SlowDown?: number;
  /** Share answered 500 InternalError without reaching S3. */
  InternalError?: number;
  /** Share whose connection is destroyed before the request reaches S3. */
  reset?: number;
  /** Share forwarded to S3 and answered there, whose connection is then destroyed before the answer is sent. */
  lostResponse?: number;
  /** Share never answered nor forwarded: the connection stays open and silent until the client gives up. */
  hang?: number;
  /** Extra latency before forwarding, drawn uniformly from [0, maxDelayMs]. */
  maxDelayMs?: number;
}

export interface FaultProxyOptions {
  /** The S3 endpoint to forward to, e.g. http://127.0.0.1:9000. */
  target: string;
  rates: FaultRates;
  seed: number;
  /** Which requests may be failed (all by default): e.g. only the tasks' calls, not the manifest read. */
  eligible?: (req: IncomingMessage) => boolean;
  /** A scripted S3 error for a request, answered instead of forwarding it (for answers the server never gives). */
  answer?: (req: IncomingMessage) => { status: number; code: string; message: string } | undefined;
}

export interface FaultProxy {
  endpoint: string;
  /** Faults injected so far, by kind. */
  injected(): Record<FaultKind, number>;
  /** Requests seen, by `METHOD path?query-names` (e.g. `PUT /bucket/key?tagging`), counted. */
  requests(): Map<string, number>;
  /** Requests that reached S3 (forwarded and answered there, whether or not the client heard), counted the same way. */
  forwarded(): Map<string, number>;
  setRates(rates: FaultRates): void;
  close(): Promise<void>;
}

function errorXml(code: string, message: string, resource: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource><RequestId>fault-proxy</RequestId></Error>`;
}

/** `PUT /bucket/key?tagging`: the method, the path and the names of the query parameters (not their values). */
export function requestSignature(req: Pick<IncomingMessage, 'method' | 'url'>): string {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const names = [...url.searchParams.keys()].filter((n) => !n.startsWith('X-Amz-') && n !== 'x-id').sort();
  return `${req.method} ${decodeURIComponent(url.pathname)}${names.length ? `?${names.join('&')}` : ''}`;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  let rates = options.rates;
  const random = prng(options.seed);
  const injected: Record<FaultKind, number> = { SlowDown: 0, InternalError: 0, reset: 0, lostResponse: 0, hang: 0 };
  const seen = new Map<string, number>();
  const reached = new Map<string, number>();

  const pick = (req: IncomingMessage): FaultKind | undefined => {
    if (options.eligible && !options.eligible(req)) return undefined;
    let roll = random();
    for (const kind of ['SlowDown', 'InternalError', 'reset', 'lostResponse', 'hang'] as const) {
      const share = rates[kind] ?? 0;
      if (roll < share) return kind;
      roll -= share;
    }
    return undefined;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, lose: boolean) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const signature = requestSignature(req);
        reached.set(signature, (reached.get(signature) ?? 0) + 1);
        if (lose) {
          // S3 acted; the client must not learn it. Read the answer to its end, then cut the client's connection.
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      }
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    const signature = requestSignature(req);
    seen.set(signature, (seen.get(signature) ?? 0) + 1);
    const fault = pick(req);
    const delay = rates.maxDelayMs ? random() * rates.maxDelayMs : 0;
    const act = () => {
      const scripted = options.answer?.(req);
      if (scripted) {
        req.resume();
        res.writeHead(scripted.status, { 'Content-Type': 'application/xml' });
        res.end(errorXml(scripted.code, scripted.message, req.url ?? '/'));
        return;
      }
      if (fault) injected[fault]++;
      switch (fault) {
        case 'SlowDown':
        case 'InternalError': {
          const status = fault === 'SlowDown' ? 503 : 500;
          const message = fault === 'SlowDown' ? 'Please reduce your request rate.' : 'We encountered an internal error. Please try again.';
          req.resume();
          res.writeHead(status, { 'Content-Type': 'application/xml' });
          res.end(errorXml(fault, message, req.url ?? '/'));
          return;
        }
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang':
          // Read the request so the client is left waiting for an answer, and send nothing.
          req.resume();
          return;
        default:
          forward(req, res, fault === 'lostResponse');
      }
    };
    if (delay > 0) setTimeout(act, delay);
    else act();
  });
  // Clients keep connections alive; destroying sockets is part of the job, so errors on them are expected.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected: () => ({ ...injected }),
    requests: () => new Map(seen),
    forwarded: () => new Map(reached),
    setRates(next) {
      rates = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
