/**
 * Where a generated manifest (ManifestGenerator) lives: `<prefix>/job-<jobId>/manifest.json`, with its data files
 * under `data/`, one per listed chunk. Pure; used by the workflow and the listing activity alike.
 */
import type { ResolvedGenerator } from '../schemas/manifest-generator';

/** Columns of a generated data file: AWS's S3 Inventory CSV style, no header, every field quoted. */
export const GENERATED_FILE_SCHEMA = 'Bucket, Key, VersionId, Size, LastModifiedDate, ETag, StorageClass';

export function generatedManifestFolder(output: ResolvedGenerator['output'], jobId: string): string {
  return output.prefix ? `${output.prefix}/job-${jobId}` : `job-${jobId}`;
}

export function generatedDataFileKey(output: ResolvedGenerator['output'], jobId: string, index: number): string {
  return `${generatedManifestFolder(output, jobId)}/data/${String(index).padStart(6, '0')}.csv.gz`;
}
