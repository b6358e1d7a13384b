/**
 * The task activity: one operation on one object. S3 errors come back as a failed TaskResult when they are
 * permanent (the task fails once, with the S3 code and HTTP status for the report) and are thrown when retryable,
 * so Temporal retries them with backoff; on the last attempt a retryable error also becomes a failed result.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ResolvedOperation } from '../schemas/operations';
import { truncate, type TaskResult } from '../shared/types';
import { classifyAwsError } from './aws-errors';
import type { CustomOperations } from './operations/custom';
import type { OperationSettings, TaskObject } from './operations/operation';
import { operationErrorCodes, runOperation } from './operations/registry';
import type { PriorityGate } from './priority-gate';
import { taskAccessDenied } from './role-access';
import type { RolesConfig } from '../schemas/roles';
import { UnknownConnectionError, type Connections } from './s3-clients';

const HEARTBEAT_MS = 5_000;

export interface RunTaskInput {
  jobId: string;
  /** Identifies the manifest row within the job, stable across retries. */
  taskId: string;
  connection: string;
  /** The job's Extensions.LambdaConnection. */
  lambdaConnection?: string;
  /** The job's RoleArn, when its worker enforces roles. */
  role?: string;
  operation: ResolvedOperation;
  object: TaskObject;
  /** The retry policy's maximumAttempts: on that attempt, give up with a result instead of throwing. */
  maxAttempts: number;
  /** Temporal priority key of the job when the task was scheduled (lower first); orders the worker's gate. */
  priorityKey?: number;
}

export interface TaskDeps {
  connections: Connections;
  gate: PriorityGate;
  settings: OperationSettings;
  custom: CustomOperations;
  /** The worker config's roles; absent: tasks are not checked (single-tenant). */
  roles?: RolesConfig;
}

export async function runTask({ connections, gate, settings, custom, roles }: TaskDeps, input: RunTaskInput): Promise<TaskResult> {
  // Before anything is sent: outside its role, the task fails as AWS would answer it, and S3 never hears of it.
  const denied = taskAccessDenied(roles, input);
  if (denied) return denied;
  const ctx = Context.current();
  // Long operations (large copies) keep telling Temporal they are alive; a worker that dies stops the beat, and
  // the task is retried after the heartbeat timeout instead of the whole start-to-close timeout.
  const beat = ctx.info.isLocal ? undefined : setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    const s3 = connections.taskS3(input.connection);
    const signal = ctx.cancellationSignal;
    const outcome = await gate.run(
      input.priorityKey ?? Number.MAX_SAFE_INTEGER,
      () =>
        runOperation(
          {
            s3,
            connections,
            settings,
            signal,
            jobId: input.jobId,
            taskId: input.taskId,
            attemptId: `${ctx.info.workflowExecution?.workflowId ?? input.jobId}/${ctx.info.activityId}/${ctx.info.attempt}`,
            lambdaConnection: input.lambdaConnection,
          },
          input.object,
          input.operation,
          custom
        ),
      signal
    );
    return { status: 'succeeded', httpStatus: outcome.httpStatus ?? 200, message: truncate(outcome.message) };
  } catch (err) {
    if (err instanceof UnknownConnectionError) {
      return { status: 'failed', errorCode: 'UnknownConnection', message: truncate(err.message) };
    }
    // Cancelled by the workflow: let Temporal see the cancellation, not a task result.
    if (ctx.cancellationSignal.aborted) throw err;
    const c = classifyAwsError(err, operationErrorCodes(input.operation, custom));
    const attempt = ctx.info.attempt;
    if (c.retryable && attempt < input.maxAttempts) {
      throw ApplicationFailure.retryable(`${c.code}: ${c.message}`, c.code, { httpStatus: c.httpStatus });
    }
    return {
      status: 'failed',
      errorCode: c.code,
      httpStatus: c.httpStatus,
      message: truncate(c.retryable ? `${c.message} (gave up after ${attempt} attempts)` : c.message),
    };
  } finally {
    clearInterval(beat);
  }
}
