/**
 * The doctor's Temporal checks, against the server the CLI uses (S3BATCH_TEMPORAL_ADDRESS, S3BATCH_NAMESPACE,
 * S3BATCH_TASK_QUEUE): the namespace and its retention, the search attributes jobs are started with, and the workers
 * polling the task queue.
 */
import type { ConnectionLike } from '@temporalio/client';
import { JOB_SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import { describeAbsence, describeQueuePresence, startWorkerHint, unservedKinds } from '../worker-presence';
import { errorText, fail, ok, skip, type CheckResult } from './check';

export interface TemporalTarget {
  address: string;
  namespace: string;
  taskQueue: string;
}

const GRPC_NOT_FOUND = 5;

function isNotFound(err: unknown): boolean {
  const e = err as { code?: number; name?: string; cause?: { code?: number } };
  return e.code === GRPC_NOT_FOUND || e.cause?.code === GRPC_NOT_FOUND || e.name === 'NamespaceNotFoundError';
}

function days(ttl: { seconds?: unknown } | null | undefined): string {
  const seconds = Number(String(ttl?.seconds ?? 0));
  if (!seconds) return 'retention not set';
  const d = seconds / 86_400;
  return `retention ${Number.isInteger(d) ? d : d.toFixed(1)} day${d === 1 ? '' : 's'} (finished jobs stay describable that long)`;
}

export async function checkServer(connection: ConnectionLike, target: TemporalTarget): Promise<CheckResult> {
  const info = await connection.workflowService.getSystemInfo({});
  return ok(`Temporal server at ${target.address} reachable${info.serverVersion ? ` (version ${info.serverVersion})` : ''}`);
}

export async function checkNamespace(connection: ConnectionLike, target: TemporalTarget): Promise<CheckResult> {
  try {
    const described = await connection.workflowService.describeNamespace({ namespace: target.namespace });
    return ok(`namespace "${target.namespace}" present, ${days(described.config?.workflowExecutionRetentionTtl)}`);
  } catch (err) {
    if (!isNotFound(err)) return fail(`namespace "${target.namespace}": ${errorText(err)}`, 'check the server and S3BATCH_NAMESPACE');
    const listed = await connection.workflowService.listNamespaces({ pageSize: 100 }).catch(() => undefined);
    const names = (listed?.namespaces ?? []).map((n) => n.namespaceInfo?.name).filter((n): n is string => Boolean(n));
    return fail(
      `namespace "${target.namespace}" not found on ${target.address}`,
      `set S3BATCH_NAMESPACE to the namespace your workers use${names.length ? ` (this server has: ${names.join(', ')})` : ''},\n` +
        `or create it: temporal operator namespace create --namespace ${target.namespace} --address ${target.address}`
    );
  }
}

/** temporal.api.enums.v1.IndexedValueType, by the names JOB_SEARCH_ATTRIBUTES uses. */
const INDEXED_VALUE_TYPE: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
const TYPE_NAME = Object.fromEntries(Object.entries(INDEXED_VALUE_TYPE).map(([name, value]) => [value, name]));

export async function checkSearchAttributes(connection: ConnectionLike, target: TemporalTarget): Promise<CheckResult> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace: target.namespace });
  const registered = listed.customAttributes ?? {};
  const missing = JOB_SEARCH_ATTRIBUTES.filter((a) => registered[a.name] === undefined);
  const wrongType = JOB_SEARCH_ATTRIBUTES.filter((a) => registered[a.name] !== undefined && registered[a.name] !== INDEXED_VALUE_TYPE[a.type]);
  const names = JOB_SEARCH_ATTRIBUTES.map((a) => a.name).join(', ');
  if (missing.length === 0 && wrongType.length === 0) return ok(`search attributes registered in "${target.namespace}": ${names}`);
  const problems = [
    ...missing.map((a) => `${a.name} missing`),
    ...wrongType.map((a) => `${a.name} is ${TYPE_NAME[registered[a.name]!] ?? registered[a.name]}, jobs need ${a.type}`),
  ];
  const fixes = [
    ...missing.map((a) => `temporal operator search-attribute create --namespace ${target.namespace} --address ${target.address} --name ${a.name} --type ${a.type}`),
    ...wrongType.map((a) => `remove ${a.name} (temporal operator search-attribute remove …) and create it as ${a.type}`),
  ];
  return fail(`search attributes in "${target.namespace}": ${problems.join('; ')} (jobs cannot start without them)`, fixes.join('\n'));
}

export async function checkWorkers(connection: ConnectionLike, target: TemporalTarget): Promise<CheckResult> {
  const presence = await describeQueuePresence(connection, target.namespace, target.taskQueue);
  if (unservedKinds(presence).length > 0) {
    return fail(describeAbsence(presence), `${startWorkerHint(target.namespace, target.taskQueue)}; or set S3BATCH_TASK_QUEUE to the queue your workers poll`);
  }
  const workers = new Map<string, string | undefined>();
  for (const p of [...presence.fresh.workflow, ...presence.fresh.activity]) workers.set(p.identity, p.buildId);
  const list = [...workers].map(([identity, buildId]) => (buildId ? `${identity} (build ${buildId})` : identity)).join(', ');
  return ok(`${workers.size} worker${workers.size === 1 ? '' : 's'} polling task queue "${target.taskQueue}": ${list}`);
}

/** Every Temporal check in order; after an unreachable server or a missing namespace, the rest are skipped. */
export async function temporalChecks(connect: () => Promise<ConnectionLike>, target: TemporalTarget): Promise<CheckResult[]> {
  let connection: ConnectionLike;
  try {
    connection = await connect();
    const server = await checkServer(connection, target);
    const results = [server];
    const namespace = await checkNamespace(connection, target);
    results.push(namespace);
    if (namespace.status !== 'ok') {
      results.push(skip(`search attributes and workers: not checked (no namespace "${target.namespace}")`));
      return results;
    }
    for (const check of [checkSearchAttributes, checkWorkers]) {
      results.push(await check(connection, target).catch((err: unknown) => fail(errorText(err), 'check the server, S3BATCH_NAMESPACE and S3BATCH_TASK_QUEUE')));
    }
    return results;
  } catch (err) {
    return [
      fail(
        `Temporal server at ${target.address} unreachable: ${errorText(err).replace(/^(CliError: )?cannot reach the Temporal server at \S+: /, '')}`,
        'start it (npm run stack:up) or point S3BATCH_TEMPORAL_ADDRESS at a running server (host:port)'
      ),
      skip('namespace, search attributes and workers: not checked (no server)'),
    ];
  }
}
