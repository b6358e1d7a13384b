/**
 * The DescribeJob view of a job's state, and the one-line progress shown in Temporal Web. Pure and sandbox-safe.
 */
import type { JobChange } from '../shared/audit';
import { jobArn } from '../shared/constants';
import type { JobStatus } from '../shared/job-status';
import type { JobTag } from '../shared/messages';
import { describeFailures, type JobDescriptor, type JobFailure } from '../shared/types';
import { jobRateLimit, type JobState } from './job-state';

/** Committed counts plus the interim counts of parts still running: what users see as progress. */
export function liveCounts(state: JobState): { succeeded: number; failed: number } {
  let succeeded = state.succeeded;
  let failed = state.failed;
  for (const track of Object.values(state.pages)) {
    succeeded += track.interim?.succeeded ?? 0;
    failed += track.interim?.failed ?? 0;
  }
  return { succeeded, failed };
}

/** TotalNumberOfTasks: the prepared manifest's rows, or a generated manifest's once its listing is done. */
export function totalTasks(state: JobState): number | undefined {
  if (state.listing) return state.listing.done ? state.listing.rows : undefined;
  return state.prepared?.rows;
}

function elapsedActiveSeconds(state: JobState): number {
  const running = state.activeSince ? (Date.now() - Date.parse(state.activeSince)) / 1000 : 0;
  return Math.max(0, Math.floor(state.activeSeconds + running));
}

/** "Complete with 3 failed tasks (NoSuchKey: 3)": users found AWS's bare "Complete" misleading. */
export function summaryLine(state: JobState): string {
  const total = totalTasks(state);
  const done = state.succeeded + state.failed;
  const failures = state.failed > 0 ? ` (${describeFailures(state.failures)})` : '';
  switch (state.status) {
    case 'Complete':
      return state.failed > 0
        ? `Complete with ${state.failed} failed task${state.failed === 1 ? '' : 's'} of ${done}${failures}`
        : `Complete: all ${done} tasks succeeded`;
    case 'Failed':
      return `Failed: ${state.failureReasons.map((f) => `${f.FailureCode}: ${f.FailureReason}`).join('; ')}`;
    default:
      return `${state.status}: ${done}${total === undefined ? '' : ` of ${total}`} tasks done, ${state.failed} failed${failures}`;
  }
}

export function progressLine(state: JobState): string {
  const total = totalTasks(state);
  const live = liveCounts(state);
  const done = live.succeeded + live.failed;
  const pct = total ? Math.floor((done / total) * 100) : 0;
  return `**${state.status}** ${total === undefined ? '' : `${pct}% · `}${done}${total === undefined ? '' : `/${total}`} tasks · ${live.succeeded} succeeded · ${live.failed} failed${state.failed ? ` (${describeFailures(state.failures)})` : ''}`;
}

/** A redrive job's manifest, once built (Extensions.RedriveOf): shown as the Manifest AWS would show. */
function builtManifest(state: JobState): unknown {
  const m = state.job.manifest;
  if (!state.job.redrive || !m.key) return undefined;
  return {
    Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key', 'VersionId'] },
    Location: { ObjectArn: `arn:aws:s3:::${m.bucket}/${m.key}`, ETag: state.prepared?.etag ?? m.etag },
  };
}

interface AuditFields {
  createdBy?: string;
  lastChange?: JobChange;
}

/** S3Batch's audit fields: present only when recorded (jobs from before the audit trail have neither). */
function audit({ createdBy, lastChange }: AuditFields): Pick<JobDescriptor['S3Batch'], 'CreatedBy' | 'LastChange'> {
  return { ...(createdBy ? { CreatedBy: createdBy } : {}), ...(lastChange ? { LastChange: lastChange } : {}) };
}

