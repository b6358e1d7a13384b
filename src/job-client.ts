/**
 * A typed facade over the Temporal client for s3-batch jobs: create (idempotent), describe, list, confirm, pause,
 * resume, cancel, update priority, and wait for completion with progress callbacks. Used by the CLI, the HTTP API,
 * the demo and the tests, and by TypeScript services that talk to Temporal directly.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { formatProblems, validateJobSpec, type CreateJobInput, type SpecProblem } from './spec/job-spec';
import { DEFAULT_TASK_QUEUE, JOB_WORKFLOW_TYPE } from './shared/constants';
import { checkRequest, isTerminal, type ControlRequest, type JobStatus } from './shared/job-status';
import {
  describeJobQuery,
  pauseJobUpdate,
  resumeJobUpdate,
  updateJobPriorityUpdate,
  updateJobStatusUpdate,
  type UpdateJobStatusResult,
} from './shared/messages';
import { JobOperationKey, JobPriorityKey, JobStatusKey } from './shared/search-attributes';
import type { JobDescriptor } from './shared/types';

/** The request was invalid; `problems` lists each with its path. */
export class JobSpecError extends Error {
  constructor(readonly problems: SpecProblem[]) {
    super(`Invalid job spec: ${formatProblems(problems)}`);
    this.name = 'JobSpecError';
  }
}

/** The same ClientRequestToken was used before for a different request (S3 Control's IdempotencyException). */
export class IdempotencyError extends Error {
  constructor(readonly jobId: string) {
    super(`ClientRequestToken was already used for a different request (job ${jobId})`);
    this.name = 'IdempotencyException';
  }
}

/** A control request the job refused (e.g. resume a Complete job), with the job's reason. */
export class JobStatusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobStatusException';
  }
}

/** A query that no worker answered in time (gRPC DEADLINE_EXCEEDED): worth asking again. */
function isQueryTimeout(err: unknown): boolean {
  const cause = (err as { cause?: { code?: number } }).cause;
  return cause?.code === GRPC_DEADLINE_EXCEEDED || /query timed out/i.test(String((err as Error)?.message ?? ''));
}
const GRPC_DEADLINE_EXCEEDED = 4;

