/**
 * How the CLI turns an error into a message and an exit code: every failure ends in one place (reportError), so
 * the message always says what to fix and the code is always one of EXIT_CODES.
 */
import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { AccessDeniedError } from '../access-policy';
import { PrincipalConfigError } from '../client-principal';
import { IdempotencyError, JobSpecError, JobStatusError } from '../job-client';
import { WorkerConfigError } from '../schemas/worker-config';
import { EXIT_CODES, type ExitCode } from './exit-codes';

/** An error the CLI raises itself, with the exit code it means and a message that says what to fix. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function badInput(message: string): CliError {
  return new CliError(EXIT_CODES.badInput, message);
}

const GRPC_UNAVAILABLE = 14;

/** A lost or refused connection to Temporal, at connect time or in the middle of a command. */
function isUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === GRPC_UNAVAILABLE) return true;
    if (typeof e.message === 'string' && /Failed to connect before the deadline|ECONNREFUSED|No connection established/i.test(e.message)) {
      return true;
    }
    e = e.cause as typeof e;
  }
  return false;
}

export function unreachableMessage(address: string, detail: string): string {
  return (
    `cannot reach the Temporal server at ${address}: ${detail}\n` +
    'Start it (npm run stack:up) or point S3BATCH_TEMPORAL_ADDRESS at a running server (host:port).\n' +
    'A server that requires TLS refuses clients without it: set S3BATCH_TEMPORAL_TLS_CERT, S3BATCH_TEMPORAL_TLS_KEY and S3BATCH_TEMPORAL_TLS_CA (or S3BATCH_TEMPORAL_API_KEY).'
  );
}

/** The message and exit code for any error a command throws. */
export function classifyError(err: unknown, address: string): { exitCode: ExitCode; message: string } {
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  if (err instanceof JobSpecError) {
    return { exitCode: EXIT_CODES.badInput, message: `invalid job:\n${err.problems.map((p) => `  - ${p.path || '(job)'}: ${p.message}`).join('\n')}` };
  }
  if (err instanceof z.ZodError) return { exitCode: EXIT_CODES.badInput, message: z.prettifyError(err) };
  if (err instanceof WorkerConfigError) {
    return { exitCode: EXIT_CODES.badInput, message: `${err.message}\nFix the file named by S3BATCH_WORKER_CONFIG or the S3BATCH_* variables.` };
  }
  if (err instanceof IdempotencyError) {
    return { exitCode: EXIT_CODES.refused, message: `${err.message}; use a new --client-token, or the same request as before` };
  }
  if (err instanceof JobStatusError) return { exitCode: EXIT_CODES.refused, message: `refused: ${err.message}` };
  if (err instanceof AccessDeniedError) return { exitCode: EXIT_CODES.refused, message: `access denied: ${err.message} (S3BATCH_IDENTITY_POLICY)` };
  if (err instanceof PrincipalConfigError) return { exitCode: EXIT_CODES.badInput, message: err.message };
  if (err instanceof WorkflowNotFoundError) {
    return { exitCode: EXIT_CODES.notFound, message: `no job ${err.workflowId} (check the job id, and S3BATCH_NAMESPACE)` };
  }
  if (err instanceof NamespaceNotFoundError) {
    return { exitCode: EXIT_CODES.badInput, message: `${err.message}: set S3BATCH_NAMESPACE to a namespace that exists on ${address}` };
  }
  if (isUnreachable(err)) return { exitCode: EXIT_CODES.unreachable, message: unreachableMessage(address, (err as Error).message) };
  return { exitCode: EXIT_CODES.error, message: err instanceof Error ? err.message : String(err) };
}
