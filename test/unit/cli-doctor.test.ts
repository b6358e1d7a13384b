/**
 * The doctor's pure parts: the clock verdict from a Date header, the lines it prints, and the no-worker message
 * (src/cli/doctor/, src/cli/worker-presence.ts). The checks themselves run against the real stack in
 * test/integration/cli-doctor.test.ts.
 */
import { fail, formatCheck, formatVerdict, ok, skip } from '../../src/cli/doctor/check';
import { checkClock, MAX_CLOCK_SKEW_MS } from '../../src/cli/doctor/connection-checks';
import { describeAbsence, POLLER_FRESH_MS, unservedKinds, type QueuePresence } from '../../src/cli/worker-presence';

const now = Date.parse('2026-12-04T06:00:00Z');

test('clock: within the Date header resolution, a few seconds off, and too far off (either way)', () => {
  expect(checkClock([{ connection: 'default', serverMs: now, localMs: now + 1500 }])).toEqual(ok('clock agrees with S3 connection "default" (within 2 s)'));
  expect(checkClock([{ connection: 'moto', serverMs: now, localMs: now - 42_000 }])).toEqual(ok('clock 42 s behind S3 connection "moto"'));
  const ahead = checkClock([{ connection: 'default', serverMs: now, localMs: now + MAX_CLOCK_SKEW_MS + 1000 }]);
  expect(ahead).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^clock 61 s ahead of S3 connection "default": worker presence is misjudged/), fix: expect.stringContaining('NTP') });
  expect(checkClock([{ connection: 'default', serverMs: now, localMs: now - 3_600_000 }]).status).toBe('fail');
  expect(checkClock([])).toEqual(skip('clock: not compared (no S3 connection answered)'));
});

test('lines: ok, FAIL with its fix indented under it (several lines aligned), skip; the verdict counts failures', () => {
  expect(formatCheck(ok('namespace "s3-batch" present'))).toBe('ok    namespace "s3-batch" present');
  expect(formatCheck(fail('no namespace', 'first\nsecond'))).toBe('FAIL  no namespace\n      fix: first\n           second');
  expect(formatCheck(skip('not checked'))).toBe('skip  not checked');
  expect(formatVerdict([ok('a'), ok('b'), skip('c')])).toBe('All 2 checks passed.');
  expect(formatVerdict([ok('a'), fail('b', 'x'), skip('c')])).toBe('1 of 3 checks failed.');
});

test('absence: which kind of task lacks a worker, and when one was last seen', () => {
  const poller = { identity: '42@host', lastAccessMs: now - 10 * 60_000 };
  const presence = (workflow: boolean, activity: boolean): QueuePresence => ({
    namespace: 'ns',
    taskQueue: 'q',
    fresh: { workflow: workflow ? [{ kind: 'workflow', ...poller, lastAccessMs: now }] : [], activity: activity ? [{ kind: 'activity', ...poller, lastAccessMs: now }] : [] },
    lastSeen: { kind: 'workflow', ...poller },
  });
  expect(unservedKinds(presence(true, true))).toEqual([]);
  expect(describeAbsence(presence(false, false), now)).toBe(
    `no worker has polled task queue "q" in namespace "ns" in the last ${POLLER_FRESH_MS / 60_000} minutes; last poll 10 min ago by 42@host`
  );
  expect(unservedKinds(presence(true, false))).toEqual(['activity']);
  expect(describeAbsence({ ...presence(true, false), lastSeen: undefined }, now)).toMatch(/^no worker has polled for activity tasks on task queue "q" in namespace "ns" in the last \d+ minutes$/);
});