export function describeJob(
  jobId: string,
  request: unknown,
  state: JobState | undefined,
  early: { status: JobStatus; failureReasons: JobFailure[]; tags?: JobTag[] } & AuditFields
): JobDescriptor {
  if (!state) {
    // Not validated yet (or invalid): echo what we can of the raw request.
    const raw = (request ?? {}) as Record<string, unknown>;
    return {
      JobId: jobId,
      // The request's account already: a job is its account's from the start, not only once validated.
      JobArn: jobArn(jobId, typeof raw.AccountId === 'string' && /^\d{12}$/.test(raw.AccountId) ? raw.AccountId : undefined),
      ConfirmationRequired: raw.ConfirmationRequired === true,
      Description: typeof raw.Description === 'string' ? raw.Description : undefined,
      Status: early.status,
      Manifest: raw.Manifest,
      Operation: raw.Operation,
      Priority: typeof raw.Priority === 'number' ? raw.Priority : 0,
      ProgressSummary: { NumberOfTasksSucceeded: 0, NumberOfTasksFailed: 0, Timers: { ElapsedTimeInActiveSeconds: 0 } },
      FailureReasons: early.failureReasons,
      Report: raw.Report,
      CreationTime: new Date().toISOString(),
      S3Batch: {
        FailedTasksByErrorCode: {},
        Summary: early.status,
        PagesDone: 0,
        Tags: early.tags ?? (Array.isArray(raw.Tags) ? (raw.Tags as JobTag[]) : []),
        ...audit(early),
      },
    };
  }
  const req = state.job.request;
  const live = liveCounts(state);
  return {
    JobId: jobId,
    JobArn: jobArn(jobId, req.AccountId),
    ConfirmationRequired: req.ConfirmationRequired,
    Description: req.Description,
    Status: state.status,
    Manifest: req.Manifest ?? builtManifest(state),
    ManifestGenerator: req.ManifestGenerator,
    GeneratedManifestDescriptor: state.listing?.manifest && {
      Format: 'S3InventoryReport_CSV_20211130',
      Location: {
        ObjectArn: `arn:aws:s3:::${state.listing.manifest.bucket}/${state.listing.manifest.key}`,
        ETag: state.listing.manifest.etag,
      },
    },
    Operation: req.Operation,
    Priority: state.priority,
    ProgressSummary: {
      TotalNumberOfTasks: totalTasks(state),
      NumberOfTasksSucceeded: live.succeeded,
      NumberOfTasksFailed: live.failed,
      Timers: { ElapsedTimeInActiveSeconds: elapsedActiveSeconds(state) },
    },
    StatusUpdateReason: state.statusUpdateReason,
    FailureReasons: state.failureReasons,
    Report: req.Report,
    CreationTime: state.createdAt,
    TerminationDate: state.terminationDate,
    RoleArn: req.RoleArn,
    SuspendedDate: state.suspendedDate,
    SuspendedCause: state.suspendedCause,
    S3Batch: {
      FailedTasksByErrorCode: state.failures,
      Summary: summaryLine(state),
      ReportManifestKey: state.reportManifestKey,
      ReportConnection: state.job.report?.connection,
      ManifestETag: state.prepared?.etag,
      PagesTotal: state.listing ? (state.listing.done ? state.listing.files : undefined) : state.prepared?.pageCount,
      ...(state.listing
        ? { ManifestListing: { ObjectsListed: state.listing.listed, ObjectsMatched: state.listing.rows, Done: state.listing.done } }
        : {}),
      PagesDone: state.pagesDone,
      ...(jobRateLimit(state) !== undefined ? { MaxTasksPerSecond: jobRateLimit(state) } : {}),
      Tags: state.tags ?? req.Tags ?? [],
      ...audit(state),
      ...(state.job.extensions.WaitForRestore
        ? { PagesWaitingForRestore: Object.values(state.pages).filter((page) => page.waiting).length }
        : {}),
      ...(state.webhook
        ? {
            StatusWebhook: {
              Notifications: state.webhook.sequence,
              Delivered: state.webhook.delivered,
              Pending: state.webhook.pending.length,
              Rejected: state.webhook.rejected,
              Undelivered: state.webhook.undelivered,
            },
          }
        : {}),
    },
  };
}
