/**
 * PostgreSQL for the cluster profile's Temporal persistence: Debian's server binaries (`initdb`, `postgres`,
 * `pg_isready` in /usr/lib/postgresql/<major>/bin), installed with `apt-get install postgresql` where missing
 * (see apt.ts). `S3BATCH_POSTGRES_BIN_DIR` names another folder holding those binaries; it is used as is.
 * Temporal's postgres12 plugin needs PostgreSQL 12 or newer; Debian 12 ships 15.
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAptPackage } from './apt';
import type { CachePaths } from './cache';

const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';
const MIN_MAJOR = 12;
const NEEDED = ['initdb', 'postgres', 'pg_isready'] as const;

/** Thrown when PostgreSQL is missing and cannot be installed; the message says what to do. */
export class PostgresUnavailableError extends Error {
  constructor(reason: string, detail = '') {
    super(
      `PostgreSQL ${MIN_MAJOR}+ is needed for the cluster profile but ${reason}. Install it (Debian/Ubuntu: ` +
        '`apt-get install -y --no-install-recommends postgresql`), or set S3BATCH_POSTGRES_BIN_DIR to a folder with ' +
        `${NEEDED.join(', ')}.${detail ? `\n${detail}` : ''}`,
    );
    this.name = 'PostgresUnavailableError';
  }
}

function hasServerBinaries(dir: string): boolean {
  try {
    for (const name of NEEDED) accessSync(join(dir, name), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The bin folder of the newest installed Debian PostgreSQL (>= 12), or the one S3BATCH_POSTGRES_BIN_DIR names. */
export function installedPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.S3BATCH_POSTGRES_BIN_DIR;
  if (named) {
    if (!hasServerBinaries(named)) throw new PostgresUnavailableError(`S3BATCH_POSTGRES_BIN_DIR=${named} lacks one of ${NEEDED.join(', ')}`);
    return named;
  }
  if (!existsSync(DEBIAN_POSTGRES_ROOT)) return undefined;
  const majors = readdirSync(DEBIAN_POSTGRES_ROOT)
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) >= MIN_MAJOR)
    .map(Number)
    .sort((a, b) => b - a);
  return majors.map((major) => join(DEBIAN_POSTGRES_ROOT, String(major), 'bin')).find(hasServerBinaries);
}

/** The folder holding `initdb`, `postgres` and `pg_isready`, installing Debian's postgresql first when missing. */
export function ensurePostgres(paths: CachePaths): Promise<string> {
  return ensureAptPackage(paths, {
    pkg: 'postgresql',
    installed: () => installedPostgresBinDir(),
    versionCommand: (binDir) => [join(binDir, 'postgres'), ['--version']],
    unavailable: (reason, detail) => new PostgresUnavailableError(reason.startsWith('`') ? reason : `it is not installed and ${reason}`, detail),
  });
}
