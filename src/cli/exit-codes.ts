/**
 * The s3batch exit codes: one table, shown in --help, so scripts can branch on them. 1 stays for the unexpected (it is
 * also what Node uses for an uncaught error), so a crash is never mistaken for a job outcome.
 */
export const EXIT_CODES = {
  /** The command did what it was asked; with --wait/watch, the job ended Complete. */
  ok: 0,
  /** Something unexpected (a bug, or an error the CLI does not classify); the message says what. */
  error: 1,
  /** Bad input: unknown command or option, missing argument, bad value, invalid job file or spec. */
  badInput: 2,
  /**
   * The job refused the request in its current status (e.g. resume a Complete job), the token was reused, or the
   * identity's policy (S3BATCH_IDENTITY_POLICY) does not allow it.
   */
  refused: 3,
  /** The Temporal server could not be reached (S3BATCH_TEMPORAL_ADDRESS). */
  unreachable: 4,
  /** Waiting (--wait, watch): the job ended Failed. */
  jobFailed: 5,
  /** Waiting (--wait, watch): the job ended Cancelled. */
  jobCancelled: 6,
  /** No job with that id in the namespace. */
  notFound: 7,
  /** doctor: at least one check failed (each failure is printed with its fix). */
  unhealthy: 8,
  /** describe-job: the job is running and no worker polls its task queue, so nothing can answer for it. */
  noWorker: 9,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exit code for a job that has ended, as waiting commands report it. */
export function exitCodeForStatus(status: string): ExitCode {
  if (status === 'Complete') return EXIT_CODES.ok;
  if (status === 'Cancelled') return EXIT_CODES.jobCancelled;
  return EXIT_CODES.jobFailed;
}

/** The table as --help prints it. */
export function exitCodesHelp(): string {
  const lines: [number, string][] = [
    [EXIT_CODES.ok, 'success (when waiting: the job ended Complete)'],
    [EXIT_CODES.error, 'unexpected error'],
    [EXIT_CODES.badInput, 'bad input: command, option, value, job file or spec'],
    [EXIT_CODES.refused, 'refused by the job in its current status, ClientRequestToken reused, or not allowed to the identity'],
    [EXIT_CODES.unreachable, 'Temporal server unreachable (S3BATCH_TEMPORAL_ADDRESS)'],
    [EXIT_CODES.jobFailed, 'when waiting: the job ended Failed'],
    [EXIT_CODES.jobCancelled, 'when waiting: the job ended Cancelled'],
    [EXIT_CODES.notFound, 'no such job'],
    [EXIT_CODES.unhealthy, 'doctor: a check failed'],
    [EXIT_CODES.noWorker, 'describe-job: the job is running and no worker polls its task queue'],
  ];
  return ['Exit codes:', ...lines.map(([code, text]) => `  ${code}  ${text}`)].join('\n');
}
