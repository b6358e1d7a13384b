/**
 * The eight S3 Control job calls, and our UpdateJobRate, one handler each: parse and validate the request (query, XML body) with the spec
 * schemas, call the JobClient, and shape the result as S3 Control's response document. Handlers throw ApiError for
 * anything the caller got wrong; server.ts maps every other error.
 */
import { z } from 'zod';
import { JobSpecError, type JobClient } from '../job-client';
import { CreateJobRequest, JobManifest, JobReport, MaxTasksPerSecond } from '../schemas/job-spec';
import { JobManifestGenerator } from '../schemas/manifest-generator';
import { JobOperation, S3Tag } from '../schemas/operations';
import { NO_ACCOUNT_ID } from '../shared/constants';
import { JOB_STATUSES, type JobStatus } from '../shared/job-status';
import type { JobTag } from '../shared/messages';
import type { JobDescriptor } from '../shared/types';
import { formatProblems } from '../shared/problems';
import { apiErrors } from './errors';
import type { Caller } from './key-policy';
import { parseXmlBody, toXml } from './xml';

export interface OperationContext {
  jobs: JobClient;
  /** The caller's x-amz-account-id, checked by the server (the key may act for it). */
  accountId: string;
  /** The calling key's policy: which jobs it sees, which roles it may pass. */
  caller: Caller;
  /** The region written into job ARNs. */
  region: string;
  query: Record<string, string | string[]>;
  body: string;
  /** From the path, for the per-job calls. */
  jobId?: string;
}

export interface OperationResult {
  /** The response document (XML), or undefined for an empty 200. */
  xml?: string;
  /** CreateJob: the job created (or found by its token), for the audit line. */
  jobId?: string;
}

export type Operation = (ctx: OperationContext) => Promise<OperationResult>;

/** Lists and maps inside the echoed request members and our S3Batch element (the rest of JobDescriptor has neither). */
const DescribeJobResultShape = z.object({
  Job: z.object({
    Manifest: JobManifest,
    ManifestGenerator: JobManifestGenerator,
    Operation: JobOperation,
    Report: JobReport,
    S3Batch: z.object({ FailedTasksByErrorCode: z.record(z.string(), z.number()), Tags: z.array(S3Tag) }),
  }),
});
const TagsShape = z.object({ Tags: z.array(S3Tag) });

/** A validation failure in AWS's words: InvalidRequest naming each field. */
function invalid(problems: { path: string; message: string }[]) {
  return apiErrors.invalidRequest(formatProblems(problems));
}

function zodProblems(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Query parameters as S3 Control names them (camelCase), validated; problems name the API member (PascalCase). */
function parseQuery<T extends z.ZodRawShape>(
  query: OperationContext['query'],
  shape: T,
  names: Record<keyof T & string, string>
): z.infer<z.ZodObject<T>> {
  const parsed = z.object(shape).safeParse(query);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((issue) => {
        const [first, ...rest] = issue.path.map(String);
        return { path: [names[first as keyof T & string] ?? first, ...rest].join('.'), message: issue.message };
      })
    );
  }
  return parsed.data;
}

/** S3 Control's JobId pattern and length. */
const JOB_ID = /^[a-zA-Z0-9_-]{5,36}$/;

/**
 * The job, if it exists and belongs to the caller's account (jobs are per account, as in AWS); anything else is
 * NotFoundException, so a caller learns nothing of other accounts' jobs.
 */
async function loadJob(ctx: OperationContext): Promise<JobDescriptor> {
  const jobId = ctx.jobId!;
  if (!JOB_ID.test(jobId)) throw invalid([{ path: 'JobId', message: 'expected 5 to 36 letters, digits, - or _' }]);
  const job = await ctx.jobs.describeJob(jobId);
  const owner = job.JobArn.split(':')[4];
  // Jobs created without an AccountId (CLI, library) carry the placeholder account: the operator's jobs, served to
  // every account by single-tenant keys and to none by keys scoped to accounts (key-policy.ts).
  if (!ctx.caller.ownsJob(owner || NO_ACCOUNT_ID, ctx.accountId)) throw apiErrors.notFound(jobId);
  return job;
}

