/**
 * The local stack every test and the demo use: Temporal dev server, MinIO, moto and one local Lambda per test function,
 * all on 127.0.0.1, started detached and described by `<dataDir>/state.json` (see state.ts, config.ts).
 *
 *   stackUp      start what is not running (idempotent: a healthy running stack is returned as is)
 *   stackDown    stop exactly the processes the state file lists, then remove it
 *   stackStatus  per component: running, pid, endpoint, healthy
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatSeconds } from '../lib/exec';
import { withPidLock } from '../lib/lock';
import { ensureTools, type ToolPaths } from '../tools';
import { cachePaths } from '../tools/cache';
import { ensurePostgres } from '../tools/postgres';
import { ensureTemporalServer, ensureTemporalSqlTool, ensureTemporalUiServer } from '../tools/temporal-server';
import { lambdaPorts, PORT_VARIABLES, plannedPorts, STACK_HOST, type StackConfig, stackConfigFromEnv, type StackProfile } from './config';
import { assertPortsFree, canConnect, checkS3ListBuckets, type HealthResult } from './health';
import { discoverLambdaFunctions, type LambdaKind, startLambdaFunction } from './lambda';
import { startMinio } from './minio';
import { startMoto } from './moto';
import { isOwnedProcessAlive, isProcessAlive, type OwnedProcess, processGroupMembers, stopPid } from './processes';
import { readStateFile, removeStateFile, type StackState, type StartingState, stateFilePath, writeStateFile } from './state';
import { checkPostgresHealth, type PostgresOptions, startPostgres } from './postgres';
import { checkTemporalHealth, startTemporalDevServer } from './temporal';
import { startStackWorkers } from './stack-workers';
import { serviceComponent, type TemporalClusterBinaries, startTemporalCluster } from './temporal-cluster';
import { CLUSTER_POSTGRES_LOGIN, PERSISTENCE_DATABASES } from './temporal-cluster-config';
import type { TemporalClusterOptions } from './temporal-cluster';

export { stackConfigFromEnv, StackConfigError, type StackConfig, type StackConfigOverrides, type StackPorts, type StackProfile } from './config';
export { type StackState, stateFilePath } from './state';
export { startTemporalDevServer, type TemporalDevServer, type TemporalDevServerOptions } from './temporal';
export { stopPid, killPidNow, isProcessAlive, isOwnedProcessAlive, processGroupMembers, childProcessIds, type OwnedProcess } from './processes';
export { discoverLambdaFunctions, startLambdaFunction } from './lambda';
export { startPostgres } from './postgres';
export { restartTemporalService, serviceComponent } from './temporal-cluster';

export interface StackCallOptions {
  /** Progress lines; default console.log. Pass `() => undefined` for silence. */
  log?: (line: string) => void;
  /** Tool paths, if the caller already has them (skips the version checks). */
  tools?: ToolPaths;
}

function upLock(config: StackConfig): string {
  return join(config.dataDir, '.lock');
}

function withStackLock<T>(config: StackConfig, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  return withPidLock(upLock(config), (owner) => log(`stack: another stack command (pid ${owner}) is using ${config.dataDir}; waiting`), fn);
}

/**
 * The running stack described by a state file: `pathOrDir` may be the file or its directory. Defaults to
 * `S3BATCH_STACK_STATE`, else the configured data dir. Undefined if no stack is running there (or it is mid-start).
 */
