/**
 * Debian packages the tests need that the tool cache cannot build (chromium for the browser test, postgresql for the
 * cluster profile): `apt-get install -y --no-install-recommends <package>` as root or through `sudo -n`, and if that
 * fails (stale package lists), `apt-get update` and the install once more. One install of a package at a time per
 * machine (the tool lock); each apt step is time-bounded; the output goes to `<cache>/logs/<package>-install.log` and
 * the time taken to `<cache>/build-times.json`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, formatSeconds, runCommand } from '../lib/exec';
import { type CachePaths, ensureCacheDirs, recordBuildTime, withToolLock } from './cache';

/** How long one apt step may take before it is killed (a cold chromium install downloads about 100 MB). */
const APT_STEP_TIMEOUT_MS = 10 * 60_000;
/** How long apt waits for another apt/dpkg (say, unattended-upgrades) to release the dpkg lock. */
const DPKG_LOCK_WAIT_SECONDS = 180;

/** `[]` as root, `['sudo', '-n']` when password-less sudo works, else undefined. */
export async function privilegePrefix(): Promise<string[] | undefined> {
  if (process.getuid?.() === 0) return [];
  if (!findOnPath('sudo')) return undefined;
  const probe = await runCommand('sudo', ['-n', 'true'], { timeoutMs: 10_000 }).catch(() => undefined);
  return probe?.code === 0 ? ['sudo', '-n'] : undefined;
}

export interface AptInstallSpec {
  /** The Debian package, e.g. `chromium`. */
  pkg: string;
  /** What the package provides once installed (a path), or undefined; checked before and after the install. */
  installed: () => string | undefined;
  /** Prints the installed version, for the log line and build-times.json. */
  versionCommand: (installed: string) => [string, string[]];
  /** Thrown when the package cannot be installed: `reason` says why, `detail` holds the log's tail. */
  unavailable: (reason: string, detail?: string) => Error;
}

/**
 * What `spec.installed()` finds, installing the package with apt-get first when it finds nothing. Safe to call from
 * several processes at once: the second waits for the first's install.
 */
export async function ensureAptPackage(paths: CachePaths, spec: AptInstallSpec): Promise<string> {
  const found = spec.installed();
  if (found) return found;
  if (!findOnPath('apt-get')) throw spec.unavailable('apt-get is not on PATH');
  const prefix = await privilegePrefix();
  if (!prefix) throw spec.unavailable('installing it needs root (or password-less sudo)');
  ensureCacheDirs(paths);
  return withToolLock(paths, spec.pkg, async () => {
    const again = spec.installed();
    if (again) return again;
    const logFile = join(paths.logs, `${spec.pkg}-install.log`);
    console.log(`tools: installing Debian's ${spec.pkg} with apt-get (log: ${logFile})`);
    const started = Date.now();
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const lockWait = ['-o', `DPkg::Lock::Timeout=${DPKG_LOCK_WAIT_SECONDS}`];
    const install = ['apt-get', ...lockWait, 'install', '-y', '--no-install-recommends', spec.pkg];
    const update = ['apt-get', ...lockWait, 'update'];
    let log = '';
    const run = async (argv: string[]) => {
      const [command, ...args] = [...prefix, ...argv] as [string, ...string[]];
      const stepStarted = Date.now();
      const result = await runCommand(command, args, { env, timeoutMs: APT_STEP_TIMEOUT_MS });
      const seconds = ((Date.now() - stepStarted) / 1000).toFixed(1);
      const end = result.signal === 'SIGKILL' ? `killed after ${APT_STEP_TIMEOUT_MS / 60_000} min` : `exit ${result.code ?? result.signal}`;
      log += `$ ${[command, ...args].join(' ')}\n${result.stdout}${result.stderr}\n${end} in ${seconds} s\n\n`;
      writeFileSync(logFile, log);
      return result.code === 0;
    };
    // Most machines have usable package lists; refresh them only when the install says otherwise.
    let installed = await run(install);
    if (!installed) {
      await run(update); // A partly failing update (one unreachable source) may still fix the lists we need.
      installed = await run(install);
    }
    const result = spec.installed();
    if (!installed || !result) {
      const tail = log.trim().split('\n').slice(-6).join('\n');
      throw spec.unavailable(`\`${install.join(' ')}\` failed (log: ${logFile})`, tail);
    }
    const seconds = (Date.now() - started) / 1000;
    const [versionBin, versionArgs] = spec.versionCommand(result);
    const version = (await runCommand(versionBin, versionArgs, { timeoutMs: 30_000 }).catch(() => undefined))?.stdout.trim();
    recordBuildTime(paths, spec.pkg, {
      source: `apt-get install ${spec.pkg} (${version || 'version unknown'})`,
      seconds: Math.round(seconds * 10) / 10,
      finishedAt: new Date().toISOString(),
      how: 'measured',
    });
    console.log(`tools: installed ${version || spec.pkg} in ${formatSeconds(seconds)}`);
    return result;
  });
}
