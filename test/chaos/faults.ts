/**
 * The chaos run's S3 fault path, two proxies deep: workers → test/helpers/s3-fault-proxy.ts (HTTP faults: 2% 503
 * SlowDown, 1% 500 InternalError, 1% connections reset, 1% responses lost after MinIO acted, 0.2% requests left
 * hanging until the workers' 5 s request timeout, up to 20 ms latency) → Toxiproxy (TCP: 1–3 ms latency on every
 * byte, and at each chaos step an outage of its `timeout` toxic, which stops all data and cuts connections) → MinIO.
 */
import { startFaultProxy } from '../helpers/s3-fault-proxy';
import { startToxiproxy } from '../helpers/toxiproxy';
import type { S3FaultPath } from './run-chaos';

export const CHAOS_FAULT_RATES = { SlowDown: 0.02, InternalError: 0.01, reset: 0.01, lostResponse: 0.01, hang: 0.002, maxDelayMs: 20 };

/** How long each TCP outage lasts, and when its stalled connections are cut. */
const OUTAGE_MS = 1500;
const OUTAGE_CUT_MS = 1000;

export async function faultPathForChaos(minioEndpoint: string, seed = 1): Promise<S3FaultPath> {
  const toxiproxy = await startToxiproxy();
  const listen = await toxiproxy.proxy('minio', new URL(minioEndpoint).host);
  await toxiproxy.addToxic('minio', { name: 'latency', type: 'latency', attributes: { latency: 2, jitter: 1 } });
  const proxy = await startFaultProxy({ target: `http://${listen}`, rates: CHAOS_FAULT_RATES, seed });
  let outages = 0;
  return {
    endpoint: proxy.endpoint,
    injected: () => ({ ...proxy.injected(), tcpOutage: outages }),
    async outage() {
      outages++;
      await toxiproxy.addToxic('minio', { name: 'outage', type: 'timeout', attributes: { timeout: OUTAGE_CUT_MS } });
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await toxiproxy.removeToxic('minio', 'outage');
    },
    taggingRequests() {
      const byKey = new Map<string, number>();
      for (const [signature, count] of proxy.requests()) {
        const match = /^PUT \/[^/]+\/(.+)\?tagging$/.exec(signature);
        if (match) byKey.set(match[1]!, count);
      }
      return byKey;
    },
    async close() {
      await proxy.close();
      await toxiproxy.close();
    },
  };
}
