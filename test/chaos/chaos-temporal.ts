/**
 * The Temporal a chaos run's job runs on, and the crashes the chaos driver makes it suffer. Each run starts its own
 * (own data dir and free ports), so its crashes disturb nobody: a dev server (this file) or a cluster
 * (chaos-cluster.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killPidNow, startTemporalDevServer, stopPid, type TemporalDevServer } from '../../scripts/stack/index';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { freePortBlock } from '../helpers/ports';

export interface TemporalCrash {
  /** What is crashed, as the figures name it: `dev server`, `history`, `matching`, `postgres`. */
  target: string;
  /** The share of the tasks done (0 to 1) from which the driver makes this crash. */
  atShare: number;
  /** SIGKILLs the target, starts it again as it was started, and resolves once it is back. */
  crashAndRestart(log: (line: string) => void): Promise<void>;
}

export interface ChaosTemporal {
  /** host:port of the frontend. */
  address: string;
  namespace: string;
  /** Made once each, in this order. */
  crashes: TemporalCrash[];
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A dev server on SQLite, crashed (SIGKILL) and started again once a third of the tasks are done. */
export async function startChaosDevServer(namespace: string): Promise<ChaosTemporal> {
  const dataDir = mkdtempSync(join(tmpdir(), 's3batch-chaos-'));
  const [port = 0, uiPort = 0] = await freePortBlock(2);
  const start = () => startTemporalDevServer({ dataDir, port, uiPort, namespace, searchAttributes: [...JOB_SEARCH_ATTRIBUTES], headless: true });
  let server: TemporalDevServer;
  try {
    server = await start();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    address: server.address,
    namespace,
    crashes: [
      {
        target: 'dev server',
        atShare: 1 / 3,
        async crashAndRestart(log) {
          log(`SIGKILL the Temporal dev server (pid ${server.pid}), then start it again`);
          await killPidNow(server.pid);
          await sleep(1000);
          server = await start();
        },
      },
    ],
    async close() {
      await stopPid(server.pid);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
