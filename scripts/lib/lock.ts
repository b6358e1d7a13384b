import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from './exec';

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding an exclusive lock file that contains the owner's PID. A lock whose owner is dead is stale and is
 * taken over, so a crash never wedges the next run. While a live process holds it, waits (saying so once via `onWait`).
 */
export async function withPidLock<T>(lockFile: string, onWait: (ownerPid: number) => void, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(lockFile, 'utf8').trim());
      } catch {
        continue; // Released between our open and read: try again.
      }
      // The owner may have created the file but not yet written its PID: give it a moment before calling it stale.
      if (!Number.isInteger(owner) || owner <= 0) {
        await sleep(100);
        owner = Number(readFileSync(lockFile, 'utf8').trim() || NaN);
      }
      if (!Number.isInteger(owner) || owner <= 0 || !isPidAlive(owner)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (owner === process.pid) throw new Error(`lock ${lockFile} is already held by this process (nested use)`);
      if (!announced) {
        onWait(owner);
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
