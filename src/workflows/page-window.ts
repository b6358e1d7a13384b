/**
 * Ready → Active: the job's pages as a sliding window of child workflows (batchPageWorkflow). The main loop starts
 * pages up to MaxConcurrentPages, lists a generated manifest's next chunk when the window wants more, tells pages in
 * flight the mode and priority the job's status calls for, restarts a page whose run died, checks on the pages in
 * flight (pages report by signal only), and continues as new every PagesPerRun page starts.
 *
 * Pages are ABANDONed children that report by signal to the job's id, so they outlive a continue-as-new of the job.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createActivities } from '../activities';
import { pageRunWorkflowId } from '../shared/constants';
import { pageModeSignal, type PageMode } from '../shared/messages';
import type { PageInput, PageJobContext } from '../shared/page-context';
import { priorityKeyFor } from '../shared/priority';
import { truncate, type PageFailure, type PageResume } from '../shared/types';
import { batchPageWorkflow } from './batch-page';
import type { JobRun } from './job-run';
import { jobRateLimit, pageFinished, type BatchJobWorkflowType, type JobState, type PageTrack } from './job-state';
import { chunkManifest, listingWanted, listNextChunk, type ListingState } from './manifest-listing';

type Activities = ReturnType<typeof createActivities>;

const { checkPages } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
});

/** Pages whose runs closed without completing, before MaxPageRestarts existed (jobs validated earlier). */
const DEFAULT_MAX_PAGE_RESTARTS = 3;
/** Seconds between checks of the pages in flight, before PageHealthCheckSeconds existed. */
const DEFAULT_PAGE_HEALTH_CHECK_SECONDS = 60;

/** Runs the window until every page has reported (or, draining, until none is in flight); may continue as new. */
export async function runPages(run: JobRun, s: JobState): Promise<void> {
  const ext = s.job.extensions;
  let startedThisRun = 0;
  // Jobs whose runs began before pages were watched replay without the check's timers and activities.
  const watchPages = patched('page-health-check');
  const pageCheck = { armed: false, due: false };
  for (;;) {
    // A change made while this pass awaits a step (an update arriving while tellPages waits for its signals) must
    // wake the wait at the bottom too.
    const changesAtStart = run.changes;
    if (s.status === 'Ready') run.setStatus('Active');
    await restartPages(run, s);
    await tellPages(run, s);
    const inFlight = Object.keys(s.pages).length;
    // A page that only waits for restores starts no task: it neither blocks a pause nor takes a place in the window.
    const running = Object.values(s.pages).filter((t) => !t.waiting).length;
    if (s.status === 'Pausing' && Object.values(s.pages).every((t) => t.paused || t.waiting)) run.setStatus('Paused');
    const draining = s.status === 'Cancelling' || s.status === 'Failing';
    // A generated manifest's pages are known as the listing writes them.
    const pageCount = s.listing ? s.listing.files : (s.prepared?.pageCount ?? 0);
    const listing = s.listing && !s.listing.done;
    if (inFlight === 0 && (draining || (s.status === 'Active' && s.nextPage >= pageCount && !listing))) return;

    const wantsNewRun = startedThisRun >= ext.PagesPerRun || workflowInfo().continueAsNewSuggested;
    if (s.status === 'Active' && s.nextPage < pageCount && running < ext.MaxConcurrentPages && !wantsNewRun) {
      await startPage(run, s, s.nextPage);
      startedThisRun++;
      continue;
    }
    if (s.status === 'Active' && s.listing && listingWanted(s.listing, s.nextPage, ext.MaxConcurrentPages) && !wantsNewRun) {
      await listChunk(run, s, s.listing);
      continue;
    }
    if (wantsNewRun && (s.status === 'Active' || s.status === 'Paused')) {
      await condition(allHandlersFinished);
      await continueAsNew<BatchJobWorkflowType>(null, s);
    }
    if (watchPages && inFlight > 0) {
      if (pageCheck.due) {
        pageCheck.due = false;
        await checkOnPages(run, s);
        continue;
      }
      // One timer per check, however many signals wake the loop meanwhile.
      if (!pageCheck.armed) {
        pageCheck.armed = true;
        void sleep(pageCheckSeconds(s, running) * 1000).then(() => {
          pageCheck.armed = false;
          pageCheck.due = true;
          run.changes++;
        });
      }
    }
    // Jobs from before this counted from here, so they slept through such a change until the next one (a pause or
    // a new rate sent to the pages only at the next page report); their histories replay that.
    const seen = patched('job-loop-sees-every-change') ? changesAtStart : run.changes;
    await condition(() => run.changes !== seen);
  }
}

