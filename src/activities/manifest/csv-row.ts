/**
 * One line of a CSV manifest (S3BatchOperations_CSV_20180820) turned into a task row. Pure.
 * AWS's rules: comma-separated, keys URL-encoded, no header, `bucket,key[,versionId]` unless Spec.Fields says
 * otherwise. A row that breaks them becomes a failed task with the reason, never a crashed job.
 */
import type { ManifestRef } from '../../shared/page-context';
import type { TaskRow } from '../../shared/types';

/** Longer rows cannot be valid (a key is at most 1,024 bytes, ×3 when URL-encoded). */
export const MAX_ROW_BYTES = 8 * 1024;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). Returns an error text for unbalanced quotes. */
export function splitCsvLine(line: string): string[] | { error: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) return { error: 'unterminated quoted field' };
        const ch = line[i]!;
        if (ch === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      if (i < line.length && line[i] !== ',') return { error: 'unexpected text after a closing quote' };
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const value = comma === -1 ? line.slice(i) : line.slice(i, comma);
      if (value.includes('"')) return { error: 'quote inside an unquoted field' };
      fields.push(value);
      i = comma === -1 ? line.length : comma;
    }
    if (i >= line.length) return fields;
    i++; // the comma
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}

/** Decodes a manifest key: percent-encoding, with `+` read as a space as AWS's own tooling does. */
export function decodeManifestKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Parses a manifest line (without its line break) found at `offset`. */
export function parseManifestLine(line: string, offset: number, columns: ManifestRef['columns']): TaskRow {
  const bad = (error: string, bucket = '', rawKey = ''): TaskRow => ({
    offset,
    bucket,
    rawKey,
    error: `Manifest row at byte ${offset}: ${error}`,
  });
  if (line.trim() === '') return bad('blank line');
  const fields = splitCsvLine(line);
  if (!Array.isArray(fields)) return bad(`${fields.error}: ${JSON.stringify(line.slice(0, 200))}`);
  const expected = columns.count === -1 ? '2 or 3' : String(columns.count);
  const countOk = columns.count === -1 ? fields.length === 2 || fields.length === 3 : fields.length === columns.count;
  const bucket = fields[columns.bucket] ?? '';
  const rawKey = fields[columns.key] ?? '';
  if (!countOk) return bad(`expected ${expected} fields, got ${fields.length}: ${JSON.stringify(line.slice(0, 200))}`, bucket, rawKey);
  if (!BUCKET_NAME.test(bucket)) {
    const hint = /^bucket$/i.test(bucket) ? ' (this looks like a header row: CSV manifests have none)' : '';
    return bad(`"${bucket.slice(0, 100)}" is not a valid bucket name${hint}`, bucket, rawKey);
  }
  if (rawKey === '') return bad('empty key', bucket, rawKey);
  const key = decodeManifestKey(rawKey);
  if (key === undefined) return bad(`key is not valid URL-encoding: ${JSON.stringify(rawKey.slice(0, 200))}`, bucket, rawKey);
  if (Buffer.byteLength(key, 'utf8') > 1024) return bad('key is longer than 1,024 bytes', bucket, rawKey);
  const versionId = columns.versionId >= 0 ? fields[columns.versionId] || undefined : undefined;
  return { offset, bucket, rawKey, key, versionId };
}
