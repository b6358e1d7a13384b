/**
 * Incremental hashers for every S3ComputeObjectChecksum algorithm, all with one shape: feed chunks, then take the
 * big-endian digest bytes (what S3 base64-encodes into x-amz-checksum-* headers). MD5 and SHA* come from node:crypto;
 * CRC32, CRC32C, CRC64NVME and the xxHash family from @aws-sdk/checksums, the SDK's own implementations (the same
 * code that checks x-amz-checksum-* on uploads and downloads), which hash in fixed-size blocks: memory stays
 * constant however much is fed.
 */
import { createHash } from 'node:crypto';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { Xxh3_128, Xxh3_64, Xxh64 } from '@aws-sdk/checksums/xxh';
import type { OperationParams } from '../../../schemas/operations';

export type ChecksumAlgorithm = OperationParams<'S3ComputeObjectChecksum'>['ChecksumAlgorithm'];

export interface Hasher {
  update(chunk: Uint8Array): void;
  /** The digest, big-endian. Call once. */
  digest(): Promise<Uint8Array>;
}

function nodeHash(name: 'md5' | 'sha1' | 'sha256' | 'sha512'): Hasher {
  const hash = createHash(name);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => hash.digest(),
  };
}

const FACTORIES: Record<ChecksumAlgorithm, () => Hasher> = {
  CRC32: () => new Crc32(),
  CRC32C: () => new Crc32c(),
  CRC64NVME: () => new Crc64Nvme(),
  MD5: () => nodeHash('md5'),
  SHA1: () => nodeHash('sha1'),
  SHA256: () => nodeHash('sha256'),
  SHA512: () => nodeHash('sha512'),
  XXHASH64: () => new Xxh64(),
  XXHASH3: () => new Xxh3_64(),
  XXHASH128: () => new Xxh3_128(),
};

export function createHasher(algorithm: ChecksumAlgorithm): Hasher {
  return FACTORIES[algorithm]();
}

/** Hashes a stream chunk by chunk; never holds more than the chunk in hand. */
export async function hashStream(
  algorithm: ChecksumAlgorithm,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
): Promise<Uint8Array> {
  const hasher = createHasher(algorithm);
  for await (const chunk of body) hasher.update(chunk);
  return hasher.digest();
}

/**
 * S3's COMPOSITE checksum of a multipart object: the checksum of the concatenated raw part digests, base64, then
 * `-<number of parts>` (as S3 reports it for multipart uploads, e.g. `cmL3…1vo=-2`).
 */
export async function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partDigests: readonly Uint8Array[]
): Promise<string> {
  const hasher = createHasher(algorithm);
  for (const digest of partDigests) hasher.update(digest);
  return `${toBase64(await hasher.digest())}-${partDigests.length}`;
}

export function toBase64(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('base64');
}
