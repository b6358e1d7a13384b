/**
 * Who is using a stack that a test run started. Two jest runs can share one stack (two terminals, or a developer and
 * an agent on one machine): the run that started it must not stop it while the other still runs tests. Each run holds
 * a lease file (`<dataDir>/test-leases/<pid>`); the stack is stopped by the last run to leave, and only if a test run
 * started it (`<dataDir>/test-leases/.started-by-tests`), never if a person started it with `npm run stack:up`.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withPidLock } from '../../scripts/lib/lock';
import { isProcessAlive } from '../../scripts/stack/index';

function leaseDir(dataDir: string): string {
  return join(dataDir, 'test-leases');
}

function startedByTestsMarker(dataDir: string): string {
  return join(leaseDir(dataDir), '.started-by-tests');
}

/** Serializes lease bookkeeping between test runs (separate from the stack's own lock, which stackUp/Down take). */
export function withLeaseLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(leaseDir(dataDir), { recursive: true });
  return withPidLock(join(leaseDir(dataDir), '.lock'), (owner) => console.log(`waiting for test run ${owner} to finish its stack setup`), fn);
}

export function takeLease(dataDir: string, startedStack: boolean): void {
  mkdirSync(leaseDir(dataDir), { recursive: true });
  writeFileSync(join(leaseDir(dataDir), String(process.pid)), new Date().toISOString());
  if (startedStack) writeFileSync(startedByTestsMarker(dataDir), String(process.pid));
}

/** Whether a test run (not a person) started the stack that is running now. */
export function isStartedByTests(dataDir: string): boolean {
  return existsSync(startedByTestsMarker(dataDir));
}

/** Drops our lease; true if no other live test run holds one. Leases of dead runs are cleaned up on the way. */
export function releaseLease(dataDir: string): boolean {
  const dir = leaseDir(dataDir);
  rmSync(join(dir, String(process.pid)), { force: true });
  if (!existsSync(dir)) return true;
  const others = readdirSync(dir)
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      const alive = isProcessAlive(Number(name));
      if (!alive) rmSync(join(dir, name), { force: true });
      return alive;
    });
  return others.length === 0;
}

export function forgetStartedByTests(dataDir: string): void {
  rmSync(startedByTestsMarker(dataDir), { force: true });
}
