/**
 * Reads lines with their byte offsets from a byte stream, without holding more than one line (capped) in memory.
 * Handles a UTF-8 BOM at offset 0, CRLF, invalid UTF-8 and overlong lines (reported, not kept).
 */
import { MAX_ROW_BYTES } from './csv-row';

export interface ManifestLine {
  offset: number;
  /** The line's text, or undefined when it is overlong or not UTF-8 (see `problem`). */
  text?: string;
  problem?: string;
  /** Bytes of the line including its line break. */
  length: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function toLine(bytes: Buffer, offset: number, length: number): ManifestLine {
  let body = bytes;
  if (offset === 0 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  if (body[body.length - 1] === 0x0d) body = body.subarray(0, body.length - 1);
  try {
    return { offset, length, text: decoder.decode(body) };
  } catch {
    return { offset, length, problem: 'row is not valid UTF-8' };
  }
}

/**
 * Yields the lines of a stream that begins at byte `streamOffset`. With `skipFirstLine`, the bytes up to and
 * including the first line break are not ours (the stream starts one byte before a page, so a page that begins
 * exactly at a line start skips just that previous line break). The caller may stop iterating early.
 */
export async function* readLines(
  stream: AsyncIterable<Uint8Array>,
  streamOffset: number,
  skipFirstLine = false
): AsyncGenerator<ManifestLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let position = streamOffset; // offset of the next byte to read
  let lineStart = streamOffset;
  let skipping = skipFirstLine;
  let overlong = false;
  for await (const chunkRaw of stream) {
    let chunk = Buffer.from(chunkRaw.buffer, chunkRaw.byteOffset, chunkRaw.byteLength);
    if (skipping) {
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) {
        position += chunk.length;
        continue;
      }
      chunk = chunk.subarray(nl + 1);
      position += nl + 1;
      lineStart = position;
      skipping = false;
    }
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(0x0a, from);
      const end = nl === -1 ? chunk.length : nl;
      if (!overlong) {
        pending.push(chunk.subarray(from, end));
        pendingBytes += end - from;
        if (pendingBytes > MAX_ROW_BYTES) {
          overlong = true;
          pending = [];
        }
      }
      if (nl === -1) {
        position += chunk.length - from;
        break;
      }
      const length = position + (nl - from) + 1 - lineStart;
      yield overlong
        ? { offset: lineStart, length, problem: `row is longer than ${MAX_ROW_BYTES} bytes` }
        : toLine(Buffer.concat(pending, pendingBytes), lineStart, length);
      position += nl - from + 1;
      lineStart = position;
      pending = [];
      pendingBytes = 0;
      overlong = false;
      from = nl + 1;
    }
  }
  // A last line without a line break.
  if (!skipping && position > lineStart) {
    const length = position - lineStart;
    yield overlong
      ? { offset: lineStart, length, problem: `row is longer than ${MAX_ROW_BYTES} bytes` }
      : toLine(Buffer.concat(pending, pendingBytes), lineStart, length);
  }
}
