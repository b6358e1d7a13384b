/**
 * The audit trail's words, shared by the job workflow (which records them in its state and DescribeJob), the client
 * library and the HTTP API (which send them): who made a change (the actor), what it was, and when. Sandbox-safe
 * (zod only). An actor names a principal, never a secret: the HTTP API's access key id, or the configured identity
 * of the CLI or the client library.
 */
import { z } from 'zod';

/** Longest actor recorded: ids and user@host names fit; a pasted document does not. */
export const ACTOR_MAX_LENGTH = 200;

/** Who made a call: printable text (no control characters, so a log line cannot be forged with it). */
export const Actor = z
  .string()
  .min(1, 'expected a name (e.g. cli:alice@host), got an empty one')
  .max(ACTOR_MAX_LENGTH, `expected at most ${ACTOR_MAX_LENGTH} characters`)
  .regex(/^[^\p{Cc}]+$/u, 'expected printable text without control characters');

/** The actor of a call through the HTTP API: the key's id (its secret never leaves the API's memory). */
export function accessKeyActor(accessKeyId: string): string {
  return `access-key:${accessKeyId}`;
}

/** What the job's start input carries besides the CreateJob request (the workflow's third argument). */
export const JobOrigin = z
  .object({
    /** Who created the job (CreateJob, or a redrive). */
    createdBy: Actor.optional(),
  })
  .strict();
export type JobOrigin = z.infer<typeof JobOrigin>;

/** The changes a job records, by the call that made them. */
export type JobAction =
  | 'ConfirmJob'
  | 'CancelJob'
  | 'PauseJob'
  | 'ResumeJob'
  | 'UpdateJobPriority'
  | 'UpdateJobRate'
  | 'PutJobTagging'
  | 'DeleteJobTagging';

/** The last change made to a job (DescribeJob's S3Batch.LastChange). JSON-safe. */
export interface JobChange {
  Action: JobAction;
  /** Absent when the caller named none (an older client, `temporal workflow update`, a Temporal cancel). */
  Actor?: string;
  /** When the job handled it (the workflow's time). */
  Time: string;
}

/** Every control update's optional input field naming its caller. */
export interface Attributed {
  actor?: string;
}

/** The problem with an update's `actor`, as the update's validator words it; undefined when it is fine or absent. */
export function actorProblem(actor: unknown): string | undefined {
  if (actor === undefined) return undefined;
  const parsed = Actor.safeParse(actor);
  return parsed.success ? undefined : `actor: ${parsed.error.issues[0]!.message}`;
}
