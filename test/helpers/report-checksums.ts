/**
 * Checks a completion report against its own checksums, from the bytes in the bucket: the MD5 that `manifest.json`
 * gives for each shard, and the MD5 that `manifest.json.md5` gives for `manifest.json` itself. Pure, so a test can
 * feed it tampered input and see it fail; readReport (engine.ts) runs it on every report a test reads.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export interface ReportFiles {
  /** The bytes of manifest.json, as stored. */
  manifest: Uint8Array;
  /** The text of manifest.json.md5, as stored. */
  manifestMd5: string;
  /** The bytes of every shard manifest.json lists, by key (a missing key is a problem). */
  shards: ReadonlyMap<string, Uint8Array>;
}

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

const ManifestChecksums = z.object({
  Results: z.array(z.object({ Key: z.string().min(1), MD5Checksum: z.string() })),
});

/** Every disagreement between the report's checksums and its bytes; empty when all agree. */
export function reportChecksumProblems(files: ReportFiles): string[] {
  const problems: string[] = [];
  const actual = md5(files.manifest);
  if (files.manifestMd5.trim() !== actual) problems.push(`manifest.json has MD5 ${actual}, manifest.json.md5 says ${JSON.stringify(files.manifestMd5)}`);
  const parsed = ManifestChecksums.safeParse(JSON.parse(Buffer.from(files.manifest).toString('utf8')));
  if (!parsed.success) return [...problems, `manifest.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`];
  for (const { Key, MD5Checksum } of parsed.data.Results) {
    const body = files.shards.get(Key);
    if (!body) {
      problems.push(`shard ${Key}: listed in manifest.json but not read`);
      continue;
    }
    const shardMd5 = md5(body);
    if (shardMd5 !== MD5Checksum) problems.push(`shard ${Key}: MD5 ${shardMd5}, manifest.json says ${JSON.stringify(MD5Checksum)}`);
  }
  return problems;
}