/**
 * Seconds until the next check of the pages in flight. When every page in flight only waits for restores, no task runs
 * and each page wakes only every few MaxPollSeconds itself: checking on them as often as on running pages would fill
 * the job's history over a wait of days, so the check then comes every MaxPollSeconds, if that is longer.
 */
function pageCheckSeconds(s: JobState, running: number): number {
  const every = s.job.extensions.PageHealthCheckSeconds ?? DEFAULT_PAGE_HEALTH_CHECK_SECONDS;
  const maxPoll = s.job.extensions.WaitForRestore?.MaxPollSeconds;
  if (running > 0 || maxPoll === undefined || maxPoll <= every) return every;
  // Jobs whose runs began before this backoff keep their timers.
  return patched('page-check-backoff') ? maxPoll : every;
}

/**
 * A page's run died (it said so, or the page check found it closed): restart it from that run's start, or, when
 * retrying cannot help or the restarts are used up, fail the job. A draining job restarts it in stop mode, which
 * runs no task and only counts a part that the dead run wrote to the report before it died.
 */
export function pageDown(
  run: JobRun,
  s: JobState,
  pageIndex: number,
  down: Pick<PageFailure, 'code' | 'reason' | 'permanent' | 'resume'>
): void {
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
    run.fail(down.code, reason);
    run.stop('Failing', reason);
    pageFinished(s, pageIndex);
    return;
  }
  track.restart = down.resume;
}

/**
 * Pages report by signal only, so a page run that was terminated, timed out or failed before it could say so
 * would leave the job waiting forever: ask Temporal about the pages in flight, and treat a dead one as down.
 */
async function checkOnPages(run: JobRun, s: JobState): Promise<void> {
  const { jobId } = run;
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
    pageDown(run, s, page.pageIndex, {
      code: page.code,
      reason: truncate(`page ${page.pageIndex} (${page.workflowId}) ended ${page.closedAs} without reporting: ${page.reason}`, 256),
      permanent: page.permanent,
      resume: { cursor: page.input.cursor, part: page.input.part, restoreWaits: page.input.restoreWaits },
    });
  }
  run.publishProgress();
}

/** Starts again each page whose run died, from that run's start: its earlier parts have all reported. */
async function restartPages(run: JobRun, s: JobState): Promise<void> {
  for (const [index, track] of Object.entries(s.pages)) {
    const resume = track.restart;
    if (!resume) continue;
    track.restart = undefined;
    track.restarts = (track.restarts ?? 0) + 1;
    track.interim = undefined;
    track.paused = false;
    track.waiting = false;
    await startPageRun(run, s, Number(index), track, resume);
  }
}

/** The next chunk of a generated manifest; a listing that fails for good fails the job (its pages drain). */
async function listChunk(run: JobRun, s: JobState, listing: ListingState): Promise<void> {
  try {
    await listNextChunk(run.jobId, s.job.generator!, listing, s.job.extensions.PageSize);
  } catch (err) {
    const cause = (err as { cause?: { type?: string; message?: string } }).cause;
    const reason = cause?.message ?? String(err);
    run.fail(cause?.type ?? 'ManifestGeneratorFailed', reason);
    run.stop('Failing', `The manifest could not be generated: ${reason}`);
    return;
  }
  if (listing.done) run.publishProgress();
}

