/**
 * The production Temporal server (scripts/tools/temporal-server.ts, v1.32.1) with mTLS required on its frontend, for
 * the TLS tests (the dev server has no TLS options). One process, all four services, SQLite in memory (the sqlite
 * plugin creates the schema itself for `mode: memory`), one history shard, free ports; the `s3-batch` namespace and
 * the job search attributes registered through the SDK's services over mTLS. The config is written as JSON, which is
 * YAML too. Stop it with stop(); a server that does not become healthy is killed and its log quoted. With `openHost`,
 * clients that name that host (SNI) need no client certificate, standing in for an API-key endpoint: this server
 * has no authorizer, so it accepts any API key; what the tests show is that the key is sent over TLS and goes no
 * further than the connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { cachePaths, toolCacheDir } from '../../scripts/tools/cache';
import { ensureTemporalServer } from '../../scripts/tools/temporal-server';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { TEMPORAL_PRIORITY_LEVELS } from '../../src/shared/priority';
import { freePortBlock } from './ports';
import type { TestCertificates } from './tls-certs';

export interface TlsTemporalServer {
  /** 127.0.0.1:<port> of the frontend. */
  address: string;
  namespace: string;
  logFile: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

function sqlite(): object {
  return {
    sql: {
      pluginName: 'sqlite',
      databaseName: 's3batch-tls',
      connectAddr: 'localhost',
      connectProtocol: 'tcp',
      connectAttributes: { mode: 'memory', cache: 'private' },
      maxConns: 1,
      maxIdleConns: 1,
      maxConnLifetime: '1h',
    },
  };
}

function serverConfig(certs: TestCertificates, ports: number[], dynamicConfigFile: string, openHost?: string): object {
  const [frontend, frontendMembership, frontendHttp, history, historyMembership, matching, matchingMembership, worker, workerMembership] = ports;
  const rpc = (grpcPort: number, membershipPort: number, extra: object = {}) => ({ rpc: { grpcPort, membershipPort, bindOnIP: HOST, ...extra } });
  const trustedClient = { serverName: 'localhost', rootCaFiles: [certs.ca.cert] };
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'sqlite-default',
      visibilityStore: 'sqlite-visibility',
      numHistoryShards: 1,
      datastores: { 'sqlite-default': sqlite(), 'sqlite-visibility': sqlite() },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: HOST },
      tls: {
        frontend: {
          server: { certFile: certs.server.cert, keyFile: certs.server.key, clientCaFiles: [certs.ca.cert], requireClientAuth: true },
          client: trustedClient,
          // A client that asks for this name (TLS SNI) is served without a client certificate: how the tests reach
          // the server as an API-key client would reach Temporal Cloud. Every other name requires a certificate.
          ...(openHost ? { hostOverrides: { [openHost]: { certFile: certs.server.cert, keyFile: certs.server.key, requireClientAuth: false } } } : {}),
        },
        // The server's own system workers reach the frontend like any client: with a certificate.
        systemWorker: { certFile: certs.client.cert, keyFile: certs.client.key, client: trustedClient },
      },
    },
    services: {
      frontend: rpc(frontend!, frontendMembership!, { httpPort: frontendHttp }),
      history: rpc(history!, historyMembership!),
      matching: rpc(matching!, matchingMembership!),
      worker: rpc(worker!, workerMembership!),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `localhost:${frontend}`, httpAddress: `localhost:${frontendHttp}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/** What the dev stack sets on its server (scripts/stack/temporal.ts), plus quick namespace and search attribute caches. */
function dynamicConfig(): object {
  const value = (v: unknown) => [{ value: v }];
  return {
    'matching.useNewMatcher': value(true),
    'matching.priorityLevels': value(TEMPORAL_PRIORITY_LEVELS),
    'matching.numTaskqueueReadPartitions': value(1),
    'matching.numTaskqueueWritePartitions': value(1),
    'system.forceSearchAttributesCacheRefreshOnRead': value(true),
    'system.namespaceCacheRefreshInterval': value('1s'),
  };
}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T>, alive: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const dead = alive();
    if (dead) throw new Error(`${what}: ${dead}`);
    try {
      return await attempt();
    } catch (err) {
      last = err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`${what}: not done after ${timeoutMs / 1000} s: ${(last as Error)?.message}`);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Builds the server if needed (minutes, once per machine), starts it in `dir`, waits until jobs can start. */
export async function startTlsTemporalServer(
  certs: TestCertificates,
  dir: string,
  options: { namespace?: string; openHost?: string } = {}
): Promise<TlsTemporalServer> {
  const namespace = options.namespace ?? 's3-batch';
  const bin = await ensureTemporalServer(cachePaths(toolCacheDir()));
  mkdirSync(dir, { recursive: true });
  const ports = await freePortBlock(9);
  const dynamicConfigFile = join(dir, 'dynamic-config.yaml');
  const configFile = join(dir, 'temporal.yaml');
  const logFile = join(dir, 'temporal.log');
  writeFileSync(dynamicConfigFile, JSON.stringify(dynamicConfig(), null, 2));
  writeFileSync(configFile, JSON.stringify(serverConfig(certs, ports, dynamicConfigFile, options.openHost), null, 2));
  const log = openSync(logFile, 'a');
  // TEMPORAL_* variables of the caller's shell (e.g. TEMPORAL_SERVICES) must not change what starts.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_')));
  const child = spawn(bin, ['--config-file', configFile, '--allow-no-auth', 'start'], { cwd: dir, env, stdio: ['ignore', log, log] });
  const address = `${HOST}:${ports[0]}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited(child);
    clearTimeout(killed);
  };
  const alive = () =>
    child.exitCode !== null || child.signalCode !== null
      ? `the server exited (${child.exitCode ?? child.signalCode}); its log ends:\n${readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}`
      : undefined;
  try {
    const connection = await until('the TLS Temporal server becoming healthy', 120_000, async () => {
      const c = await Connection.connect({
        address,
        connectTimeout: 2_000,
        tls: {
          serverRootCACertificate: readFileSync(certs.ca.cert),
          clientCertPair: { crt: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) },
        },
      });
      try {
        const health = await c.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
        if (health.status !== 1) throw new Error(`health status ${health.status}`);
        return c;
      } catch (err) {
        await c.close();
        throw err;
      }
    }, alive);
    try {
      await registerNamespace(connection, namespace, alive);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n(server log: ${logFile})`);
  }
  return { address, namespace, logFile, stop };
}

const INDEXED_VALUE_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

async function registerNamespace(connection: Connection, namespace: string, alive: () => string | undefined): Promise<void> {
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  // The frontend learns of a new namespace from its cache (refreshed every second, see dynamicConfig).
  await until(`namespace ${namespace} becoming known`, 60_000, () => connection.workflowService.describeNamespace({ namespace }), alive);
  const searchAttributes = Object.fromEntries(
    JOB_SEARCH_ATTRIBUTES.map((a) => {
      const type = INDEXED_VALUE_TYPE[a.type];
      if (type === undefined) throw new Error(`search attribute ${a.name}: type ${a.type} not mapped here`);
      return [a.name, type];
    })
  );
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  await until(`the search attributes of ${namespace}`, 60_000, async () => {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = JOB_SEARCH_ATTRIBUTES.filter((a) => listed.customAttributes?.[a.name] === undefined).map((a) => a.name);
    if (missing.length) throw new Error(`missing ${missing.join(', ')}`);
  }, alive);
}
