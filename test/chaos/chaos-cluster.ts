/**
 * The cluster chaos run's own Temporal cluster, started exactly as the stack's cluster profile starts one
 * (scripts/stack: PostgreSQL, then the frontend, history, matching and worker services as separate processes, and
 * the UI) but in a temporary data dir on free ports, so its crashes disturb no stack. Its crashes, each a SIGKILL
 * followed a few seconds later by a start with the same command and config: the history service, the matching
 * service, and PostgreSQL (which recovers from its WAL as after a power cut).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterPostgresOptions,
  clusterTemporalOptions,
  ensureClusterTools,
  killPidNow,
  type OwnedProcess,
  restartTemporalService,
  serviceComponent,
  type StackConfig,
  stackConfigFromEnv,
  startClusterTemporal,
  startPostgres,
  stopPid,
} from '../../scripts/stack/index';
import { clusterServicePorts, plannedPorts } from '../../scripts/stack/config';
import { canConnect, isPortFree, logTail } from '../../scripts/stack/health';
import { isOwnedProcessAlive } from '../../scripts/stack/processes';
import { ensureTools } from '../../scripts/tools';
import { freePortBlock } from '../helpers/ports';
import { type ChaosTemporal, sleep, type TemporalCrash } from './chaos-temporal';

/** How long a crashed part stays down before it is started again. */
const DOWN_MS = 3000;
/** How long a restarted service may take to listen again (busy 2-core machine). */
const BACK_TIMEOUT_MS = 120_000;

/** A frontend port whose derived ports (clusterServicePorts), the UI's and PostgreSQL's are all free. */
async function freeClusterPorts(dataDir: string, namespace: string): Promise<StackConfig> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // The frontend's block reaches +10 (its HTTP port); the UI and PostgreSQL take the two after it.
    const [temporal = 0] = await freePortBlock(13);
    const config = stackConfigFromEnv({
      profile: 'cluster',
      dataDir,
      ports: { temporal, temporalUi: temporal + 11, postgres: temporal + 12 },
      temporal: { namespace, retentionHours: 24 },
      startTimeoutMs: 180_000,
    });
    const ours = plannedPorts(config, 0).filter((p) => p.what.startsWith('Temporal') || p.what === 'PostgreSQL');
    const free = await Promise.all(ours.map((p) => isPortFree(p.port)));
    if (free.every(Boolean)) return config;
  }
  throw new Error('no free ports for a chaos cluster found in 20 attempts');
}

export async function startChaosCluster(namespace: string, log: (line: string) => void): Promise<ChaosTemporal> {
  const tools = await ensureTools({ quiet: true });
  const cluster = await ensureClusterTools(tools);
  const dataDir = mkdtempSync(join(tmpdir(), 's3batch-chaos-cluster-'));
  // As root, PostgreSQL runs as the postgres user, which must be able to reach its data dir inside this one.
  chmodSync(dataDir, 0o755);
  const logs = join(dataDir, 'logs');
  // The newest process of each component (a restart replaces it).
  const processes = new Map<string, OwnedProcess>();
  const onSpawn = (owned: OwnedProcess) => processes.set(owned.component, owned);
  const close = async () => {
    const all = [...processes.values()];
    // PostgreSQL last: it waits for its clients, the services, to go.
    await Promise.all(all.filter((p) => p.component !== 'postgres').map((p) => stopPid(p.pid).catch(() => undefined)));
    await Promise.all(all.filter((p) => p.component === 'postgres').map((p) => stopPid(p.pid).catch(() => undefined)));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const config = await freeClusterPorts(dataDir, namespace);
    const started = Date.now();
    const { temporal } = await startClusterTemporal(config, cluster, logs, onSpawn);
    log(`own cluster up in ${Math.round((Date.now() - started) / 1000)} s: frontend ${temporal.address}, PostgreSQL on ${config.ports.postgres}, data in ${dataDir}`);
    const temporalOptions = clusterTemporalOptions(config, cluster, logs, onSpawn);
    const postgresOptions = clusterPostgresOptions(config, cluster, logs, onSpawn);

    const crashProcess = async (component: string, what: string, restart: () => Promise<void>, log: (line: string) => void) => {
      const owned = processes.get(component);
      if (!owned) throw new Error(`no ${component} process recorded`);
      log(`SIGKILL ${what} (pid ${owned.pid}), start it again in ${DOWN_MS / 1000} s`);
      await killPidNow(owned.pid);
      await sleep(DOWN_MS);
      const before = Date.now();
      await restart();
      log(`${what} is back (pid ${processes.get(component)?.pid}) after ${Math.round((Date.now() - before) / 1000)} s`);
    };
    const crashService = (service: 'history' | 'matching', atShare: number): TemporalCrash => ({
      target: service,
      atShare,
      crashAndRestart: (log) =>
        crashProcess(serviceComponent(service), `the ${service} service`, async () => {
          const owned = await restartTemporalService(temporalOptions, service);
          await waitListening(owned, clusterServicePorts(config)[service].grpc);
        }, log),
    });
    return {
      address: temporal.address,
      namespace,
      crashes: [
        crashService('history', 0.1),
        crashService('matching', 0.25),
        {
          target: 'postgres',
          atShare: 0.4,
          // startPostgres waits until it accepts connections again (after replaying its WAL).
          crashAndRestart: (log) => crashProcess('postgres', 'PostgreSQL', async () => void (await startPostgres(postgresOptions)), log),
        },
      ],
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Resolves once a restarted service listens on its gRPC port; throws if it exits first or takes too long. */
async function waitListening(owned: OwnedProcess, port: number): Promise<void> {
  const deadline = Date.now() + BACK_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (!isOwnedProcessAlive(owned)) throw new Error(`${owned.component} (pid ${owned.pid}) exited after its restart:\n${logTail(owned.logFile)}`);
    if (Date.now() > deadline) throw new Error(`${owned.component} did not listen on ${port} within ${BACK_TIMEOUT_MS / 1000} s:\n${logTail(owned.logFile)}`);
    await sleep(250);
  }
}
