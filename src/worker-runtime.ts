/**
 * Builds a worker from a validated WorkerConfig: one set of S3/Lambda clients for the process, the activities
 * around them, and the workflow code (a prebuilt bundle when given, else bundled from src/workflows).
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { CustomOperations, type CustomOperationDefinition } from './activities/operations/custom';
import { Connections } from './activities/s3-clients';
import { resolveWebhookSecret, type WorkerConfig } from './schemas/worker-config';
import { dataConverterFor } from './codec/data-converter';
import { workerPayloadKeys } from './codec/payload-keys';
import { temporalConnectOptions } from './temporal-connection';

export interface BuiltWorker {
  worker: Worker;
  connection: NativeConnection;
  connections: Connections;
  /** Shuts the worker down (if running) and closes its connections. */
  close(): Promise<void>;
}

export const WORKFLOWS_PATH = require.resolve('./workflows');

export async function createWorker(
  config: WorkerConfig,
  options: {
    workflowBundlePath?: string;
    identity?: string;
    overrides?: Partial<WorkerOptions>;
    /** Operations jobs can run as Operation.CustomOperation (see src/worker-api.ts). */
    customOperations?: readonly CustomOperationDefinition[];
  } = {}
): Promise<BuiltWorker> {
  // Read before connecting: a secretEnv naming an unset variable, or a bad custom operation name, stops the worker
  // with a clear error (as does a missing or broken TLS file, read by temporalConnectOptions).
  const webhookSecret = resolveWebhookSecret(config.webhooks);
  const customOperations = new CustomOperations(options.customOperations);
  const dataConverter = dataConverterFor(workerPayloadKeys(config.payloadEncryption));
  const connection = await NativeConnection.connect(temporalConnectOptions(config.temporal));
  const connections = new Connections(config);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(dataConverter ? { dataConverter } : {}),
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(connections, {
      priorityLevels: config.temporal.priorityLevels,
      maxConcurrentTasks: config.worker.maxConcurrentTasks,
      taskExecution: config.worker.taskExecution,
      batchSize: config.worker.batchSize,
      operations: config.operations,
      webhooks: {
        secret: webhookSecret,
        allowedUrlPrefixes: config.webhooks.allowedUrlPrefixes,
        timeoutMs: config.webhooks.timeoutSeconds * 1000,
      },
      customOperations,
      roles: config.roles,
    }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTaskExecutions,
    maxConcurrentLocalActivityExecutions: config.worker.maxConcurrentLocalActivityExecutions,
    // A batch activity (Batch mode) heartbeats its finished rows every second: what reaches Temporal is what a retry
    // does not run again, and a heartbeat's answer is how a pause or cancel reaches the batch. The SDK would send
    // only one per 0.8 × the heartbeat timeout (8 s); one per 2 s costs a small RPC per running batch.
    maxHeartbeatThrottleInterval: '2 seconds',
    // Undefined would override the SDK's defaults, so only set what is configured.
    ...(config.worker.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: config.worker.maxCachedWorkflows } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
    ...options.overrides,
  });
  let closed = false;
  return {
    worker,
    connection,
    connections,
    async close() {
      if (closed) return;
      closed = true;
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await waitForStop(worker);
      connections.destroy();
      await connection.close();
    },
  };
}

async function waitForStop(worker: Worker): Promise<void> {
  while (!['STOPPED', 'FAILED', 'INITIALIZED'].includes(worker.getState())) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
