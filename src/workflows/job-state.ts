/**
 * What a job carries from one run to the next (JobState, JSON-safe, the continue-as-new input), and the small pure
 * steps that change its counts. A module of its own so that the job workflow, its DescribeJob view and its status
 * webhook all read the one type without importing each other.
 */
import type { PreparedManifest } from '../activities/manifest/prepare';
import type { ResolvedJob } from '../schemas/job-spec';
import type { JobChange, JobOrigin } from '../shared/audit';
import type { JobStatus } from '../shared/job-status';
import type { JobTag, PageMode } from '../shared/messages';
import type { StatusWebhookEvent } from '../shared/status-webhook';
import { addFailures, type FailureCounts, type JobDescriptor, type JobFailure, type PageResume } from '../shared/types';
import type { ListingState } from './manifest-listing';

/** A page in flight, as the job tracks it. */
export interface PageTrack {
  /** Parts whose counts have been added. */
  parts: number[];
  /** The part that said `done`, once it has. */
  lastPart?: number;
  /** The page acknowledged a pause: none of its tasks is in flight. */
  paused: boolean;
  /** Every task of the page has run; it only waits for restores (WaitForRestore), outside the window. */
  waiting?: boolean;
  /** The mode this page was last told. */
  mode: PageMode;
  /** The task priority this page was last told. */
  priorityKey: number;
  /** Counts so far of the part now running (live progress only; not in the totals). */
  interim?: { part: number; succeeded: number; failed: number };
  /** The share of the job's rate limit (tasks/s) this page was last given; absent: no limit. */
  tasksPerSecond?: number;
  /** How many times the page was restarted after a run of it died; its current execution's id says so too. */
  restarts?: number;
  /** A restart the main loop still has to start: where the dead run began. */
  restart?: PageResume;
}

/** The webhook's part of JobState (status-webhook.ts). JSON-safe; present only for jobs with a webhook. */
export interface WebhookState {
  /** The last Sequence given to a change. */
  sequence: number;
  /** Changes not yet accepted, oldest first; the first is the one being delivered. */
  pending: StatusWebhookEvent[];
  /** Changes the receiver accepted (2xx). */
  delivered: number;
  /** Changes the receiver refused for good (400, 413, 415, 422): skipped, so later ones still go out. */
  rejected: number;
  /** Changes never delivered: still queued when GiveUpAfterHours ran out, or dropped from a full queue. */
  undelivered: number;
}

/** Everything a job carries from one run to the next. JSON-safe. */
export interface JobState {
  job: ResolvedJob;
  status: JobStatus;
  priority: number;
  createdAt: string;
  statusUpdateReason?: string;
  suspendedDate?: string;
  suspendedCause?: string;
  terminationDate?: string;
  failureReasons: JobFailure[];
  prepared?: PreparedManifest;
  nextPage: number;
  pages: Record<string, PageTrack>;
  pagesDone: number;
  succeeded: number;
  failed: number;
  failures: FailureCounts;
  activeSeconds: number;
  activeSince?: string;
  reportManifestKey?: string;
  /** Tags set by PutJobTagging/DeleteJobTagging; absent: the request's Tags. */
  tags?: JobTag[];
  /** Extensions.StatusWebhook: changes not yet delivered, and counts. */
  webhook?: WebhookState;
  /** ManifestGenerator: the listing's progress (the job has no `prepared` manifest then). */
  listing?: ListingState;
  /** Audit: who created the job (the start input's `createdBy`); absent for jobs started without one. */
  createdBy?: string;
  /** Audit: the last control change (who, what, when); absent until the first. */
  lastChange?: JobChange;
  /** The rate limit as UpdateJobRate last set it (null: removed); absent: Extensions.MaxTasksPerSecond. */
  maxTasksPerSecond?: number | null;
}

/** Until the request is validated there is no JobState: what the job knows meanwhile (describeJob answers from it). */
export interface EarlyState {
  status: JobStatus;
  failureReasons: JobFailure[];
  /** A cancel or failure asked for before the state existed: the job stops as soon as it is validated. */
  stopRequested?: string;
  tags?: JobTag[];
  /** Audit: as in JobState, until the state exists (then carried into it). */
  createdBy?: string;
  lastChange?: JobChange;
  /** An UpdateJobRate before the state existed: the state starts with it. */
  maxTasksPerSecond?: number | null;
}

/** The job workflow's signature (batchJobWorkflow), for continueAsNew without importing the workflow itself. */
export type BatchJobWorkflowType = (request: unknown, carried?: JobState, origin?: JobOrigin) => Promise<JobDescriptor>;

/** The job's rate limit now (tasks per second), or undefined for none. */
export function jobRateLimit(state: JobState): number | undefined {
  const set = state.maxTasksPerSecond;
  return set === undefined ? state.job.extensions.MaxTasksPerSecond : (set ?? undefined);
}

/** Adds one part of a page to the totals, and marks the part counted: each (page, part) is added once. */
export function addPartCounts(
  state: JobState,
  track: PageTrack,
  part: number,
  counts: { succeeded: number; failed: number; failures: FailureCounts }
): void {
  track.parts.push(part);
  state.succeeded += counts.succeeded;
  state.failed += counts.failed;
  addFailures(state.failures, counts.failures);
}

/** A page is finished with (reported its last part, or can never report more): it leaves the window. */
export function pageFinished(state: JobState, pageIndex: number): void {
  delete state.pages[String(pageIndex)];
  state.pagesDone++;
}
