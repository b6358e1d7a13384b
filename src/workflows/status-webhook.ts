/**
 * Status webhooks, the workflow side (Extensions.StatusWebhook): every status change of a job is queued in JobState
 * (so the queue survives continue-as-new), and one loop delivers the queue in order, one change at a time, each by
 * an activity retried with backoff until the receiver accepts it. The job's own flow never waits for deliveries;
 * the workflow only waits at the very end, for the queue to drain, at most GiveUpAfterHours, after which it ends
 * anyway and describeJob counts what was left undelivered.
 *
 * Delivery is at least once: a change is retried until a 2xx answer, and one in flight when the job continues as
 * new is sent again by the next run. Receivers dedupe by X-S3Batch-Delivery (or JobId + Sequence).
 *
 * Jobs without a webhook get no state, no activity and no timer from this module: their histories are unchanged.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { isTerminal, type JobStatus } from '../shared/job-status';
import { WebhookErrorType, type StatusWebhookEvent } from '../shared/status-webhook';
import type { Extensions } from '../schemas/job-spec';
import type { JobState, WebhookState } from './job-state';
import { describeJob } from './describe';

type Activities = ReturnType<typeof createActivities>;

/**
 * At most this many changes wait at once (history stays bounded: every pending change travels in the
 * continue-as-new input). Status changes are few per job, so only a receiver down for a very long time while a job
 * is paused and resumed over and over reaches it; the oldest waiting change is then dropped and counted.
 */
export const MAX_PENDING_CHANGES = 200;

/** The body of one notification, from the job's state just after the change. Pure. */
export function statusEvent(
  jobId: string,
  state: JobState,
  previous: JobStatus | null,
  reason: string | undefined,
  sequence: number
): StatusWebhookEvent {
  const described = describeJob(jobId, null, state, { status: state.status, failureReasons: [] });
  const event: StatusWebhookEvent = {
    JobId: jobId,
    JobArn: described.JobArn,
    Sequence: sequence,
    Time: new Date().toISOString(),
    Status: state.status,
    PreviousStatus: previous,
    StatusUpdateReason: reason ?? null,
    ProgressSummary: described.ProgressSummary,
    Summary: described.S3Batch.Summary,
  };
  if (isTerminal(state.status)) {
    event.FailureReasons = state.failureReasons;
    event.Report =
      state.reportManifestKey && state.job.report ? { Bucket: state.job.report.bucket, ManifestKey: state.reportManifestKey } : null;
  }
  return event;
}

/** Adds a change to the queue, dropping (and counting) the oldest waiting one when the queue is full. */
export function enqueue(webhook: WebhookState, event: StatusWebhookEvent): void {
  if (webhook.pending.length >= MAX_PENDING_CHANGES) {
    // Index 0 may be in flight; the oldest merely waiting is index 1.
    webhook.pending.splice(1, 1);
    webhook.undelivered++;
  }
  webhook.pending.push(event);
}

function deliveryActivity(config: NonNullable<Extensions['StatusWebhook']>) {
  return proxyActivities<Activities>({
    // One attempt is bounded by the worker's webhooks.timeoutSeconds (at most 60 s); this only catches a lost worker.
    startToCloseTimeout: '90 seconds',
    // No attempt limit: a receiver that is down gets the change when it is back (retries add no history events).
    // The activity marks what must not be retried (StatusWebhookRejected) as non-retryable itself.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: `${config.MaxRetryIntervalSeconds} seconds` },
    // Giving up must not wait for an attempt that is hanging on a dead receiver.
    cancellationType: ActivityCancellationType.TRY_CANCEL,
  }).deliverStatusWebhook;
}

/** The webhook of one job run: call start once the job's state exists, statusChanged from setStatus, drain at the end. */
export function statusWebhook(jobId: string) {
  let loop: CancellationScope | undefined;

  const config = (state: JobState) => state.job.extensions.StatusWebhook;

  async function deliverAll(webhook: WebhookState, url: string, deliver: ReturnType<typeof deliveryActivity>) {
    for (;;) {
      await condition(() => webhook.pending.length > 0);
      const event = webhook.pending[0]!;
      try {
        await deliver({ url, event });
        webhook.delivered++;
      } catch (err) {
        if (isCancellation(err)) return;
        // Unlimited retries end only in a non-retryable failure: the receiver refused this body for good.
        const type = (err as { cause?: { type?: string } }).cause?.type;
        if (type !== WebhookErrorType.Rejected) webhook.undelivered++;
        else webhook.rejected++;
      }
      if (webhook.pending[0] === event) webhook.pending.shift();
    }
  }

  return {
    /** Starts delivering (fresh job: also queues the first notification, the job's current status). Idempotent. */
    start(state: JobState): void {
      const hook = config(state);
      if (!hook || loop) return;
      if (!state.webhook) {
        state.webhook = { sequence: 0, pending: [], delivered: 0, rejected: 0, undelivered: 0 };
        enqueue(state.webhook, statusEvent(jobId, state, null, undefined, ++state.webhook.sequence));
      }
      const webhook = state.webhook;
      const deliver = deliveryActivity(hook);
      // A scope of its own, so that giving up can cancel the delivery in flight; its parent is the job's
      // non-cancellable scope, so a Temporal cancellation of the job does not stop notifications.
      loop = new CancellationScope();
      loop.run(() => deliverAll(webhook, hook.Url, deliver)).catch(() => undefined);
    },

    /** Queues a change. Called by setStatus after the state has changed. */
    statusChanged(state: JobState, previous: JobStatus, reason: string | undefined): void {
      const webhook = state.webhook;
      if (!webhook || previous === state.status) return;
      enqueue(webhook, statusEvent(jobId, state, previous, reason, ++webhook.sequence));
    },

    /**
     * Waits until every queued change is delivered, at most GiveUpAfterHours; then counts what is left as
     * undelivered. Resolves true when the job has a webhook (its describeJob changed), false otherwise.
     */
    async drain(state: JobState | undefined): Promise<boolean> {
      const webhook = state?.webhook;
      const hook = state && config(state);
      if (!webhook || !hook) return false;
      if (webhook.pending.length === 0) return true;
      const drained = await condition(() => webhook.pending.length === 0, Math.round(hook.GiveUpAfterHours * 3600 * 1000));
      if (!drained) {
        webhook.undelivered += webhook.pending.length;
        webhook.pending = [];
        loop?.cancel();
      }
      return true;
    },
  };
}
