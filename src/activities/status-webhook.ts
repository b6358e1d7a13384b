/**
 * deliverStatusWebhook: POSTs one status change of a job to its webhook, signed with the worker's secret. One
 * attempt per call; Temporal retries (with backoff, see src/workflows/status-webhook.ts), so a receiver that is
 * down gets the change once it is back. Redirects are not followed: they would lead past the URL allow-list.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  DELIVERY_HEADER,
  deliveryId,
  PERMANENT_REJECTIONS,
  SIGNATURE_HEADER,
  WebhookErrorType,
  type DeliverStatusWebhookInput,
} from '../shared/status-webhook';
import { truncate } from '../shared/types';

/** What the worker config says about webhooks, with the secret resolved. */
export interface WebhookSettings {
  /** Undefined: this worker has no secret, so it refuses webhook jobs and cannot deliver. */
  secret?: string;
  allowedUrlPrefixes?: string[];
  timeoutMs: number;
}

/** `sha256=<hex HMAC-SHA256 of body under secret>`: the X-S3Batch-Signature value. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Checks an X-S3Batch-Signature header against the raw body, in constant time (what a receiver does). */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Whether the allow-list lets the worker call `url`. No list: any http(s) URL (the operator enabled webhooks by
 * giving a secret). Both sides are normalised by the URL parser first, so "https://Hooks.example.com" allows
 * "https://hooks.example.com/x" but not "https://hooks.example.com.evil.net/".
 */
export function isWebhookUrlAllowed(url: string, allowedUrlPrefixes: string[] | undefined): boolean {
  if (!allowedUrlPrefixes) return true;
  let href: string;
  try {
    href = new URL(url).href;
  } catch {
    return false;
  }
  return allowedUrlPrefixes.some((prefix) => href.startsWith(new URL(prefix).href));
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** The exact bytes and headers of one delivery. */
export function signedRequest(secret: string, input: DeliverStatusWebhookInput): SignedRequest {
  const body = JSON.stringify(input.event);
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 's3-batch',
      [SIGNATURE_HEADER]: signBody(secret, body),
      [DELIVERY_HEADER]: deliveryId(input.event.JobId, input.event.Sequence),
    },
  };
}

/** One delivery attempt. Resolves with the receiver's status on 2xx; throws an ApplicationFailure otherwise. */
export async function deliverStatusWebhook(
  settings: WebhookSettings,
  input: DeliverStatusWebhookInput
): Promise<{ status: number }> {
  const delivery = deliveryId(input.event.JobId, input.event.Sequence);
  // Retryable: a worker with a different config (or this one, fixed and restarted) can still deliver.
  if (!settings.secret) {
    throw ApplicationFailure.retryable(
      `status webhook ${delivery}: this worker has no webhook secret (webhooks.secret, webhooks.secretEnv or S3BATCH_WEBHOOK_SECRET)`,
      WebhookErrorType.NotConfigured
    );
  }
  if (!isWebhookUrlAllowed(input.url, settings.allowedUrlPrefixes)) {
    throw ApplicationFailure.retryable(
      `status webhook ${delivery}: ${input.url} is not allowed by this worker's webhooks.allowedUrlPrefixes`,
      WebhookErrorType.NotConfigured
    );
  }
  const { body, headers } = signedRequest(settings.secret, input);
  const signals = [AbortSignal.timeout(settings.timeoutMs)];
  const cancellation = activityCancellation();
  if (cancellation) signals.push(cancellation);
  let response: Response;
  try {
    response = await fetch(input.url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.any(signals) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = (err as Error).name === 'TimeoutError' ? `no answer in ${settings.timeoutMs} ms` : (cause?.code ?? cause?.message ?? String(err));
    throw ApplicationFailure.retryable(`status webhook ${delivery}: ${input.url} unreachable: ${why}`, WebhookErrorType.Unreachable);
  }
  const text = await response.text().catch(() => '');
  if (response.status >= 200 && response.status < 300) return { status: response.status };
  const answer = `${response.status}${text ? `: ${truncate(text.replace(/\s+/g, ' '), 200)}` : ''}`;
  if (PERMANENT_REJECTIONS.includes(response.status)) {
    throw ApplicationFailure.nonRetryable(
      `status webhook ${delivery}: ${input.url} rejected the notification (${answer})`,
      WebhookErrorType.Rejected,
      { status: response.status }
    );
  }
  const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
  throw ApplicationFailure.retryable(
    `status webhook ${delivery}: ${input.url} answered ${answer}${redirect}`,
    WebhookErrorType.Unavailable,
    { status: response.status }
  );
}

/** The activity's cancellation signal, or undefined outside an activity (unit tests call the function directly). */
function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