/** A job id from a ClientRequestToken: the same token always names the same job (UUID-shaped, like AWS's). */
export function jobIdFromToken(token: string): string {
  const h = createHash('sha256').update(`s3-batch:${token}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function requestHash(request: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])])
          )
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(request))).digest('hex');
}

/** A job as ListJobs shows it, from the workflow's search attributes (no query to a worker). */
export interface JobListEntry {
  JobId: string;
  Status: string;
  Operation: string;
  Priority: number;
  CreationTime: string;
}

export interface JobClientOptions {
  taskQueue?: string;
}

export class JobClient {
  private readonly taskQueue: string;

  constructor(
    readonly client: Client,
    options: JobClientOptions = {}
  ) {
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  }

  handle(jobId: string): WorkflowHandle {
    return this.client.workflow.getHandle(jobId);
  }

  /**
   * Validates and starts a job; returns its id. With a ClientRequestToken, creating the same job again returns the
   * same id (and a different request under the same token is an IdempotencyError).
   */
  async createJob(request: CreateJobInput | unknown): Promise<{ jobId: string; created: boolean }> {
    const validation = validateJobSpec(request);
    if (!validation.ok) throw new JobSpecError(validation.problems);
    const token = validation.job.request.ClientRequestToken;
    const jobId = token ? jobIdFromToken(token) : randomUUID();
    const hash = requestHash(request);
    const { job } = validation;
    try {
      await this.client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobId,
        taskQueue: this.taskQueue,
        args: [request],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        memo: { RequestHash: hash, Description: job.request.Description ?? null },
        typedSearchAttributes: [
          { key: JobStatusKey, value: 'New' },
          { key: JobOperationKey, value: job.operation.name },
          { key: JobPriorityKey, value: job.request.Priority },
        ],
        staticSummary: `${job.operation.name}${job.request.Description ? `: ${job.request.Description}` : ''}`,
      });
      return { jobId, created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const existing = await this.handle(jobId).describe();
      if (existing.memo?.RequestHash !== hash) throw new IdempotencyError(jobId);
      return { jobId, created: false };
    }
  }

  /**
   * The DescribeJob view. A finished job answers from its recorded result, so no worker is needed for it;
   * a running one answers the describeJob query.
   */
  async describeJob(jobId: string): Promise<JobDescriptor> {
    const handle = this.handle(jobId);
    try {
      return await handle.query(describeJobQuery);
    } catch (err) {
      const status = (await handle.describe()).status.name;
      if (status === 'COMPLETED') return (await handle.result()) as JobDescriptor;
      throw err;
    }
  }

  /** Runs an update; a refusal (by the job, or because its workflow has ended) becomes a JobStatusError. */
  private async update<T>(jobId: string, request: ControlRequest, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new JobStatusError(err.cause?.message ?? err.message);
      const description = await this.handle(jobId).describe();
      if (description.status.name !== 'RUNNING') {
        const job = await this.describeJob(jobId);
        const check = checkRequest(job.Status, request);
        throw new JobStatusError(check.ok ? `the job's workflow has ended (${description.status.name})` : check.reason);
      }
      throw err;
    }
  }

  /** Confirms a Suspended job (UpdateJobStatus Ready). */
  confirmJob(jobId: string, reason?: string): Promise<UpdateJobStatusResult> {
    return this.updateJobStatus(jobId, 'Ready', reason);
  }

  cancelJob(jobId: string, reason?: string): Promise<UpdateJobStatusResult> {
    return this.updateJobStatus(jobId, 'Cancelled', reason);
  }

  updateJobStatus(jobId: string, status: 'Ready' | 'Cancelled', reason?: string): Promise<UpdateJobStatusResult> {
    return this.update(jobId, status, () =>
      this.handle(jobId).executeUpdate(updateJobStatusUpdate, {
        args: [{ RequestedJobStatus: status, StatusUpdateReason: reason }],
      })
    );
  }

  pauseJob(jobId: string, reason?: string): Promise<UpdateJobStatusResult> {
    return this.update(jobId, 'Pause', () => this.handle(jobId).executeUpdate(pauseJobUpdate, { args: [{ Reason: reason }] }));
  }

  resumeJob(jobId: string, reason?: string): Promise<UpdateJobStatusResult> {
    return this.update(jobId, 'Resume', () => this.handle(jobId).executeUpdate(resumeJobUpdate, { args: [{ Reason: reason }] }));
  }

  updateJobPriority(jobId: string, priority: number) {
    return this.update(jobId, 'UpdatePriority', () =>
      this.handle(jobId).executeUpdate(updateJobPriorityUpdate, { args: [{ Priority: priority }] }));
  }

  /** The visibility query for jobs, optionally only those in the given statuses. */
  private listQuery(statuses?: JobStatus[]): string {
    const clauses = [`WorkflowType = '${JOB_WORKFLOW_TYPE}'`];
    if (statuses?.length) clauses.push(`S3BatchJobStatus IN (${statuses.map((s) => `'${s}'`).join(', ')})`);
    return clauses.join(' AND ');
  }

  /**
   * One page of jobs, newest first, as ListJobs pages: at most `pageSize`, and a `nextToken` (opaque, base64) while
   * more remain. Pass it back to get the next page.
   */
  async listJobsPage(options: { statuses?: JobStatus[]; pageSize?: number; nextToken?: string } = {}): Promise<{
    jobs: JobListEntry[];
    nextToken?: string;
  }> {
    const response = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query: this.listQuery(options.statuses),
      pageSize: options.pageSize ?? 100,
      nextPageToken: options.nextToken ? Buffer.from(options.nextToken, 'base64') : undefined,
    });
    const jobs = response.executions.map((wf) => {
      const attributes = decodeTypedSearchAttributes(wf.searchAttributes?.indexedFields);
      return {
        JobId: wf.execution?.workflowId ?? '',
        Status: String(attributes.get(JobStatusKey) ?? ''),
        Operation: String(attributes.get(JobOperationKey) ?? ''),
        Priority: Number(attributes.get(JobPriorityKey) ?? 0),
        CreationTime: optionalTsToDate(wf.startTime)?.toISOString() ?? '',
      };
    });
    const token = response.nextPageToken;
    return { jobs, nextToken: token && token.length > 0 ? Buffer.from(token).toString('base64') : undefined };
  }

  /** Lists jobs, newest first, optionally only those in the given statuses. */
  async listJobs(options: { statuses?: JobStatus[]; limit?: number } = {}) {
    const jobs: JobListEntry[] = [];
    for await (const wf of this.client.workflow.list({ query: this.listQuery(options.statuses) })) {
      jobs.push({
        JobId: wf.workflowId,
        Status: String(wf.typedSearchAttributes.get(JobStatusKey) ?? ''),
        Operation: String(wf.typedSearchAttributes.get(JobOperationKey) ?? ''),
        Priority: Number(wf.typedSearchAttributes.get(JobPriorityKey) ?? 0),
        CreationTime: wf.startTime.toISOString(),
      });
      if (options.limit && jobs.length >= options.limit) break;
    }
    return jobs;
  }

  /**
   * Polls describeJob until the job ends, calling onProgress on every change; returns the final descriptor.
   */
  async waitForCompletion(
    jobId: string,
    options: { onProgress?: (job: JobDescriptor) => void; pollMs?: number; timeoutMs?: number } = {}
  ): Promise<JobDescriptor> {
    const deadline = options.timeoutMs ? Date.now() + options.timeoutMs : Infinity;
    let last = '';
    for (;;) {
      let job: JobDescriptor;
      try {
        job = await this.describeJob(jobId);
      } catch (err) {
        // A query times out when no worker answers in time (all busy, or restarting): keep waiting.
        if (!isQueryTimeout(err) || Date.now() > deadline) throw err;
        continue;
      }
      const key = JSON.stringify([job.Status, job.ProgressSummary.NumberOfTasksSucceeded, job.ProgressSummary.NumberOfTasksFailed]);
      if (key !== last) {
        last = key;
        options.onProgress?.(job);
      }
      if (isTerminal(job.Status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish in ${options.timeoutMs} ms (status ${job.Status})`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  }
}
