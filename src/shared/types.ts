/**
 * Types that cross the workflow/activity boundary. JSON-safe only (records, arrays, strings, numbers): they are
 * Temporal payloads and continue-as-new state. Sandbox-safe.
 */
import type { JobChange } from './audit';
import type { JobStatus } from './job-status';

/** One manifest row as a task: the object to act on, or why the row could not be read. */
export interface TaskRow {
  /** Byte offset of the row in the manifest: unique per row and stable, so it identifies the task. */
  offset: number;
  bucket: string;
  /** The key as it appears in the manifest (URL-encoded). */
  rawKey: string;
  /** The decoded key, absent when the row is bad. */
  key?: string;
  versionId?: string;
  /** Set when the row is malformed: the task fails with this message and no S3 call is made. */
  error?: string;
}

export type TaskStatus = 'succeeded' | 'failed';

/** A task's outcome, as the report writes it. Messages are truncated to keep history small. */
export interface TaskResult {
  status: TaskStatus;
  /** HTTP status of the S3 call, when there was one (AWS writes 200 for successes). */
  httpStatus?: number;
  /** S3 error code (NoSuchKey, AccessDenied, …) or ours (InvalidManifestRow, TaskTimedOut, …). */
  errorCode?: string;
  message: string;
}

/** One row of the completion report (CSV, AWS layout). */
export interface ReportRow {
  bucket: string;
  key: string;
  versionId: string;
  result: TaskResult;
}

/** Failed-task counts by error code. Capped in size by `addFailures`. */
export type FailureCounts = Record<string, number>;

/** What a page (child workflow) tells its job about a slice of its tasks. Counted once per (page, part). */
export interface PageProgress {
  pageIndex: number;
  part: number;
  succeeded: number;
  failed: number;
  failures: FailureCounts;
  /** True on the page's last report: the page has finished (or stopped, when the job is cancelled). */
  done: boolean;
  /**
   * An interim report: counts so far in a part that is still running. Shown as live progress, replaced by the
   * next report, never added to the totals (the part's final report is).
   */
  interim?: boolean;
}

/** Extensions.WaitForRestore: one object waiting for its restore; JSON-safe, carried across a page's continue-as-new. */
export interface RestoreWait {
  row: TaskRow;
  requestedAt: number;
  intervalMs: number;
  nextCheckAt: number;
}

/** Where a page run starts: its first row, its part number, and restores carried in from the previous part. */
export interface PageResume {
  cursor?: number;
  part?: number;
  restoreWaits?: RestoreWait[];
}

/** A page's report that it cannot go on (pageFailedSignal). */
export interface PageFailure {
  pageIndex: number;
  /** The part that failed: nothing of it has been reported, unless `ran` says so. */
  part: number;
  /** FailureCode for the job: the failing call's error type (e.g. ManifestETagMismatch, AccessDenied). */
  code: string;
  /** What failed and why, for the job's FailureReason. */
  reason: string;
  /** True when retrying cannot help (a non-retryable error): the job fails. Else the job restarts the page. */
  permanent: boolean;
  /**
   * Counts of the part's tasks that ran although their shard could not be written (a permanent report failure):
   * they ran once, so they count once; their rows are missing from the report, and the reason says so.
   */
  ran?: { succeeded: number; failed: number; failures: FailureCounts };
  /** Where a restart of the page picks up: the failed run's own start (its earlier parts have reported). */
  resume: PageResume;
}

export interface JobProgressSummary {
  TotalNumberOfTasks?: number;
  NumberOfTasksSucceeded: number;
  NumberOfTasksFailed: number;
  Timers: { ElapsedTimeInActiveSeconds: number };
}

export interface JobFailure {
  FailureCode: string;
  FailureReason: string;
}

/** The DescribeJob `Job` shape (S3 Control JobDescriptor), plus our fields under `S3Batch`. */
export interface JobDescriptor {
  JobId: string;
  JobArn: string;
  ConfirmationRequired: boolean;
  Description?: string;
  Status: JobStatus;
  Manifest?: unknown;
  /** The request's ManifestGenerator, echoed. */
  ManifestGenerator?: unknown;
  /** With EnableManifestOutput, once the listing is done: the manifest.json written (AWS's shape). */
  GeneratedManifestDescriptor?: { Format: 'S3InventoryReport_CSV_20211130'; Location: { ObjectArn: string; ETag: string } };
  Operation: unknown;
  Priority: number;
  ProgressSummary: JobProgressSummary;
  StatusUpdateReason?: string;
  FailureReasons: JobFailure[];
  Report: unknown;
  CreationTime: string;
  TerminationDate?: string;
  RoleArn?: string;
  SuspendedDate?: string;
  SuspendedCause?: string;
  S3Batch: {
    /** Failed tasks by error code: a job can be Complete with failures, and this says so plainly. */
    FailedTasksByErrorCode: FailureCounts;
    /** One line for humans, e.g. "Complete with 3 failed tasks (NoSuchKey: 3)". */
    Summary: string;
    ReportManifestKey?: string;
    /** The worker S3 connection the report is written with (Extensions.ReportConnection ?? Connection): readers use it too. */
    ReportConnection?: string;
    ManifestETag?: string;
    PagesTotal?: number;
    /** ManifestGenerator: the listing's progress. */
    ManifestListing?: { ObjectsListed: number; ObjectsMatched: number; Done: boolean };
    PagesDone: number;
    /** The job's rate limit now (Extensions.MaxTasksPerSecond, or as UpdateJobRate changed it); absent: none. */
    MaxTasksPerSecond?: number;
    /** WaitForRestore jobs: pages whose tasks have all run and that only wait for restores to finish. */
    PagesWaitingForRestore?: number;
    /** The job's current tags (GetJobTagging): the request's Tags until PutJobTagging/DeleteJobTagging replace them. */
    Tags?: { Key: string; Value: string }[];
    /** Audit: who created the job (an API access key, or the CLI's or library's identity); absent if not recorded. */
    CreatedBy?: string;
    /** Audit: the last change made to the job (confirm, pause, resume, cancel, priority, tags): who, what, when. */
    LastChange?: JobChange;
    /** Jobs with Extensions.StatusWebhook: how their notifications fared. */
    StatusWebhook?: {
      /** Notifications so far (the last Sequence). */
      Notifications: number;
      Delivered: number;
      /** Queued or in flight (a receiver that is down keeps them here). */
      Pending: number;
      /** Refused for good by the receiver (400, 413, 415, 422). */
      Rejected: number;
      /** Given up: still pending GiveUpAfterHours after the job ended, or dropped from a full queue. */
      Undelivered: number;
    };
  };
}

const MAX_FAILURE_CODES = 50;

/** Adds failure counts into `into`, keeping at most 50 distinct codes (the rest count under "Other"). */
export function addFailures(into: FailureCounts, from: FailureCounts): void {
  for (const [code, count] of Object.entries(from)) {
    const key = code in into || Object.keys(into).length < MAX_FAILURE_CODES ? code : 'Other';
    into[key] = (into[key] ?? 0) + count;
  }
}

export function describeFailures(failures: FailureCounts): string {
  return Object.entries(failures)
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code}: ${count}`)
    .join(', ');
}

export function truncate(text: string, max = 512): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
