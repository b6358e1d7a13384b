/**
 * One line of a CSV manifest (S3BatchOperations_CSV_20180820) turned into a task row. Pure.
 * AWS's rules: comma-separated, keys URL-encoded, no header (ours: Extensions.ManifestHeaderRow skips one),
 * `bucket,key[,versionId]` unless Spec.Fields says otherwise. A row that breaks them becomes a failed task with the
 * reason and its line number, never a crashed job.
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
      // From quote to quote, a run at a time: rows are read by the million (pages, S3 Inventory quotes every field).
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) return { error: 'unterminated quoted field' };
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
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

/**
 * Where a row is, for its messages: its 1-based line number in the manifest when the job knows it (pages get their
 * first line's number from Preparing), else its byte offset alone (jobs prepared before line numbers, or manifests
 * with too many pages to record them; see prepare.ts).
 */
export function rowLabel(offset: number, line?: number): string {
  return line === undefined ? `Manifest row at byte ${offset}` : `Manifest line ${line} (byte ${offset})`;
}

/** A row that cannot become a task: it fails with `error`, prefixed with where it is. */
export function badRow(offset: number, line: number | undefined, error: string, bucket = '', rawKey = ''): TaskRow {
  return { offset, bucket, rawKey, error: `${rowLabel(offset, line)}: ${error}` };
}

/** The hint a bad first line gets when it looks like a header (Athena and spreadsheet exports write one). */
export const HEADER_ROW_HINT = ' (this looks like a header row: set Extensions.ManifestHeaderRow to skip it)';

const HEADER_WORDS = /^(s3[ _-]?)?(bucket|key|object[ _-]?key|version[ _-]?id|versionid|bucket[ _-]?name|key[ _-]?name)$/i;

/**
 * How much a line's bucket and key fields read like column names (`Bucket,Key`, `"bucket","key"`, `s3_bucket,…`):
 * 'both' or 'one' field, or 'none'.
 */
export function headerLikeness(fields: string[], columns: ManifestRef['columns']): 'both' | 'one' | 'none' {
  const hits = [fields[columns.bucket], fields[columns.key]].filter((f) => HEADER_WORDS.test(f?.trim() ?? '')).length;
  return hits === 2 ? 'both' : hits === 1 ? 'one' : 'none';
}

/**
 * Parses a manifest line (without its line break) found at byte `offset`; `line` is its 1-based line number when
 * known. Only the manifest's first line (offset 0) can get the header-row hint.
 */
export function parseManifestLine(text: string, offset: number, columns: ManifestRef['columns'], line?: number): TaskRow {
  let hint = '';
  const bad = (error: string, bucket = '', rawKey = ''): TaskRow => badRow(offset, line, `${error}${hint}`, bucket, rawKey);
  if (text.trim() === '') return bad('blank line');
  const fields = splitCsvLine(text);
  if (!Array.isArray(fields)) return bad(`${fields.error}: ${JSON.stringify(text.slice(0, 200))}`);
  const likeness = offset === 0 ? headerLikeness(fields, columns) : 'none';
  if (likeness !== 'none') hint = HEADER_ROW_HINT;
  // `bucket,key` (Athena's lowercase header) is a valid bucket and key: a first line whose bucket and key are both
  // column names fails rather than acting on s3://bucket/key. A bad first line with one of them gets the hint.
  if (likeness === 'both') return bad('the bucket and key fields are column names', fields[columns.bucket], fields[columns.key]);
  const expected = columns.count === -1 ? '2 or 3' : String(columns.count);
  const countOk = columns.count === -1 ? fields.length === 2 || fields.length === 3 : fields.length === columns.count;
  const bucket = fields[columns.bucket] ?? '';
  const rawKey = fields[columns.key] ?? '';
  if (!countOk) return bad(`expected ${expected} fields, got ${fields.length}: ${JSON.stringify(text.slice(0, 200))}`, bucket, rawKey);
  if (!BUCKET_NAME.test(bucket)) return bad(`"${bucket.slice(0, 100)}" is not a valid bucket name`, bucket, rawKey);
  if (rawKey === '') return bad('empty key', bucket, rawKey);
  const key = decodeManifestKey(rawKey);
  if (key === undefined) return bad(`key is not valid URL-encoding: ${JSON.stringify(rawKey.slice(0, 200))}`, bucket, rawKey);
  if (Buffer.byteLength(key, 'utf8') > 1024) return bad('key is longer than 1,024 bytes', bucket, rawKey);
  const versionId = columns.versionId >= 0 ? fields[columns.versionId] || undefined : undefined;
  return { offset, bucket, rawKey, key, versionId };
}
