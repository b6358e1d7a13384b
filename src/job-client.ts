/**
 * A typed facade over the Temporal client for s3-batch jobs: create (idempotent), describe, list, confirm, pause,
 * resume, cancel, update priority or rate limit, and wait for completion with progress callbacks. Used by the CLI,
 * the HTTP API, the demo and the tests, and by TypeScript services that talk to Temporal directly. Every change names
 * its actor (the client's identity: the audit trail, docs/security.md); a client given a principal's policy keeps to it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import { AccessDeniedError, PolicyCheck } from './access-policy';
import { resolvePrincipal, type Principal } from './client-principal';
import type { JobOrigin } from './shared/audit';
import { formatProblems, MaxTasksPerSecond, validateJobSpec, type CreateJobInput, type SpecProblem } from './schemas/job-spec';
import { bucketFromArn } from './schemas/arn';
import { DEFAULT_TASK_QUEUE, JOB_WORKFLOW_TYPE, NO_ACCOUNT_ID } from './shared/constants';
import { checkRequest, isTerminal, type ControlRequest, type JobStatus } from './shared/job-status';
import {
  describeJobQuery,
  pauseJobUpdate,
  putJobTaggingUpdate,
  resumeJobUpdate,
  updateJobPriorityUpdate,
  updateJobRateUpdate,
  updateJobStatusUpdate,
  type JobTag,
  type UpdateJobRateResult,
  type UpdateJobStatusResult,
} from './shared/messages';
import { JobAccountKey, JobOperationKey, JobPriorityKey, JobStatusKey } from './shared/search-attributes';
import { JobListing, type RawExecution } from './job-listing';
import type { JobDescriptor, JobProgressSummary } from './shared/types';
// Not re-exported by the package root; the same helper `workflow.list()` uses to decode memos and search attributes.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
export { InvalidNextTokenError } from './job-listing';
// The same decoding the client applies to workflow results: the job's request is its workflow's start input.
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';

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

/** Why a job cannot be redriven (RedriveError.reason). */
export type RedriveRefusal = 'NotFinished' | 'NoReport' | 'NothingToRedrive';

/**
 * redriveJob refused: the job has not finished, wrote no completion report, or has no failed task. A JobStatusError,
 * so callers that treat refusals alike (the CLI's exit code 3) need nothing new.
 */
export class RedriveError extends JobStatusError {
  constructor(
    readonly reason: RedriveRefusal,
    message: string
  ) {
    super(message);
  }
}

export interface RedriveOptions {
  /** Idempotency token of the new job. Default: one derived from the old job's id, so a second redrive returns the same job. */
  clientRequestToken?: string;
  /** Default: "Redrive of <jobId>". */
  description?: string;
  /** Default: the old job's (current) priority. */
  priority?: number;
}

/** The default ClientRequestToken of the redrive of a job: the same job id always gives the same token (at most 64 chars). */
export function redriveToken(jobId: string): string {
  const token = `redrive:${jobId}`;
  return token.length <= 64 ? token : `redrive:${createHash('sha256').update(jobId).digest('hex').slice(0, 48)}`;
}

/** A query that no worker answered in time (gRPC DEADLINE_EXCEEDED): worth asking again. */
/**
 * A query that may well succeed if asked again: it timed out (no worker answered in time: all busy, or restarting),
 * or the job's workflow task is failing right now. The server says the latter while a task is retried after a
 * transient failure (UnhandledCommand: signals arrived as the job was continuing as new) or a timeout on a busy
 * worker; it clears with the next task.
 */
