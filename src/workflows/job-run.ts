/**
 * One run of a job workflow, and AWS's status machine on it: the state (or, before validation, the early stub), the
 * change counter that wakes the main loop, and the steps every part of the job uses to change status, publish
 * progress (memo, search attributes, current details) and record failures. The parts (handlers, page window,
 * preparation) take the run and call these; none of them keeps state of its own.
 */
import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { JobStatus } from '../shared/job-status';
import { JobStatusKey } from '../shared/search-attributes';
import { truncate, type JobDescriptor } from '../shared/types';
import { describeJob, progressLine, totalTasks } from './describe';
import type { EarlyState, JobState } from './job-state';
import { statusWebhook } from './status-webhook';

export class JobRun {
  /** Until the request is validated there is no JobState; `early` stands in meanwhile. */
  state: JobState | undefined;
  readonly early: EarlyState = { status: 'New', failureReasons: [] };
  /** Bumped by every handler, so the main loop wakes when anything changed. */
  changes = 0;
  readonly webhook: ReturnType<typeof statusWebhook>;

  constructor(
    readonly jobId: string,
    /** The CreateJob request as the workflow received it (describeJob echoes it until it is validated). */
    readonly request: unknown,
    carried: JobState | undefined
  ) {
    this.state = carried;
    this.webhook = statusWebhook(jobId);
  }

  status(): JobStatus {
    return this.state?.status ?? this.early.status;
  }

  /** The DescribeJob shape of the job now (of `state`, when given: a state not yet the run's). */
  describe(state: JobState | undefined = this.state): JobDescriptor {
    return describeJob(this.jobId, this.request, state, this.early);
  }

  setStatus(next: JobStatus, reason?: string): void {
    const state = this.state;
    const now = new Date().toISOString();
    if (!state) {
      this.early.status = next;
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
    this.publishProgress();
    this.webhook.statusChanged(state, previous, reason);
  }

  publishProgress(): void {
    const state = this.state;
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
  }

  fail(code: string, reason: string): void {
    const entry = { FailureCode: truncate(code, 64), FailureReason: truncate(reason, 256) };
    if (this.state) this.state.failureReasons.push(entry);
    else this.early.failureReasons.push(entry);
  }

  /** Cancel or fail: stop starting work; the main loop drains the pages and ends the job. */
  stop(kind: 'Cancelling' | 'Failing', reason: string): void {
    if (!this.state) {
      this.early.stopRequested = reason;
      this.early.status = kind;
      return;
    }
    this.setStatus(kind, reason);
  }

  /** Fails the job once more tasks failed than Extensions.FailureThreshold allows. */
  checkFailureThreshold(): void {
    const state = this.state;
    if (!state || !['Active', 'Pausing', 'Paused'].includes(state.status)) return;
    const { MinTasks, FailedRatio } = state.job.extensions.FailureThreshold;
    const ran = state.succeeded + state.failed;
    if (ran >= MinTasks && state.failed / ran > FailedRatio) {
      const reason = `${state.failed} of ${ran} tasks failed, more than ${FailedRatio * 100}% (threshold applies from ${MinTasks} tasks)`;
      this.fail('TaskFailureThresholdExceeded', reason);
      this.stop('Failing', reason);
    }
  }
}
