/**
 * The chaos run's S3 fault path: every request of the workers (manifest reads, tasks, report writes) goes through
 * test/helpers/s3-fault-proxy.ts, which answers 2% SlowDown, 1% InternalError, resets 1% of connections, loses 1% of
 * responses after MinIO acted, leaves 0.2% hanging (the workers' connection gives up after 5 s), and adds up to 20 ms
 * of latency.
 */
import { startFaultProxy } from '../helpers/s3-fault-proxy';
import type { S3FaultPath } from './run-chaos';

export const CHAOS_FAULT_RATES = { SlowDown: 0.02, InternalError: 0.01, reset: 0.01, lostResponse: 0.01, hang: 0.002, maxDelayMs: 20 };

export async function faultPathForChaos(minioEndpoint: string, seed = 1): Promise<S3FaultPath> {
  const proxy = await startFaultProxy({ target: minioEndpoint, rates: CHAOS_FAULT_RATES, seed });
  return {
    endpoint: proxy.endpoint,
    injected: () => proxy.injected(),
    taggingRequests() {
      const byKey = new Map<string, number>();
      for (const [signature, count] of proxy.requests()) {
        const match = /^PUT \/[^/]+\/(.+)\?tagging$/.exec(signature);
        if (match) byKey.set(match[1]!, count);
      }
      return byKey;
    },
    close: () => proxy.close(),
  };
}
