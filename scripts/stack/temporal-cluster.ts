/**
 * The cluster profile's Temporal: the production server (go.temporal.io/server, pinned in scripts/tools/
 * temporal-server.ts) on PostgreSQL, with the frontend, history, matching and worker services as separate processes
 * (each can be killed and restarted alone), and the standalone Web UI. Its schemas are created and upgraded by the
 * server's SQL tool on every start (idempotent), so a stack dir made by an older pinned server is upgraded in place.
 * The namespace gets the same retention and search attributes as on the dev server (temporal.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../lib/exec';
import { PORT_VARIABLES, STACK_HOST, type StackConfig } from './config';
import { canConnect, ComponentStartError, type HealthResult, waitForHealthy } from './health';
import { isProcessAlive, type OwnedProcess, spawnDetached, stopPid } from './processes';
import { checkTemporalHealth, cliEnv, configureTemporalNamespace, temporalCli } from './temporal';
import {
  PERSISTENCE_DATABASES,
  type PostgresLogin,
  TEMPORAL_SERVICES,
  type TemporalService,
  temporalDynamicConfig,
  temporalServerConfig,
  temporalUiConfig,
} from './temporal-cluster-config';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';

export interface TemporalClusterBinaries {
  server: string;
  sqlTool: string;
  uiServer: string;
  /** The Temporal CLI: namespace, search attributes, health. */
  cli: string;
}

export interface TemporalClusterOptions {
  config: StackConfig;
  bins: TemporalClusterBinaries;
  login: PostgresLogin;
  /** Holds the rendered config files. */
  dataDir: string;
  logsDir: string;
  onSpawn: (owned: OwnedProcess) => void;
}

export interface TemporalCluster {
  address: string;
  uiUrl: string;
  frontend: OwnedProcess;
}

/** The component name of a service's process in the state file, e.g. `temporal-history`. */
export function serviceComponent(service: TemporalService | 'ui'): string {
  return `temporal-${service}`;
}

/** Empty databases are created, versioned at 0.0 and upgraded to the server's schema; existing ones are upgraded. */
async function setupSchemas(options: TemporalClusterOptions): Promise<void> {
  const { config, bins, login } = options;
  const env = { ...process.env, SQL_PASSWORD: login.password };
  const common = ['--plugin', 'postgres12', '--endpoint', STACK_HOST, '--port', String(config.ports.postgres), '--user', login.user];
  const logFile = join(options.logsDir, 'temporal-sql-tool.log');
  let log = '';
  const run = async (database: string, args: string[]) => {
    const result = await runCommand(bins.sqlTool, [...common, '--db', database, ...args], { env, timeoutMs: 120_000 });
    log += `$ temporal-sql-tool --db ${database} ${args.join(' ')}\n${result.stdout}${result.stderr}exit ${result.code}\n\n`;
    writeFileSync(logFile, log);
    return result;
  };
  for (const [schema, database] of [
    ['postgresql/v12/temporal', PERSISTENCE_DATABASES.default],
    ['postgresql/v12/visibility', PERSISTENCE_DATABASES.visibility],
  ] as const) {
    const create = await run(database, ['create-database']);
    if (create.code !== 0 && !/already exists/i.test(create.stdout + create.stderr)) {
      throw new ComponentStartError('Temporal schemas', `creating database ${database} failed: ${(create.stderr || create.stdout).trim()}`, logFile);
    }
    for (const args of [['setup-schema', '--version', '0.0'], ['update-schema', '--schema-name', schema]]) {
      const result = await run(database, args);
      if (result.code !== 0) {
        throw new ComponentStartError('Temporal schemas', `${args[0]} of ${database} failed: ${(result.stderr || result.stdout).trim()}`, logFile);
      }
    }
  }
}

const SERVER_CONFIG_FILE = 'config.yaml';