/** A page's bytes: a byte range of the prepared manifest, or a generated manifest's data file, whole. */
function pageSource(
  jobId: string,
  s: JobState,
  context: PageJobContext,
  pageIndex: number
): { job: PageJobContext; range: PageInput['range'] } {
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

async function startPage(run: JobRun, s: JobState, pageIndex: number): Promise<void> {
  // Tracked before the start is acknowledged: the page may report before startChild resolves.
  const track: PageTrack = { parts: [], paused: false, mode: 'run', priorityKey: pageContext(s).priorityKey };
  s.pages[String(pageIndex)] = track;
  s.nextPage = pageIndex + 1;
  await startPageRun(run, s, pageIndex, track, {});
}

/** Starts a page's execution (the first, or a restart from `resume`) in the mode the job's status calls for. */
async function startPageRun(run: JobRun, s: JobState, pageIndex: number, track: PageTrack, resume: PageResume): Promise<void> {
  const { jobId } = run;
  const { job: context, range } = pageSource(jobId, s, pageContext(s), pageIndex);
  track.mode = pageMode(s);
  track.priorityKey = context.priorityKey;
  // The page is already in the window: its share counts it. The others learn their smaller share from tellPages.
  track.tasksPerSecond = pageShare(s);
  const rate = track.tasksPerSecond !== undefined ? { tasksPerSecond: track.tasksPerSecond } : {};
  try {
    await startChild(batchPageWorkflow, {
      workflowId: pageRunWorkflowId(jobId, pageIndex, track.restarts),
      args: [{ jobId, job: context, pageIndex, range, mode: track.mode, ...rate, ...resume, ...(track.restarts ? { restarted: true } : {}) }],
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

/**
 * Each running page's share of the job's rate limit (Extensions.MaxTasksPerSecond, or as UpdateJobRate set it):
 * the pages that start tasks divide it equally, so the job's pages together start at most the limit. A page that
 * only waits for restores starts none and takes no share. While pages are still to start, the share is what each
 * page has once the window is full: the first pages of a job, started one after another, do not each begin with
 * the whole limit. Near the end, fewer pages remain and each gets more. Undefined: no limit.
 */
function pageShare(s: JobState): number | undefined {
  const limit = jobRateLimit(s);
  if (limit === undefined) return undefined;
  const running = Object.values(s.pages).filter((t) => !t.waiting).length;
  // A generated manifest's pages are known as its listing goes: until it is done, more may come.
  const pageCount = s.listing ? (s.listing.done ? s.listing.files : Infinity) : (s.prepared?.pageCount ?? 0);
  const toStart = Math.max(0, pageCount - s.nextPage);
  const pages = Math.max(running, Math.min(s.job.extensions.MaxConcurrentPages, running + toStart));
  return limit / Math.max(1, pages);
}

/**
 * Sends each page in flight the mode the job's status calls for and its share of the rate limit, once per change.
 * Jobs without a rate limit never have a share, so their pages get the same signals as before the limit existed.
 */
async function tellPages(run: JobRun, s: JobState): Promise<void> {
  const mode = pageMode(s);
  const priorityKey = priorityKeyFor(s.priority, s.job.priorityLevels);
  const share = pageShare(s);
  const sends: Promise<void>[] = [];
  for (const [index, track] of Object.entries(s.pages)) {
    const rateChanged = !track.waiting && track.tasksPerSecond !== share;
    if (track.mode === mode && track.priorityKey === priorityKey && !rateChanged) continue;
    if (track.mode !== mode && mode !== 'pause') track.paused = false;
    track.mode = mode;
    track.priorityKey = priorityKey;
    if (rateChanged) track.tasksPerSecond = share;
    sends.push(
      getExternalWorkflowHandle(pageRunWorkflowId(run.jobId, Number(index), track.restarts))
        .signal(pageModeSignal, { mode, priorityKey, ...(rateChanged ? { tasksPerSecond: share ?? null } : {}) })
        // The page may have just finished: its final progress signal settles it.
        .catch(() => undefined)
    );
  }
  await Promise.all(sends);
}

/** What every page of the job is given: the JSON-safe subset of the resolved job a page needs. */
export function pageContext(s: JobState): PageJobContext {
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
    // Present only for Batch jobs (new): other pages' inputs stay as they were.
    ...(s.job.taskExecution === 'Batch' ? { batch: { size: s.job.batchSize ?? 50, taskTimeoutSeconds: ext.TaskTimeoutSeconds } } : {}),
    priorityKey: priorityKeyFor(s.priority, s.job.priorityLevels),
    lambdaConnection: s.job.lambdaConnection,
    ...(s.job.role ? { role: s.job.role } : {}),
    waitForRestore: ext.WaitForRestore && {
      initialPollSeconds: ext.WaitForRestore.InitialPollSeconds,
      maxPollSeconds: ext.WaitForRestore.MaxPollSeconds,
      timeoutSeconds: Math.round(ext.WaitForRestore.TimeoutHours * 3600),
    },
  };
}
