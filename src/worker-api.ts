/**
 * The worker library: what an operator imports to run s3-batch workers with operations of their own
 * (`import { createWorker, defineOperation } from 's3-batch/worker'`). `src/worker.ts` is the same worker without
 * custom operations; examples/custom-operation/ shows one registered.
 *
 *   const setContentType = defineOperation({ name: 'SetContentType', parameters: z.object({...}), run: async (ctx, object, params) => ... });
 *   const { worker } = await createWorker(loadWorkerConfig(), { customOperations: [setContentType] });
 *   await worker.run();
 *
 * A job runs it with `"Operation": { "CustomOperation": { "Name": "SetContentType", "Parameters": {...} } }`.
 * Every worker polling the job's task queue must register the same operations.
 */
export { createWorker, type BuiltWorker } from './worker-runtime';
export { loadWorkerConfig, WorkerConfig, WorkerConfigError, type WorkerConfigInput } from './schemas/worker-config';
export { defineOperation, type CustomOperationDefinition } from './activities/operations/custom';
export {
  TaskFailure,
  SUCCESS_MESSAGE,
  type OperationContext,
  type OperationOutcome,
  type OperationErrorCodes,
  type TaskObject,
} from './activities/operations/operation';
export { copySource } from './activities/operations/put-object-copy';
