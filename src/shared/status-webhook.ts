/**
 * Status webhooks (Extensions.StatusWebhook): the body every delivery carries, the headers, and the error types of
 * a delivery. The workflow builds the body (from its own state, at workflow time); the activity signs and sends it,
 * so the secret never enters workflow history. Sandbox-safe.
 *
 * Scheme: `POST <Url>` with `Content-Type: application/json` and
 *   X-S3Batch-Signature: sha256=<hex HMAC-SHA256 of the raw body bytes under the worker's webhook secret>
 *   X-S3Batch-Delivery:  <JobId>/<Sequence>   (the same on every retry of one change: receivers dedupe by it)
 * Any 2xx answer is success. Changes are sent one at a time, in Sequence order; a change is retried until accepted.
 */
import type { JobStatus } from './job-status';
import type { JobFailure, JobProgressSummary } from './types';

export const SIGNATURE_HEADER = 'X-S3Batch-Signature';
export const DELIVERY_HEADER = 'X-S3Batch-Delivery';

/** One status change of a job, as the receiver gets it. JSON-safe (it is activity input and job state). */
export interface StatusWebhookEvent {
  JobId: string;
  JobArn: string;
  /** 1 for the first notification of a job, then 2, 3, … with no gaps unless a change was rejected (400/413/415/422). */
  Sequence: number;
  /** When the change happened (workflow time, ISO 8601). */
  Time: string;
  Status: JobStatus;
  /** The status before this change; null on the first notification (the job was created, status New). */
  PreviousStatus: JobStatus | null;
  /** The reason given with this change (user's or engine's), null when the engine moved on by itself. */
  StatusUpdateReason: string | null;
  ProgressSummary: JobProgressSummary;
  /** One line for humans, as describeJob's S3Batch.Summary. */
  Summary: string;
  /** Terminal statuses only (Complete, Cancelled, Failed). */
  FailureReasons?: JobFailure[];
  /** Terminal statuses only: where the completion report's manifest.json is, null when none was written. */
  Report?: { Bucket: string; ManifestKey: string } | null;
}

export interface DeliverStatusWebhookInput {
  url: string;
  event: StatusWebhookEvent;
}

/** Delivery error types (ApplicationFailure.type). Only Rejected is final; the others are retried. */
export const WebhookErrorType = {
  /** The receiver refused this body for good (400, 413, 415, 422): the change is skipped and counted. */
  Rejected: 'StatusWebhookRejected',
  /** Any other non-2xx answer (5xx, 408, 429, 401/403/404 while a receiver is misconfigured or not deployed, 3xx). */
  Unavailable: 'StatusWebhookUnavailable',
  /** No answer: connection refused or reset, DNS, TLS, or the timeout. */
  Unreachable: 'StatusWebhookUnreachable',
  /** This worker cannot sign or may not call the URL (no secret, allow-list): fixed by the worker's config. */
  NotConfigured: 'StatusWebhookNotConfigured',
} as const;

/** Statuses that say "this body will never be accepted": retrying the same bytes cannot help. */
export const PERMANENT_REJECTIONS: readonly number[] = [400, 413, 415, 422];

export function deliveryId(jobId: string, sequence: number): string {
  return `${jobId}/${sequence}`;
}
