/**
 * Jest global setup: make sure Chromium is installed for the browser test (scripts/tools/chromium.ts; its path goes
 * to the test files in S3BATCH_CHROMIUM, or why it is missing in S3BATCH_CHROMIUM_UNAVAILABLE, which fails only that
 * test), and that a real local stack is running; tell the test files where its state file is (S3BATCH_STACK_STATE).
 * The stack, in order of preference:
 *   1. S3BATCH_STACK_STATE names the state file of a running stack: use it, never stop it.
 *   2. A stack is already running in the configured data dir (`npm run stack:up`, or another test run): use it.
 *      Components that died are restarted.
 *   3. Otherwise start one. global-teardown stops it when the last test run using it ends (see
 *      helpers/stack-leases.ts), unless S3BATCH_KEEP_STACK=1 keeps it up for faster reruns.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readStackState, stackConfigFromEnv, stackUp, stateFilePath } from '../scripts/stack/index';
import { cachePaths, toolCacheDir } from '../scripts/tools/cache';
import { ensureChromium } from '../scripts/tools/chromium';
import { isStartedByTests, takeLease, withLeaseLock } from './helpers/stack-leases';

declare global {
  // The data dir whose stack this run holds a lease on; read by test/global-teardown.ts in the same process.
  var __S3BATCH_STACK_LEASE__: string | undefined;
}

export default async function globalSetup(): Promise<void> {
  // `npm test` writes jest's JSON summary into .cache/ (read by .ci/run); jest does not create the folder.
  mkdirSync(join(__dirname, '..', '.cache'), { recursive: true });
  // The install (about half a minute when missing) overlaps the stack's start, which may build tools for minutes.
  const chromium = prepareChromium();
  try {
    await prepareStack();
  } finally {
    await chromium;
  }
}

async function prepareChromium(): Promise<void> {
  try {
    process.env.S3BATCH_CHROMIUM = await ensureChromium(cachePaths(toolCacheDir()));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.env.S3BATCH_CHROMIUM_UNAVAILABLE = reason;
    console.log(`\ntools: ${reason}`);
  }
}

/** Finds or starts the stack (see the top of this file); test/cluster-global-setup.ts uses it too. */
export async function prepareStack(): Promise<void> {
  const named = process.env.S3BATCH_STACK_STATE;
  if (named) {
    if (!readStackState(named)) {
      throw new Error(`S3BATCH_STACK_STATE=${named} does not describe a running stack; start one with \`npm run stack:up\` or unset the variable`);
    }
    return;
  }
  const config = stackConfigFromEnv();
  const stateFile = stateFilePath(config.dataDir);
  await withLeaseLock(config.dataDir, async () => {
    // A stack left by a test run that crashed counts as started by tests; one started by a person never does.
    const startedHere = !existsSync(stateFile) || isStartedByTests(config.dataDir);
    await stackUp(config, { log: (line) => console.log(`\n${line}`) });
    takeLease(config.dataDir, startedHere);
  });
  process.env.S3BATCH_STACK_STATE = stateFile;
  globalThis.__S3BATCH_STACK_LEASE__ = config.dataDir;
}
