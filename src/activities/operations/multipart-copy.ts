/**
 * Server-side multipart copy, for objects above the worker's copy threshold (CopyObject itself stops at 5 GiB):
 * CreateMultipartUpload, UploadPartCopy of byte ranges a few at a time, CompleteMultipartUpload. The caller
 * (put-object-copy.ts) decides what the copy should look like (target, metadata, tags, ACL, SSE, lock fields);
 * this module only moves the bytes and takes care of the checksum, the source pin and the cleanup.
 *
 * Retries: a retried task starts a fresh upload instead of resuming the old one. That is safe because an upload is
 * invisible until it completes, and completing is atomic: the target key only ever holds a whole copy of the one
 * pinned source. An attempt that failed here aborted its upload; one whose worker died leaves an incomplete upload
 * that costs storage until an AbortIncompleteMultipartUpload lifecycle rule (or an operator) removes it. Two attempts
 * running at once (a heartbeat timeout while the first still works) each complete a whole, correct copy; the last
 * one wins. Resuming would need the upload id in heartbeat details and ListParts, for little gain at these part sizes.
 */
import {
  AbortMultipartUploadCommand,
  type AbortMultipartUploadCommandInput,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
  type CreateMultipartUploadCommandInput,
  type RequestPayer,
  type S3Client,
} from '@aws-sdk/client-s3';
import { TaskFailure } from './operation';

/** S3 allows at most 10,000 parts per upload. */
export const MAX_PARTS = 10_000;
/** Part copies in flight per object: enough to hide request latency, few enough not to crowd other tasks. */
export const PART_CONCURRENCY = 4;
const ABORT_TIMEOUT_MS = 30_000;

export interface PartRange {
  partNumber: number;
  /** First byte of the part. */
  start: number;
  /** Last byte of the part (inclusive, as in an HTTP range). */
  end: number;
}

/**
 * Splits `size` bytes into parts of `partSizeBytes`, raised to ceil(size / 10,000) when the object would need more
 * than 10,000 parts. Only the last part may be smaller. The ranges cover [0, size) exactly, in order.
 */
export function planParts(size: number, partSizeBytes: number): PartRange[] {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`cannot plan parts for a size of ${size}`);
  const partSize = Math.max(partSizeBytes, Math.ceil(size / MAX_PARTS));
  const parts: PartRange[] = [];
  for (let start = 0; start < size; start += partSize) {
    parts.push({ partNumber: parts.length + 1, start, end: Math.min(start + partSize, size) - 1 });
  }
  return parts;
}

/** CRCs can be combined into a checksum of the whole object; SHA digests of a multipart object are per part. */
const FULL_OBJECT_ALGORITHMS: ReadonlySet<ChecksumAlgorithm> = new Set(['CRC32', 'CRC32C', 'CRC64NVME']);

export interface MultipartChecksum {
  algorithm: ChecksumAlgorithm;
  /** The job asked for it (ChecksumAlgorithm); else it is the source's, kept when the endpoint can. */
  explicit: boolean;
  /** The source's full-object checksum of this algorithm: S3 verifies the assembled copy against it. */
  fullObjectValue?: string;
}

export interface MultipartCopyRequest {
  /** CopySource of the source (`bucket/key`, with `?versionId=` for a version). */
  copySource: string;
  /** Size and ETag of the source from HeadObject; every part copy is pinned to this ETag. */
  size: number;
  etag: string;
  /** Everything CreateMultipartUpload needs except the checksum: target, metadata, tags, ACL, SSE, lock fields. */
  create: CreateMultipartUploadCommandInput;
  checksum?: MultipartChecksum;
  requestPayer?: RequestPayer;
  partSizeBytes: number;
  concurrency?: number;
}

export interface MultipartCopyResult {
  httpStatus?: number;
  parts: number;
  /** The copy's checksum algorithm; undefined when there is none (or the endpoint could not compute part checksums). */
  checksum?: ChecksumAlgorithm;
}

/**
 * Endpoints seen not to compute checksums for UploadPartCopy. MinIO answers InvalidArgument "checksum missing" for
 * every part copy into an upload that has a checksum algorithm; AWS computes them. Remembered per client so that a
 * MinIO worker does not fail one part copy per object before falling back.
 */
const noPartCopyChecksums = new WeakSet<S3Client>();

function isPartChecksumUnsupported(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  return e?.name === 'InvalidArgument' && /checksum missing/i.test(e.message ?? '');
}

type PartChecksumField = `Checksum${ChecksumAlgorithm}`;

