/**
 * Contenders run as child processes of the bench, so each one's memory is its own: peak RSS is the kernel's
 * high-water mark (VmHWM in /proc/<pid>/status), sampled until the child exits, since it is gone afterwards; so is
 * its CPU time, which tells where a run's time went.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface MeasuredChild {
  child: ChildProcess;
  output(): string;
  /** Highest VmHWM seen so far, in bytes (0 where /proc is missing). */
  peakRssBytes(): number;
  /** CPU seconds used, as last sampled (every 100 ms, and on every call while the child lives). */
  cpuSeconds(): number;
  /** Resolves when the child has printed `line` (a substring), rejects if it exits first or after `timeoutMs`. */
  waitFor(line: string, timeoutMs: number): Promise<void>;
  /** Resolves with the exit code once the child is gone. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** User + system CPU seconds a live process has used so far (0 once it is gone). Linux ticks are 1/100 s. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of a process and its live descendants: PostgreSQL's work is done by backends, children of the
 * postmaster (or of the runuser that started it), whose CPU the parent's own counters do not hold.
 */
export function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone since the listing.
    }
  }
  let total = 0;
  const visit = (p: number) => {
    total += cpuSecondsOf(p);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return total;
}

function readHighWaterMark(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function spawnMeasured(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): MeasuredChild {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let peak = 0;
  let cpu = 0;
  const sample = () => {
    if (!child.pid) return;
    peak = Math.max(peak, readHighWaterMark(child.pid));
    cpu = Math.max(cpu, cpuSecondsOf(child.pid));
  };
  const sampler = setInterval(sample, 100);
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      clearInterval(sampler);
      resolve(code);
    });
  });
  return {
    child,
    output: () => out,
    peakRssBytes: () => (sample(), peak),
    cpuSeconds: () => (sample(), cpu),
    exited,
    waitFor(line, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!out.includes(line)) return;
          cleanup();
          resolve();
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`${command} exited with ${code} before printing "${line}":\n${out.slice(-4000)}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${command} did not print "${line}" within ${timeoutMs} ms:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      // Sample once more: the high-water mark is lost with the process.
      sample();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
