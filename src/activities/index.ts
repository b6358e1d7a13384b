/**
 * The activities, built once per worker around its connections (dependency injection: the worker builds the
 * clients, activities receive them). Workflows type their proxies from this factory's return type.
 */
import type { Connections } from './s3-clients';
import { prepareManifest, type PrepareManifestInput } from './manifest/prepare';
import { readPage, type ReadPageInput } from './manifest/read-page';
import { buildRedriveManifest, type BuildRedriveManifestInput } from './manifest/redrive';
import { buildInventoryManifest, type BuildInventoryManifestInput } from './manifest/inventory';
import {
  finishGeneratedManifest,
  listManifestChunk,
  type FinishGeneratedManifestInput,
  type ListManifestChunkInput,
} from './manifest/generate';
import { readShardCounts, writeReportManifest, writeReportShard, type WriteShardInput } from './report/write-report';
import { checkRestores, type CheckRestoresInput } from './restore-status';
import { checkPages, type CheckPagesInput } from './page-health';
import { runTask, type RunTaskInput } from './run-task';
import { runTaskBatch, type RunTaskBatchInput } from './run-task-batch';
import { PageLanes } from './page-lanes';
import { PriorityGate } from './priority-gate';
import { validateJob } from './validate-job';
import { deliverStatusWebhook, type WebhookSettings } from './status-webhook';
import type { DeliverStatusWebhookInput } from '../shared/status-webhook';
import type { ReportRef } from '../shared/page-context';
import { DEFAULT_TASK_EXECUTION, type BucketOwnerCheck, type TaskExecution } from '../schemas/job-spec';
import { checkBucketOwners } from './bucket-owner';
import { OperationsConfig } from '../schemas/worker-config';
import type { OperationSettings } from './operations/operation';
import { CustomOperations } from './operations/custom';
import type { RolesConfig } from '../schemas/roles';

export interface ActivityOptions {
  /** The Temporal server's priority levels (worker config). */
  priorityLevels: number;
  /** Tasks run at once; more polled tasks wait and start in priority order. */
  maxConcurrentTasks?: number;
  /** How tasks run when a job does not say (worker config). */
  taskExecution?: TaskExecution;
  /** Rows per batch activity for Batch-mode jobs that do not say (worker config). */
  batchSize?: number;
  /** Settings of individual operations (worker config `operations`). */
  operations?: OperationSettings;
  /** Status webhooks (worker config `webhooks`, secret resolved). Absent: no secret, webhook jobs are refused. */
  webhooks?: WebhookSettings;
  /** Operations the worker's operator registered (Operation.CustomOperation). */
  customOperations?: CustomOperations;
  /** The worker config's roles (what each job's RoleArn grants); absent: single-tenant, nothing is checked. */
  roles?: RolesConfig;
}

export function createActivities(connections: Connections, options: ActivityOptions = { priorityLevels: 5 }) {
  const gate = new PriorityGate(options.maxConcurrentTasks);
  const custom = options.customOperations ?? new CustomOperations();
  const lanes = new PageLanes();
  const taskDeps = { connections, gate, settings: options.operations ?? OperationsConfig.parse({}), custom, roles: options.roles };
  return {
    validateJob: async (request: unknown) =>
      validateJob(connections, request, {
        priorityLevels: options.priorityLevels,
        taskExecution: options.taskExecution ?? DEFAULT_TASK_EXECUTION,
        batchSize: options.batchSize,
        webhooks: { hasSecret: !!options.webhooks?.secret, allowedUrlPrefixes: options.webhooks?.allowedUrlPrefixes },
        customOperations: custom,
        roles: options.roles,
      }),
    checkBucketOwners: (input: { checks: BucketOwnerCheck[] }) => checkBucketOwners(connections, input),
    buildRedriveManifest: (input: BuildRedriveManifestInput) => buildRedriveManifest(connections, input),
    buildInventoryManifest: (input: BuildInventoryManifestInput) => buildInventoryManifest(connections, input),
    listManifestChunk: (input: ListManifestChunkInput) => listManifestChunk(connections, input),
    finishGeneratedManifest: (input: FinishGeneratedManifestInput) => finishGeneratedManifest(connections, input),
    prepareManifest: (input: PrepareManifestInput) => prepareManifest(connections, input),
    readPage: (input: ReadPageInput) => readPage(connections, input),
    runTask: (input: RunTaskInput) => runTask(taskDeps, input),
    runTaskBatch: (input: RunTaskBatchInput) => runTaskBatch({ ...taskDeps, lanes }, input),
    checkRestores: (input: CheckRestoresInput) => checkRestores(connections, input),
    writeReportShard: (input: WriteShardInput) => writeReportShard(connections, input),
    readShardCounts: (input: Omit<WriteShardInput, 'rows'>) => readShardCounts(connections, input),
    checkPages: (input: CheckPagesInput) => checkPages(input),
    writeReportManifest: (input: { jobId: string; report: ReportRef }) => writeReportManifest(connections, input),
    deliverStatusWebhook: (input: DeliverStatusWebhookInput) =>
      deliverStatusWebhook(options.webhooks ?? { timeoutMs: 10_000 }, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
