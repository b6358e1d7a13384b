/**
 * Reads one page of the manifest: the rows whose first byte lies in [start, end). Reads from one byte before the
 * page (to know whether the page begins at a row start) to the end of the last row that begins inside it.
 */
import { Context } from '@temporalio/activity';
import type { ManifestRef } from '../../shared/page-context';
import type { TaskRow } from '../../shared/types';
import type { Connections } from '../s3-clients';
import { parseManifestLine } from './csv-row';
import { readLines } from './line-reader';
import { manifestError, streamManifest } from './manifest-object';

export interface ReadPageInput {
  manifest: ManifestRef;
  range: { start: number; end: number };
}

export async function readPage(connections: Connections, input: ReadPageInput): Promise<{ rows: TaskRow[] }> {
  const { manifest, range } = input;
  const s3 = connections.s3(manifest.connection);
  const streamStart = range.start > 0 ? range.start - 1 : 0;
  const body = await streamManifest(s3, manifest, streamStart, Context.current().cancellationSignal);
  const rows: TaskRow[] = [];
  try {
    for await (const line of readLines(body, streamStart, range.start > 0)) {
      if (line.offset >= range.end) break;
      rows.push(
        line.text === undefined
          ? { offset: line.offset, bucket: '', rawKey: '', error: `Manifest row at byte ${line.offset}: ${line.problem}` }
          : parseManifestLine(line.text, line.offset, manifest.columns)
      );
    }
  } catch (err) {
    throw manifestError(err, manifest);
  } finally {
    body.destroy?.();
  }
  return { rows };
}
