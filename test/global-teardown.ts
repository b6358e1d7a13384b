/**
 * Jest global teardown: give up this run's lease on the stack, and stop the stack if a test run started it and no
 * other test run is still using it (never a stack started with `npm run stack:up`; never with S3BATCH_KEEP_STACK=1).
 */
import { stackConfigFromEnv, stackDown } from '../scripts/stack/index';
import { forgetStartedByTests, isStartedByTests, releaseLease, withLeaseLock } from './helpers/stack-leases';

export default async function globalTeardown(): Promise<void> {
  const dataDir = globalThis.__S3BATCH_STACK_LEASE__;
  if (!dataDir) return;
  await withLeaseLock(dataDir, async () => {
    const lastUser = releaseLease(dataDir);
    if (!lastUser || !isStartedByTests(dataDir) || process.env.S3BATCH_KEEP_STACK === '1') return;
    await stackDown(stackConfigFromEnv({ dataDir }), { log: (line) => console.log(line) });
    forgetStartedByTests(dataDir);
  });
}
