/** ListJobs tokens: what a listing gave out comes back; anything else, or a token of another listing, is refused. */
import { decodeCursor, encodeCursor, InvalidNextTokenError } from '../../src/job-listing';

const QUERY = "WorkflowType = 'batchJobWorkflow' AND TaskQueue = 'jobs'";
const T0 = '2026-11-22T06:30:00.123000000Z';

test('a token decodes to the cursor it was made from, for the same listing only', () => {
  const open = { part: 'open' as const, t0: T0, after: { start: '2026-11-22T06:29:59.421256000Z', run: '01a203b8-7abd-7165-be9d-aef32a5226c4' } };
  expect(decodeCursor(encodeCursor(open, QUERY), QUERY)).toEqual(open);
  // Temporal's own token for the part ended before T0, as its SQL visibility makes them.
  const temporalToken = Buffer.from(
    JSON.stringify({ CloseTime: '2026-11-22T06:29:58.000001Z', StartTime: '2026-11-22T06:20:00.000001Z', RunID: '01a203b8-7abd-7165-be9d-aef32a5226c4' })
  ).toString('base64');
  const ended = { part: 'ended' as const, t0: T0, token: temporalToken };
  const text = encodeCursor(ended, QUERY);
  expect(decodeCursor(text, QUERY)).toEqual(ended);
  // S3 Control's NextToken: at most 1024 characters, and what the CLI accepts.
  expect(text.length).toBeLessThan(1024);
  expect(text).toMatch(/^[A-Za-z0-9+/=:]+$/);

  expect(() => decodeCursor(text, `${QUERY} AND S3BatchJobStatus IN ('Active')`)).toThrow(InvalidNextTokenError);
});

test('anything not given out is InvalidNextTokenError', () => {
  const good = encodeCursor({ part: 'open', t0: T0 }, QUERY);
  const [body, check] = good.split(':');
  const tampered = `${Buffer.from(Buffer.from(body!, 'base64').toString().replace('open', 'ended')).toString('base64')}:${check}`;
  for (const token of ['bm90LWEtdG9rZW4=', '', ':', `${good}:x`, tampered, `${body}:0000000000000000`]) {
    expect(() => decodeCursor(token, QUERY)).toThrow(InvalidNextTokenError);
  }
  // A checksum that matches but a cursor of the wrong shape (as an older token format would be).
  for (const wrong of [{ part: 'open', t0: 'yesterday' }, { part: 'sideways', t0: T0 }, { part: 'open', t0: T0, extra: 1 }]) {
    expect(() => decodeCursor(encodeCursor(wrong as never, QUERY), QUERY)).toThrow(InvalidNextTokenError);
  }
});