export function readStackState(pathOrDir?: string): StackState | undefined {
  const where = pathOrDir ?? process.env.S3BATCH_STACK_STATE ?? stateFilePath(stackConfigFromEnv().dataDir);
  const state = readStateFile(where);
  return state?.phase === 'running' ? state : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Status.

export interface ComponentStatus {
  component: string;
  pid: number;
  running: boolean;
  endpoint: string;
  healthy: boolean;
  detail?: string;
}

export interface StackStatus {
  /** `running`: every component up and healthy; `degraded`: a state file whose processes are not all fine;
   * `starting`: a start is in progress (or crashed mid-way); `stopped`: no state file. */
  phase: 'running' | 'degraded' | 'starting' | 'stopped';
  /** Which Temporal the stack runs (config.ts); undefined when stopped. */
  profile?: StackProfile;
  stateFile: string;
  state?: StackState;
  components: ComponentStatus[];
}

async function componentHealth(state: StackState, tools: Pick<ToolPaths, 'temporal'>): Promise<ComponentStatus[]> {
  const byComponent = new Map(state.processes.map((p) => [p.component, p]));
  const check = async (component: string, endpoint: string, probe: () => Promise<HealthResult>): Promise<ComponentStatus> => {
    const owned = byComponent.get(component);
    const running = owned !== undefined && isOwnedProcessAlive(owned);
    const health = running ? await probe() : { healthy: false, detail: 'process not running' };
    return { component, pid: owned?.pid ?? 0, running, endpoint, healthy: health.healthy, detail: health.detail };
  };
  const temporal =
    state.profile === 'cluster'
      ? clusterHealth(state, tools, check)
      : [check('temporal', state.temporal.address, () => checkTemporalHealth(tools.temporal, state.temporal.address))];
  return Promise.all([
    ...temporal,
    check('minio', state.s3.endpoint, () => checkS3ListBuckets(state.s3.endpoint, state.s3.region, state.s3)),
    check('moto', state.moto.endpoint, () => checkS3ListBuckets(state.moto.endpoint, state.moto.region, state.moto)),
    ...Object.entries(state.lambda.functions).map(([name, fn]) =>
      check(`lambda:${name}`, fn.endpoint, async () =>
        (await canConnect(Number(new URL(fn.endpoint).port))) ? { healthy: true } : { healthy: false, detail: 'invoke port closed' },
      ),
    ),
    // A worker is as healthy as its process: it has no port, and it reconnects to Temporal by itself.
    ...state.processes
      .filter((p) => p.component.startsWith('worker:'))
      .map((p) => check(p.component, `task queue s3-batch (${state.temporal.address})`, async () => ({ healthy: true }))),
  ]);
}

type ComponentCheck = (component: string, endpoint: string, probe: () => Promise<HealthResult>) => Promise<ComponentStatus>;

/** The cluster profile's Temporal side: PostgreSQL, each service (the frontend answers health), the Web UI. */
function clusterHealth(state: StackState, tools: Pick<ToolPaths, 'temporal'>, check: ComponentCheck): Array<Promise<ComponentStatus>> {
  const postgres = state.processes.find((p) => p.component === 'postgres');
  const postgresPort = Number(state.postgres?.address.split(':').at(-1));
  const alive = async (): Promise<HealthResult> => ({ healthy: true });
  return [
    check('postgres', state.postgres?.address ?? '?', () => checkPostgresHealth(dirname(postgres?.markers[0] ?? 'postgres'), postgresPort)),
    check(serviceComponent('frontend'), state.temporal.address, () => checkTemporalHealth(tools.temporal, state.temporal.address)),
    ...(['history', 'matching', 'worker'] as const).map((service) => check(serviceComponent(service), '(internal)', alive)),
    check(serviceComponent('ui'), state.temporal.uiUrl, async () =>
      (await canConnect(Number(new URL(state.temporal.uiUrl).port))) ? { healthy: true } : { healthy: false, detail: 'Web UI port closed' },
    ),
  ];
}

export async function stackStatus(config: StackConfig = stackConfigFromEnv(), options: StackCallOptions = {}): Promise<StackStatus> {
  const stateFile = stateFilePath(config.dataDir);
  const state = readStateFile(config.dataDir);
  if (!state) return { phase: 'stopped', stateFile, components: [] };
  if (state.phase === 'starting') {
    const components = state.processes.map((p) => ({
      component: p.component,
      pid: p.pid,
      running: isOwnedProcessAlive(p),
      endpoint: '',
      healthy: false,
      detail: 'starting',
    }));
    return { phase: 'starting', profile: state.profile, stateFile, components };
  }
  const tools = options.tools ?? { temporal: temporalBinFor(state) };
  const components = await componentHealth(state, tools);
  const phase = components.every((c) => c.running && c.healthy) ? 'running' : 'degraded';
  return { phase, profile: state.profile, stateFile, state, components };
}

/** The Temporal CLI that started this stack (recorded, or the dev server's first marker), so status needs no tool checks. */
function temporalBinFor(state: StackState): string {
  return state.temporal.cli ?? state.processes.find((p) => p.component === 'temporal')?.markers[0] ?? 'temporal';
}

// ---------------------------------------------------------------------------------------------------------------
// Down.

/**
 * Stops the recorded processes that are still ours (and any members left in their process groups). PostgreSQL goes
 * last: it shuts down only once its clients (the Temporal services) have disconnected.
 */
async function stopOwnedProcesses(processes: readonly OwnedProcess[], log: (line: string) => void): Promise<void> {
  const databaseLast = (owned: OwnedProcess): boolean => owned.component === 'postgres';
  await stopInParallel(processes.filter((owned) => !databaseLast(owned)), log);
  await stopInParallel(processes.filter(databaseLast), log);
}

async function stopInParallel(processes: readonly OwnedProcess[], log: (line: string) => void): Promise<void> {
  await Promise.all(
    processes.map(async (owned) => {
      const alive = isOwnedProcessAlive(owned);
      // The PID now belongs to another program (reused after ours ended): neither it nor its group is ours.
      if (!alive && isProcessAlive(owned.pid)) return;
      // A leader that died may have left children in its group; a group id cannot be reused while members exist.
      const leftovers = alive ? [] : processGroupMembers(owned.pid);
      if (!alive && leftovers.length === 0) return;
      log(`stack: stopping ${owned.component} (pid ${owned.pid})`);
      await stopPid(owned.pid);
    }),
  );
}

export async function stackDown(config: StackConfig = stackConfigFromEnv(), options: StackCallOptions = {}): Promise<void> {
  const log = options.log ?? console.log;
  if (!existsSync(config.dataDir)) return;
  await withStackLock(config, log, async () => {
    const state = readStateFile(config.dataDir);
    if (!state) {
      log(`stack: not running (no ${stateFilePath(config.dataDir)})`);
      return;
    }
    const started = Date.now();
    await stopOwnedProcesses(state.processes, log);
    removeStateFile(config.dataDir);
    log(`stack: stopped in ${formatSeconds((Date.now() - started) / 1000)}`);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Up.

function chooseLambdaKind(config: StackConfig, tools: ToolPaths): LambdaKind {
  if (config.lambda.runtime === 'emulator') return 'emulator';
  if (tools.lambdaRie) return 'rie';
  if (config.lambda.runtime === 'rie') {
    throw new Error(`S3BATCH_LAMBDA_RUNTIME=rie but aws-lambda-rie is unavailable: ${tools.lambdaRieUnavailable ?? 'unknown reason'}`);
  }
  return 'emulator';
}

/**
 * Starts the stack and returns its state. Idempotent: if the state file describes a running, healthy stack it is
 * returned unchanged. A stale state (a process died, or a start crashed half-way) is cleaned first: the surviving
 * processes it lists are stopped and the stack is started afresh. Components start in parallel; if any fails, the
 * others are stopped again and the error names the component, its port and its log file.
 */
export async function stackUp(config: StackConfig = stackConfigFromEnv(), options: StackCallOptions = {}): Promise<StackState> {
  const log = options.log ?? console.log;
  mkdirSync(config.dataDir, { recursive: true });
  return withStackLock(config, log, async () => {
    const existing = readStateFile(config.dataDir);
    if (existing && existing.profile !== config.profile) {
      throw new Error(
        `stack: a ${existing.profile}-profile stack is ${existing.phase} in ${config.dataDir}, not the ${config.profile} profile asked for; ` +
          'stop it first (`npm run stack:down`) or use another S3BATCH_STACK_DIR (and other ports)',
      );
    }
    if (existing?.phase === 'running') {
      const tools = options.tools ?? { temporal: temporalBinFor(existing) };
      const components = await componentHealth(existing, tools);
      const unwell = components.filter((c) => !c.running || !c.healthy);
      if (unwell.length === 0) {
        log(`stack: already running (started ${existing.startedAt})`);
        return existing;
      }
      log(`stack: stale state (${unwell.map((c) => `${c.component}: ${c.detail ?? 'unhealthy'}`).join('; ')}); restarting`);
    } else if (existing?.phase === 'starting') {
      log('stack: a previous start did not finish; cleaning up its processes');
    }
    if (existing) {
      await stopOwnedProcesses(existing.processes, log);
      removeStateFile(config.dataDir);
    }
    const tools = options.tools ?? (await ensureTools());
    const cluster = config.profile === 'cluster' ? await ensureClusterTools(tools) : undefined;
    return startStack(config, tools, cluster, log);
  });
}

export interface ClusterTools {
  temporal: TemporalClusterBinaries;
  postgresBinDir: string;
}

/** The cluster profile's binaries: built into the tool cache (Temporal) or installed with apt (PostgreSQL). */
export async function ensureClusterTools(tools: ToolPaths): Promise<ClusterTools> {
  const paths = cachePaths(tools.cacheDir);
  // One at a time: each Go build uses both cores already.
  const server = await ensureTemporalServer(paths);
  const sqlTool = await ensureTemporalSqlTool(paths);
  const uiServer = await ensureTemporalUiServer(paths);
  const postgresBinDir = await ensurePostgres(paths);
  return { temporal: { server, sqlTool, uiServer, cli: tools.temporal }, postgresBinDir };
}

/** How the cluster profile runs PostgreSQL; startPostgres with the same options starts it again after a crash. */
export function clusterPostgresOptions(config: StackConfig, cluster: ClusterTools, logs: string, onSpawn: (owned: OwnedProcess) => void): PostgresOptions {
  return {
    binDir: cluster.postgresBinDir,
    dataDir: join(config.dataDir, 'postgres'),
    port: config.ports.postgres,
    ...CLUSTER_POSTGRES_LOGIN,
    logFile: join(logs, 'postgres.log'),
    timeoutMs: config.startTimeoutMs,
    portVariable: PORT_VARIABLES.postgres,
    onSpawn,
  };
}

/** How the cluster profile runs its Temporal services; restartTemporalService with the same options restarts one. */
export function clusterTemporalOptions(config: StackConfig, cluster: ClusterTools, logs: string, onSpawn: (owned: OwnedProcess) => void): TemporalClusterOptions {
  return { config, bins: cluster.temporal, login: CLUSTER_POSTGRES_LOGIN, dataDir: join(config.dataDir, 'temporal-cluster'), logsDir: logs, onSpawn };
}

/** The cluster profile's PostgreSQL, then its Temporal services and UI (the stack; the cluster chaos run starts its own). */
export async function startClusterTemporal(config: StackConfig, cluster: ClusterTools, logs: string, onSpawn: (owned: OwnedProcess) => void) {
  const postgres = await startPostgres(clusterPostgresOptions(config, cluster, logs, onSpawn));
  const temporal = await startTemporalCluster(clusterTemporalOptions(config, cluster, logs, onSpawn));
  return {
    temporal: { address: temporal.address, namespace: config.temporal.namespace, uiUrl: temporal.uiUrl, pid: temporal.frontend.pid, cli: cluster.temporal.cli },
    postgres: {
      address: postgres.address,
      user: CLUSTER_POSTGRES_LOGIN.user,
      databases: Object.values(PERSISTENCE_DATABASES),
      dataDir: postgres.dataDir,
      pid: postgres.process.pid,
    },
  };
}

async function startStack(config: StackConfig, tools: ToolPaths, cluster: ClusterTools | undefined, log: (line: string) => void): Promise<StackState> {
  const started = Date.now();
  const functions = discoverLambdaFunctions(config.lambda.functionsDir, config.lambda.functions);
  await assertPortsFree(plannedPorts(config, functions.length));
  const lambdaKind = chooseLambdaKind(config, tools);

  const logs = join(config.dataDir, 'logs');
  const starting: StartingState = { version: 1, phase: 'starting', profile: config.profile, dataDir: config.dataDir, startedAt: new Date().toISOString(), processes: [] };
  writeStateFile(config.dataDir, starting);
  // Record each PID the moment it exists, so a crash of this process mid-start still leaves a state to clean up.
  const onSpawn = (owned: OwnedProcess): void => {
    starting.processes.push(owned);
    writeStateFile(config.dataDir, starting);
  };
  const timeoutMs = config.startTimeoutMs;

  const temporal = cluster
    ? startClusterTemporal(config, cluster, logs, onSpawn)
    : startTemporalDevServer({
    temporalBin: tools.temporal,
    dataDir: join(config.dataDir, 'temporal'),
    port: config.ports.temporal,
    uiPort: config.ports.temporalUi,
    namespace: config.temporal.namespace,
    retentionHours: config.temporal.retentionHours,
    logFile: join(logs, 'temporal.log'),
    timeoutMs,
    portVariables: { port: PORT_VARIABLES.temporal, uiPort: PORT_VARIABLES.temporalUi },
    onSpawn,
  }).then((dev) => ({ temporal: { address: dev.address, namespace: config.temporal.namespace, uiUrl: dev.uiUrl, pid: dev.pid }, postgres: undefined }));
  const minio = startMinio({
    minioBin: tools.minio,
    dataDir: join(config.dataDir, 'minio'),
    port: config.ports.minio,
    consolePort: config.ports.minioConsole,
    rootUser: config.minio.rootUser,
    rootPassword: config.minio.rootPassword,
    region: config.region,
    logFile: join(logs, 'minio.log'),
    timeoutMs,
    portVariables: { port: PORT_VARIABLES.minio, consolePort: PORT_VARIABLES.minioConsole },
    onSpawn,
  });
  const moto = startMoto({
    motoServer: tools.motoServer,
    port: config.ports.moto,
    region: config.region,
    accessKeyId: config.moto.accessKeyId,
    secretAccessKey: config.moto.secretAccessKey,
    logFile: join(logs, 'moto.log'),
    timeoutMs,
    portVariable: PORT_VARIABLES.moto,
    onSpawn,
  });
  const lambdas = functions.map((fn, index) => {
    const ports = lambdaPorts(config, index);
    return startLambdaFunction({
      fn,
      kind: lambdaKind,
      rieBin: tools.lambdaRie,
      invokePort: ports.invoke,
      runtimeApiPort: ports.runtimeApi,
      bootstrap: config.lambda.bootstrap,
      functionsDir: config.lambda.functionsDir,
      region: config.region,
      timeoutSeconds: config.lambda.timeoutSeconds,
      logFile: join(logs, `lambda-${fn.name}.log`),
      startTimeoutMs: timeoutMs,
      portVariable: PORT_VARIABLES.lambdaBase,
      onSpawn,
    });
  });

  const [temporalResult, minioResult, motoResult, ...lambdaResults] = await Promise.allSettled([temporal, minio, moto, ...lambdas]);
  const failures = [temporalResult, minioResult, motoResult, ...lambdaResults].filter(
    (r): r is PromiseRejectedResult => r?.status === 'rejected',
  );
  if (failures.length > 0 || temporalResult?.status !== 'fulfilled' || minioResult?.status !== 'fulfilled' || motoResult?.status !== 'fulfilled') {
    await stopOwnedProcesses(starting.processes, () => undefined);
    removeStateFile(config.dataDir);
    const messages = failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason)));
    throw new Error(`stack: start failed; everything started was stopped again.\n${messages.join('\n\n')}`);
  }

  const lambdaFunctions: StackState['lambda']['functions'] = {};
  functions.forEach((fn, index) => {
    const result = lambdaResults[index];
    if (result?.status !== 'fulfilled') return;
    lambdaFunctions[fn.name] = { endpoint: result.value.endpoint, pid: result.value.process.pid, runtimeApi: result.value.runtimeApi, kind: result.value.kind };
  });
  const state: StackState = {
    version: 1,
    phase: 'running',
    profile: config.profile,
    dataDir: config.dataDir,
    startedAt: starting.startedAt,
    temporal: temporalResult.value.temporal,
    ...(temporalResult.value.postgres ? { postgres: temporalResult.value.postgres } : {}),
    s3: { endpoint: minioResult.value.endpoint, region: config.region, accessKeyId: config.minio.rootUser, secretAccessKey: config.minio.rootPassword, pid: minioResult.value.process.pid },
    moto: { endpoint: motoResult.value.endpoint, region: config.region, accessKeyId: config.moto.accessKeyId, secretAccessKey: config.moto.secretAccessKey, pid: motoResult.value.process.pid },
    lambda: { region: config.region, functions: lambdaFunctions },
    processes: starting.processes,
  };
  writeStateFile(config.dataDir, state);
  // Workers read the running state (its endpoints), so they start last; the state then lists them too.
  if (config.workers > 0) {
    try {
      await startStackWorkers({
        count: config.workers,
        dataDir: config.dataDir,
        logsDir: logs,
        timeoutMs,
        onSpawn: (owned) => {
          state.processes.push(owned);
          writeStateFile(config.dataDir, state);
        },
      });
    } catch (error) {
      await stopOwnedProcesses(state.processes, () => undefined);
      removeStateFile(config.dataDir);
      throw new Error(`stack: start failed; everything started was stopped again.\n${(error as Error).message}`);
    }
    writeStateFile(config.dataDir, state);
  }
  const workers = config.workers > 0 ? `, ${config.workers} worker process${config.workers === 1 ? '' : 'es'}` : '';
  const profile = (config.profile === 'cluster' ? 'cluster profile: PostgreSQL and one process per Temporal service' : 'Temporal dev server') + workers;
  log(`stack: up in ${formatSeconds((Date.now() - started) / 1000)} on ${STACK_HOST} (${profile}; Lambda: ${lambdaKind === 'rie' ? 'aws-lambda-rie' : "the project's emulator"})`);
  return state;
}
