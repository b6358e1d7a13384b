/**
 * Reads one page of the manifest: the rows whose first byte lies in [start, end). Reads from one byte before the
 * page (to know whether the page begins at a row start) to the end of the last row that begins inside it.
 *
 * Rows are numbered by their line in the manifest, from the page's `firstRow` (the line number of the first row
 * that begins in the page, which Preparing recorded); without it, messages give byte offsets only. With
 * `manifest.headerRow`, the line at byte 0 (page 0's first) is skipped: it is no task, but it keeps its number.
 */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import type { ManifestRef } from '../../shared/page-context';
import type { TaskRow } from '../../shared/types';
import { expectingOwner } from '../bucket-owner';
import type { Connections } from '../s3-clients';
import { badRow, parseManifestLine } from './csv-row';
import { readLines } from './line-reader';
import { manifestError, streamManifest } from './manifest-object';

export interface ReadPageInput {
  manifest: ManifestRef;
  /** `firstRow`: the 1-based line number of the first row that begins in [start, end); absent in older jobs. */
  range: { start: number; end: number; firstRow?: number };
}

export async function readPage(connections: Connections, input: ReadPageInput): Promise<{ rows: TaskRow[] }> {
  const { manifest, range } = input;
  const s3 = expectingOwner(connections.s3(manifest.connection), manifest.bucket, manifest.expectedOwner);
  const gzip = manifest.compression === 'gzip';
  if (gzip && range.start !== 0) throw new Error(`a gzipped manifest is read whole: range must start at 0, got ${range.start}`);
  const streamStart = range.start > 0 ? range.start - 1 : 0;
  const object = await streamManifest(s3, manifest, streamStart, Context.current().cancellationSignal);
  // Offsets in a gzipped file count its text, not its bytes: good enough to name a row in a message.
  const body: AsyncIterable<Uint8Array> & { destroy?: () => void } = gzip ? Readable.from(object).pipe(createGunzip()) : object;
  const rows: TaskRow[] = [];
  let lineNumber = range.firstRow;
  try {
    for await (const line of readLines(body, streamStart, range.start > 0)) {
      if (line.offset >= range.end) break;
      const number = lineNumber;
      if (lineNumber !== undefined) lineNumber++;
      if (line.offset === 0 && manifest.headerRow) continue;
      rows.push(
        line.text === undefined
          ? badRow(line.offset, number, line.problem ?? 'unreadable row')
          : parseManifestLine(line.text, line.offset, manifest.columns, number)
      );
    }
  } catch (err) {
    throw manifestError(err, manifest);
  } finally {
    body.destroy?.();
    if (body !== object) object.destroy?.();
  }
  return { rows };
}