function writeConfigFiles(options: TemporalClusterOptions): { serverConfig: string; uiRoot: string } {
  mkdirSync(options.dataDir, { recursive: true });
  const dynamicConfig = join(options.dataDir, 'dynamicconfig.yaml');
  const serverConfig = join(options.dataDir, SERVER_CONFIG_FILE);
  const uiRoot = join(options.dataDir, 'ui');
  mkdirSync(join(uiRoot, 'config'), { recursive: true });
  writeFileSync(dynamicConfig, temporalDynamicConfig());
  // Holds the PostgreSQL password: readable by us only.
  writeFileSync(serverConfig, temporalServerConfig(options.config, options.login, dynamicConfig), { mode: 0o600 });
  writeFileSync(join(uiRoot, 'config', 'cluster.yaml'), temporalUiConfig(options.config));
  return { serverConfig, uiRoot };
}

/**
 * A job can run: the namespace answers, history accepts a workflow start in it (so its shards are owned and the
 * namespace is in the history service's registry) and matching describes a task queue. The probe workflow is
 * terminated at once; its type and task queue are no job's, so no listing shows it.
 */
async function checkCanRunWorkflows(cli: string, address: string, namespace: string): Promise<HealthResult> {
  const probe = ['--address', address, '-n', namespace, '--workflow-id', 's3-batch-stack-probe'];
  const start = await temporalCli(cli, ['workflow', 'start', ...probe, '--type', 'S3BatchStackProbe', '--task-queue', 's3-batch-stack-probe', '--id-conflict-policy', 'TerminateExisting']);
  if (start.code !== 0) return { healthy: false, detail: `probe workflow start: ${(start.stderr || start.stdout).trim().split('\n').at(-1)}` };
  const terminate = await temporalCli(cli, ['workflow', 'terminate', ...probe, '--reason', 'stack readiness probe']);
  if (terminate.code !== 0) return { healthy: false, detail: `probe workflow terminate: ${(terminate.stderr || terminate.stdout).trim().split('\n').at(-1)}` };
  const queue = await temporalCli(cli, ['task-queue', 'describe', '--address', address, '-n', namespace, '--task-queue', 's3-batch-stack-probe']);
  if (queue.code !== 0) return { healthy: false, detail: `probe task-queue describe: ${(queue.stderr || queue.stdout).trim().split('\n').at(-1)}` };
  return { healthy: true };
}

/** Creates the namespace if it does not exist yet (retention and search attributes are applied afterwards). */
async function createNamespace(cli: string, address: string, namespace: string, retentionHours: number): Promise<HealthResult> {
  const describe = await temporalCli(cli, ['operator', 'namespace', 'describe', '--address', address, '-n', namespace]);
  if (describe.code === 0) return { healthy: true };
  const create = await temporalCli(cli, ['operator', 'namespace', 'create', '--address', address, '-n', namespace, '--retention', `${retentionHours}h`]);
  if (create.code === 0 || /already (exists|registered)/i.test(create.stderr + create.stdout)) return { healthy: true };
  return { healthy: false, detail: `namespace create: ${(create.stderr || create.stdout).trim().split('\n').at(-1)}` };
}

function spawnTemporalService(options: TemporalClusterOptions, serverConfig: string, service: TemporalService): Promise<OwnedProcess> {
  return spawnDetached({
    component: serviceComponent(service),
    command: options.bins.server,
    args: ['--config-file', serverConfig, '--allow-no-auth', 'start', '--service', service],
    env: cliEnv(),
    logFile: join(options.logsDir, `${serviceComponent(service)}.log`),
    markers: [options.bins.server, serverConfig, `--service ${service}`],
  });
}

/**
 * Starts one service again, as startTemporalCluster started it (same binary, config file and log), e.g. after the
 * chaos run killed it. Resolves once the process exists; it rejoins the cluster on its own.
 */
