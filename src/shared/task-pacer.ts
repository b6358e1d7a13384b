/**
 * A page's share of its job's rate limit (Extensions.MaxTasksPerSecond), as a token bucket on workflow time
 * (`Date.now()` in a workflow is the workflow task's time, so replays compute the same credit). Pure and
 * sandbox-safe; the page workflow owns the one timer it waits on.
 *
 * Pacing is in steps, not per task: when out of credit the page sleeps until a step's worth (one second of its rate,
 * at least one task) has built up, then starts that many tasks together. So a page run has at most one timer per
 * second of running (or per task below 1 task/s), whatever its rate, and history stays bounded by its run budget.
 *
 * The bucket holds a step's worth plus two seconds of the rate, so a page whose wake-up comes late loses no credit
 * and catches up. Late wake-ups are the rule on a busy worker, and in LocalActivity mode always: the timer starts
 * only when the workflow task that ran the step's local activities completes, and the next workflow task waits for
 * a worker (seen: 1 to 2 s on a loaded 2-core machine). So over any span the page starts at most
 * `rate × span + step + 2 s × rate` tasks, and at the rate over long spans. A pause empties the bucket
 * (`restart`), so a resumed page does not burst.
 *
 * Batch mode hooks in the same way: a batch of k rows takes k credits (`take(k)`, k ≤ `available()`) before it is
 * scheduled, and spaces its rows' starts by `1000 / rate` ms inside the activity.
 */

/** Seconds of a page's rate started together after one wait. */
const STEP_SECONDS = 1;
/** Seconds of the rate a page may save beyond a step, for wake-ups that come late. */
const SLACK_SECONDS = 2;

/** JSON-safe pacing state, carried across a page's continue-as-new. */
export interface PacerState {
  /** Tasks that may start (fractional) at `at`. */
  credit: number;
  /** Workflow time (ms since the epoch) the credit was computed at. */
  at: number;
}

/** Tasks started together after one wait at this rate. */
export function stepTasks(rate: number): number {
  return Math.max(1, Math.floor(rate * STEP_SECONDS));
}

export class TaskPacer {
  private credit: number;
  private at: number;

  /**
   * `tasksPerSecond`: absent for no limit. A fresh page starts with no credit, so its first step starts one step
   * after it began: its k-th task no sooner than k / rate seconds in, as a steady rate would have it.
   */
  constructor(
    private tasksPerSecond: number | undefined,
    now: number,
    carried?: PacerState
  ) {
    this.credit = carried?.credit ?? 0;
    this.at = carried?.at ?? now;
  }

  get rate(): number | undefined {
    return this.tasksPerSecond;
  }

  get limited(): boolean {
    return this.tasksPerSecond !== undefined;
  }

  /** A new share (or none): the credit built up so far at the old rate is kept, up to the new bucket's size. */
  setRate(rate: number | undefined, now: number): void {
    this.refill(now);
    // Unlimited until now: nothing was paced, so a new limit starts from no credit, as a fresh page does.
    if (this.tasksPerSecond === undefined) this.credit = 0;
    this.tasksPerSecond = rate;
    if (rate) this.credit = Math.min(this.credit, capacity(rate));
  }

  /** Starts again from no credit (a resumed page: what built up while it was paused is not spent at once). */
  restart(now: number): void {
    this.credit = 0;
    this.at = now;
  }

  /** Whole tasks that may start now (Infinity without a limit). */
  available(now: number): number {
    if (!this.tasksPerSecond) return Infinity;
    this.refill(now);
    // Credit is a sum of fractions: a hair below a whole task is that task.
    return Math.floor(this.credit + 1e-9);
  }

  /** Spends credit for `count` tasks about to start. */
  take(count = 1): void {
    if (this.tasksPerSecond) this.credit -= count;
  }

  /** How long until a step's worth of tasks may start: the one timer a page waits on when out of credit. */
  msUntilNextStep(now: number): number {
    const rate = this.tasksPerSecond;
    if (!rate) return 0;
    this.refill(now);
    return Math.max(1, Math.ceil(((stepTasks(rate) - this.credit) / rate) * 1000));
  }

  state(): PacerState {
    return { credit: this.credit, at: this.at };
  }

  private refill(now: number): void {
    const rate = this.tasksPerSecond;
    if (rate && now > this.at) this.credit = Math.min(capacity(rate), this.credit + (rate * (now - this.at)) / 1000);
    this.at = Math.max(this.at, now);
  }
}

/** The most credit a page holds: a step's worth, plus the slack for wake-ups that come late. */
function capacity(rate: number): number {
  return stepTasks(rate) + rate * SLACK_SECONDS;
}
