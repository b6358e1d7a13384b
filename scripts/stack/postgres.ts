/**
 * PostgreSQL for the cluster profile: one server in `<dataDir>` (initdb on first start, kept across restarts), on
 * 127.0.0.1 only, with one superuser (`user`, password auth) that Temporal and its SQL tool use. Durability settings
 * are relaxed for tests (fsync off: only an OS crash could lose the last writes; a killed server recovers from its
 * WAL). PostgreSQL refuses to run as root: as root, the data dir is handed to the `postgres` system user and every
 * PostgreSQL process runs as that user. If that user cannot reach the stack dir (a clone under /root, say), the data
 * lives in /var/lib/postgresql/s3-batch-<hash of the stack dir> instead (or the temp dir where that does not exist).
 */
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand } from '../lib/exec';
import { STACK_HOST } from './config';
import { assertPortsFree, ComponentStartError, type HealthResult, waitForHealthy } from './health';
import { type OwnedProcess, spawnDetached, stopPid } from './processes';

export interface PostgresOptions {
  /** Holds `initdb`, `postgres` and `pg_isready` (scripts/tools/postgres.ts). */
  binDir: string;
  dataDir: string;
  port: number;
  user: string;
  password: string;
  logFile: string;
  timeoutMs: number;
  portVariable?: string;
  onSpawn?: (owned: OwnedProcess) => void;
}

export interface PostgresServer {
  address: string;
  /** Where the data is: options.dataDir, or the fallback when the server's user cannot reach it. */
  dataDir: string;
  process: OwnedProcess;
}

/** The user PostgreSQL runs as: the `postgres` system user when we are root, else ourselves (undefined). */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([runCommand('id', ['-u', 'postgres']), runCommand('id', ['-g', 'postgres'])]);
  if (uid.code !== 0 || gid.code !== 0) {
    throw new Error('PostgreSQL refuses to run as root and there is no `postgres` user to run it as (Debian\'s postgresql package creates one)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The data dir to use: the one asked for if the server's user can reach its parent folder, else a fallback. */
async function reachableDataDir(wanted: string, owner: { uid: number; gid: number } | undefined): Promise<string> {
  if (!owner) return wanted;
  mkdirSync(dirname(wanted), { recursive: true });
  const probe = await runCommand('test', ['-x', dirname(wanted)], { ...owner, timeoutMs: 10_000 });
  if (probe.code === 0) return wanted;
  const base = existsSync('/var/lib/postgresql') ? '/var/lib/postgresql' : tmpdir();
  return join(base, `s3-batch-${createHash('sha256').update(wanted).digest('hex').slice(0, 12)}`);
}

/** Creates the cluster on first use: superuser `user` with a SCRAM password, UTF-8, C locale. */
async function initdbOnce(options: PostgresOptions, owner: { uid: number; gid: number } | undefined): Promise<void> {
  if (existsSync(join(options.dataDir, 'PG_VERSION'))) return;
  rmSync(options.dataDir, { recursive: true, force: true }); // A half-made cluster from a failed initdb.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const pwFile = join(dirname(options.dataDir), '.postgres-initdb-password');
  writeFileSync(pwFile, `${options.password}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(options.dataDir, owner.uid, owner.gid);
    chownSync(pwFile, owner.uid, owner.gid);
  }
  try {
    const args = ['-D', options.dataDir, '-U', options.user, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'];
    const result = await runCommand(join(options.binDir, 'initdb'), args, { ...owner, timeoutMs: 120_000 });
    if (result.code !== 0) {
      const hint = owner ? ` (every folder above it must be readable by the postgres user; set S3BATCH_STACK_DIR elsewhere if not)` : '';
      throw new ComponentStartError('PostgreSQL', `initdb of ${options.dataDir} failed${hint}: ${(result.stderr || result.stdout).trim()}`, options.logFile);
    }
  } finally {
    rmSync(pwFile, { force: true });
  }
}

/** `pg_isready` accepts connections on the port. */
export async function checkPostgresHealth(binDir: string, port: number): Promise<HealthResult> {
  const result = await runCommand(join(binDir, 'pg_isready'), ['-h', STACK_HOST, '-p', String(port), '-t', '3'], { timeoutMs: 5_000 }).catch(
    (error: Error) => ({ code: 1, signal: null, stdout: '', stderr: error.message }),
  );
  return result.code === 0 ? { healthy: true } : { healthy: false, detail: (result.stdout || result.stderr).trim() || `exit ${result.code}` };
}

/** Starts PostgreSQL detached and waits until it accepts connections; on failure it is stopped again. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  await assertPortsFree([{ port: options.port, variable: options.portVariable, what: 'PostgreSQL' }]);
  const owner = await serverUser();
  const dataDir = await reachableDataDir(options.dataDir, owner);
  if (dataDir !== options.dataDir) options = { ...options, dataDir };
  await initdbOnce(options, owner);
  const postgresBin = join(options.binDir, 'postgres');
  const owned = await spawnDetached({
    component: 'postgres',
    command: postgresBin,
    args: [
      '-D', options.dataDir,
      '-p', String(options.port),
      '-c', `listen_addresses=${STACK_HOST}`,
      // No Unix socket: /var/run/postgresql belongs to the system's own server, if any.
      '-c', 'unix_socket_directories=',
      // Four Temporal services with a pool each, the SQL tool and tests' ad-hoc clients.
      '-c', 'max_connections=200',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ],
    ...owner,
    logFile: options.logFile,
    markers: [postgresBin, options.dataDir],
  });
  options.onSpawn?.(owned);
  const address = `${STACK_HOST}:${options.port}`;
  try {
    await waitForHealthy({
      component: 'PostgreSQL',
      address,
      portVariable: options.portVariable,
      pid: owned.pid,
      logFile: options.logFile,
      timeoutMs: options.timeoutMs,
      check: () => checkPostgresHealth(options.binDir, options.port),
    });
  } catch (error) {
    await stopPid(owned.pid).catch(() => undefined);
    throw error;
  }
  return { address, dataDir, process: owned };
}
