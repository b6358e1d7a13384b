/**
 * The per-user tool cache: built binaries, the moto virtualenv, build logs, recorded build times and locks.
 * One cache serves every checkout of the project, so a tool is built once per machine, not once per clone.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { withPidLock } from '../lib/lock';

export interface CachePaths {
  root: string;
  bin: string;
  logs: string;
  locks: string;
  motoVenv: string;
  buildTimesFile: string;
}

/** `S3BATCH_CACHE_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/s3-batch`. */
export function toolCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.S3BATCH_CACHE_DIR) return env.S3BATCH_CACHE_DIR;
  const xdgCache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(xdgCache, 's3-batch');
}

export function cachePaths(root: string): CachePaths {
  return {
    root,
    bin: join(root, 'bin'),
    logs: join(root, 'logs'),
    locks: join(root, 'locks'),
    motoVenv: join(root, 'moto-venv'),
    buildTimesFile: join(root, 'build-times.json'),
  };
}

export function ensureCacheDirs(paths: CachePaths): void {
  for (const dir of [paths.root, paths.bin, paths.logs, paths.locks]) mkdirSync(dir, { recursive: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Build times: recorded so docs/local-stack.md can quote how long a cold setup takes on a 2-core machine.

export interface BuildTimeRecord {
  /** What was built, e.g. `github.com/minio/minio@v0.0.0-…` or `moto[server]==5.2.5`. */
  source: string;
  seconds: number;
  finishedAt: string;
  /** `measured` by this script, or `from-log` when read from a build log written by someone else. */
  how: 'measured' | 'from-log';
}

export type BuildTimes = Record<string, BuildTimeRecord>;

export function readBuildTimes(paths: CachePaths): BuildTimes {
  try {
    return JSON.parse(readFileSync(paths.buildTimesFile, 'utf8')) as BuildTimes;
  } catch {
    return {};
  }
}

export function recordBuildTime(paths: CachePaths, tool: string, record: BuildTimeRecord): void {
  const times = { ...readBuildTimes(paths), [tool]: record };
  const tmp = `${paths.buildTimesFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(times, null, 2)}\n`);
  renameSync(tmp, paths.buildTimesFile);
}

/**
 * Reads the wall time a `time go install …` left at the end of a log (`real 3m17.643s`). Builds started outside this
 * script (e.g. by machine provisioning) are timed that way; we keep their number rather than lose it.
 */
export function buildSecondsFromLog(logFile: string): number | undefined {
  if (!existsSync(logFile)) return undefined;
  const match = /^real\s+(\d+)m([\d.]+)s\s*$/m.exec(readFileSync(logFile, 'utf8'));
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * 60 + Number(match[2]);
}

// ---------------------------------------------------------------------------------------------------------------
// Locks: two `npm run tools` (or a test run and a stack:up) must not build the same tool at the same time.

/** Runs `fn` holding `<cache>/locks/<tool>.lock`; waits while another process prepares the same tool. */
export function withToolLock<T>(paths: CachePaths, tool: string, fn: () => Promise<T>): Promise<T> {
  return withPidLock(
    join(paths.locks, `${tool}.lock`),
    (owner) => console.log(`tools: ${tool} is being prepared by process ${owner}; waiting for it`),
    fn,
  );
}

/**
 * PIDs of `go install <pkg>@…` processes running on this machine, started by anyone (Linux /proc only). A build
 * started outside this script holds no lock of ours, but starting a second build of the same tool would only race it.
 */
export function runningGoInstalls(pkg: string): number[] {
  if (!existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const installAt = argv.indexOf('install');
      if (installAt > 0 && /(^|\/)go$/.test(argv[0] ?? '') && argv.slice(installAt + 1).some((a) => a.startsWith(`${pkg}@`))) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
