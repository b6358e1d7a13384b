/**
 * The built s3batch CLI against the real local stack, for the CLI's integration tests: compiles src/ into lib/
 * once, starts an engine (a worker on its own task queue), and gives the environment the CLI needs to reach them,
 * including a worker config so that `report` and `redrive` read S3 through the same named connections.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand, type CommandResult } from '../../scripts/lib/exec';
import { startEngine, type Engine } from './engine';
import { getStack } from './stack';

const ROOT = resolve(__dirname, '../..');
/** The CLI as `npm install -g` would run it. */
export const CLI = join(ROOT, 'lib/src/cli/main.js');

export interface CliEnvironment {
  engine: Engine;
  /** The environment to spawn the CLI with. */
  env: NodeJS.ProcessEnv;
  /** A scratch folder for job files. */
  dir: string;
}

/** Compiles src/ into lib/ (what `npm run build` does), so that CLI is the current code. */
export async function buildCli(): Promise<void> {
  const build = await runCommand('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, timeoutMs: 170_000 });
  if (build.code !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
}

export async function startCliEnvironment(name: string): Promise<CliEnvironment> {
  await buildCli();
  const engine = await startEngine();
  const dir = mkdtempSync(join(tmpdir(), `s3batch-${name}-`));
  const workerConfig = join(dir, 'worker.json');
  writeFileSync(workerConfig, JSON.stringify(engine.config));
  const stack = getStack();
  const env = {
    ...process.env,
    S3BATCH_TEMPORAL_ADDRESS: stack.temporal.address,
    S3BATCH_NAMESPACE: stack.temporal.namespace,
    S3BATCH_TASK_QUEUE: engine.taskQueue,
    S3BATCH_WORKER_CONFIG: workerConfig,
  };
  return { engine, env, dir };
}

/** Runs the built CLI with `env` (and `extraEnv` over it). Never rejects for a non-zero exit. */
export function runS3batch(env: NodeJS.ProcessEnv, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, timeoutMs: 100_000 });
}

/** Runs the CLI and expects an exit code; the error shows what it printed when it differs. */
export async function expectS3batchExit(env: NodeJS.ProcessEnv, args: string[], code: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const result = await runS3batch(env, args, extraEnv);
  if (result.code !== code) {
    throw new Error(`s3batch ${args.join(' ')} exited ${result.code} (${result.signal ?? ''}), expected ${code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}