export const createJob: Operation = async (ctx) => {
  const request = parseXmlBody(ctx.body, 'CreateJobRequest', CreateJobRequest);
  // AccountId travels in the x-amz-account-id header, never in the body.
  request.AccountId = ctx.accountId;
  ctx.caller.checkPassRole(request.RoleArn);
  try {
    const { jobId } = await ctx.jobs.createJob(request);
    return { xml: toXml('CreateJobResult', { JobId: jobId }), jobId };
  } catch (err) {
    if (err instanceof JobSpecError) throw invalid(err.problems);
    throw err;
  }
};

export const describeJob: Operation = async (ctx) => {
  const job = await loadJob(ctx);
  const descriptor = {
    JobId: job.JobId,
    ConfirmationRequired: job.ConfirmationRequired,
    Description: job.Description,
    JobArn: `arn:aws:s3:${ctx.region}:${ctx.accountId}:job/${job.JobId}`,
    Status: job.Status,
    Manifest: job.Manifest,
    ManifestGenerator: job.ManifestGenerator,
    GeneratedManifestDescriptor: job.GeneratedManifestDescriptor,
    Operation: job.Operation,
    Priority: job.Priority,
    ProgressSummary: job.ProgressSummary,
    StatusUpdateReason: job.StatusUpdateReason,
    FailureReasons: job.FailureReasons.length ? job.FailureReasons : undefined,
    Report: job.Report,
    CreationTime: job.CreationTime,
    TerminationDate: job.TerminationDate,
    RoleArn: job.RoleArn,
    SuspendedDate: job.SuspendedDate,
    SuspendedCause: job.SuspendedCause,
    // Ours, as describeJob returns it (failures by code, summary, report key, …); AWS's SDKs skip elements they
    // do not know, so it costs them nothing.
    S3Batch: job.S3Batch,
  };
  return { xml: toXml('DescribeJobResult', { Job: descriptor }, DescribeJobResultShape) };
};

const StatusList = z
  .union([z.enum(JOB_STATUSES), z.array(z.enum(JOB_STATUSES))])
  .transform((v) => (Array.isArray(v) ? v : [v]) as JobStatus[]);

