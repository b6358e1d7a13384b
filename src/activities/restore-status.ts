/**
 * The check behind Extensions.WaitForRestore: HeadObject on objects whose restore was requested, read their
 * `x-amz-restore` header. One activity call checks a batch, so a page waiting on hundreds of restores costs one
 * timer and one activity per round in its history, not one per object.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { truncate } from '../shared/types';
import { classifyAwsError } from './aws-errors';
import type { TaskObject } from './operations/operation';
import type { Connections } from './s3-clients';

export type RestoreState =
  /** The restored copy is readable (until `expiry`, when S3 gives one). */
  | { state: 'restored'; expiry?: string }
  /** Still running, or the check itself could not be made this time (a retryable error): check again later. */
  | { state: 'ongoing' }
  /** The object will not become readable by waiting: gone, or no restore on record. */
  | { state: 'failed'; errorCode: string; httpStatus?: number; message: string };

export interface CheckRestoresInput {
  connection: string;
  objects: TaskObject[];
}

const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const CHECKS_IN_FLIGHT = 16;

/** Parses `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`. */
export function parseRestoreHeader(header: string | undefined): { ongoing: boolean; expiry?: string } | undefined {
  if (!header) return undefined;
  const ongoing = /ongoing-request\s*=\s*"?(true|false)"?/i.exec(header)?.[1]?.toLowerCase();
  if (ongoing === undefined) return undefined;
  const expiry = /expiry-date\s*=\s*"([^"]+)"/i.exec(header)?.[1];
  return { ongoing: ongoing === 'true', expiry: expiry ? new Date(expiry).toISOString() : undefined };
}

async function checkOne(connections: Connections, connection: string, object: TaskObject, signal: AbortSignal): Promise<RestoreState> {
  try {
    const head = await connections
      .s3(connection)
      .send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }), { abortSignal: signal });
    const restore = parseRestoreHeader(head.Restore);
    if (restore) return restore.ongoing ? { state: 'ongoing' } : { state: 'restored', expiry: restore.expiry };
    // No restore header: readable if it is not (or no longer) archived, else its restore is not on record (expired
    // already, or the object was replaced by an archived one) and waiting will not change that.
    if (!ARCHIVE_CLASSES.has(head.StorageClass ?? 'STANDARD')) return { state: 'restored' };
    return {
      state: 'failed',
      errorCode: 'RestoreNotFound',
      message: `the object is in ${head.StorageClass} and S3 shows no restore for it (expired, or the object was replaced)`,
    };
  } catch (err) {
    const c = classifyAwsError(err);
    if (c.retryable) return { state: 'ongoing' };
    return { state: 'failed', errorCode: c.code, httpStatus: c.httpStatus, message: truncate(`checking the restore: ${c.message}`) };
  }
}

export async function checkRestores(connections: Connections, input: CheckRestoresInput): Promise<RestoreState[]> {
  const signal = Context.current().cancellationSignal;
  const states: RestoreState[] = new Array(input.objects.length);
  let next = 0;
  const worker = async () => {
    while (next < input.objects.length) {
      const i = next++;
      states[i] = await checkOne(connections, input.connection, input.objects[i]!, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECKS_IN_FLIGHT, input.objects.length) }, worker));
  return states;
}
