/** The chaos run's verdict (test/chaos/figures.ts): each broken promise is named; a clean run has none. */
import { brokenPromises, formatFigures } from '../chaos/figures';
import type { ChaosFigures } from '../chaos/run-chaos';
import { prng } from '../helpers/prng';

const clean: ChaosFigures = {
  status: 'Complete',
  rows: 100,
  succeeded: 95,
  failed: 5,
  workerKills: 2,
  workerStarts: 4,
  temporalCrashes: { history: 1, matching: 1, postgres: 1 },
  injectedFaults: { SlowDown: 3 },
  repeatedRequests: 7,
  reportRows: 100,
  duplicateReportRows: 0,
  unreportedRows: 0,
  stateMismatches: 0,
  seconds: 60,
};

test('a clean run breaks nothing, and its figures name every count', () => {
  expect(brokenPromises(clean, 5)).toEqual([]);
  const text = formatFigures(clean);
  for (const part of ['Complete', '100 (succeeded 95, failed 5)', 'worker kills        2', 'history 1, matching 1, postgres 1', 'SlowDown 3', 'duplicates 0, lost 0', 'state mismatches    0']) {
    expect(text).toContain(part);
  }
});

test.each<[Partial<ChaosFigures>, RegExp]>([
  [{ status: 'Failed' }, /status is Failed/],
  [{ succeeded: 94 }, /succeeded \+ failed = 99, not the manifest's 100 rows/],
  [{ succeeded: 94, failed: 6 }, /6 tasks failed; only the 5 missing keys should/],
  [{ reportRows: 101 }, /report has 101 rows/],
  [{ duplicateReportRows: 1 }, /1 rows appear more than once/],
  [{ unreportedRows: 2 }, /2 rows are missing from the report/],
  [{ stateMismatches: 3 }, /3 objects' tags disagree/],
])('%o is a broken promise', (change, message) => {
  expect(brokenPromises({ ...clean, ...change }, 5)).toEqual([expect.stringMatching(message)]);
});

test('the schedule PRNG is seeded: the same seed gives the same draws', () => {
  const a = prng(42);
  const b = prng(42);
  const draws = Array.from({ length: 5 }, () => a());
  expect(Array.from({ length: 5 }, () => b())).toEqual(draws);
  expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
  expect(prng(43)()).not.toBe(draws[0]);
});
