/**
 * Chromium for the browser test of Temporal Web (test/integration/web-ui.test.ts), driven by playwright-core.
 *
 * `npx playwright install` downloads its own browser, which closed networks refuse; we use the distribution's
 * Chromium instead. In order of preference:
 *   1. `S3BATCH_CHROMIUM` names a Chromium or Chrome executable: used as is, never installed.
 *   2. /usr/bin/chromium exists: used as is.
 *   3. Debian/Ubuntu: `apt-get install -y --no-install-recommends chromium` (as root, or through `sudo -n`), and if
 *      that fails (stale package lists), `apt-get update` and the install once more. One install at a time per
 *      machine (the tool lock); each apt step is time-bounded; the output goes to `<cache>/logs/chromium-install.log`
 *      and the time taken to `<cache>/build-times.json`.
 * Anything else fails with a message that says what to install.
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, formatSeconds, runCommand } from '../lib/exec';
import { type CachePaths, ensureCacheDirs, recordBuildTime, withToolLock } from './cache';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** How long one apt step may take before it is killed (a cold install downloads about 100 MB). */
const APT_STEP_TIMEOUT_MS = 10 * 60_000;
/** How long apt waits for another apt/dpkg (say, unattended-upgrades) to release the dpkg lock. */
const DPKG_LOCK_WAIT_SECONDS = 180;

/** Thrown when Chromium is missing and this script cannot install it; the message says what to do. */
export class ChromiumUnavailableError extends Error {
  constructor(reason: string, detail = '') {
    super(
      `Chromium is needed for the Temporal Web browser test but ${reason}. Install it (Debian/Ubuntu: ` +
        '`apt-get install -y --no-install-recommends chromium`), or set S3BATCH_CHROMIUM to a Chromium or Chrome ' +
        `executable.${detail ? `\n${detail}` : ''}`,
    );
    this.name = 'ChromiumUnavailableError';
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium to use without installing anything, or undefined. Throws if S3BATCH_CHROMIUM names nothing usable. */
export function installedChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.S3BATCH_CHROMIUM;
  if (named) {
    if (!isExecutable(named)) throw new ChromiumUnavailableError(`S3BATCH_CHROMIUM=${named} is not an executable file`);
    return named;
  }
  return isExecutable(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;
}

/** `[]` as root, `['sudo', '-n']` when password-less sudo works, else undefined. */
async function privilegePrefix(): Promise<string[] | undefined> {
  if (process.getuid?.() === 0) return [];
  if (!findOnPath('sudo')) return undefined;
  const probe = await runCommand('sudo', ['-n', 'true'], { timeoutMs: 10_000 }).catch(() => undefined);
  return probe?.code === 0 ? ['sudo', '-n'] : undefined;
}

/**
 * The Chromium executable, installed with apt-get on first use when missing. Safe to call from several processes at
 * once: the second waits for the first's install.
 */
export async function ensureChromium(paths: CachePaths): Promise<string> {
  const found = installedChromium();
  if (found) return found;
  if (!findOnPath('apt-get')) throw new ChromiumUnavailableError(`${DEBIAN_CHROMIUM} does not exist and apt-get is not on PATH`);
  const prefix = await privilegePrefix();
  if (!prefix) {
    throw new ChromiumUnavailableError(`${DEBIAN_CHROMIUM} does not exist and installing it needs root (or password-less sudo)`);
  }
  ensureCacheDirs(paths);
  return withToolLock(paths, 'chromium', async () => {
    const again = installedChromium();
    if (again) return again;
    const logFile = join(paths.logs, 'chromium-install.log');
    console.log(`tools: installing Debian's chromium with apt-get (log: ${logFile})`);
    const started = Date.now();
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const lockWait = ['-o', `DPkg::Lock::Timeout=${DPKG_LOCK_WAIT_SECONDS}`];
    const install = ['apt-get', ...lockWait, 'install', '-y', '--no-install-recommends', 'chromium'];
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
    const binary = installedChromium();
    if (!installed || !binary) {
      const tail = log.trim().split('\n').slice(-6).join('\n');
      throw new ChromiumUnavailableError(`\`${install.join(' ')}\` failed (log: ${logFile})`, tail);
    }
    const seconds = (Date.now() - started) / 1000;
    const version = await runCommand(binary, ['--version'], { timeoutMs: 30_000 }).catch(() => undefined);
    recordBuildTime(paths, 'chromium', {
      source: `apt-get install chromium (${version?.stdout.trim() || 'version unknown'})`,
      seconds: Math.round(seconds * 10) / 10,
      finishedAt: new Date().toISOString(),
      how: 'measured',
    });
    console.log(`tools: installed ${version?.stdout.trim() || 'chromium'} in ${formatSeconds(seconds)}`);
    return binary;
  });
}
