/**
 * The replay guard: a signature is admitted once, remembered exactly as long as it could pass the 15-minute clock
 * check, and the memory it takes is bounded (full: TooManyRequestsException, never forgetting a live signature).
 */
import { ApiError } from '../../src/http-api/errors';
import { ReplayGuard } from '../../src/http-api/replay-guard';

const NOW = new Date('2026-11-22T06:30:00Z');
const MIN = 60_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);
const sig = (n: number) => n.toString(16).padStart(64, '0');

function refusal(run: () => void): ApiError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a refusal');
}

test('the same signature is admitted once; the second is AccessDenied (403), a replay', () => {
  const guard = new ReplayGuard();
  guard.admit(sig(1), NOW, NOW);
  expect(refusal(() => guard.admit(sig(1), NOW, at(1000)))).toMatchObject({
    code: 'AccessDenied',
    status: 403,
    message: 'Request has already been used (replayed signature)',
  });
  // Another signature (another request, or the same one re-signed) passes.
  guard.admit(sig(2), NOW, at(1000));
  expect(guard.size).toBe(2);
});

test('a signature is remembered until its x-amz-date plus 15 minutes, then forgotten', () => {
  const guard = new ReplayGuard();
  guard.admit(sig(1), NOW, NOW);
  expect(refusal(() => guard.admit(sig(1), NOW, at(15 * MIN))).code).toBe('AccessDenied');
  // Past that the clock check refuses it anyway (sigv4.ts), so the guard lets go of it.
  guard.admit(sig(1), NOW, at(15 * MIN + 1));
  guard.admit(sig(2), at(17 * MIN), at(17 * MIN));
  expect(guard.size).toBe(1);

  // Signed 14 minutes in the future (within the allowed skew): remembered until 29 minutes from now.
  const future = new ReplayGuard();
  future.admit(sig(3), at(14 * MIN), NOW);
  expect(refusal(() => future.admit(sig(3), at(14 * MIN), at(29 * MIN))).code).toBe('AccessDenied');
  future.admit(sig(3), at(14 * MIN), at(29 * MIN + 1));
});

test('bounded: when full of live signatures, new requests get TooManyRequestsException (429) until some expire', () => {
  const guard = new ReplayGuard(3);
  for (let i = 0; i < 3; i++) guard.admit(sig(i), at(i * MIN), at(i * MIN));
  const full = refusal(() => guard.admit(sig(10), at(3 * MIN), at(3 * MIN)));
  expect(full).toMatchObject({ code: 'TooManyRequestsException', status: 429, message: expect.stringMatching(/at most 3 signatures/) });
  expect(guard.size).toBe(3);
  // The held ones are still refused as replays, not forgotten to make room.
  expect(refusal(() => guard.admit(sig(0), NOW, at(3 * MIN))).code).toBe('AccessDenied');
  // The first expires at 15 minutes: room for one.
  guard.admit(sig(11), at(15 * MIN + 1), at(15 * MIN + 1));
  expect(refusal(() => guard.admit(sig(12), at(15 * MIN + 1), at(15 * MIN + 1))).code).toBe('TooManyRequestsException');
  expect(guard.size).toBe(3);
  expect(() => new ReplayGuard(0)).toThrow(/positive integer/);
});

test('expired signatures are swept: memory follows the requests of the last 15 minutes, not all time', () => {
  const guard = new ReplayGuard();
  // 40 minutes of 5 requests a second.
  for (let s = 0; s < 40 * 60; s++) for (let i = 0; i < 5; i++) guard.admit(sig(s * 5 + i), at(s * 1000), at(s * 1000));
  // Those of the last 15 minutes (plus at most the sweep interval's) are held.
  expect(guard.size).toBeGreaterThanOrEqual(15 * 60 * 5);
  expect(guard.size).toBeLessThanOrEqual(15 * 60 * 5 + 2 * 5);
});
