/**
 * The job workflow's message handlers: the DescribeJob query, the control updates (status, pause, resume,
 * priority, rate limit, tags) and the signals its pages report by. Each bumps the run's change counter, so the main loop
 * wakes and acts on what changed; none of them issues a command but through the run's status machine.
 */
import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { actorProblem, type JobAction, type JobChange } from '../shared/audit';
import { MAX_TASKS_PER_SECOND_LIMIT } from '../schemas/job-spec';
import { checkRequest, type ControlRequest } from '../shared/job-status';
import {
  describeJobQuery,
  pageFailedSignal,
  pagePausedSignal,
  pageProgressSignal,
  pageWaitingSignal,
  pauseJobUpdate,
  putJobTaggingUpdate,
  resumeJobUpdate,
  updateJobPriorityUpdate,
  updateJobRateUpdate,
  updateJobStatusUpdate,
} from '../shared/messages';
import { JobPriorityKey } from '../shared/search-attributes';
import { progressLine } from './describe';
import type { JobRun } from './job-run';
import { addPartCounts, pageFinished, type JobState, type PageTrack } from './job-state';
import { pageDown } from './page-window';

/** Sets every handler of the job, in the order the workflow always has (buffered signals run as each is set). */
export function setJobHandlers(run: JobRun): void {
  setControlHandlers(run);
  setPageSignalHandlers(run);
}

// ---- Queries and updates ----

