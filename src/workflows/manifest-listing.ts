/**
 * Generated manifests (ManifestGenerator), the workflow side: the job lists its source bucket one chunk at a time
 * (one activity call each, a bounded number of S3 list calls), each chunk with rows becoming one gzipped data file
 * and one page. The listing's cursor is job state, so it continues across continue-as-new; the job starts a chunk's
 * page as soon as the chunk is written, so tasks run while the listing goes on. TotalNumberOfTasks is known once the
 * listing is done. Listing stays a little ahead of the pages (LISTING_AHEAD chunks), not the whole bucket ahead.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { ListingCursor } from '../activities/manifest/generate';
import type { ResolvedGenerator } from '../schemas/manifest-generator';
import { generatedDataFileKey } from '../shared/generated-manifest';
import { WHOLE_OBJECT, type ManifestRef } from '../shared/page-context';

type Activities = ReturnType<typeof createActivities>;

const { listManifestChunk, finishGeneratedManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** S3 list calls (up to 1,000 objects each) per activity call: bounds one call's time and the work a retry repeats. */
const LIST_CALLS_PER_CHUNK = 10;

/** The listing's progress. JSON-safe job state. */
export interface ListingState {
  /** Data files written: pages 0..files-1 exist. */
  files: number;
  /** Rows (matched objects) in them. */
  rows: number;
  /** Objects the listing has seen, matched or not. */
  listed: number;
  cursor?: ListingCursor;
  done: boolean;
  /** ETags of data files whose pages have not started yet, by file index: pages read exactly what was written. */
  unstarted: Record<string, string>;
  /** With EnableManifestOutput, once the listing is done: the manifest.json written (GeneratedManifestDescriptor). */
  manifest?: { bucket: string; key: string; etag: string };
}

export function newListing(): ListingState {
  return { files: 0, rows: 0, listed: 0, done: false, unstarted: {} };
}

/** How many written chunks may wait for their pages before listing pauses (besides the pages in flight). */
export function listingWanted(listing: ListingState, nextPage: number, maxConcurrentPages: number): boolean {
  return !listing.done && listing.files - nextPage < maxConcurrentPages;
}

/** Lists the next chunk; with the last one, writes manifest.json when the listing is kept (EnableManifestOutput). */
export async function listNextChunk(jobId: string, generator: ResolvedGenerator, listing: ListingState, pageSize: number): Promise<void> {
  const chunk = await listManifestChunk({
    jobId,
    generator,
    chunkIndex: listing.files,
    cursor: listing.cursor,
    maxRows: pageSize,
    maxListCalls: LIST_CALLS_PER_CHUNK,
  });
  listing.listed += chunk.listed;
  if (chunk.file && chunk.rows > 0) {
    listing.unstarted[String(listing.files)] = chunk.file.etag;
    listing.files++;
    listing.rows += chunk.rows;
  }
  listing.cursor = chunk.next;
  if (chunk.next) return;
  if (generator.output.kept) listing.manifest = await finishGeneratedManifest({ jobId, generator, files: listing.files });
  listing.done = true;
}

/** The manifest a generated job's page reads: its data file, whole, at the ETag it was written with. */
export function chunkManifest(
  jobId: string,
  generator: ResolvedGenerator,
  listing: ListingState,
  base: ManifestRef,
  pageIndex: number
): { manifest: ManifestRef; range: { start: number; end: number; firstRow: number } } {
  const etag = listing.unstarted[String(pageIndex)]!;
  delete listing.unstarted[String(pageIndex)];
  return {
    manifest: {
      ...base,
      bucket: generator.output.bucket,
      key: generatedDataFileKey(generator.output, jobId, pageIndex),
      etag,
      compression: 'gzip',
    },
    range: { start: 0, end: WHOLE_OBJECT, firstRow: 1 },
  };
}
