/**
 * The Temporal dev server (`temporal server start-dev`) on a persistent SQLite file, plus the namespace settings the
 * dev server does not apply by itself: 90-day retention (it creates namespaces with 24 h) and our search attributes
 * (its SQLite bootstrap skips `--search-attribute` for a namespace that already exists in the file).
 */
import { TEMPORAL_PRIORITY_LEVELS } from '../../src/shared/priority';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { runCommand, type CommandResult } from '../lib/exec';
import { ensureTemporalCli } from '../tools';
import { STACK_HOST } from './config';
import { assertPortsFree, canConnect, ComponentStartError, type HealthResult, waitForHealthy } from './health';
import { type OwnedProcess, spawnDetached, stopPid } from './processes';

export interface SearchAttributeSpec {
  name: string;
  /** Text, Keyword, Int, Double, Bool, Datetime or KeywordList. */
  type: string;
}

export interface TemporalDevServerOptions {
  /** Holds `temporal.db` (plus its WAL files). Reuse the directory to keep workflows across restarts. */
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Defaults to JOB_SEARCH_ATTRIBUTES. */
  searchAttributes?: readonly SearchAttributeSpec[];
  /** Closed-workflow retention in hours; default 2160 (90 days, as AWS keeps finished Batch Operations jobs). */
  retentionHours?: number;
  /** Defaults to `<dataDir>/temporal.log`. */
  logFile?: string;
  /** Defaults to the cached or PATH Temporal CLI (see scripts/tools.ts). */
  temporalBin?: string;
  /** How long to wait for SERVING; default 60 s. */
  timeoutMs?: number;
  /** No Web UI (saves a little memory); default false. */
  headless?: boolean;
  /** Variables that set the two ports, named in a port-conflict error. */
  portVariables?: { port?: string; uiPort?: string };
  /** Told the PID as soon as the process exists, before it is healthy (the stack records it for cleanup). */
  onSpawn?: (owned: OwnedProcess) => void;
}

export interface TemporalDevServer {
  pid: number;
  /** host:port for clients and workers. */
  address: string;
  uiUrl: string;
  logFile: string;
  dbFile: string;
  process: OwnedProcess;
}

/**
 * Dynamic config the engine relies on, given to the dev server as flags and to the cluster profile in its dynamic
 * config file (temporal-cluster.ts).
 */
export const ENGINE_DYNAMIC_CONFIG: Readonly<Record<string, boolean | number>> = {
  // Task priority (the new matcher) with as many levels as job priorities map onto: see src/shared/priority.ts.
  // Priority is ordered within a task-queue partition, so one partition per queue (plenty for one dev server).
  // No test has measured the dev server ordering by it; the ordering tests show is the worker's gate (docs/jobs.md, Priority).
  'matching.useNewMatcher': true,
  'matching.priorityLevels': TEMPORAL_PRIORITY_LEVELS,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

/** The Temporal CLI with our explicit flags only: TEMPORAL_* variables (address, TLS, API key) of the user's shell must
 * not redirect commands meant for the local dev server. */
export function cliEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_')));
}

export async function temporalCli(bin: string, args: string[], timeoutMs = 15_000): Promise<CommandResult> {
  return runCommand(bin, args, { env: cliEnv(), timeoutMs });
}

function failed(what: string, result: CommandResult): Error {
  return new Error(`${what} failed (exit ${result.code ?? result.signal}): ${(result.stderr || result.stdout).trim()}`);
}

/** `temporal operator cluster health` reports SERVING. */
export async function checkTemporalHealth(bin: string, address: string): Promise<HealthResult> {
  const result = await temporalCli(bin, ['operator', 'cluster', 'health', '--address', address], 5_000).catch(
    (error: Error) => ({ code: 1, signal: null, stdout: '', stderr: error.message }) satisfies CommandResult,
  );
  if (result.code === 0 && result.stdout.includes('SERVING')) return { healthy: true };
  return { healthy: false, detail: (result.stderr || result.stdout).trim().split('\n').at(-1) || `exit ${result.code}` };
}

const INDEXED_VALUE_TYPES: Record<string, string> = {
  Text: 'INDEXED_VALUE_TYPE_TEXT',
  Keyword: 'INDEXED_VALUE_TYPE_KEYWORD',
  Int: 'INDEXED_VALUE_TYPE_INT',
  Double: 'INDEXED_VALUE_TYPE_DOUBLE',
  Bool: 'INDEXED_VALUE_TYPE_BOOL',
  Datetime: 'INDEXED_VALUE_TYPE_DATETIME',
  KeywordList: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
};

/** Custom search attributes of a namespace, name → INDEXED_VALUE_TYPE_…. */
export async function listCustomSearchAttributes(bin: string, address: string, namespace: string): Promise<Record<string, string>> {
  const result = await temporalCli(bin, ['operator', 'search-attribute', 'list', '--address', address, '-n', namespace, '-o', 'json']);
  if (result.code !== 0) throw failed(`listing search attributes of ${namespace}`, result);
  const parsed = JSON.parse(result.stdout) as { customAttributes?: Record<string, string> };
  return parsed.customAttributes ?? {};
}

