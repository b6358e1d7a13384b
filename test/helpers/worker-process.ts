/**
 * A worker in its own process (src/worker.ts, as users run it), so a test can SIGKILL it mid-job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { WorkerConfig } from '../../src/schemas/worker-config';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';

const ROOT = resolve(__dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the worker printed its ready line. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function writeWorkerConfig(config: WorkerConfig): string {
  const dir = mkdtempSync(join(tmpdir(), 's3batch-worker-'));
  const path = join(dir, 'worker-config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

export async function spawnWorker(config: WorkerConfig, env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  const configPath = writeWorkerConfig(config);
  const bundle = await workflowBundlePath();
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a child process, so killing it would leave
  // the real worker running.
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, S3BATCH_WORKER_CONFIG: configPath, S3BATCH_WORKFLOW_BUNDLE: bundle, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // A long job's worker can log a lot (slow workflow task warnings): keep the start and the latest part.
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 2_000_000) out = `${out.slice(0, 10_000)}\n[…]\n${out.slice(-1_000_000)}`;
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', () => {
      if (out.includes('s3-batch worker on')) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${out}`));
    });
  });
  ready.catch(() => undefined);
  return {
    child,
    output: () => out,
    ready,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
