/**
 * Refuses a signed request seen before. A SigV4 signature covers the method, path, query, signed headers, body and
 * x-amz-date, so the same signature twice means the same request sent twice: a replay (captured on the wire or in a
 * log). AWS itself only bounds replays by the 15-minute clock check; this API also remembers every signature it
 * accepted for as long as that signature could still pass the check (until its x-amz-date plus 15 minutes), and
 * refuses it a second time with AccessDenied (403: the SDKs do not retry it, nor take it for clock skew, as they
 * would RequestTimeTooSkewed or SignatureDoesNotMatch).
 *
 * The AWS SDKs never send the same signature twice: each call signs a fresh `amz-sdk-invocation-id` (a UUID) and
 * each retry a fresh `amz-sdk-request: attempt=N`. A client signing neither, sending identical requests within the
 * same second, gets the second refused; it must sign something unique (such as `amz-sdk-invocation-id`).
 *
 * Memory is bounded: expired signatures are dropped, and at most `maxEntries` are held. When that many unexpired
 * signatures are held, new requests are refused (TooManyRequestsException, 429, which the SDKs retry with backoff)
 * until some expire. Failing closed: evicting the oldest instead would let their replays through. Only requests
 * with a valid signature take a place, so only a configured key can fill it. One process remembers what it
 * accepted; API servers behind one load balancer do not share it.
 */
import { apiErrors } from './errors';
import { MAX_SKEW_MS } from './sigv4';

/** At ~200 bytes an entry, about 20 MB; over the 15 to 30 minutes an entry lives, 55 to 110 requests a second. */
export const DEFAULT_MAX_REMEMBERED_SIGNATURES = 100_000;
/** Expired entries are swept at most this often (a sweep visits every entry). */
const SWEEP_INTERVAL_MS = 1_000;

export class ReplayGuard {
  /** Signature → the last instant (ms) at which it passes the clock check. */
  private readonly expiries = new Map<string, number>();
  private nextSweepAt = 0;

  constructor(readonly maxEntries: number = DEFAULT_MAX_REMEMBERED_SIGNATURES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /** Signatures held (for tests and metrics). */
  get size(): number {
    return this.expiries.size;
  }

  /**
   * Admits a verified signature the first time; throws AccessDenied for one admitted before and not yet expired,
   * TooManyRequestsException when full. Synchronous, so two concurrent identical requests cannot both pass.
   */
  admit(signature: string, signingDate: Date, now: Date): void {
    const t = now.getTime();
    if (t >= this.nextSweepAt) this.sweep(t);
    const expiry = this.expiries.get(signature);
    if (expiry !== undefined && expiry >= t) throw apiErrors.replayedRequest();
    if (this.expiries.size >= this.maxEntries) {
      throw apiErrors.tooManyRequests(
        `Too many requests in the last ${MAX_SKEW_MS / 60_000} minutes: this API remembers at most ${this.maxEntries} signatures to refuse replays; retry later`
      );
    }
    this.expiries.set(signature, signingDate.getTime() + MAX_SKEW_MS);
  }

  private sweep(t: number): void {
    for (const [signature, expiry] of this.expiries) if (expiry < t) this.expiries.delete(signature);
    this.nextSweepAt = t + SWEEP_INTERVAL_MS;
  }
}
