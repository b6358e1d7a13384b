/**
 * Batch mode: the rows of one page in flight on this worker, shared by all of that page's batches. A page keeps more
 * batches running than its MaxConcurrentTasksPerPage needs, so that while one batch's answer and the next batch's
 * dispatch travel through Temporal the others keep the page's rows flowing; this bound keeps them, together, at
 * MaxConcurrentTasksPerPage rows at once (per worker: batches of a page on two workers do not share it).
 *
 * The oldest batch goes first: were the batches served in turn, they would all end together, and the page would have
 * nothing to run while their answers and the next batches travel.
 */
export class PageLanes {
  private readonly pages = new Map<string, Lanes>();

  /** A batch's share of the lanes of `page` (up to `limit` rows at once); `leave()` when the batch is done. */
  join(page: string, limit: number): BatchLanes {
    let lanes = this.pages.get(page);
    if (!lanes) {
      lanes = new Lanes(limit, () => this.pages.delete(page));
      this.pages.set(page, lanes);
    }
    return lanes.join();
  }

  /** Pages with batches running here (for tests). */
  get size(): number {
    return this.pages.size;
  }
}

export interface BatchLanes {
  /** Resolves when a row of this batch may start; each call is paired with one `release()`. */
  acquire(): Promise<void>;
  release(): void;
  leave(): void;
}

class Lanes {
  private members = 0;
  private joined = 0;
  private running = 0;
  /** Rows waiting for a lane, oldest batch first, in order of asking within a batch. */
  private readonly waiting: { batch: number; start: () => void }[] = [];

  constructor(
    private readonly limit: number,
    private readonly onEmpty: () => void
  ) {}

  join(): BatchLanes {
    const batch = this.joined++;
    this.members++;
    return {
      acquire: () => this.acquire(batch),
      release: () => this.release(),
      leave: () => {
        if (--this.members === 0) this.onEmpty();
      },
    };
  }

  private acquire(batch: number): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((start) => {
      const at = this.waiting.findIndex((w) => w.batch > batch);
      this.waiting.splice(at === -1 ? this.waiting.length : at, 0, { batch, start });
    });
  }

  private release(): void {
    // Hand the lane straight to the next waiter, or give it back.
    const next = this.waiting.shift();
    if (next) next.start();
    else this.running--;
  }
}
