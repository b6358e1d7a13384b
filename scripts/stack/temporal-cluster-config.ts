/**
 * The cluster profile's configuration files, rendered from the stack configuration: the Temporal server's (one file
 * for all four services; each process picks its service with `--service`), its dynamic config, and the standalone
 * Web UI's. Pure: the caller writes them (temporal-cluster.ts).
 */
import { stringify } from 'yaml';
import { clusterServicePorts, STACK_HOST, type StackConfig } from './config';
import { ENGINE_DYNAMIC_CONFIG } from './temporal';

/** Persistence is sharded by workflow id; the count is fixed when the cluster is created (stored in PostgreSQL). */
export const HISTORY_SHARDS = 8;
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];
export const PERSISTENCE_DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;

export interface PostgresLogin {
  user: string;
  password: string;
}

/** Local only, as MinIO's minioadmin: PostgreSQL listens on 127.0.0.1 and holds nothing but this stack's workflows. */
export const CLUSTER_POSTGRES_LOGIN: PostgresLogin = { user: 'temporal', password: 'temporal' };

function sqlStore(config: StackConfig, login: PostgresLogin, databaseName: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${STACK_HOST}:${config.ports.postgres}`,
      connectProtocol: 'tcp',
      user: login.user,
      password: login.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

/** The server config (as `temporal-server --config-file` reads it), modelled on the module's development-postgres12.yaml. */
export function temporalServerConfig(config: StackConfig, login: PostgresLogin, dynamicConfigFile: string): string {
  const ports = clusterServicePorts(config);
  const frontend = `${STACK_HOST}:${config.ports.temporal}`;
  return stringify({
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: {
        'postgres-default': sqlStore(config, login, PERSISTENCE_DATABASES.default, 20),
        'postgres-visibility': sqlStore(config, login, PERSISTENCE_DATABASES.visibility, 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: STACK_HOST } },
    services: {
      frontend: { rpc: { grpcPort: ports.frontend.grpc, membershipPort: ports.frontend.membership, httpPort: ports.frontend.http, bindOnIP: STACK_HOST } },
      history: { rpc: { grpcPort: ports.history.grpc, membershipPort: ports.history.membership, bindOnIP: STACK_HOST } },
      matching: { rpc: { grpcPort: ports.matching.grpc, membershipPort: ports.matching.membership, bindOnIP: STACK_HOST } },
      worker: { rpc: { grpcPort: ports.worker.grpc, membershipPort: ports.worker.membership, bindOnIP: STACK_HOST } },
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: frontend } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    publicClient: { hostPort: frontend },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  });
}

/**
 * The engine's dynamic config plus what `temporal server start-dev` sets by itself (temporalio/cli's devserver), so
 * that a test behaves the same on both profiles: search attributes visible as soon as they are created, the
 * persistence rate limits raised to match, a larger mutable-state cache and more visibility requests per second.
 */
export function temporalDynamicConfig(): string {
  const values: Record<string, unknown> = {
    'system.forceSearchAttributesCacheRefreshOnRead': true,
    'frontend.persistenceMaxQPS': 10000,
    'history.persistenceMaxQPS': 45000,
    'history.hostLevelCacheMaxSize': 8096,
    'frontend.namespaceRPS.visibility': 100,
    ...ENGINE_DYNAMIC_CONFIG,
  };
  return stringify(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, [{ value, constraints: {} }]])));
}

/** The standalone Web UI's config (ui-server reads `<root>/<configDir>/<env>.yaml`). */
export function temporalUiConfig(config: StackConfig): string {
  return stringify({
    temporalGrpcAddress: `${STACK_HOST}:${config.ports.temporal}`,
    host: STACK_HOST,
    port: config.ports.temporalUi,
    enableUi: true,
    defaultNamespace: config.temporal.namespace,
    // Local only, as the dev server's UI: no login, every action allowed.
    auth: { enabled: false },
    cors: { cookieInsecure: true, allowOrigins: [`http://${STACK_HOST}:${config.ports.temporalUi}`] },
  });
}
