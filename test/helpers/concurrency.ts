/**
 * Runs `fn` over `items`, at most `concurrency` at a time, and returns the results in item order. Tests that check
 * hundreds of objects use it instead of one unbounded Promise.all: hundreds of simultaneous requests to the local
 * MinIO on a 2-core host end in client timeouts and "socket hang up" (seen on CI), which says nothing about the job.
 */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