export const listJobs: Operation = async (ctx) => {
  const q = parseQuery(
    ctx.query,
    {
      jobStatuses: StatusList.optional(),
      nextToken: z
        .string()
        .min(1)
        .max(1024)
        .regex(/^[A-Za-z0-9+:/=?#_-]+$/, 'not a token this API gave out')
        .optional(),
      maxResults: z.coerce.number().int().min(0).max(1000).optional(),
    },
    { jobStatuses: 'JobStatuses', nextToken: 'NextToken', maxResults: 'MaxResults' }
  );
  const page = await ctx.jobs.listJobsPage({
    statuses: q.jobStatuses,
    accountId: ctx.accountId,
    withJobsOfNoAccount: ctx.caller.seesJobsOfNoAccount,
    // AWS allows 0; it means "the default page", as an absent value does.
    maxResults: q.maxResults || 1000,
    nextToken: q.nextToken,
  });
  return { xml: toXml('ListJobsResult', { NextToken: page.nextToken, Jobs: page.jobs }) };
};

export const updateJobStatus: Operation = async (ctx) => {
  const q = parseQuery(
    ctx.query,
    {
      requestedJobStatus: z.enum(['Ready', 'Cancelled']),
      statusUpdateReason: z.string().min(1).max(256).optional(),
    },
    { requestedJobStatus: 'RequestedJobStatus', statusUpdateReason: 'StatusUpdateReason' }
  );
  await loadJob(ctx);
  const result = await ctx.jobs.updateJobStatus(ctx.jobId!, q.requestedJobStatus, q.statusUpdateReason);
  return { xml: toXml('UpdateJobStatusResult', { ...result }) };
};

export const updateJobPriority: Operation = async (ctx) => {
  const q = parseQuery(
    ctx.query,
    { priority: z.coerce.number().int().min(0).max(2_147_483_647) },
    { priority: 'Priority' }
  );
  await loadJob(ctx);
  const result = await ctx.jobs.updateJobPriority(ctx.jobId!, q.priority);
  return { xml: toXml('UpdateJobPriorityResult', { JobId: result.JobId, Priority: result.Priority }) };
};

/**
 * Ours (no AWS counterpart): `POST /v20180820/jobs/<id>/rate?maxTasksPerSecond=<n|none>` changes the job's rate
 * limit (Extensions.MaxTasksPerSecond) for the tasks not yet started; `none` removes it.
 */
export const updateJobRate: Operation = async (ctx) => {
  const q = parseQuery(
    ctx.query,
    {
      maxTasksPerSecond: z.union([
        z.literal('none').transform(() => null),
        z.string().regex(/^\d+(\.\d+)?$/, "expected a number of tasks per second, or 'none'").transform(Number).pipe(MaxTasksPerSecond),
      ]),
    },
    { maxTasksPerSecond: 'MaxTasksPerSecond' }
  );
  await loadJob(ctx);
  const result = await ctx.jobs.updateJobRate(ctx.jobId!, q.maxTasksPerSecond);
  // No element: no limit.
  return { xml: toXml('UpdateJobRateResult', { JobId: result.JobId, MaxTasksPerSecond: result.MaxTasksPerSecond ?? undefined }) };
};

export const getJobTagging: Operation = async (ctx) => {
  const job = await loadJob(ctx);
  return { xml: toXml('GetJobTaggingResult', { Tags: job.S3Batch.Tags ?? [] }, TagsShape) };
};

/** CreateJob's Tags rules, for a whole tag set. */
const JobTagSet = z
  .array(S3Tag)
  .superRefine((tags, ctx) => {
    const seen = new Set<string>();
    tags.forEach((tag, i) => {
      if (seen.has(tag.Key)) ctx.addIssue({ code: 'custom', path: [i, 'Key'], message: `duplicate tag key "${tag.Key}"` });
      seen.add(tag.Key);
    });
  });

export const putJobTagging: Operation = async (ctx) => {
  const body = parseXmlBody(ctx.body, 'PutJobTaggingRequest', z.object({ Tags: z.array(S3Tag) }));
  const parsed = z.object({ Tags: JobTagSet }).strict().safeParse(body);
  if (!parsed.success) throw invalid(zodProblems(parsed.error));
  if (parsed.data.Tags.length > 50) throw apiErrors.tooManyTags();
  await loadJob(ctx);
  await ctx.jobs.putJobTagging(ctx.jobId!, parsed.data.Tags as JobTag[]);
  return {};
};

export const deleteJobTagging: Operation = async (ctx) => {
  await loadJob(ctx);
  await ctx.jobs.putJobTagging(ctx.jobId!, []);
  return {};
};

/** Method and path → operation, by its S3 Control name (S3 Control's paths, from the SDK model). */
export function route(method: string, path: string): { name: string; operation: Operation; jobId?: string } | undefined {
  if (path === '/v20180820/jobs') {
    if (method === 'POST') return { name: 'CreateJob', operation: createJob };
    if (method === 'GET') return { name: 'ListJobs', operation: listJobs };
    return undefined;
  }
  const match = /^\/v20180820\/jobs\/([^/]+)(\/status|\/priority|\/rate|\/tagging)?$/.exec(path);
  if (!match) return undefined;
  const jobId = decodeURIComponent(match[1]!);
  const operations: Record<string, [string, Operation]> = {
    'GET ': ['DescribeJob', describeJob],
    'POST /status': ['UpdateJobStatus', updateJobStatus],
    'POST /priority': ['UpdateJobPriority', updateJobPriority],
    'POST /rate': ['UpdateJobRate', updateJobRate],
    'GET /tagging': ['GetJobTagging', getJobTagging],
    'PUT /tagging': ['PutJobTagging', putJobTagging],
    'DELETE /tagging': ['DeleteJobTagging', deleteJobTagging],
  };
  const found = operations[`${method} ${match[2] ?? ''}`];
  return found ? { name: found[0], operation: found[1], jobId } : undefined;
}
