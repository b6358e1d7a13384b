/**
 * batchJobWorkflow: one S3 Batch job. Validates the CreateJob request (in an activity), prepares the manifest,
 * waits for confirmation when asked, then runs the manifest's pages as a sliding window of child workflows
 * (batchPageWorkflow), keeps AWS's status machine and counters, and writes the report manifest at the end.
 *
 * Invariants (../shared/design/engine.md): each page is started once (pages are numbered and the next number is
 * carried across continue-as-new); each page part's counts are added once (keyed by page and part); pages are
 * ABANDONed children that report by signal to this workflow's id, so they outlive a continue-as-new of this run.
 *
 * The workflow returns the final DescribeJob descriptor; a job that ends Failed or Cancelled is still a completed
 * workflow (its status says how the job ended). Only an invalid request fails the workflow itself.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createActivities } from '../activities';
import type { PreparedManifest } from '../activities/manifest/prepare';
import {
  bucketOwnerChecks,
  INVENTORY_MANIFEST_NAME,
  SUSPENDED_EXPIRY_SECONDS,
  suspendedExpiryText,
  type ResolvedJob,
} from '../schemas/job-spec';
import { formatProblems } from '../shared/problems';
import { pageRunWorkflowId } from '../shared/constants';
import { checkRequest, type ControlRequest, type JobStatus } from '../shared/job-status';
import {
  describeJobQuery,
  pageFailedSignal,
  pageModeSignal,
  pagePausedSignal,
  pageProgressSignal,
  pageWaitingSignal,
  pauseJobUpdate,
  putJobTaggingUpdate,
  resumeJobUpdate,
  updateJobPriorityUpdate,
  updateJobStatusUpdate,
  type JobTag,
  type PageMode,
} from '../shared/messages';
import { reportJobFolder, type PageInput, type PageJobContext } from '../shared/page-context';
import { priorityKeyFor } from '../shared/priority';
import { JobOperationKey, JobPriorityKey, JobStatusKey } from '../shared/search-attributes';
import {
  addFailures,
  truncate,
  type FailureCounts,
  type JobDescriptor,
  type JobFailure,
  type PageFailure,
  type PageResume,
} from '../shared/types';
import { batchPageWorkflow } from './batch-page';
import { describeJob, progressLine, totalTasks } from './describe';
import { chunkManifest, listingWanted, listNextChunk, newListing, type ListingState } from './manifest-listing';
import { statusWebhook, type WebhookState } from './status-webhook';

type Activities = ReturnType<typeof createActivities>;

const { validateJob } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});
const { prepareManifest, buildRedriveManifest, buildInventoryManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});
const { checkBucketOwners } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});
const { writeReportManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});
const { checkPages } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
});

/** Pages whose runs closed without completing, before MaxPageRestarts existed (jobs validated earlier). */
const DEFAULT_MAX_PAGE_RESTARTS = 3;
/** Seconds between checks of the pages in flight, before PageHealthCheckSeconds existed. */
const DEFAULT_PAGE_HEALTH_CHECK_SECONDS = 60;

/** A page in flight, as the job tracks it. */
interface PageTrack {
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
  /** How many times the page was restarted after a run of it died; its current execution's id says so too. */
  restarts?: number;
  /** A restart the main loop still has to start: where the dead run began. */
  restart?: PageResume;
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
}

