/**
 * Polls until a probe returns a value. For what the engine only promises eventually: Temporal's visibility (listings,
 * search attributes) trails the workflow's own state, by milliseconds on the dev server and by more on a cluster
 * whose history service writes visibility to PostgreSQL in the background.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
