/**
 * S3ComputeObjectChecksum on S3-compatible stores. AWS computes the checksum at rest, inside S3; no S3 API lets an
 * outside engine do that, so the worker reads the object (the row's version) with GetObject and hashes the stream as
 * it arrives, chunk by chunk: memory stays flat whatever the object's size, while time and transfer grow with it.
 *
 * - FULL_OBJECT: one GetObject; the digest of every byte.
 * - COMPOSITE: S3's multipart form. GetObject PartNumber=1 answers with PartsCount; each part is read and hashed on
 *   its own (parts after the first pinned with If-Match to the first one's ETag, so an overwrite during the read fails
 *   it, and the retry reads the new object, instead of mixing two), then the part digests are hashed together and
 *   reported as `<base64>-<parts>`, the way S3 reports multipart checksums. An object written by one PutObject has no
 *   parts: S3 itself gives it a FULL_OBJECT checksum (HeadObject ChecksumType FULL_OBJECT), and a "composite of one"
 *   would match nothing S3 reports, so we report its full-object checksum with type FULL_OBJECT. A multipart upload
 *   of a single part stays composite (`-1`), as S3 reports it.
 *
 * The result is the task's ResultMessage, as compact JSON: {"algorithm":"SHA256","type":"FULL_OBJECT","checksum":"…"}
 * (base64 of the big-endian digest, as in x-amz-checksum-* headers). Where AWS puts checksums in its integrity report
 * is unconfirmed. Objects in archive storage classes must be restored first here (GetObject answers
 * InvalidObjectState), which AWS does not need.
 */
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { OperationParams } from '../../schemas/operations';
import { compositeChecksum, hashStream, toBase64, type ChecksumAlgorithm } from './checksum/hashers';
import { TaskFailure, successStatus, type Operation, type OperationContext, type TaskObject } from './operation';

type Params = OperationParams<'S3ComputeObjectChecksum'>;

export interface ChecksumResult {
  algorithm: ChecksumAlgorithm;
  type: Params['ChecksumType'];
  checksum: string;
}

/** The ResultMessage: compact JSON, well under the report's 512-character message limit (SHA512 is 88 characters). */
export function checksumResultMessage(result: ChecksumResult): string {
  return JSON.stringify({ algorithm: result.algorithm, type: result.type, checksum: result.checksum });
}

/** A multipart object's ETag ends in -<parts>: how we notice a store that ignored PartNumber. */
const MULTIPART_ETAG = /-\d+"?$/;

interface Read {
  digest: Uint8Array;
  out: GetObjectCommandOutput;
}

async function readAndHash(
  { s3, signal }: OperationContext,
  object: TaskObject,
  algorithm: ChecksumAlgorithm,
  part?: { number: number; ifMatch?: string },
  check?: (out: GetObjectCommandOutput) => void
): Promise<Read> {
  const out = await s3.send(
    new GetObjectCommand({
      Bucket: object.bucket,
      Key: object.key,
      VersionId: object.versionId,
      PartNumber: part?.number,
      IfMatch: part?.ifMatch,
    }),
    { abortSignal: signal }
  );
  const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  try {
    check?.(out);
  } catch (err) {
    body?.destroy?.(); // not read: close the connection instead of downloading what we will not hash
    throw err;
  }
  return { digest: await hashStream(algorithm, body ?? []), out };
}

async function fullObject(ctx: OperationContext, object: TaskObject, algorithm: ChecksumAlgorithm) {
  const { digest, out } = await readAndHash(ctx, object, algorithm);
  const result = { algorithm, type: 'FULL_OBJECT' as const, checksum: toBase64(digest) };
  return { result, httpStatus: out.$metadata.httpStatusCode };
}

async function composite(ctx: OperationContext, object: TaskObject, algorithm: ChecksumAlgorithm) {
  const first = await readAndHash(ctx, object, algorithm, { number: 1 }, (out) => {
    if (out.PartsCount === undefined && MULTIPART_ETAG.test(out.ETag ?? '')) {
      throw new TaskFailure(
        'NotImplemented',
        'the store ignored GetObject PartNumber for this multipart object, so its COMPOSITE checksum cannot be ' +
          'computed; use ChecksumType FULL_OBJECT',
        false,
        501
      );
    }
  });
  const parts = first.out.PartsCount;
  const httpStatus = first.out.$metadata.httpStatusCode;
  // No PartsCount: not a multipart object, and part 1 was the whole of it (see the module comment).
  if (parts === undefined) {
    return { result: { algorithm, type: 'FULL_OBJECT' as const, checksum: toBase64(first.digest) }, httpStatus };
  }
  const digests = [first.digest];
  for (let n = 2; n <= parts; n++) {
    // Sequential on purpose: one part in flight keeps memory and connections per task constant.
    const { digest } = await readAndHash(ctx, object, algorithm, { number: n, ifMatch: first.out.ETag });
    digests.push(digest);
  }
  const checksum = await compositeChecksum(algorithm, digests);
  return { result: { algorithm, type: 'COMPOSITE' as const, checksum }, httpStatus };
}

export const computeObjectChecksum: Operation<'S3ComputeObjectChecksum'> = {
  run: async (ctx, object, params) => {
    const { result, httpStatus } =
      params.ChecksumType === 'COMPOSITE'
        ? await composite(ctx, object, params.ChecksumAlgorithm)
        : await fullObject(ctx, object, params.ChecksumAlgorithm);
    return { message: checksumResultMessage(result), httpStatus: successStatus(httpStatus) };
  },
  errorCodes: {
    // Both mean the object was overwritten between part reads (our If-Match pin failed, or the new object has fewer
    // parts than the store said): the retry reads the new object from its first part.
    retryable: ['PreconditionFailed', 'InvalidPartNumber'],
  },
};
