/**
 * moto (an AWS mock server) for what MinIO lacks: object ACLs, archive storage classes and RestoreObject. Installed
 * from PyPI into a virtualenv in the tool cache, pinned, and reused while the pinned version is there.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, formatSeconds, runCommand } from '../lib/exec';
import { type CachePaths, recordBuildTime, withToolLock } from './cache';

export const MOTO_VERSION = '5.2.5';
const MOTO_REQUIREMENT = `moto[server]==${MOTO_VERSION}`;

export interface MotoVenv {
  /** The `moto_server` console script inside the venv. */
  motoServer: string;
  python: string;
}

/** Where the moto venv and its python are (boto3 comes with moto: test/integration/http-api-boto3.test.ts uses it). */
export function venvPaths(paths: CachePaths): MotoVenv {
  return { motoServer: join(paths.motoVenv, 'bin', 'moto_server'), python: join(paths.motoVenv, 'bin', 'python') };
}

async function installedMotoVersion(venv: MotoVenv): Promise<string | undefined> {
  if (!existsSync(venv.motoServer) || !existsSync(venv.python)) return undefined;
  const result = await runCommand(venv.python, ['-c', "import importlib.metadata as m; print(m.version('moto'))"], {
    timeoutMs: 60_000,
  }).catch(() => undefined);
  return result?.code === 0 ? result.stdout.trim() : undefined;
}

/** Thrown when moto must be installed but Python 3 is not on PATH. */
export class PythonMissingError extends Error {
  constructor() {
    super(
      `Python 3 is needed to install moto (${MOTO_REQUIREMENT}) but \`python3\` was not found on PATH. ` +
        'Install Python 3.9 or newer with its venv module and run `npm run tools` again.',
    );
    this.name = 'PythonMissingError';
  }
}

/** True when the cached venv has the pinned moto and its server script. */
export async function isMotoVenvCurrent(paths: CachePaths): Promise<boolean> {
  return (await installedMotoVersion(venvPaths(paths))) === MOTO_VERSION;
}

export async function ensureMotoVenv(paths: CachePaths): Promise<MotoVenv> {
  const venv = venvPaths(paths);
  if ((await installedMotoVersion(venv)) === MOTO_VERSION) return venv;

  return withToolLock(paths, 'moto', async () => {
    if ((await installedMotoVersion(venv)) === MOTO_VERSION) return venv;
    const python = findOnPath('python3');
    if (!python) throw new PythonMissingError();
    const logFile = join(paths.logs, 'moto-build.log');
    console.log(`tools: installing ${MOTO_REQUIREMENT} into ${paths.motoVenv} (log: ${logFile})`);
    const started = Date.now();
    const steps: Array<[string, string[]]> = [
      [python, ['-m', 'venv', '--clear', paths.motoVenv]],
      [venv.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', MOTO_REQUIREMENT]],
    ];
    let log = '';
    for (const [command, args] of steps) {
      const result = await runCommand(command, args, { timeoutMs: 20 * 60_000 });
      log += `$ ${command} ${args.join(' ')}\n${result.stdout}${result.stderr}\nexit: ${result.code ?? result.signal}\n`;
      writeFileSync(logFile, log);
      if (result.code !== 0) {
        const why = args[0] === '-m' && args[1] === 'venv' ? ' (on Debian/Ubuntu: apt-get install python3-venv)' : '';
        throw new Error(`installing moto failed at \`${command} ${args.join(' ')}\`${why}; log: ${logFile}`);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    recordBuildTime(paths, 'moto', {
      source: MOTO_REQUIREMENT,
      seconds: Math.round(seconds * 10) / 10,
      finishedAt: new Date().toISOString(),
      how: 'measured',
    });
    console.log(`tools: installed moto in ${formatSeconds(seconds)}`);
    return venv;
  });
}
