import { priorityKeyFor, TEMPORAL_PRIORITY_LEVELS } from '../../src/shared/priority';

test('higher job priority gets a lower (earlier) Temporal priority key, within the levels', () => {
  const levels = TEMPORAL_PRIORITY_LEVELS;
  const keys = [0, 1, 10, 20, 100, 1000, 2_147_483_647].map((p) => priorityKeyFor(p, levels));
  for (let i = 1; i < keys.length; i++) expect(keys[i]).toBeLessThan(keys[i - 1]!);
  expect(Math.max(...keys)).toBeLessThanOrEqual(levels);
  expect(Math.min(...keys)).toBeGreaterThanOrEqual(1);
  // With the server default of 5 levels the order still holds, coarsely.
  expect(priorityKeyFor(0, 5)).toBe(5);
  expect(priorityKeyFor(2_147_483_647, 5)).toBe(1);
  expect(priorityKeyFor(10, 5)).toBeGreaterThanOrEqual(priorityKeyFor(1000, 5));
});