/**
 * Sets retention and makes sure every search attribute exists with the right type. Idempotent; run after every start
 * because `start-dev` applies neither to a namespace that already exists in a persistent database.
 */
export async function configureTemporalNamespace(
  bin: string,
  address: string,
  namespace: string,
  retentionHours: number,
  searchAttributes: readonly SearchAttributeSpec[],
): Promise<void> {
  const update = await temporalCli(bin, [
    'operator', 'namespace', 'update', '--address', address, '-n', namespace, '--retention', `${retentionHours}h`,
  ]);
  if (update.code !== 0) throw failed(`setting retention of namespace ${namespace} to ${retentionHours}h`, update);

  const existing = await listCustomSearchAttributes(bin, address, namespace);
  for (const attribute of searchAttributes) {
    const wanted = INDEXED_VALUE_TYPES[attribute.type];
    if (!wanted) throw new Error(`search attribute ${attribute.name}: unknown type ${attribute.type}`);
    const current = existing[attribute.name];
    if (current === wanted) continue;
    if (current !== undefined) {
      throw new Error(
        `search attribute ${attribute.name} exists in namespace ${namespace} as ${current}, not ${wanted}; ` +
          'a type cannot be changed: remove the stack data dir (losing its workflows) or rename the attribute',
      );
    }
    const create = await temporalCli(bin, [
      'operator', 'search-attribute', 'create', '--address', address, '-n', namespace, '--name', attribute.name, '--type', attribute.type,
    ]);
    if (create.code !== 0) throw failed(`creating search attribute ${attribute.name}`, create);
  }
  const after = await listCustomSearchAttributes(bin, address, namespace);
  const missing = searchAttributes.filter((a) => after[a.name] !== INDEXED_VALUE_TYPES[a.type]).map((a) => a.name);
  if (missing.length > 0) throw new Error(`search attributes still missing in ${namespace} after creating them: ${missing.join(', ')}`);
}

/**
 * Starts a dev server detached (it outlives the caller), waits until it reports SERVING, then applies retention and
 * search attributes. On any failure the server is stopped again and the error names the port and the log file.
 * Reusable on its own: a test restarts an isolated server on the same `dataDir` to prove workflows survive.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const bin = options.temporalBin ?? (await ensureTemporalCli());
  const address = `${STACK_HOST}:${options.port}`;
  const uiUrl = `http://${STACK_HOST}:${options.uiPort}`;
  const dbFile = join(options.dataDir, 'temporal.db');
  const logFile = options.logFile ?? join(options.dataDir, 'temporal.log');
  const searchAttributes = options.searchAttributes ?? JOB_SEARCH_ATTRIBUTES;
  const timeoutMs = options.timeoutMs ?? 60_000;
  mkdirSync(options.dataDir, { recursive: true });

  await assertPortsFree([
    { port: options.port, variable: options.portVariables?.port, what: 'Temporal frontend' },
    ...(options.headless ? [] : [{ port: options.uiPort, variable: options.portVariables?.uiPort, what: 'Temporal Web UI' }]),
  ]);

  const args = [
    'server', 'start-dev',
    '--ip', STACK_HOST,
    '--port', String(options.port),
    '--ui-port', String(options.uiPort),
    '--db-filename', dbFile,
    '--namespace', options.namespace,
    ...searchAttributes.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]),
    // WAL + no fsync: the server survives its own crash or restart; only an OS crash could lose the last writes.
    '--sqlite-pragma', 'journal_mode=WAL',
    '--sqlite-pragma', 'synchronous=OFF',
    ...Object.entries(ENGINE_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
    '--log-level', 'warn',
    ...(options.headless ? ['--headless'] : []),
  ];
  const owned = await spawnDetached({
    component: 'temporal',
    command: bin,
    args,
    env: cliEnv(),
    logFile,
    markers: [bin, dbFile, `--port ${options.port}`],
  });
  options.onSpawn?.(owned);


  try {
    await waitForHealthy({
      component: 'Temporal dev server',
      address,
      portVariable: options.portVariables?.port,
      pid: owned.pid,
      logFile,
      timeoutMs,
      check: async () => {
        const health = await checkTemporalHealth(bin, address);
        if (!health.healthy || options.headless) return health;
        return (await canConnect(options.uiPort)) ? health : { healthy: false, detail: `Web UI not listening on ${options.uiPort}` };
      },
    });
    try {
      await configureTemporalNamespace(bin, address, options.namespace, options.retentionHours ?? 2160, searchAttributes);
    } catch (error) {
      throw new ComponentStartError('Temporal dev server', `configuring namespace ${options.namespace} on ${address} failed: ${(error as Error).message}`, logFile);
    }
  } catch (error) {
    await stopPid(owned.pid).catch(() => undefined);
    throw error;
  }
  return { pid: owned.pid, address, uiUrl, logFile, dbFile, process: owned };
}
