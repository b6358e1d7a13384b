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

/** Who runs an attempt and how it is identified: the activity's own context, or a row of a batch (run-task-batch.ts). */
export interface TaskAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts the attempt (a cancelled activity, or a batch row's attempt timeout). */
  signal: AbortSignal;
  /** Unique per attempt (Lambda's invocationId). */
  attemptId: string;
}

/** A retryable error on an attempt that is not the last: retry after backoff. */
export interface RetryTask {
  retry: { code: string; message: string; httpStatus?: number };
}

/**
 * One attempt of a task: the task's result, or `retry` when the error is retryable and attempts remain. Shared by the
 * task activity (Temporal retries it) and the batch activity (which retries each row itself), so both classify errors
 * the same way. Throws only when `signal` was aborted.
 */
export async function runTaskAttempt(
  { connections, gate, settings, custom, roles }: TaskDeps,
  input: RunTaskInput,
  { attempt, signal, attemptId }: TaskAttempt
): Promise<TaskResult | RetryTask> {
  // Before anything is sent: outside its role, the task fails as AWS would answer it, and S3 never hears of it.
  const denied = taskAccessDenied(roles, input);
  if (denied) return denied;
  try {
    const s3 = connections.taskS3(input.connection);
    const outcome = await gate.run(
      input.priorityKey ?? Number.MAX_SAFE_INTEGER,
      () =>
        runOperation(
          { s3, connections, settings, signal, jobId: input.jobId, taskId: input.taskId, attemptId, lambdaConnection: input.lambdaConnection },
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
    // Aborted (cancelled by the workflow, or timed out in a batch): the caller decides what that means.
    if (signal.aborted) throw err;
    const c = classifyAwsError(err, operationErrorCodes(input.operation, custom));
    if (c.retryable && attempt < input.maxAttempts) {
      return { retry: { code: c.code, message: c.message, httpStatus: c.httpStatus } };
    }
    return {
      status: 'failed',
      errorCode: c.code,
      httpStatus: c.httpStatus,
      message: truncate(c.retryable ? `${c.message} (gave up after ${attempt} attempts)` : c.message),
    };
  }
}

/** The task activity: one attempt per activity attempt; Temporal retries a retryable error with backoff. */
export async function runTask(deps: TaskDeps, input: RunTaskInput): Promise<TaskResult> {
  const ctx = Context.current();
  // Long operations (large copies) keep telling Temporal they are alive; a worker that dies stops the beat, and
  // the task is retried after the heartbeat timeout instead of the whole start-to-close timeout.
  const beat = ctx.info.isLocal ? undefined : setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    const outcome = await runTaskAttempt(deps, input, {
      attempt: ctx.info.attempt,
      signal: ctx.cancellationSignal,
      attemptId: `${ctx.info.workflowExecution?.workflowId ?? input.jobId}/${ctx.info.activityId}/${ctx.info.attempt}`,
    });
    if ('retry' in outcome) {
      const { code, message, httpStatus } = outcome.retry;
      throw ApplicationFailure.retryable(`${code}: ${message}`, code, { httpStatus });
    }
    return outcome;
  } finally {
    clearInterval(beat);
  }
}