function setControlHandlers(run: JobRun): void {
  const { jobId } = run;
  setHandler(describeJobQuery, () => run.describe(), {
    description: 'The DescribeJob shape: status, progress, failures, report location',
  });

  const validated = (req: ControlRequest, input: { actor?: unknown } | undefined) => {
    const problem = actorProblem(input?.actor);
    if (problem) throw new Error(problem);
    const check = checkRequest(run.status(), req);
    if (!check.ok) throw new Error(check.reason);
  };
  const answer = () => ({ JobId: jobId, Status: run.status(), StatusUpdateReason: run.state?.statusUpdateReason });

  setHandler(
    updateJobStatusUpdate,
    ({ RequestedJobStatus, StatusUpdateReason, actor }) => {
      run.changes++;
      recordChange(run, RequestedJobStatus === 'Ready' ? 'ConfirmJob' : 'CancelJob', actor);
      if (RequestedJobStatus === 'Ready') run.setStatus('Ready', StatusUpdateReason ?? 'Confirmed by user');
      else run.stop('Cancelling', StatusUpdateReason ?? 'Cancelled by user');
      return answer();
    },
    {
      validator: (req) => {
        if (req?.RequestedJobStatus !== 'Ready' && req?.RequestedJobStatus !== 'Cancelled') {
          throw new Error(`RequestedJobStatus must be Ready or Cancelled, got ${JSON.stringify(req?.RequestedJobStatus)}`);
        }
        validated(req.RequestedJobStatus, req);
      },
      description: 'UpdateJobStatus: Ready confirms a Suspended job, Cancelled cancels the job',
    }
  );

  setHandler(
    pauseJobUpdate,
    (req) => {
      run.changes++;
      recordChange(run, 'PauseJob', req?.actor);
      run.setStatus(run.status() === 'Ready' ? 'Paused' : 'Pausing', req?.Reason ?? 'Paused by user');
      return answer();
    },
    { validator: (req) => validated('Pause', req), description: 'Stop starting tasks; Paused once none is in flight' }
  );

  setHandler(
    resumeJobUpdate,
    (req) => {
      run.changes++;
      recordChange(run, 'ResumeJob', req?.actor);
      for (const track of Object.values(run.state?.pages ?? {})) track.paused = false;
      run.setStatus('Active', req?.Reason ?? 'Resumed by user');
      return answer();
    },
    { validator: (req) => validated('Resume', req), description: 'Continue a Pausing or Paused job' }
  );

  setHandler(
    updateJobPriorityUpdate,
    ({ Priority, actor }) => {
      run.changes++;
      recordChange(run, 'UpdateJobPriority', actor);
      if (run.state) run.state.priority = Priority;
      upsertSearchAttributes([{ key: JobPriorityKey, value: Priority }]);
      return { JobId: jobId, Priority };
    },
    {
      validator: (req) => {
        const p = req?.Priority;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 2_147_483_647) {
          throw new Error(`Priority must be an integer from 0 to 2147483647, got ${JSON.stringify(p)}`);
        }
        validated('UpdatePriority', req);
      },
      description: 'UpdateJobPriority',
    }
  );

  setHandler(
    updateJobRateUpdate,
    ({ MaxTasksPerSecond, actor }) => {
      // The page window divides the new limit among the running pages and tells each its share.
      run.changes++;
      recordChange(run, 'UpdateJobRate', actor);
      if (run.state) run.state.maxTasksPerSecond = MaxTasksPerSecond;
      else run.early.maxTasksPerSecond = MaxTasksPerSecond;
      return { JobId: jobId, MaxTasksPerSecond };
    },
    {
      // The API validates the rate with the schema (zod, at the edge); this keeps a malformed update out of the state.
      validator: (req) => {
        const rate = req?.MaxTasksPerSecond;
        if (rate !== null && (typeof rate !== 'number' || !(rate >= 0.001 && rate <= MAX_TASKS_PER_SECOND_LIMIT))) {
          throw new Error(`MaxTasksPerSecond must be a number from 0.001 to ${MAX_TASKS_PER_SECOND_LIMIT}, or null for no limit, got ${JSON.stringify(rate)}`);
        }
        validated('UpdateRate', req);
      },
      description: 'UpdateJobRate: the most tasks per second the whole job starts (null: no limit)',
    }
  );

  setHandler(
    putJobTaggingUpdate,
    ({ Tags, actor }) => {
      const tags = Tags.map(({ Key, Value }) => ({ Key, Value }));
      recordChange(run, tags.length ? 'PutJobTagging' : 'DeleteJobTagging', actor);
      if (run.state) run.state.tags = tags;
      else run.early.tags = tags;
      return { JobId: jobId, Tags: tags };
    },
    {
      // The API validates tags fully (zod, at the edge); this keeps a malformed update out of the state.
      validator: (req) => {
        const problem = actorProblem(req?.actor);
        if (problem) throw new Error(problem);
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
}

/**
 * Audit: records a change as the job's last: what, who asked (the update's `actor`, when it names one) and when (the
 * workflow's time of handling it). The update's input, actor included, is in the job's history too.
 */
export function recordChange(run: JobRun, Action: JobAction, actor: string | undefined): void {
  const change: JobChange = { Action, ...(actor ? { Actor: actor } : {}), Time: new Date().toISOString() };
  if (run.state) run.state.lastChange = change;
  else run.early.lastChange = change;
}

// ---- Signals from pages ----

/**
 * Wakes the main loop for a page's report of one part, and finds what the report adds to: nothing when the job has
 * no state yet, or when the page or the part is already counted (a duplicate).
 */
function partToCount(run: JobRun, report: { pageIndex: number; part: number }): { state: JobState; track: PageTrack } | undefined {
  run.changes++;
  const state = run.state;
  if (!state) return undefined;
  const track = state.pages[String(report.pageIndex)];
  // Unknown page: already finished and counted, so this is a duplicate.
  if (!track || track.parts.includes(report.part)) return undefined;
  return { state, track };
}

function setPageSignalHandlers(run: JobRun): void {
  setHandler(pageProgressSignal, (progress) => {
    const counting = partToCount(run, progress);
    if (!counting) return;
    const { state, track } = counting;
    if (progress.interim) {
      if (!track.interim || track.interim.part < progress.part || track.interim.succeeded + track.interim.failed < progress.succeeded + progress.failed) {
        track.interim = { part: progress.part, succeeded: progress.succeeded, failed: progress.failed };
        // Current details cost no history event (the memo would): interim reports update only them.
        setCurrentDetails(progressLine(state));
      }
      return;
    }
    if (track.interim && track.interim.part <= progress.part) track.interim = undefined;
    addPartCounts(state, track, progress.part, progress);
    if (progress.done) track.lastPart = progress.part;
    if (track.lastPart !== undefined && track.parts.length === track.lastPart + 1) {
      pageFinished(state, progress.pageIndex);
    }
    run.checkFailureThreshold();
    run.publishProgress();
  });

  setHandler(pageFailedSignal, (failure) => {
    const counting = partToCount(run, failure);
    if (!counting) return;
    const { state, track } = counting;
    // Tasks that ran although their shard could not be written: counted once, here; the reason names them.
    if (failure.ran) addPartCounts(state, track, failure.part, failure.ran);
    pageDown(run, state, failure.pageIndex, failure);
    run.publishProgress();
  });

  setHandler(pageWaitingSignal, ({ pageIndex }) => {
    run.changes++;
    const track = run.state?.pages[String(pageIndex)];
    if (track) track.waiting = true;
  });

  setHandler(pagePausedSignal, ({ pageIndex }) => {
    run.changes++;
    const track = run.state?.pages[String(pageIndex)];
    if (track && track.mode === 'pause') track.paused = true;
  });
}