export async function batchJobWorkflow(request: unknown, carried?: JobState): Promise<JobDescriptor> {
  const info = workflowInfo();
  const jobId = info.workflowId;
  // Until the request is validated there is no ResolvedJob; describeJob answers from this stub meanwhile.
  let state: JobState | undefined = carried;
  const early: { status: JobStatus; failureReasons: JobFailure[]; stopRequested?: string; tags?: JobTag[] } = {
    status: 'New',
    failureReasons: [],
  };
  /** Bumped by every handler, so the main loop wakes when anything changed. */
  let changes = 0;
  const webhook = statusWebhook(jobId);

  const status = (): JobStatus => state?.status ?? early.status;

  const setStatus = (next: JobStatus, reason?: string) => {
    const now = new Date().toISOString();
    if (!state) {
      early.status = next;
      upsertSearchAttributes([{ key: JobStatusKey, value: next }]);
      return;
    }
    const previous = state.status;
    if (state.status === 'Active' && next !== 'Active' && state.activeSince) {
      state.activeSeconds += (Date.parse(now) - Date.parse(state.activeSince)) / 1000;
      state.activeSince = undefined;
    }
    if (next === 'Active' && state.status !== 'Active') state.activeSince = now;
    if (next === 'Suspended') {
      state.suspendedDate = now;
      state.suspendedCause = 'ConfirmationRequired: confirm with UpdateJobStatus Ready (or cancel it)';
    }
    if (next === 'Complete' || next === 'Cancelled' || next === 'Failed') state.terminationDate = now;
    if (reason) state.statusUpdateReason = truncate(reason, 256);
    state.status = next;
    upsertSearchAttributes([{ key: JobStatusKey, value: next }]);
    publishProgress();
    webhook.statusChanged(state, previous, reason);
  };

  const publishProgress = () => {
    if (!state) return;
    setCurrentDetails(progressLine(state));
    upsertMemo({
      Description: state.job.request.Description ?? null,
      // The first run's start: a continued run's own start time (all visibility has) is not when the job was created.
      CreationTime: state.createdAt,
      Progress: {
        Status: state.status,
        TotalNumberOfTasks: totalTasks(state) ?? null,
        NumberOfTasksSucceeded: state.succeeded,
        NumberOfTasksFailed: state.failed,
      },
    });
  };

  const fail = (code: string, reason: string) => {
    const entry = { FailureCode: truncate(code, 64), FailureReason: truncate(reason, 256) };
    if (state) state.failureReasons.push(entry);
    else early.failureReasons.push(entry);
  };

  /** Cancel or fail: stop starting work; the main loop drains the pages and ends the job. */
  const stop = (kind: 'Cancelling' | 'Failing', reason: string) => {
    if (!state) {
      early.stopRequested = reason;
      early.status = kind;
      return;
    }
    setStatus(kind, reason);
  };

  // Defined before any handler: buffered signals run as soon as their handler is set.
  const checkFailureThreshold = () => {
    if (!state || !['Active', 'Pausing', 'Paused'].includes(state.status)) return;
    const { MinTasks, FailedRatio } = state.job.extensions.FailureThreshold;
    const ran = state.succeeded + state.failed;
    if (ran >= MinTasks && state.failed / ran > FailedRatio) {
      const reason = `${state.failed} of ${ran} tasks failed, more than ${FailedRatio * 100}% (threshold applies from ${MinTasks} tasks)`;
      fail('TaskFailureThresholdExceeded', reason);
      stop('Failing', reason);
    }
  };

  /** A page is finished with (reported its last part, or can never report more): it leaves the window. */
  const pageFinished = (s: JobState, pageIndex: number) => {
    delete s.pages[String(pageIndex)];
    s.pagesDone++;
  };

  /**
   * A page's run died (it said so, or the page check found it closed): restart it from that run's start, or, when
   * retrying cannot help or the restarts are used up, fail the job. A draining job restarts it in stop mode, which
   * runs no task and only counts a part that the dead run wrote to the report before it died.
   */
  const pageDown = (s: JobState, pageIndex: number, down: Pick<PageFailure, 'code' | 'reason' | 'permanent' | 'resume'>) => {
    const track = s.pages[String(pageIndex)];
    if (!track) return;
    const restarts = track.restarts ?? 0;
    const maxRestarts = s.job.extensions.MaxPageRestarts ?? DEFAULT_MAX_PAGE_RESTARTS;
    if (s.status === 'Cancelling' || s.status === 'Failing') {
      if (down.permanent || restarts >= maxRestarts) pageFinished(s, pageIndex);
      else track.restart = down.resume;
      return;
    }
    if (down.permanent || restarts >= maxRestarts) {
      const reason = down.permanent ? down.reason : `${down.reason} (page restarted ${restarts} times, MaxPageRestarts ${maxRestarts})`;
      fail(down.code, reason);
      stop('Failing', reason);
      pageFinished(s, pageIndex);
      return;
    }
    track.restart = down.resume;
  };

  // ---- Queries and updates ----

  setHandler(describeJobQuery, () => describeJob(jobId, request, state, early), {
    description: 'The DescribeJob shape: status, progress, failures, report location',
  });

  const validated = (req: ControlRequest) => {
    const check = checkRequest(status(), req);
    if (!check.ok) throw new Error(check.reason);
  };
  const answer = () => ({ JobId: jobId, Status: status(), StatusUpdateReason: state?.statusUpdateReason });

  setHandler(
    updateJobStatusUpdate,
    ({ RequestedJobStatus, StatusUpdateReason }) => {
      changes++;
      if (RequestedJobStatus === 'Ready') setStatus('Ready', StatusUpdateReason ?? 'Confirmed by user');
      else stop('Cancelling', StatusUpdateReason ?? 'Cancelled by user');
      return answer();
    },
    {
      validator: (req) => {
        if (req?.RequestedJobStatus !== 'Ready' && req?.RequestedJobStatus !== 'Cancelled') {
          throw new Error(`RequestedJobStatus must be Ready or Cancelled, got ${JSON.stringify(req?.RequestedJobStatus)}`);
        }
        validated(req.RequestedJobStatus);
      },
      description: 'UpdateJobStatus: Ready confirms a Suspended job, Cancelled cancels the job',
    }
  );

  setHandler(
    pauseJobUpdate,
    (req) => {
      changes++;
      setStatus(status() === 'Ready' ? 'Paused' : 'Pausing', req?.Reason ?? 'Paused by user');
      return answer();
    },
    { validator: (_req) => validated('Pause'), description: 'Stop starting tasks; Paused once none is in flight' }
  );

  setHandler(
    resumeJobUpdate,
    (req) => {
      changes++;
      for (const track of Object.values(state?.pages ?? {})) track.paused = false;
      setStatus('Active', req?.Reason ?? 'Resumed by user');
      return answer();
    },
    { validator: (_req) => validated('Resume'), description: 'Continue a Pausing or Paused job' }
  );

  setHandler(
    updateJobPriorityUpdate,
    ({ Priority }) => {
      changes++;
      if (state) state.priority = Priority;
      upsertSearchAttributes([{ key: JobPriorityKey, value: Priority }]);
      return { JobId: jobId, Priority };
    },
    {
      validator: (req) => {
        const p = req?.Priority;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 2_147_483_647) {
          throw new Error(`Priority must be an integer from 0 to 2147483647, got ${JSON.stringify(p)}`);
        }
        validated('UpdatePriority');
      },
      description: 'UpdateJobPriority',
    }
  );

  setHandler(
    putJobTaggingUpdate,
    ({ Tags }) => {
      const tags = Tags.map(({ Key, Value }) => ({ Key, Value }));
      if (state) state.tags = tags;
      else early.tags = tags;
      return { JobId: jobId, Tags: tags };
    },
    {
      // The API validates tags fully (zod, at the edge); this keeps a malformed update out of the state.
      validator: (req) => {
        const tags = req?.Tags;
        if (!Array.isArray(tags) || tags.length > 50) throw new Error('Tags must be a list of at most 50 tags');
        const keys = new Set<string>();
        for (const tag of tags) {
          if (typeof tag?.Key !== 'string' || typeof tag?.Value !== 'string') throw new Error('each tag needs a Key and a Value');
          if (keys.has(tag.Key)) throw new Error(`duplicate tag key "${tag.Key}"`);
          keys.add(tag.Key);
        }
      },
      description: 'PutJobTagging / DeleteJobTagging: replace the job tags',
    }
  );

  // ---- Signals from pages ----

  setHandler(pageProgressSignal, (progress) => {
    changes++;
    if (!state) return;
    const track = state.pages[String(progress.pageIndex)];
    // Unknown page: already finished and counted, so this is a duplicate.
    if (!track || track.parts.includes(progress.part)) return;
    if (progress.interim) {
      if (!track.interim || track.interim.part < progress.part || track.interim.succeeded + track.interim.failed < progress.succeeded + progress.failed) {
        track.interim = { part: progress.part, succeeded: progress.succeeded, failed: progress.failed };
        // Current details cost no history event (the memo would): interim reports update only them.
        setCurrentDetails(progressLine(state));
      }
      return;
    }
    if (track.interim && track.interim.part <= progress.part) track.interim = undefined;
    track.parts.push(progress.part);
    state.succeeded += progress.succeeded;
    state.failed += progress.failed;
    addFailures(state.failures, progress.failures);
    if (progress.done) track.lastPart = progress.part;
    if (track.lastPart !== undefined && track.parts.length === track.lastPart + 1) {
      pageFinished(state, progress.pageIndex);
    }
    checkFailureThreshold();
    publishProgress();
  });

  setHandler(pageFailedSignal, (failure) => {
    changes++;
    if (!state) return;
    const track = state.pages[String(failure.pageIndex)];
    if (!track || track.parts.includes(failure.part)) return;
    if (failure.ran) {
      // Tasks that ran although their shard could not be written: counted once, here; the reason names them.
      track.parts.push(failure.part);
      state.succeeded += failure.ran.succeeded;
      state.failed += failure.ran.failed;
      addFailures(state.failures, failure.ran.failures);
    }
    pageDown(state, failure.pageIndex, failure);
    publishProgress();
  });

  setHandler(pageWaitingSignal, ({ pageIndex }) => {
    changes++;
    const track = state?.pages[String(pageIndex)];
    if (track) track.waiting = true;
  });

  setHandler(pagePausedSignal, ({ pageIndex }) => {
    changes++;
    const track = state?.pages[String(pageIndex)];
    if (track && track.mode === 'pause') track.paused = true;
  });


  // A Temporal cancellation (`temporal workflow cancel`, Web UI) is a user's Cancel: drain, report, end Cancelled.
  CancellationScope.current().cancelRequested.catch(() => {
    changes++;
    if (checkRequest(status(), 'Cancelled').ok) stop('Cancelling', 'Cancelled through Temporal');
  });

  return CancellationScope.nonCancellable(async () => {
    const result = await runJob();
    // Notifications still queued go out before the workflow ends (at most StatusWebhook.GiveUpAfterHours).
    return (await webhook.drain(state)) ? describeJob(jobId, request, state, early) : result;
  });

  async function runJob(): Promise<JobDescriptor> {
    if (!state) {
      const created = await createJob(request);
      if ('failed' in created) return created.failed;
      state = created.state;
    } else {
      webhook.start(state);
      publishProgress();
    }
    await runPages(state);
    return finish(state);
  }

  // ---- New → Preparing → (Suspended) → Ready ----

  async function createJob(req: unknown): Promise<{ state: JobState } | { failed: JobDescriptor }> {
    const validation = await validateJob(req);
    if (!validation.ok) {
      const problems = formatProblems(validation.problems);
      fail('InvalidJobSpec', problems);
      setStatus('Failed');
      throw ApplicationFailure.nonRetryable(`Invalid job spec: ${problems}`, 'InvalidJobSpec', validation.problems);
    }
    const job = validation.job;
    const fresh: JobState = {
      job,
      status: early.status,
      priority: job.request.Priority,
      createdAt: new Date(info.startTime).toISOString(),
      failureReasons: early.failureReasons,
      tags: early.tags,
      nextPage: 0,
      pages: {},
      pagesDone: 0,
      succeeded: 0,
      failed: 0,
      failures: {},
      activeSeconds: 0,
    };
    state = fresh;
    webhook.start(fresh);
    upsertSearchAttributes([
      { key: JobOperationKey, value: job.operation.name },
      { key: JobPriorityKey, value: fresh.priority },
    ]);
    if (early.stopRequested) return { state: fresh };
    setStatus('Preparing');
    // Only jobs that name an expected bucket owner check it (jobs that did before this check existed replay without
    // it): a bucket another account owns fails the job here, before any task runs, as on AWS.
    const ownerChecks = bucketOwnerChecks(job);
    if (ownerChecks.length > 0 && patched('expected-bucket-owner')) {
      try {
        await checkBucketOwners({ checks: ownerChecks });
      } catch (err) {
        const cause = (err as { cause?: { type?: string; message?: string } }).cause;
        fail(cause?.type ?? 'BucketUnreadable', cause?.message ?? String(err));
        setStatus('Failed', 'A bucket did not match its expected owner, or could not be checked');
        return { failed: describeJob(jobId, req, fresh, early) };
      }
    }
    try {
      // Only redrive jobs take this branch: jobs without RedriveOf issue exactly the commands they always did.
      if (job.redrive) {
        const built = await buildRedriveManifest({
          jobId,
          source: { jobId: job.redrive.jobId, bucket: job.redrive.bucket, key: job.redrive.key },
          report: job.report!,
        });
        if (built.rows === 0) {
          fail(
            'NothingToRedrive',
            `job ${job.redrive.jobId} has no failed tasks in its report (${built.shards} failed shards): nothing to redrive`
          );
          setStatus('Failed', 'Nothing to redrive');
          return { failed: describeJob(jobId, req, fresh, early) };
        }
        // From here on the job is an ordinary CSV job over the built manifest, pinned to the ETag just written.
        fresh.job = { ...job, manifest: { ...job.manifest, key: built.key, etag: built.etag } };
      }
      if (job.inventory) {
        // The inventory's rows, gathered into one CSV in the report folder: from here on an ordinary CSV job.
        const built = await buildInventoryManifest({
          jobId,
          inventory: job.inventory,
          output: {
            connection: job.report!.connection,
            bucket: job.report!.bucket,
            key: `${reportJobFolder(job.report!, jobId)}/${INVENTORY_MANIFEST_NAME}`,
            ...(job.report!.expectedOwner ? { expectedOwner: job.report!.expectedOwner } : {}),
          },
        });
        fresh.job = { ...job, manifest: { ...job.manifest, key: built.key, etag: built.etag } };
      }
      if (job.generator) {
        // Listed while the pages run (runPages): nothing to prepare.
        fresh.listing = newListing();
      } else {
        fresh.prepared = await prepareManifest({
          manifest: { ...fresh.job.manifest },
          pageSize: job.extensions.PageSize,
        });
      }
    } catch (err) {
      const cause = (err as { cause?: { type?: string; message?: string } }).cause;
      fail(cause?.type ?? 'ManifestUnreadable', cause?.message ?? String(err));
      setStatus('Failed', 'The manifest could not be prepared');
      return { failed: describeJob(jobId, req, fresh, early) };
    }
    publishProgress();
    if (fresh.status === 'Preparing') {
      if (job.request.ConfirmationRequired) {
        setStatus('Suspended');
        // Jobs suspended before the expiry existed replay without its timer: they keep waiting, as they did.
        if (patched('suspended-expiry')) {
          // Jobs validated before the setting existed have none: AWS's 30 days.
          const seconds = job.extensions.SuspendedExpirySeconds ?? SUSPENDED_EXPIRY_SECONDS;
          const confirmed = await condition(() => fresh.status !== 'Suspended', seconds * 1000);
          if (!confirmed) {
            fail(
              'SuspendedJobExpired',
              `the job was not confirmed (UpdateJobStatus Ready) within ${suspendedExpiryText(seconds)} of being suspended (Extensions.SuspendedExpirySeconds: ${seconds})`
            );
            setStatus('Failed', `Left in Suspended for ${suspendedExpiryText(seconds)} without confirmation`);
            return { failed: describeJob(jobId, req, fresh, early) };
          }
        } else {
          await condition(() => fresh.status !== 'Suspended');
        }
      } else {
        setStatus('Ready');
      }
    }
    return { state: fresh };
  }

  // ---- Ready → Active: the sliding window of pages ----

  async function runPages(s: JobState): Promise<void> {
    const ext = s.job.extensions;
    let startedThisRun = 0;
    // Jobs whose runs began before pages were watched replay without the check's timers and activities.
    const watchPages = patched('page-health-check');
    const pageCheck = { armed: false, due: false };
    for (;;) {
      if (s.status === 'Ready') setStatus('Active');
      await restartPages(s);
      await tellPages(s);
      const inFlight = Object.keys(s.pages).length;
      // A page that only waits for restores starts no task: it neither blocks a pause nor takes a place in the window.
      const running = Object.values(s.pages).filter((t) => !t.waiting).length;
      if (s.status === 'Pausing' && Object.values(s.pages).every((t) => t.paused || t.waiting)) setStatus('Paused');
      const draining = s.status === 'Cancelling' || s.status === 'Failing';
      // A generated manifest's pages are known as the listing writes them.
      const pageCount = s.listing ? s.listing.files : (s.prepared?.pageCount ?? 0);
      const listing = s.listing && !s.listing.done;
      if (inFlight === 0 && (draining || (s.status === 'Active' && s.nextPage >= pageCount && !listing))) return;

      const wantsNewRun = startedThisRun >= ext.PagesPerRun || workflowInfo().continueAsNewSuggested;
      if (s.status === 'Active' && s.nextPage < pageCount && running < ext.MaxConcurrentPages && !wantsNewRun) {
        await startPage(s, s.nextPage);
        startedThisRun++;
        continue;
      }
      if (s.status === 'Active' && s.listing && listingWanted(s.listing, s.nextPage, ext.MaxConcurrentPages) && !wantsNewRun) {
        await listChunk(s, s.listing);
        continue;
      }
      if (wantsNewRun && (s.status === 'Active' || s.status === 'Paused')) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof batchJobWorkflow>(null, s);
      }
      if (watchPages && inFlight > 0) {
        if (pageCheck.due) {
          pageCheck.due = false;
          await checkOnPages(s);
          continue;
        }
        // One timer per check, however many signals wake the loop meanwhile.
        if (!pageCheck.armed) {
          pageCheck.armed = true;
          void sleep((ext.PageHealthCheckSeconds ?? DEFAULT_PAGE_HEALTH_CHECK_SECONDS) * 1000).then(() => {
            pageCheck.armed = false;
            pageCheck.due = true;
            changes++;
          });
        }
      }
      const seen = changes;
      await condition(() => changes !== seen);
    }
  }

  /**
   * Pages report by signal only, so a page run that was terminated, timed out or failed before it could say so
   * would leave the job waiting forever: ask Temporal about the pages in flight, and treat a dead one as down.
   */
  async function checkOnPages(s: JobState): Promise<void> {
    const pages = Object.entries(s.pages)
      .filter(([, track]) => !track.restart)
      .map(([index, track]) => ({ pageIndex: Number(index), workflowId: pageRunWorkflowId(jobId, Number(index), track.restarts) }));
    if (pages.length === 0) return;
    let dead;
    try {
      dead = await checkPages({ pages });
    } catch {
      return; // Temporal unreachable for now: the next check asks again.
    }
    for (const page of dead) {
      const track = s.pages[String(page.pageIndex)];
      // Reported or restarted since the check began.
      if (!track || track.restart || pageRunWorkflowId(jobId, page.pageIndex, track.restarts) !== page.workflowId) continue;
      pageDown(s, page.pageIndex, {
        code: page.code,
        reason: truncate(`page ${page.pageIndex} (${page.workflowId}) ended ${page.closedAs} without reporting: ${page.reason}`, 256),
        permanent: page.permanent,
        resume: { cursor: page.input.cursor, part: page.input.part, restoreWaits: page.input.restoreWaits },
      });
    }
    publishProgress();
  }

  /** Starts again each page whose run died, from that run's start: its earlier parts have all reported. */
  async function restartPages(s: JobState): Promise<void> {
    for (const [index, track] of Object.entries(s.pages)) {
      const resume = track.restart;
      if (!resume) continue;
      track.restart = undefined;
      track.restarts = (track.restarts ?? 0) + 1;
      track.interim = undefined;
      track.paused = false;
      track.waiting = false;
      await startPageRun(s, Number(index), track, resume);
    }
  }

  /** The next chunk of a generated manifest; a listing that fails for good fails the job (its pages drain). */
  async function listChunk(s: JobState, listing: ListingState): Promise<void> {
    try {
      await listNextChunk(jobId, s.job.generator!, listing, s.job.extensions.PageSize);
    } catch (err) {
      const cause = (err as { cause?: { type?: string; message?: string } }).cause;
      const reason = cause?.message ?? String(err);
      fail(cause?.type ?? 'ManifestGeneratorFailed', reason);
      stop('Failing', `The manifest could not be generated: ${reason}`);
      return;
    }
    if (listing.done) publishProgress();
  }

  /** A page's bytes: a byte range of the prepared manifest, or a generated manifest's data file, whole. */
  function pageSource(s: JobState, context: PageJobContext, pageIndex: number): { job: PageJobContext; range: PageInput['range'] } {
    if (s.listing) {
      const chunk = chunkManifest(jobId, s.job.generator!, s.listing, context.manifest, pageIndex);
      return { job: { ...context, manifest: chunk.manifest }, range: chunk.range };
    }
    const prepared = s.prepared!;
    const start = pageIndex * prepared.pageBytes;
    // firstRow: the line number the page's rows count from (absent for jobs prepared without them: byte offsets).
    const firstRow = prepared.pageFirstRows?.[pageIndex];
    const range: PageInput['range'] = { start, end: Math.min(prepared.size, start + prepared.pageBytes) };
    if (firstRow !== undefined) range.firstRow = firstRow;
    return { job: context, range };
  }

  async function startPage(s: JobState, pageIndex: number): Promise<void> {
    // Tracked before the start is acknowledged: the page may report before startChild resolves.
    const track: PageTrack = { parts: [], paused: false, mode: 'run', priorityKey: pageContext(s).priorityKey };
    s.pages[String(pageIndex)] = track;
    s.nextPage = pageIndex + 1;
    await startPageRun(s, pageIndex, track, {});
  }

  /** Starts a page's execution (the first, or a restart from `resume`) in the mode the job's status calls for. */
  async function startPageRun(s: JobState, pageIndex: number, track: PageTrack, resume: PageResume): Promise<void> {
    const { job: context, range } = pageSource(s, pageContext(s), pageIndex);
    track.mode = pageMode(s);
    track.priorityKey = context.priorityKey;
    try {
      await startChild(batchPageWorkflow, {
        workflowId: pageRunWorkflowId(jobId, pageIndex, track.restarts),
        args: [{ jobId, job: context, pageIndex, range, mode: track.mode, ...resume, ...(track.restarts ? { restarted: true } : {}) }],
        priority: { priorityKey: context.priorityKey },
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `Page ${pageIndex} of job ${jobId}${track.restarts ? ` (restart ${track.restarts})` : ''}`,
        // Local-activity tasks keep a page's workflow task open (heartbeated) while they run; on a busy worker the
        // default 10 s timeout can lapse between heartbeats, and a timed-out task re-runs its local activities.
        workflowTaskTimeout: '30 seconds',
      });
    } catch (err) {
      // Already started (by an earlier attempt): it is running or has run, and reports by signal.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** What the job's status asks of its pages. */
  function pageMode(s: JobState): PageMode {
    return s.status === 'Cancelling' || s.status === 'Failing' ? 'stop' : s.status === 'Pausing' || s.status === 'Paused' ? 'pause' : 'run';
  }

  /** Sends each page in flight the mode the job's status calls for, once per change. */
  async function tellPages(s: JobState): Promise<void> {
    const mode = pageMode(s);
    const priorityKey = priorityKeyFor(s.priority, s.job.priorityLevels);
    const sends: Promise<void>[] = [];
    for (const [index, track] of Object.entries(s.pages)) {
      if (track.mode === mode && track.priorityKey === priorityKey) continue;
      if (track.mode !== mode && mode !== 'pause') track.paused = false;
      track.mode = mode;
      track.priorityKey = priorityKey;
      sends.push(
        getExternalWorkflowHandle(pageRunWorkflowId(jobId, Number(index), track.restarts))
          .signal(pageModeSignal, { mode, priorityKey })
          // The page may have just finished: its final progress signal settles it.
          .catch(() => undefined)
      );
    }
    await Promise.all(sends);
  }

  // ---- Completing / Cancelled / Failed: the report manifest, then the end ----

  async function finish(s: JobState): Promise<JobDescriptor> {
    const final: JobStatus = s.status === 'Cancelling' ? 'Cancelled' : s.status === 'Failing' ? 'Failed' : 'Complete';
    if (final === 'Complete') setStatus('Completing');
    if (s.job.report && s.succeeded + s.failed > 0) {
      try {
        const written = await writeReportManifest({ jobId, report: pageContext(s).report! });
        s.reportManifestKey = written.key;
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause;
        fail('ReportWriteFailed', cause?.message ?? String(err));
        // A cancel keeps its promise: the job ends Cancelled, with the reason the report is missing.
        setStatus(final === 'Cancelled' ? 'Cancelled' : 'Failed', 'The completion report could not be written');
        return describeJob(jobId, request, s, early);
      }
    }
    setStatus(final);
    return describeJob(jobId, request, s, early);
  }

  function pageContext(s: JobState): PageJobContext {
    const ext = s.job.extensions;
    return {
      operation: s.job.operation,
      connection: s.job.connection,
      // A generated job's pages each get their data file's ETag (pageSource).
      manifest: { ...s.job.manifest, etag: s.prepared?.etag ?? '' },
      report: s.job.report,
      maxConcurrentTasks: ext.MaxConcurrentTasksPerPage,
      maxAttemptsPerTask: ext.MaxAttemptsPerTask,
      tasksPerPageRun: ext.TasksPerPageRun,
      taskTimeout: `${ext.TaskTimeoutSeconds} seconds`,
      // Jobs validated before ResolvedJob had taskExecution ran with the schema's old default, Activity.
      taskExecution: s.job.taskExecution ?? ext.TaskExecution ?? 'Activity',
      priorityKey: priorityKeyFor(s.priority, s.job.priorityLevels),
      lambdaConnection: s.job.lambdaConnection,
      waitForRestore: ext.WaitForRestore && {
        initialPollSeconds: ext.WaitForRestore.InitialPollSeconds,
        maxPollSeconds: ext.WaitForRestore.MaxPollSeconds,
        timeoutSeconds: Math.round(ext.WaitForRestore.TimeoutHours * 3600),
      },
    };
  }
}
