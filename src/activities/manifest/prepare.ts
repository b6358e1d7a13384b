/**
 * Preparing: read the manifest once, from start to end, to pin its version (ETag), count its rows and cut it into
 * pages. Pages are byte ranges of equal size, chosen so that a page holds about PageSize rows; nothing but these
 * numbers goes back to the workflow.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Connections } from '../s3-clients';
import { bareETag, headManifest, ManifestFailure, manifestError, streamManifest, type ManifestObjectRef } from './manifest-object';

export interface PrepareManifestInput {
  manifest: ManifestObjectRef & { connection: string };
  pageSize: number;
}

export interface PreparedManifest {
  etag: string;
  size: number;
  rows: number;
  pageBytes: number;
  pageCount: number;
}

const HEARTBEAT_EVERY_BYTES = 8 * 1024 * 1024;

export function pagesFor(size: number, rows: number, pageSize: number): { pageBytes: number; pageCount: number } {
  if (rows === 0 || size === 0) return { pageBytes: 1, pageCount: 0 };
  const pageBytes = Math.max(1, Math.ceil((size / rows) * pageSize));
  return { pageBytes, pageCount: Math.ceil(size / pageBytes) };
}

export async function prepareManifest(connections: Connections, input: PrepareManifestInput): Promise<PreparedManifest> {
  const s3 = connections.s3(input.manifest.connection);
  const head = await headManifest(s3, input.manifest);
  const expected = input.manifest.etag ? bareETag(input.manifest.etag) : undefined;
  if (expected && expected !== head.etag) {
    throw ApplicationFailure.nonRetryable(
      `Etag mismatch reading manifest s3://${input.manifest.bucket}/${input.manifest.key}: the job gives ${expected}, the object has ${head.etag}`,
      ManifestFailure.ETagMismatch
    );
  }
  const ref = { ...input.manifest, etag: head.etag };
  const ctx = Context.current();
  const body = await streamManifest(s3, ref, 0, ctx.cancellationSignal);
  let size = 0;
  let lineBreaks = 0;
  let lastByte = 0x0a;
  let sinceHeartbeat = 0;
  try {
    for await (const chunk of body) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a) lineBreaks++;
      if (chunk.length > 0) lastByte = chunk[chunk.length - 1]!;
      size += chunk.length;
      sinceHeartbeat += chunk.length;
      if (sinceHeartbeat >= HEARTBEAT_EVERY_BYTES) {
        sinceHeartbeat = 0;
        ctx.heartbeat({ bytesRead: size });
      }
    }
  } catch (err) {
    throw manifestError(err, ref);
  }
  // A last row without a line break still counts.
  const rows = lineBreaks + (size > 0 && lastByte !== 0x0a ? 1 : 0);
  return { etag: head.etag, size, rows, ...pagesFor(size, rows, input.pageSize) };
}