function isTransientQueryError(err: unknown): boolean {
  const cause = (err as { cause?: { code?: number } }).cause;
  const message = String((err as Error)?.message ?? '');
  return cause?.code === GRPC_DEADLINE_EXCEEDED || /query timed out|workflow task in failed state/i.test(message);
}
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * A job id from a ClientRequestToken and the job's account: the same token always names the same job of an account
 * (UUID-shaped, like AWS's), and two accounts using one token get two jobs. Jobs of no account keep the id derived
 * from the token alone, as every job had before tokens were scoped per account.
 */
export function jobIdFromToken(token: string, accountId: string = NO_ACCOUNT_ID): string {
  const scoped = accountId === NO_ACCOUNT_ID ? token : `${accountId}:${token}`;
  const h = createHash('sha256').update(`s3-batch:${scoped}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The hash of a CreateJob request recorded in its job's memo (RequestHash), to tell a retry from another request. */
export function requestHash(request: unknown): string {
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

/** One job in a ListJobs page (S3 Control JobListDescriptor). */
export interface JobListEntry {
  JobId: string;
  Description?: string;
  Operation: string;
  Priority: number;
  Status: string;
  CreationTime: string;
  TerminationDate?: string;
  ProgressSummary?: Omit<JobProgressSummary, 'Timers'>;
}

export interface JobListPage {
  jobs: JobListEntry[];
  /** Opaque; absent on the last page. */
  nextToken?: string;
}

/** Which jobs ListJobs lists. */
export interface ListJobsOptions {
  /** Only jobs in these statuses. */
  statuses?: JobStatus[];
  /** Only this account's jobs (and those of no account); absent: every account's. */
  accountId?: string;
  /** With `accountId`: list the jobs of no account too (default true; the HTTP API's scoped keys say false). */
  withJobsOfNoAccount?: boolean;
}

const ACCOUNT_ID = /^\d{12}$/;

export interface JobClientOptions {
  taskQueue?: string;
  /**
   * Who this client acts as: the actor recorded for every change it makes (the job's history, DescribeJob's
   * S3Batch.CreatedBy and LastChange) and the identity its Temporal calls report. Never a secret. Default
   * `library:<os user>@<host>`. A shortcut for `principal: { identity }`.
   */
  identity?: string;
  /** Who this client acts as and what it may do (as an API key's policy): from principalFromEnv or resolvePrincipal. */
  principal?: Principal;
}

export class JobClient {
  private readonly taskQueue: string;
  /** The Temporal client, reporting this client's identity. */
  readonly client: Client;
  /** Who this client acts as: the actor of every change it makes. */
  readonly identity: string;
  /** The identity's limits; absent: none. */
  private readonly limits?: PolicyCheck;

  constructor(
    client: Client,
    private readonly options: JobClientOptions = {}
  ) {
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    const { identity } = resolvePrincipal({ identity: options.principal?.identity ?? options.identity }, 'library');
    this.identity = identity;
    const policy = options.principal?.policy;
    if (policy) this.limits = new PolicyCheck(policy, `Identity ${identity}`);
    this.client = client.options.identity === identity ? client : clientWithIdentity(client, identity);
  }

  /**
   * The same client acting for `actor` (the HTTP API: one per access key), with the same limits. Cheap: the
   * connection is shared.
   */
  withActor(actor: string): JobClient {
    return new JobClient(this.client, { taskQueue: this.taskQueue, principal: { ...this.options.principal, identity: actor } });
  }

  /**
   * The job, if this client's identity may act on it for `operation` (a job of another account is not found, as
   * the HTTP API answers); undefined without limits (nothing to check, and no describe spent).
   */
  private async checkJob(jobId: string, operation: string): Promise<JobDescriptor | undefined> {
    if (!this.limits) return undefined;
    const job = await this.describeAnyJob(jobId);
    const owner = job.JobArn.split(':')[4] || NO_ACCOUNT_ID;
    if (!this.limits.ownsJobOfAnyAccount(owner)) throw new WorkflowNotFoundError(`job ${jobId} not found`, jobId, undefined);
    this.limits.authorize(operation, owner);
    return job;
  }

  /**
   * Throws what describeJob or a control call would for this client's identity (another account's job is not found;
   * an operation the policy lacks is denied), judged from the job's S3BatchAccountId search attribute, so without
   * asking a worker: the CLI checks this before it says anything about the job's workers. A job without the
   * attribute (started before jobs recorded their account) passes here; the call itself checks its JobArn.
   */
  async checkAccess(jobId: string, operation: string): Promise<void> {
    if (!this.limits) return;
    const owner = (await this.handle(jobId).describe()).typedSearchAttributes.get(JobAccountKey);
    if (owner === undefined) return;
    if (!this.limits.ownsJobOfAnyAccount(owner)) throw new WorkflowNotFoundError(`job ${jobId} not found`, jobId, undefined);
    this.limits.authorize(operation, owner);
  }

  handle(jobId: string): WorkflowHandle {
    return this.client.workflow.getHandle(jobId);
  }

  /**
   * Validates and starts a job; returns its id. With a ClientRequestToken, creating the same job again returns the
   * same id (and a different request under the same token is an IdempotencyError naming the caller's own job).
   * Tokens are scoped per account (the request's AccountId): another account's token never meets this one.
   */
  async createJob(request: CreateJobInput | unknown): Promise<{ jobId: string; created: boolean }> {
    const validation = validateJobSpec(request);
    if (!validation.ok) throw new JobSpecError(validation.problems);
    const { job } = validation;
    const accountId = job.request.AccountId ?? NO_ACCOUNT_ID;
    if (this.limits) {
      if (accountId === NO_ACCOUNT_ID) {
        throw new AccessDeniedError(
          `${this.limits.principal} acts for account(s) ${this.limits.policy.accounts!.join(', ')}: the request must name one as AccountId`
        );
      }
      this.limits.authorize('CreateJob', accountId);
      this.limits.checkPassRole(job.request.RoleArn);
    }
    const token = job.request.ClientRequestToken;
    const hash = requestHash(request);
    if (token) {
      const earlier = await this.jobCreatedBeforeTokensWereScoped(token, accountId, hash);
      if (earlier) return { jobId: earlier, created: false };
    }
    const jobId = token ? jobIdFromToken(token, accountId) : randomUUID();
    try {
      await this.client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobId,
        taskQueue: this.taskQueue,
        // The third argument (JobOrigin) records who created the job in its history; older workers ignore it.
        args: [request, undefined, { createdBy: this.identity } satisfies JobOrigin],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        memo: { RequestHash: hash, Description: job.request.Description ?? null },
        typedSearchAttributes: [
          { key: JobStatusKey, value: 'New' },
          { key: JobOperationKey, value: job.operation.name },
          { key: JobPriorityKey, value: job.request.Priority },
          { key: JobAccountKey, value: accountId },
        ],
        staticSummary: `${job.operation.name}${job.request.Description ? `: ${job.request.Description}` : ''}`,
        // As for pages: on a busy worker the default 10 s can lapse, and a timed-out task is done again.
        workflowTaskTimeout: '30 seconds',
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
   * The job this very request created under the same token before tokens were scoped per account (its id derived
   * from the token alone), so that a retry across the upgrade returns it instead of starting a second job. Only an
   * identical request matches (the request, AccountId included, is hashed), so another account's job under the same
   * token is never returned nor named.
   */
  private async jobCreatedBeforeTokensWereScoped(token: string, accountId: string, hash: string): Promise<string | undefined> {
    if (accountId === NO_ACCOUNT_ID) return undefined; // the same id as before: the start below meets it
    const legacyId = jobIdFromToken(token);
    try {
      const existing = await this.handle(legacyId).describe();
      return existing.memo?.RequestHash === hash ? legacyId : undefined;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Redrive (beyond AWS, like Step Functions' redrive): creates a job that runs only the failed tasks of a finished job
   * (Complete, Failed or Cancelled). The new job has the old one's Operation, Report, Extensions, Tags and priority, and
   * `Extensions.RedriveOf` instead of a Manifest: its worker builds the manifest from the old report's failed rows (no
   * S3 access here). Tasks a cancelled or failed job never ran are not in its report, so they are not run either.
   * Idempotent: by default the token is derived from the old job id, so asking twice returns the same job.
   * Throws RedriveError when the job cannot be redriven, WorkflowNotFoundError when there is no such job.
   */
  async redriveJob(jobId: string, options: RedriveOptions = {}): Promise<{ jobId: string; created: boolean; redriveOf: string }> {
    const old = await this.describeJob(jobId);
    if (!isTerminal(old.Status)) {
      throw new RedriveError(
        'NotFinished',
        `job ${jobId} is ${old.Status}: only a finished job (Complete, Failed or Cancelled) can be redriven; wait for it, or cancel it first`
      );
    }
    const request = await this.jobRequest(jobId);
    const report = (request.Report ?? {}) as { Enabled?: boolean; Bucket?: string };
    const reportBucket = report.Enabled && report.Bucket ? bucketFromArn(report.Bucket) : undefined;
    if (!reportBucket) {
      throw new RedriveError('NoReport', `job ${jobId} has no completion report (Report.Enabled is false): its failed tasks are not known`);
    }
    if (!old.S3Batch.ReportManifestKey) {
      throw new RedriveError('NoReport', `job ${jobId} wrote no completion report (no task ran): there are no failed tasks to redrive`);
    }
    if (old.ProgressSummary.NumberOfTasksFailed === 0) {
      throw new RedriveError('NothingToRedrive', `job ${jobId} has no failed tasks: nothing to redrive`);
    }
    // The new request is a pure function of the old (finished, so unchanging) job and the options: a second redrive
    // sends the same request under the same token, and gets the same job back.
    const { Manifest: _manifest, ManifestGenerator: _generator, ClientRequestToken: _token, Description: _description, Tags: _tags, ...rest } =
      request;
    const { ManifestConnection: _manifestConnection, RedriveOf: _redriveOf, ...extensions } = (request.Extensions ?? {}) as Record<
      string,
      unknown
    >;
    const tags = old.S3Batch.Tags ?? [];
    const next = {
      ...rest,
      ClientRequestToken: options.clientRequestToken ?? redriveToken(jobId),
      Description: options.description ?? `Redrive of ${jobId}`,
      Priority: options.priority ?? old.Priority,
      ...(tags.length ? { Tags: tags } : {}),
      Extensions: {
        ...extensions,
        RedriveOf: { JobId: jobId, ReportManifest: `arn:aws:s3:::${reportBucket}/${old.S3Batch.ReportManifestKey}` },
      },
    };
    const created = await this.createJob(next);
    return { ...created, redriveOf: jobId };
  }

  /**
   * The request a job was created with: its workflow's start input (after continue-as-new, the validated request the
   * run carries). Read from the first event of the latest run, so no worker is needed.
   */
  async jobRequest(jobId: string): Promise<Record<string, unknown>> {
    await this.checkJob(jobId, 'DescribeJob');
    const response = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.client.options.namespace,
      execution: { workflowId: jobId },
      maximumPageSize: 1,
    });
    const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    const [request, carried] = await decodeArrayFromPayloads(this.client.workflow.options.loadedDataConverter, started?.input?.payloads);
    const found = request ?? (carried as { job?: { request?: unknown } } | undefined)?.job?.request;
    if (!found || typeof found !== 'object') throw new Error(`job ${jobId}: its request could not be read from its workflow history`);
    return found as Record<string, unknown>;
  }

  /**
   * The DescribeJob view. A finished job answers from its recorded result, so no worker is needed for it;
   * a running one answers the describeJob query.
   */
  async describeJob(jobId: string): Promise<JobDescriptor> {
    return (await this.checkJob(jobId, 'DescribeJob')) ?? this.describeAnyJob(jobId);
  }

  /** describeJob, whoever's the job is. */
  private async describeAnyJob(jobId: string): Promise<JobDescriptor> {
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
  private async update<T>(jobId: string, request: ControlRequest, operation: string, run: () => Promise<T>): Promise<T> {
    await this.checkJob(jobId, operation);
    try {
      return await run();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new JobStatusError(err.cause?.message ?? err.message);
      const description = await this.handle(jobId).describe();
      if (description.status.name !== 'RUNNING') {
        const job = await this.describeAnyJob(jobId);
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
    return this.update(jobId, status, 'UpdateJobStatus', () =>
      this.handle(jobId).executeUpdate(updateJobStatusUpdate, {
        args: [{ RequestedJobStatus: status, StatusUpdateReason: reason, actor: this.identity }],
      })
    );
  }

  pauseJob(jobId: string, reason?: string): Promise<UpdateJobStatusResult> {
    return this.update(jobId, 'Pause', 'UpdateJobStatus', () =>
      this.handle(jobId).executeUpdate(pauseJobUpdate, { args: [{ Reason: reason, actor: this.identity }] })
    );
  }

  resumeJob(jobId: string, reason?: string): Promise<UpdateJobStatusResult> {
    return this.update(jobId, 'Resume', 'UpdateJobStatus', () =>
      this.handle(jobId).executeUpdate(resumeJobUpdate, { args: [{ Reason: reason, actor: this.identity }] })
    );
  }

  updateJobPriority(jobId: string, priority: number) {
    return this.update(jobId, 'UpdatePriority', 'UpdateJobPriority', () =>
      this.handle(jobId).executeUpdate(updateJobPriorityUpdate, { args: [{ Priority: priority, actor: this.identity }] })
    );
  }

  /**
   * Changes the job's rate limit (Extensions.MaxTasksPerSecond) for the tasks it has not started yet: at most
   * `maxTasksPerSecond` task starts per second across the whole job; null removes the limit. A JobSpecError for a
   * rate out of range; a JobStatusError once the job is ending or ended.
   */
  updateJobRate(jobId: string, maxTasksPerSecond: number | null): Promise<UpdateJobRateResult> {
    const parsed = MaxTasksPerSecond.nullable().safeParse(maxTasksPerSecond);
    if (!parsed.success) {
      throw new JobSpecError(parsed.error.issues.map((issue) => ({ path: 'MaxTasksPerSecond', message: issue.message })));
    }
    return this.update(jobId, 'UpdateRate', 'UpdateJobRate', () =>
      this.handle(jobId).executeUpdate(updateJobRateUpdate, { args: [{ MaxTasksPerSecond: parsed.data, actor: this.identity }] })
    );
  }

  /** Replaces the job's tags (PutJobTagging); an empty list removes them (DeleteJobTagging). */
  async putJobTagging(jobId: string, tags: JobTag[]): Promise<JobTag[]> {
    // Tags change on the same terms as priority: until the job ends (its workflow then takes no updates).
    const result = await this.update(jobId, 'UpdatePriority', tags.length ? 'PutJobTagging' : 'DeleteJobTagging', () =>
      this.handle(jobId).executeUpdate(putJobTaggingUpdate, { args: [{ Tags: tags, actor: this.identity }] })
    );
    return result.Tags;
  }

  /** The job's current tags (GetJobTagging). */
  async getJobTagging(jobId: string): Promise<JobTag[]> {
    return (await this.describeJob(jobId)).S3Batch.Tags ?? [];
  }

  /**
   * One page of ListJobs: jobs on this client's task queue (so that an API serves the jobs its workers run), optionally
   * only those in the given statuses. With `accountId`, only that account's jobs and the jobs of no account (which
   * DescribeJob serves to every account too); jobs created before accounts were recorded are then not listed (they
   * have no S3BatchAccountId). Without it, every job: the operator's view, as in Temporal's UI. Paging lists each
   * job once although jobs end or continue as new meanwhile (see job-listing.ts).
   */
  async listJobsPage(options: ListJobsOptions & { maxResults?: number; nextToken?: string } = {}): Promise<JobListPage> {
    const accounts = this.listedAccounts(options);
    const listing = new JobListing(this.client, {
      query: this.listQuery(options.statuses, accounts),
      unfiltered: this.listQuery(undefined, accounts),
    });
    const response = await listing.page(Math.max(1, options.maxResults ?? 1000), options.nextToken);
    const jobs: JobListEntry[] = [];
    for (const raw of response.executions) {
      const wf = await this.executionInfo(raw);
      const memo = (wf.memo ?? {}) as { Description?: string | null; CreationTime?: string; Progress?: Record<string, number | string | null> };
      const progress = memo.Progress;
      jobs.push({
        JobId: wf.workflowId,
        Description: memo.Description ?? undefined,
        Operation: String(wf.typedSearchAttributes.get(JobOperationKey) ?? ''),
        Priority: Number(wf.typedSearchAttributes.get(JobPriorityKey) ?? 0),
        Status: String(wf.typedSearchAttributes.get(JobStatusKey) ?? 'New'),
        CreationTime: memo.CreationTime ?? wf.startTime.toISOString(),
        TerminationDate: wf.closeTime?.toISOString(),
        ProgressSummary: progress
          ? {
              TotalNumberOfTasks: typeof progress.TotalNumberOfTasks === 'number' ? progress.TotalNumberOfTasks : undefined,
              NumberOfTasksSucceeded: Number(progress.NumberOfTasksSucceeded ?? 0),
              NumberOfTasksFailed: Number(progress.NumberOfTasksFailed ?? 0),
            }
          : undefined,
      });
    }
    return { jobs, nextToken: response.nextToken };
  }

  /**
   * A listed execution, decoded. A job whose memo this client cannot decode (written under a payload key it lacks)
   * is still listed, from its search attributes, without Description and progress: one such job must not make the
   * whole listing fail.
   */
  private async executionInfo(raw: RawExecution) {
    const converter = this.client.workflow.options.loadedDataConverter;
    const namespace = this.client.options.namespace;
    try {
      return await executionInfoFromRaw(raw, converter, raw, namespace);
    } catch {
      // Inherits every field (protobuf defaults live on the prototype, so a spread would lose them) but the memo.
      const withoutMemo = Object.create(raw, { memo: { value: undefined } }) as RawExecution;
      return executionInfoFromRaw(withoutMemo, converter, withoutMemo, namespace);
    }
  }

  /**
   * The accounts whose jobs a listing shows (undefined: every job): `accountId`'s (and, unless told not to, those of
   * no account); with limits, only the identity's accounts, never jobs of no account.
   */
  private listedAccounts({ accountId, withJobsOfNoAccount = true }: ListJobsOptions): string[] | undefined {
    if (accountId !== undefined && !ACCOUNT_ID.test(accountId)) throw new Error(`accountId: expected a 12-digit account id, got "${accountId}"`);
    if (this.limits) {
      if (accountId === undefined) return [...this.limits.policy.accounts!];
      this.limits.authorize('ListJobs', accountId);
      return [accountId];
    }
    if (accountId === undefined) return undefined;
    return withJobsOfNoAccount ? [accountId, NO_ACCOUNT_ID] : [accountId];
  }

  /** The visibility query for this task queue's jobs, optionally only those in the given statuses and accounts. */
  private listQuery(statuses: JobStatus[] | undefined, accounts: string[] | undefined): string {
    const clauses = [`WorkflowType = '${JOB_WORKFLOW_TYPE}'`, `TaskQueue = '${this.taskQueue.replace(/'/g, "''")}'`];
    if (statuses?.length) clauses.push(`S3BatchJobStatus IN (${statuses.map((s) => `'${s}'`).join(', ')})`);
    if (accounts) clauses.push(`${JobAccountKey.name} IN (${accounts.map((a) => `'${a}'`).join(', ')})`);
    return clauses.join(' AND ');
  }

  /**
   * Every job on this client's task queue, newest first, optionally only those in the given statuses and at most
   * `limit` of them: listJobsPage's pages, followed to the end.
   */
  async listJobs(options: ListJobsOptions & { limit?: number } = {}): Promise<JobListEntry[]> {
    const jobs: JobListEntry[] = [];
    let nextToken: string | undefined;
    do {
      const maxResults = options.limit ? Math.min(1000, options.limit - jobs.length) : 1000;
      const page = await this.listJobsPage({ ...options, maxResults, nextToken });
      jobs.push(...page.jobs);
      nextToken = page.nextToken;
    } while (nextToken && (!options.limit || jobs.length < options.limit));
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
        if (!isTransientQueryError(err) || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
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

/** `client` reporting `identity` to Temporal (the same connection, namespace, data converter and interceptors). */
function clientWithIdentity(client: Client, identity: string): Client {
  const { namespace, dataConverter, interceptors } = client.options;
  return new Client({ connection: client.connection, namespace, dataConverter, interceptors, identity });
}