/** Copies the source to `create.Bucket`/`create.Key` part by part; throws (after aborting the upload) on failure. */
export async function multipartCopy(
  s3: S3Client,
  signal: AbortSignal,
  req: MultipartCopyRequest
): Promise<MultipartCopyResult> {
  const checksum = req.checksum && !noPartCopyChecksums.has(s3) ? req.checksum : undefined;
  if (req.checksum?.explicit && !checksum) throw checksumUnsupported(req.checksum.algorithm);
  try {
    return await copyOnce(s3, signal, req, checksum);
  } catch (err) {
    if (!checksum || !isPartChecksumUnsupported(err) || signal.aborted) throw err;
    noPartCopyChecksums.add(s3);
    if (checksum.explicit) throw checksumUnsupported(checksum.algorithm);
    // The source's algorithm was only inherited: a copy without it beats no copy (see the differences in docs/operations.md).
    return copyOnce(s3, signal, req, undefined);
  }
}

function checksumUnsupported(algorithm: ChecksumAlgorithm): TaskFailure {
  return new TaskFailure(
    'NotImplemented',
    `this S3 endpoint does not compute checksums for UploadPartCopy, ` +
      `so ChecksumAlgorithm ${algorithm} cannot be applied to a multipart copy`,
    false,
    501
  );
}

async function copyOnce(
  s3: S3Client,
  signal: AbortSignal,
  req: MultipartCopyRequest,
  checksum: MultipartChecksum | undefined
): Promise<MultipartCopyResult> {
  const fullObject = checksum !== undefined && FULL_OBJECT_ALGORITHMS.has(checksum.algorithm);
  const { Bucket, Key } = req.create;
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      ...req.create,
      RequestPayer: req.requestPayer,
      ChecksumAlgorithm: checksum?.algorithm,
      // Unset for SHA digests: S3's default for them is COMPOSITE, a checksum of the part checksums.
      ChecksumType: fullObject ? 'FULL_OBJECT' : undefined,
    }),
    { abortSignal: signal }
  );
  const UploadId = created.UploadId;
  if (!UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  try {
    const ranges = planParts(req.size, req.partSizeBytes);
    const field: PartChecksumField | undefined = checksum ? `Checksum${checksum.algorithm}` : undefined;
    const parts = await copyParts(ranges, req.concurrency ?? PART_CONCURRENCY, signal, async (range, partSignal) => {
      const out = await s3.send(
        new UploadPartCopyCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: range.partNumber,
          CopySource: req.copySource,
          CopySourceRange: `bytes=${range.start}-${range.end}`,
          // A source overwritten mid-copy fails the part (412) instead of mixing bytes of two versions.
          CopySourceIfMatch: req.etag,
          RequestPayer: req.requestPayer,
        }),
        { abortSignal: partSignal }
      );
      const result = out.CopyPartResult;
      if (!result?.ETag) throw new Error(`UploadPartCopy of part ${range.partNumber} returned no ETag`);
      const part: CompletedPart = { PartNumber: range.partNumber, ETag: result.ETag };
      if (field && result[field]) part[field] = result[field];
      return part;
    });
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: parts },
        RequestPayer: req.requestPayer,
        MpuObjectSize: req.size,
        ChecksumType: fullObject ? 'FULL_OBJECT' : undefined,
        ...(fullObject && field && checksum.fullObjectValue ? { [field]: checksum.fullObjectValue } : {}),
      }),
      { abortSignal: signal }
    );
    return { httpStatus: done.$metadata.httpStatusCode, parts: parts.length, checksum: checksum?.algorithm };
  } catch (err) {
    await abortUpload(s3, { Bucket, Key, UploadId, RequestPayer: req.requestPayer });
    throw err;
  }
}

/**
 * Runs `copy` over the ranges, `concurrency` at a time, and returns the parts in part order. The first failure stops
 * new part copies, aborts the ones in flight, and is what this throws (not the aborts it caused).
 */
async function copyParts(
  ranges: PartRange[],
  concurrency: number,
  signal: AbortSignal,
  copy: (range: PartRange, signal: AbortSignal) => Promise<CompletedPart>
): Promise<CompletedPart[]> {
  const stop = new AbortController();
  const partSignal = AbortSignal.any([signal, stop.signal]);
  const parts: CompletedPart[] = new Array<CompletedPart>(ranges.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && !signal.aborted && next < ranges.length) {
      const index = next++;
      try {
        parts[index] = await copy(ranges[index]!, partSignal);
      } catch (error) {
        if (!failure) {
          failure = { error };
          stop.abort();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ranges.length) }, lane));
  if (failure) throw failure.error;
  // Cancelled between parts: surface it the way an SDK call would.
  signal.throwIfAborted();
  return parts;
}

/**
 * Best effort: a failed abort must not hide the error that caused it. It gets its own timeout rather than the task's
 * signal, so that a cancelled task still cleans up.
 */
async function abortUpload(s3: S3Client, input: AbortMultipartUploadCommandInput): Promise<void> {
  try {
    await s3.send(new AbortMultipartUploadCommand(input), { abortSignal: AbortSignal.timeout(ABORT_TIMEOUT_MS) });
  } catch {
    // Left for an AbortIncompleteMultipartUpload lifecycle rule; the upload never becomes an object.
  }
}
