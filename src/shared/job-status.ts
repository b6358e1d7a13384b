/**
 * Job statuses and the control requests users can make, as a pure state machine. Statuses are AWS's (S3 Control
 * JobStatus); Pausing/Paused are also ours: AWS pauses only for priority, we let users pause and resume.
 * Sandbox-safe.
 */

export const JOB_STATUSES = [
  'New',
  'Preparing',
  'Suspended',
  'Ready',
  'Active',
  'Pausing',
  'Paused',
  'Completing',
  'Complete',
  'Cancelling',
  'Cancelled',
  'Failing',
  'Failed',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['Complete', 'Cancelled', 'Failed'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** What a user can ask of a job. `Ready` confirms a Suspended job and `Cancelled` cancels, as UpdateJobStatus. */
export type ControlRequest = 'Ready' | 'Cancelled' | 'Pause' | 'Resume' | 'UpdatePriority' | 'UpdateRate';

export type RequestCheck = { ok: true } | { ok: false; reason: string };

/**
 * Whether a request is allowed in a status. Rules (AWS documents only part of the matrix; the rest follows
 * ../shared/reference/s3-batch-spec.md §2.3):
 * - Ready only confirms a Suspended job.
 * - Cancelled is allowed in any status that is not terminal and not already on its way to a terminal one.
 * - Pause is allowed while the job runs or is about to (Ready, Active); resume only from Pausing or Paused.
 * - Priority and the rate limit can change until the job ends.
 */
export function checkRequest(status: JobStatus, request: ControlRequest): RequestCheck {
  const reject = (reason: string): RequestCheck => ({ ok: false, reason });
  if (isTerminal(status)) return reject(`the job is ${status}; a finished job cannot change`);
  switch (request) {
    case 'Ready':
      return status === 'Suspended'
        ? { ok: true }
        : reject(`only a Suspended job can be confirmed (Ready); this job is ${status}`);
    case 'Cancelled':
      return ['Cancelling', 'Failing', 'Completing'].includes(status)
        ? reject(`the job is ${status} and will end by itself`)
        : { ok: true };
    case 'Pause':
      if (status === 'Pausing' || status === 'Paused') return reject(`the job is already ${status}`);
      return status === 'Active' || status === 'Ready'
        ? { ok: true }
        : reject(`only a Ready or Active job can be paused; this job is ${status}`);
    case 'Resume':
      return status === 'Pausing' || status === 'Paused'
        ? { ok: true }
        : reject(`only a Pausing or Paused job can be resumed; this job is ${status}`);
    case 'UpdatePriority':
      return ['Cancelling', 'Failing', 'Completing'].includes(status)
        ? reject(`the job is ${status}; its priority no longer matters`)
        : { ok: true };
    case 'UpdateRate':
      return ['Cancelling', 'Failing', 'Completing'].includes(status)
        ? reject(`the job is ${status}; it starts no more tasks`)
        : { ok: true };
  }
}
