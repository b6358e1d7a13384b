/**
 * Long-running child processes of the stack: started detached in their own process group with output to a log file,
 * so they outlive `npm run stack:up`; found again by PID; stopped by process group so nothing is left behind.
 *
 * Liveness reads /proc where it exists (Linux): a zombie (exited, not yet reaped) counts as gone, and a PID that was
 * reused by an unrelated program is not mistaken for ours (its command line must contain our markers).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from '../lib/exec';

/** A process the stack started, as recorded in the state file. */
export interface OwnedProcess {
  /** e.g. `temporal`, `minio`, `moto`, `lambda:echo`. */
  component: string;
  pid: number;
  /** Strings its command line must contain for the PID to still be ours (binary path, port). */
  markers: string[];
  logFile: string;
}

export interface DetachedSpawnSpec {
  component: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  markers: string[];
  /** Run as this user and group (needs root): PostgreSQL refuses to run as root. */
  uid?: number;
  gid?: number;
}

/**
 * Starts a command detached (new session, so its own process group with the child as leader), stdin closed and
 * stdout/stderr appended to `logFile`. Resolves once the OS has started it; rejects if it cannot be executed.
 */
export async function spawnDetached(spec: DetachedSpawnSpec): Promise<OwnedProcess> {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    // A header per start, so a log that spans restarts can be read. Arguments never carry secrets (env does).
    writeSync(fd, `\n=== ${new Date().toISOString()} starting ${spec.component}: ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      uid: spec.uid,
      gid: spec.gid,
      stdio: ['ignore', fd, fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`cannot start ${spec.component} (${spec.command}): ${error.message}`)));
    });
    // The parent may exit now; the child keeps running on its own.
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${spec.component}: no PID`);
    return { component: spec.component, pid: child.pid, markers: spec.markers, logFile: spec.logFile };
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// /proc readers (Linux). Elsewhere they return undefined/[] and callers fall back to `kill(pid, 0)`.

interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses: split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

const hasProc = existsSync('/proc/self/stat');

function allPids(): number[] {
  if (!hasProc) return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** The command line of a running process, or undefined if it is gone or /proc is unavailable. */
export function processCommandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** True if `pid` exists and has not exited (zombies count as exited). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return readProcStat(pid)?.state !== 'Z';
}

/** True if the recorded process is alive and still the program we started (not a reused PID). */
export function isOwnedProcessAlive(owned: OwnedProcess): boolean {
  if (!isProcessAlive(owned.pid)) return false;
  const argv = processCommandLine(owned.pid);
  if (!argv) return true; // No /proc: trust the PID.
  const commandLine = argv.join(' ');
  return owned.markers.every((marker) => commandLine.includes(marker));
}

/** Live (non-zombie) members of a process group. */
export function processGroupMembers(pgid: number): number[] {
  return allPids().filter((pid) => {
    const stat = readProcStat(pid);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}

/** Live (non-zombie) direct children of a process. */
export function childProcessIds(pid: number): number[] {
  return allPids().filter((candidate) => {
    const stat = readProcStat(candidate);
    return stat !== undefined && stat.ppid === pid && stat.state !== 'Z';
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Stopping.

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** What to signal for `pid` (its whole group when it leads one, never the caller's), and whether all of it is gone. */
function signalTarget(pid: number): { target: number; gone: () => boolean } {
  const ownGroup = readProcStat(process.pid)?.pgrp;
  const stat = readProcStat(pid);
  // A leader that already exited may have left members behind (its group id is still its PID). Without /proc we
  // cannot see groups; processes we start are always group leaders (spawnDetached).
  const leadsGroup = stat ? stat.pgrp === pid : hasProc ? processGroupMembers(pid).length > 0 : true;
  const target = leadsGroup && pid !== ownGroup ? -pid : pid;
  const gone = (): boolean =>
    !isProcessAlive(pid) && (target > 0 || !hasProc || processGroupMembers(pid).length === 0);
  return { target, gone };
}

/**
 * Stops a process we started: SIGTERM to its whole process group when it leads one (so children such as the Lambda
 * emulator's bootstrap go too), waits up to `graceMs`, then SIGKILL, and resolves once every member is gone.
 * Never signals the caller's own process group. Throws if something survives SIGKILL (it should not).
 */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  const { target, gone } = signalTarget(pid);

  if (gone() && target > 0) return;
  signal(target, 'SIGTERM');
  if (await waitUntil(gone, graceMs)) return;
  signal(target, 'SIGKILL');
  if (await waitUntil(gone, 5_000)) return;
  throw new Error(`process ${pid} (or a member of its group) is still running after SIGKILL`);
}

/**
 * Crashes a process we started: SIGKILL to its process group at once (no chance to flush or shut down cleanly), and
 * resolves once every member is gone. Durability tests use it to show state survives a crash, not only a clean stop.
 */
export async function killPidNow(pid: number): Promise<void> {
  const { target, gone } = signalTarget(pid);
  signal(target, 'SIGKILL');
  if (await waitUntil(gone, 5_000)) return;
  throw new Error(`process ${pid} (or a member of its group) is still running after SIGKILL`);
}
