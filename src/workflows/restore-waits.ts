/**
 * Extensions.WaitForRestore inside a page workflow: objects whose restore was requested wait here, off the page's
 * task slots, until a batched check (one timer and one checkRestores activity per round, whatever the count) shows
 * the restored copy readable, the restore fails, or the wait times out. Each object's checks back off from
 * InitialPollSeconds to MaxPollSeconds, so a wait of days costs tens of rounds. Nothing holds a worker slot between
 * rounds: the page is a workflow parked on a durable timer.
 */
import { condition, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { PageJobContext } from '../shared/page-context';
import { truncate, type RestoreWait, type TaskResult, type TaskRow } from '../shared/types';

type Activities = ReturnType<typeof createActivities>;

const { checkRestores } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5s', maximumInterval: '5 minutes' },
});

export type { RestoreWait };

/** Objects checked per round: keeps the activity's input and result small. */
const CHECKS_PER_ROUND = 500;

export class RestoreWaits {
  private readonly waits = new Map<number, RestoreWait>();
  private added = 0;
  private ending?: 'drain' | 'carry';
  private loop?: Promise<void>;

  constructor(
    private readonly job: PageJobContext,
    private readonly config: NonNullable<PageJobContext['waitForRestore']>,
    private readonly record: (row: TaskRow, result: TaskResult) => void,
    carried: RestoreWait[] = []
  ) {
    for (const wait of carried) this.waits.set(wait.row.offset, wait);
  }

  get size(): number {
    return this.waits.size;
  }

  add(row: TaskRow): void {
    const now = Date.now();
    const intervalMs = this.config.initialPollSeconds * 1000;
    this.waits.set(row.offset, { row, requestedAt: now, intervalMs, nextCheckAt: now + intervalMs });
    this.added++;
  }

  start(stopped: () => boolean): void {
    this.loop = this.run(stopped);
  }

  /** Waits until every object is settled (or the page is stopped), then ends the loop. */
  async drain(): Promise<void> {
    this.ending = 'drain';
    await this.loop;
  }

  /** Ends the loop after its current round and hands the waiting objects over to the page's next run. */
  async carry(): Promise<RestoreWait[]> {
    this.ending = 'carry';
    await this.loop;
    return [...this.waits.values()];
  }

  private async run(stopped: () => boolean): Promise<void> {
    for (;;) {
      if (stopped()) return this.abandon();
      if (this.ending === 'carry' || (this.ending === 'drain' && this.waits.size === 0)) return;
      const now = Date.now();
      const due = this.waits.size > 0 ? Math.min(...[...this.waits.values()].map((w) => w.nextCheckAt)) : Infinity;
      if (due > now) {
        // Wake for the due check, or earlier when something changes (a new wait, the page ending or stopping).
        const seen = this.added;
        const ending = this.ending;
        const changed = () => this.added !== seen || this.ending !== ending || stopped();
        if (due === Infinity) await condition(changed);
        else await condition(changed, due - now);
        continue;
      }
      const batch = [...this.waits.values()].filter((w) => w.nextCheckAt <= now).slice(0, CHECKS_PER_ROUND);
      const states = await checkRestores({
        connection: this.job.connection,
        objects: batch.map(({ row }) => ({ bucket: row.bucket, key: row.key!, versionId: row.versionId })),
      });
      const checkedAt = Date.now();
      batch.forEach((wait, i) => this.settle(wait, states[i]!, checkedAt));
    }
  }

  private settle(wait: RestoreWait, state: Awaited<ReturnType<Activities['checkRestores']>>[number], now: number): void {
    const done = (result: TaskResult) => {
      this.waits.delete(wait.row.offset);
      this.record(wait.row, result);
    };
    if (state.state === 'restored') {
      done({
        status: 'succeeded',
        httpStatus: 200,
        message: `Successful: restored${state.expiry ? `, readable until ${state.expiry}` : ''}`,
      });
    } else if (state.state === 'failed') {
      done({ status: 'failed', errorCode: state.errorCode, httpStatus: state.httpStatus, message: truncate(state.message) });
    } else if (now - wait.requestedAt >= this.config.timeoutSeconds * 1000) {
      done({
        status: 'failed',
        errorCode: 'RestoreTimedOut',
        message: `the restore was requested but had not finished within ${duration(this.config.timeoutSeconds)} (WaitForRestore.TimeoutHours)`,
      });
    } else {
      wait.intervalMs = Math.min(wait.intervalMs * 2, this.config.maxPollSeconds * 1000);
      wait.nextCheckAt = now + wait.intervalMs;
    }
  }

  /** A stopped (cancelled) page: the restores were requested, as the task asked; only the wait is cut short. */
  private abandon(): void {
    for (const wait of [...this.waits.values()]) {
      this.waits.delete(wait.row.offset);
      this.record(wait.row, {
        status: 'succeeded',
        httpStatus: 200,
        message: 'Successful: restore requested; the job ended before the restored copy was confirmed',
      });
    }
  }
}

function duration(seconds: number): string {
  return seconds < 3600 ? `${seconds} seconds` : `${Number((seconds / 3600).toFixed(2))} hours`;
}
