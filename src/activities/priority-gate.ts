/**
 * Our own task ordering within a worker, for when the Temporal server does not order its queue by task priority
 * (the dev server's did not, measurably) and for local activities (the default task mode), which never pass through
 * a queue: the worker holds more tasks than it runs at once (its activity or local-activity slots), and this gate
 * starts the waiting ones lowest priority key first (that is, highest job priority), oldest first within a key.
 * With no limit configured (`worker.maxConcurrentTasks`, the default) it lets everything through: nothing is ordered.
 */
export class PriorityGate {
  private running = 0;
  private sequence = 0;
  private readonly waiting: { key: number; seq: number; start: () => void }[] = [];

  constructor(private readonly limit: number = Infinity) {}

  async run<T>(priorityKey: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.running < this.limit) this.running++;
    else await this.wait(priorityKey, signal);
    try {
      return await fn();
    } finally {
      // Hand the place straight to the next waiter, or give it back.
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }

  /** Tasks waiting for a place (for tests and metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  private wait(key: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = { key, seq: this.sequence++, start: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      } };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason ?? new Error('cancelled while waiting for a task slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const at = this.waiting.findIndex((w) => w.key > key);
      this.waiting.splice(at === -1 ? this.waiting.length : at, 0, entry);
    });
  }
}
