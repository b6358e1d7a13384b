/**
 * The page's pacer (Extensions.MaxTasksPerSecond) on simulated workflow time: a page loop that starts what it may
 * and otherwise sleeps until the next step, with timers that fire late as on a busy worker.
 */
import { stepTasks, TaskPacer } from '../../src/shared/task-pacer';
import { prng } from '../helpers/prng';

/** Runs a page loop for `seconds` of workflow time; returns each task's start (ms) and how many timers it used. */
function simulate(pacer: TaskPacer, seconds: number, lateMs: () => number, from = 0): { starts: number[]; timers: number; now: number } {
  const starts: number[] = [];
  let now = from;
  let timers = 0;
  while (now < from + seconds * 1000) {
    if (pacer.available(now) >= 1) {
      pacer.take();
      starts.push(now);
      continue;
    }
    now += pacer.msUntilNextStep(now) + lateMs();
    timers++;
  }
  return { starts, timers, now };
}

const within = (starts: number[], from: number, to: number) => starts.filter((t) => t >= from && t < to).length;

test('no limit: every task may start', () => {
  const pacer = new TaskPacer(undefined, 0);
  expect(pacer.limited).toBe(false);
  expect(pacer.available(0)).toBe(Infinity);
});

test.each([0.25, 1, 7.5, 50, 333])('%d tasks/s: the rate holds over a minute, in steps, with late timers', (rate) => {
  const random = prng(42);
  const pacer = new TaskPacer(rate, 0);
  const { starts, timers } = simulate(pacer, 60, () => Math.floor(random() * 300));
  // A fresh page starts nothing at once: its k-th task no sooner than k / rate seconds in.
  expect(starts[0]).toBeGreaterThanOrEqual(Math.min(1000, 1000 / rate) - 1);
  // Never ahead of the rate; behind it only by the credit not yet spent at the end (a step, plus what a late
  // timer built up meanwhile): late timers lose no credit.
  expect(starts.length).toBeLessThanOrEqual(rate * 60);
  expect(starts.length).toBeGreaterThanOrEqual(rate * 60 - stepTasks(rate) - rate * 0.3 - 1);
  // Any 1-second window: at most the bucket (a step and a second's worth) plus what a second adds; any 10-second
  // window: within 10% plus a step.
  for (let t = 0; t + 10_000 <= 60_000; t += 250) {
    expect(within(starts, t, t + 1000)).toBeLessThanOrEqual(stepTasks(rate) + 2 * rate);
    expect(within(starts, t, t + 10_000)).toBeLessThanOrEqual(rate * 10 * 1.1 + stepTasks(rate));
  }
  // One timer per step, not per task.
  expect(timers).toBeLessThanOrEqual(Math.ceil(60 * Math.min(1, rate)) + 1);
});

test('continue-as-new: a pacer built from the carried state goes on as the old one would have', () => {
  const late = () => 40;
  const whole = simulate(new TaskPacer(12, 0), 20, late);
  const first = new TaskPacer(12, 0);
  const part = simulate(first, 10, late);
  const second = new TaskPacer(12, part.now, JSON.parse(JSON.stringify(first.state())));
  const rest = simulate(second, 10, late, part.now);
  expect([...part.starts, ...rest.starts].filter((t) => t < 20_000)).toEqual(whole.starts.filter((t) => t < 20_000));
});

test('a new share applies from now; credit built up at the old rate is kept up to the new bucket', () => {
  const pacer = new TaskPacer(100, 0);
  // Idle for 10 s at 100/s: the bucket is full (a step and two seconds' worth), not 1,000 tasks.
  expect(pacer.available(10_000)).toBe(300);
  pacer.setRate(2, 10_000);
  expect(pacer.available(10_000)).toBe(6);
  pacer.take(6);
  // 2/s: the next step (2 tasks) after one second.
  expect(pacer.msUntilNextStep(10_000)).toBe(1000);
  pacer.setRate(undefined, 10_500);
  expect(pacer.available(10_500)).toBe(Infinity);
  pacer.setRate(1, 11_000);
  expect(pacer.available(11_000)).toBe(0);
  expect(pacer.available(12_000)).toBe(1);
});

test('wake-ups up to two seconds late (LocalActivity pages on a busy worker) lose no credit', () => {
  const rate = 30;
  const { starts } = simulate(new TaskPacer(rate, 0), 60, () => 1900);
  expect(starts.length).toBeLessThanOrEqual(rate * 60);
  expect(starts.length).toBeGreaterThanOrEqual(rate * 60 - stepTasks(rate) - rate * 2);
});

test('restart (a resumed page): what built up while paused is not spent at once', () => {
  const pacer = new TaskPacer(10, 0);
  expect(pacer.available(60_000)).toBe(30);
  pacer.restart(60_000);
  expect(pacer.available(60_000)).toBe(0);
  expect(pacer.available(61_000)).toBe(10);
});