export async function restartTemporalService(options: TemporalClusterOptions, service: TemporalService): Promise<OwnedProcess> {
  const owned = await spawnTemporalService(options, join(options.dataDir, SERVER_CONFIG_FILE), service);
  options.onSpawn(owned);
  return owned;
}

/**
 * Creates or upgrades the schemas, starts the four services and the UI detached, waits for the frontend, sets up
 * the namespace and waits until a workflow can start. On failure every process it started is stopped again.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const { config, bins } = options;
  const address = `${STACK_HOST}:${config.ports.temporal}`;
  const uiUrl = `http://${STACK_HOST}:${config.ports.temporalUi}`;
  const timeoutMs = config.startTimeoutMs;
  await setupSchemas(options);
  const { serverConfig, uiRoot } = writeConfigFiles(options);

  const started: OwnedProcess[] = [];
  const record = (owned: OwnedProcess): OwnedProcess => {
    started.push(owned);
    options.onSpawn(owned);
    return owned;
  };
  try {
    const services = new Map<TemporalService, OwnedProcess>();
    // The frontend first, alone: on a new database every service writes the cluster metadata record when it starts,
    // and two writing it at once make the loser exit ("Failed to apply cluster metadata"; seen with matching).
    services.set('frontend', record(await spawnTemporalService(options, serverConfig, 'frontend')));
    const ui = record(
      await spawnDetached({
        component: serviceComponent('ui'),
        command: bins.uiServer,
        args: ['--root', uiRoot, '--config', 'config', '--env', 'cluster', 'start'],
        logFile: join(options.logsDir, `${serviceComponent('ui')}.log`),
        markers: [bins.uiServer, uiRoot],
      }),
    );
    const frontend = services.get('frontend') as OwnedProcess;
    // A service that exits while starting (bad config, port taken) fails the start at once, naming its log.
    const everyServiceAlive = (): HealthResult | undefined => {
      for (const owned of started) {
        if (!isProcessAlive(owned.pid)) {
          throw new ComponentStartError(owned.component, `${owned.component} (pid ${owned.pid}) exited while starting`, owned.logFile);
        }
      }
      return undefined;
    };
    const wait = (what: string, check: () => Promise<HealthResult>) =>
      waitForHealthy({
        component: `Temporal cluster (${what})`,
        address,
        portVariable: PORT_VARIABLES.temporal,
        pid: frontend.pid,
        logFile: frontend.logFile,
        timeoutMs,
        intervalMs: 500,
        check: async () => everyServiceAlive() ?? check(),
      });
    await wait('frontend', () => checkTemporalHealth(bins.cli, address));
    // The metadata record exists now: the other services only read it.
    for (const service of TEMPORAL_SERVICES.filter((s) => s !== 'frontend')) {
      services.set(service, record(await spawnTemporalService(options, serverConfig, service)));
    }
    // A new namespace reaches each service's namespace registry on its next refresh (every 10 s by default): until
    // then updates of it fail as not found, so the whole set-up is retried.
    await wait(`namespace ${config.temporal.namespace}`, async () => {
      const created = await createNamespace(bins.cli, address, config.temporal.namespace, config.temporal.retentionHours);
      if (!created.healthy) return created;
      try {
        await configureTemporalNamespace(bins.cli, address, config.temporal.namespace, config.temporal.retentionHours, JOB_SEARCH_ATTRIBUTES);
        return { healthy: true };
      } catch (error) {
        return { healthy: false, detail: (error as Error).message };
      }
    });
    await wait('a workflow can start', () => checkCanRunWorkflows(bins.cli, address, config.temporal.namespace));
    await wait('Web UI', async () =>
      (await canConnect(config.ports.temporalUi)) ? { healthy: true } : { healthy: false, detail: `Web UI not listening on ${config.ports.temporalUi} (log: ${ui.logFile})` },
    );
    return { address, uiUrl, frontend };
  } catch (error) {
    await Promise.all(started.map((owned) => stopPid(owned.pid).catch(() => undefined)));
    throw error;
  }
}
