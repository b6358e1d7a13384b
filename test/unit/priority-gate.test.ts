import { PriorityGate } from '../../src/activities/priority-gate';

test('runs at most `limit` at once, then the lowest key first, oldest first within a key', async () => {
  const gate = new PriorityGate(1);
  const order: string[] = [];
  let release!: () => void;
  const first = gate.run(5, () => new Promise<void>((r) => (release = r)).then(() => order.push('first')));
  const tasks = [
    gate.run(5, async () => order.push('low-a')),
    gate.run(1, async () => order.push('high-a')),
    gate.run(5, async () => order.push('low-b')),
    gate.run(1, async () => order.push('high-b')),
  ];
  expect(gate.queued).toBe(4);
  release();
  await Promise.all([first, ...tasks]);
  expect(order).toEqual(['first', 'high-a', 'high-b', 'low-a', 'low-b']);
});

test('a waiter whose task is cancelled leaves the queue', async () => {
  const gate = new PriorityGate(1);
  let release!: () => void;
  const holder = gate.run(1, () => new Promise<void>((r) => (release = r)));
  const abort = new AbortController();
  const waiting = gate.run(1, async () => 'ran', abort.signal);
  abort.abort(new Error('cancelled'));
  await expect(waiting).rejects.toThrow('cancelled');
  expect(gate.queued).toBe(0);
  release();
  await holder;
  await expect(gate.run(1, async () => 'next')).resolves.toBe('next');
});

test('without a limit nothing waits', async () => {
  const gate = new PriorityGate();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => gate.run(i % 3, async () => i)));
  expect(results).toHaveLength(50);
  expect(gate.queued).toBe(0);
});
