/**
 * What a page workflow needs to know about its job: a JSON-safe subset of the resolved job, passed once per page.
 * Sandbox-safe.
 */
import type { Duration } from '@temporalio/common';
import type { ResolvedOperation } from '../schemas/operations';
import type { PageMode } from './messages';
import type { PacerState } from './task-pacer';
import type { RestoreWait } from './types';

export interface ManifestRef {
  connection: string;
  bucket: string;
  key: string;
  versionId?: string;
  /** The ETag the job pinned in Preparing: every page reads exactly that version of the manifest. */
  etag: string;
  columns: { bucket: number; key: number; versionId: number; count: number };
  /** Extensions.ManifestHeaderRow: the manifest's first line is a header, not a task. Absent: false. */
  headerRow?: boolean;
  /**
   * 'gzip': the object is gzipped (a generated manifest's data file). It cannot be read from the middle, so its page
   * is the whole object: range `{ start: 0, end: WHOLE_OBJECT }`.
   */
  compression?: 'gzip';
  /** The bucket's expected owner (a generated manifest's output bucket), sent as ExpectedBucketOwner. */
  expectedOwner?: string;
}

/** A page range's end meaning "to the end of the object" (for gzipped objects, whose text length is unknown). */
export const WHOLE_OBJECT = Number.MAX_SAFE_INTEGER;

export interface ReportRef {
  connection: string;
  bucket: string;
  prefix?: string;
  scope: 'AllTasks' | 'FailedTasksOnly';
  /** Report.ExpectedBucketOwner, sent on every call to the report bucket. */
  expectedOwner?: string;
}

export interface PageJobContext {
  operation: ResolvedOperation;
  connection: string;
  manifest: ManifestRef;
  report?: ReportRef;
  maxConcurrentTasks: number;
  maxAttemptsPerTask: number;
  tasksPerPageRun: number;
  taskTimeout: Duration;
  taskExecution: 'Activity' | 'LocalActivity' | 'Batch';
  /** Batch mode only: rows per batch activity, and the job's TaskTimeoutSeconds (one attempt of one row). */
  batch?: { size: number; taskTimeoutSeconds: number };
  /** LambdaInvoke: the worker-config Lambda connection, resolved when the job was validated. */
  lambdaConnection?: string;
  /** S3InitiateRestoreObject with Extensions.WaitForRestore: how to wait for each restore to finish. */
  waitForRestore?: { initialPollSeconds: number; maxPollSeconds: number; timeoutSeconds: number };
  /** The job's RoleArn when its worker enforces roles: each task is checked against that role (the ARN only). */
  role?: string;
  /** Temporal task priority of the page's tasks (lower runs first); the job updates it on UpdateJobPriority. */
  priorityKey: number;
}

/**
 * The detail of a page run's failure after it signalled the job (pageFailedSignal): the job's page check leaves
 * such a run to the signal, which already carried the reason, the counts and where to resume.
 */
export const PAGE_FAILURE_NOTIFIED = 'pageFailureNotified';

/** The report's folder for a job: `<prefix>/job-<jobId>` (AWS's layout). */
export function reportJobFolder(report: ReportRef, jobId: string): string {
  return report.prefix ? `${report.prefix}/job-${jobId}` : `job-${jobId}`;
}

/** A page workflow's input (batchPageWorkflow): here, beside its job context, so activities can read it too. */
export interface PageInput {
  jobId: string;
  job: PageJobContext;
  pageIndex: number;
  /** The page's bytes; `firstRow`: the line number of its first row (absent in jobs prepared before row numbers). */
  range: { start: number; end: number; firstRow?: number };
  mode: PageMode;
  /** Continue-as-new state: the next row to run and the part this run writes. */
  cursor?: number;
  part?: number;
  /** Continue-as-new state: objects still waiting for their restore (Extensions.WaitForRestore). */
  restoreWaits?: RestoreWait[];
  /**
   * Extensions.MaxTasksPerSecond: this page's share of the job's rate (tasks per second; the job divides its limit
   * among its running pages and signals a new share when that changes). Absent: no limit.
   */
  tasksPerSecond?: number;
  /** Continue-as-new state: the page's pacing credit (with `tasksPerSecond`). */
  pacing?: PacerState;
  /** Started by the job after a run of this page died (pageRunWorkflowId): the run starts where the dead one did. */
  restarted?: boolean;
}
