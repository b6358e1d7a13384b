/**
 * Queries, updates and signals of the job and page workflows: one place, sandbox-safe, importable by the client,
 * the CLI and the HTTP API without pulling in workflow bodies. Wire names are camelCase and must never be renamed
 * (running jobs would stop understanding them).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Attributed } from './audit';
import type { JobStatus } from './job-status';
import type { JobDescriptor, PageFailure, PageProgress } from './types';

// ---- Job workflow: what users and services call ----

/** The DescribeJob `Job` shape. */
export const describeJobQuery = defineQuery<JobDescriptor>('describeJob');

/** Control updates carry an optional `actor` (who asked: audit.ts), recorded in the job's history and state. */
export interface UpdateJobStatusRequest extends Attributed {
  RequestedJobStatus: 'Ready' | 'Cancelled';
  StatusUpdateReason?: string;
}
export interface UpdateJobStatusResult {
  JobId: string;
  Status: JobStatus;
  StatusUpdateReason?: string;
}
/** S3 Control's UpdateJobStatus: confirm a Suspended job (Ready) or cancel one (Cancelled). */
export const updateJobStatusUpdate = defineUpdate<UpdateJobStatusResult, [UpdateJobStatusRequest]>('updateJobStatus');

export interface PauseResumeRequest extends Attributed {
  Reason?: string;
}
/** Ours: stop starting tasks and let in-flight ones finish; the job is Paused once none is in flight. */
export const pauseJobUpdate = defineUpdate<UpdateJobStatusResult, [PauseResumeRequest]>('pauseJob');
/** Ours: continue a Pausing or Paused job. */
export const resumeJobUpdate = defineUpdate<UpdateJobStatusResult, [PauseResumeRequest]>('resumeJob');

export interface UpdateJobPriorityRequest extends Attributed {
  Priority: number;
}
export interface UpdateJobPriorityResult {
  JobId: string;
  Priority: number;
}
export const updateJobPriorityUpdate = defineUpdate<UpdateJobPriorityResult, [UpdateJobPriorityRequest]>(
  'updateJobPriority'
);

export interface UpdateJobRateRequest extends Attributed {
  /** Tasks per second for the whole job; null removes the limit. */
  MaxTasksPerSecond: number | null;
}
export interface UpdateJobRateResult {
  JobId: string;
  MaxTasksPerSecond: number | null;
}
/** Ours: change the job's rate limit (Extensions.MaxTasksPerSecond) for tasks not yet started. */
export const updateJobRateUpdate = defineUpdate<UpdateJobRateResult, [UpdateJobRateRequest]>('updateJobRate');

/** A job tag (S3 Control S3Tag). */
export interface JobTag {
  Key: string;
  Value: string;
}
export interface PutJobTaggingRequest extends Attributed {
  Tags: JobTag[];
}
export interface PutJobTaggingResult {
  JobId: string;
  Tags: JobTag[];
}
/** S3 Control's PutJobTagging (and DeleteJobTagging, as an empty set): replaces the job's whole tag set. */
export const putJobTaggingUpdate = defineUpdate<PutJobTaggingResult, [PutJobTaggingRequest]>('putJobTagging');

// ---- Between a job and its pages (internal) ----

/** Page → job: counts for one part of a page; the job adds each (page, part) once. */
export const pageProgressSignal = defineSignal<[PageProgress]>('pageProgress');
/**
 * Page → job: every task of the page has run; what remains is waiting for restores (Extensions.WaitForRestore). The
 * job stops counting the page against MaxConcurrentPages, so restores of later pages start meanwhile.
 */
export const pageWaitingSignal = defineSignal<[{ pageIndex: number }]>('pageWaiting');
/**
 * Page → job: the page cannot go on (its manifest range or its report shard failed for good, or after all retries).
 * Sent as the page's last word before it fails; the job fails (permanent) or restarts the page from `restart`.
 */
export const pageFailedSignal = defineSignal<[PageFailure]>('pageFailed');
/** Page → job: the page has stopped starting tasks and none is in flight. */
export const pagePausedSignal = defineSignal<[{ pageIndex: number }]>('pagePaused');

export type PageMode = 'run' | 'pause' | 'stop';
/**
 * Job → page: run, pause (finish in-flight tasks, start none) or stop (cancel: finish, write the shard, end);
 * the task priority for tasks not yet started; and, when it changes, the page's share of the job's rate limit in
 * tasks per second (null: no limit).
 */
export const pageModeSignal = defineSignal<[{ mode: PageMode; priorityKey?: number; tasksPerSecond?: number | null }]>('pageMode');
