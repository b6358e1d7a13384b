/**
 * The cluster profile's worker processes: `S3BATCH_STACK_WORKERS` copies of `npm run worker:stack` (task queue
 * s3-batch, the stack's connections), each a process of its own as users deploy them, so that a job started on the
 * stack runs without starting a worker by hand and a chaos run can kill one. Tests start their own workers on their own
 * task queues and do not rely on these.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ComponentStartError, waitForHealthy } from './health';
import { tsxLoaderUrl } from './lambda';
import { type OwnedProcess, spawnDetached, stopPid } from './processes';

export const STACK_WORKER_SCRIPT = join(__dirname, '..', 'stack-worker.ts');

/** What scripts/stack-worker.ts prints once its worker is created (connected, polling next). */
const READY_LINE = 's3-batch worker on ';

export interface StackWorkersOptions {
  count: number;
  /** The stack dir whose state file the workers read (it must describe a running stack already). */
  dataDir: string;
  logsDir: string;
  timeoutMs: number;
  onSpawn: (owned: OwnedProcess) => void;
}

/** Starts the workers and waits until each has connected; on failure the ones started are stopped again. */
export async function startStackWorkers(options: StackWorkersOptions): Promise<OwnedProcess[]> {
  const started: OwnedProcess[] = [];
  try {
    for (let i = 1; i <= options.count; i++) {
      const logFile = join(options.logsDir, `worker-${i}.log`);
      const owned = await spawnDetached({
        component: `worker:${i}`,
        command: process.execPath,
        args: ['--import', tsxLoaderUrl(), STACK_WORKER_SCRIPT],
        env: { ...process.env, S3BATCH_STACK_DIR: options.dataDir },
        logFile,
        markers: [process.execPath, STACK_WORKER_SCRIPT],
      });
      started.push(owned);
      options.onSpawn(owned);
    }
    for (const owned of started) {
      // The log is appended to across restarts: only what this start wrote counts.
      const offset = readFileSync(owned.logFile, 'utf8').lastIndexOf(`starting ${owned.component}`);
      await waitForHealthy({
        component: `stack worker ${owned.component}`,
        address: 'task queue s3-batch',
        pid: owned.pid,
        logFile: owned.logFile,
        timeoutMs: options.timeoutMs,
        check: async () =>
          readFileSync(owned.logFile, 'utf8').slice(offset).includes(READY_LINE) ? { healthy: true } : { healthy: false, detail: 'not connected yet' },
      });
    }
    return started;
  } catch (error) {
    await Promise.all(started.map((owned) => stopPid(owned.pid).catch(() => undefined)));
    throw error instanceof ComponentStartError ? error : new Error(`starting the stack's workers failed: ${(error as Error).message}`);
  }
}
