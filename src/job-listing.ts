/**
 * ListJobs paging that lists each job exactly once while jobs change under it. Temporal's own paging cannot: its SQL
 * visibility orders executions running first, then by close time, then by start time, so a job that ends between
 * two pages moves behind the page token and is listed again; and every continue-as-new run of a job is an execution
 * of its own.
 *
 * A listing is therefore taken as of its first page (T0, this server's clock) in two parts, split at a close time
 * S a minute before T0, each in an order that cannot change:
 *  1. Running at T0, or ended since S: by the start time of that run, newest first, paged by our own cursor (start
 *     time, run id). Asked for as "running now" plus "ended since S" and merged, so a job counts once whether or
 *     not it ended meanwhile. If that run has continued as new since T0, the job's latest run is shown instead
 *     (or, not yet visible, the ended run).
 *  2. Ended before S: newest end first, with Temporal's page token (those end times no longer change). Runs that
 *     continued as new are left out: the job's latest run stands for it.
 * Why S before T0: visibility is updated after the fact, so a job seen running on one page may turn out to have
 * ended (by its close time) shortly before T0; with the split a minute earlier, it stays in part 1. (Visibility
 * lagging by more than a minute could list such a job twice.) Jobs created after T0 (by the Temporal server's
 * clock) are left to the next listing. With a status filter, a job is listed at most once, if its status matched
 * when its part of the listing was read.
 *
 * Tokens are base64 of the cursor plus a checksum over it and the listing's query: Temporal answers a garbled token
 * with an opaque internal error, and a token from a listing with other filters would page through the wrong list.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { z } from 'zod';

type ListResponse = Awaited<ReturnType<Client['workflowService']['listWorkflowExecutions']>>;
/** One execution as Temporal's visibility returns it. */
export type RawExecution = ListResponse['executions'][number];

/** A ListJobs NextToken that is not one we gave out. */
export class InvalidNextTokenError extends Error {
  constructor() {
    super('The continuation token provided is invalid');
    this.name = 'InvalidNextTokenException';
  }
}

/** RFC 3339 with nanoseconds: as Temporal's queries take times, and ordered as text. */
const Instant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);

const Cursor = z.discriminatedUnion('part', [
  z.object({ part: z.literal('open'), t0: Instant, after: z.object({ start: Instant, run: z.string().min(1) }).strict().optional() }).strict(),
  z.object({ part: z.literal('ended'), t0: Instant, token: z.string().min(1).optional() }).strict(),
]);
type Cursor = z.infer<typeof Cursor>;

function instant(t: { seconds?: unknown; nanos?: number | null } | null | undefined): string {
  const seconds = Number(t?.seconds ?? 0);
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(t?.nanos ?? 0).padStart(9, '0')}Z`;
}

/** How far visibility may lag behind a job's end for a listing still to list it once (see above). */
const VISIBILITY_LAG_MS = 60_000;

function dateInstant(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000000Z`;
}

/** S: where the two parts of the listing that began at T0 split, by close time. */
function splitOf(t0: string): string {
  return dateInstant(new Date(new Date(t0).getTime() - VISIBILITY_LAG_MS));
}

function checksum(text: string, query: string): string {
  return createHash('sha256').update(text).update('\n').update(query).digest('hex').slice(0, 16);
}

export function encodeCursor(cursor: Cursor, query: string): string {
  const text = JSON.stringify(cursor);
  return `${Buffer.from(text).toString('base64')}:${checksum(text, query)}`;
}

export function decodeCursor(token: string, query: string): Cursor {
  const [encoded, check, ...rest] = token.split(':');
  const text = Buffer.from(encoded ?? '', 'base64').toString('utf8');
  if (rest.length || !check || !text || checksum(text, query) !== check) throw new InvalidNextTokenError();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidNextTokenError();
  }
  const parsed = Cursor.safeParse(json);
  if (!parsed.success) throw new InvalidNextTokenError();
  return parsed.data;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const startOf = (e: RawExecution) => instant(e.startTime);
const runOf = (e: RawExecution) => e.execution?.runId ?? '';

/** Newest start first, then run id: Temporal's order among running executions, and the open part's cursor order. */
function compareOpen(a: { start: string; run: string }, b: { start: string; run: string }): number {
  if (a.start !== b.start) return a.start > b.start ? -1 : 1;
  return a.run < b.run ? -1 : a.run > b.run ? 1 : 0;
}

export interface ListingQueries {
  /** The jobs to list (type, task queue, status filter), as a visibility query. */
  query: string;
  /** The same without the status filter. */
  unfiltered: string;
}

export interface ListedPage {
  executions: RawExecution[];
  nextToken?: string;
}

export class JobListing {
  constructor(
    private readonly client: Client,
    private readonly queries: ListingQueries,
    private readonly now: () => Date = () => new Date()
  ) {}

  async page(maxResults: number, nextToken?: string): Promise<ListedPage> {
    const cursor: Cursor = nextToken
      ? decodeCursor(nextToken, this.queries.query)
      : { part: 'open', t0: dateInstant(this.now()) };
    const out: RawExecution[] = [];
    let next: Cursor | undefined = cursor;
    if (cursor.part === 'open') {
      const open = await this.openPart(cursor, maxResults);
      out.push(...open.executions);
      next = open.last ? { ...cursor, after: open.last } : { part: 'ended', t0: cursor.t0 };
    }
    if (next.part === 'ended' && out.length < maxResults) {
      const response = await this.list(
        `${this.queries.query} AND ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime < ${quote(splitOf(next.t0))}`,
        maxResults - out.length,
        next.token
      );
      out.push(...response.executions);
      const token = response.nextPageToken;
      next = token && token.length > 0 ? { part: 'ended', t0: next.t0, token: Buffer.from(token).toString('base64') } : undefined;
    }
    return { executions: out, nextToken: next ? encodeCursor(next, this.queries.query) : undefined };
  }

  /** Up to `limit` executions of the open part after the cursor, and if more follow, the cursor after them. */
  private async openPart(
    cursor: Extract<Cursor, { part: 'open' }>,
    limit: number
  ): Promise<{ executions: RawExecution[]; last?: { start: string; run: string } }> {
    const after = cursor.after;
    const isAfter = (e: RawExecution) => !after || compareOpen({ start: startOf(e), run: runOf(e) }, after) > 0;
    const started = ` AND StartTime <= ${quote(after?.start ?? cursor.t0)}`;
    // Running first: a job that ends between the two queries is then in both (merged), never in neither.
    const running = await this.collect(`${this.queries.query} AND ExecutionStatus = 'Running'${started}`, isAfter, limit);
    const ended = await this.collect(
      `${this.queries.query} AND ExecutionStatus != 'Running'` +
        // A run that continued as new before T0 is left out: its successor, started before T0, stands for the job.
        ` AND ((ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= ${quote(splitOf(cursor.t0))})` +
        ` OR (ExecutionStatus = 'ContinuedAsNew' AND CloseTime >= ${quote(cursor.t0)}))${started}`,
      isAfter
    );
    const byRun = new Map<string, RawExecution>();
    for (const e of [...running.executions, ...ended.executions]) byRun.set(runOf(e), e); // the ended copy is newer
    const merged = [...byRun.values()].sort((a, b) => compareOpen({ start: startOf(a), run: runOf(a) }, { start: startOf(b), run: runOf(b) }));
    const page = merged.slice(0, limit);
    const shown = (await Promise.all(page.map((e) => this.latestRun(e)))).filter((e): e is RawExecution => e !== undefined);
    const more = running.more || merged.length > limit;
    // The cursor is the last execution read, not the one shown for it (a later run has another start time).
    const last = page[page.length - 1];
    return { executions: shown, last: more && last ? { start: startOf(last), run: runOf(last) } : undefined };
  }

  /**
   * The execution to show for one open at T0: itself, or if it has continued as new, the job's latest run (left
   * out when that no longer matches the status filter; the ended run itself while the latest is not yet visible).
   */
  private async latestRun(e: RawExecution): Promise<RawExecution | undefined> {
    if (e.status !== 6 /* CONTINUED_AS_NEW */) return e;
    const latest = ` AND WorkflowId = ${quote(e.execution?.workflowId ?? '')} AND ExecutionStatus != 'ContinuedAsNew'`;
    const [matching] = (await this.list(`${this.queries.query}${latest}`, 1)).executions;
    if (matching) return matching;
    const [other] = (await this.list(`${this.queries.unfiltered}${latest}`, 1)).executions;
    return other ? undefined : e;
  }

  /** Executions the query returns that pass `keep`: at most `limit` of them (and whether more follow), or all. */
  private async collect(query: string, keep: (e: RawExecution) => boolean, limit = Infinity) {
    const executions: RawExecution[] = [];
    let token: Uint8Array | undefined;
    do {
      const response = await this.list(query, Number.isFinite(limit) ? Math.min(1000, limit - executions.length + 8) : 1000, token);
      for (const e of response.executions) {
        if (!keep(e)) continue;
        if (executions.length === limit) return { executions, more: true };
        executions.push(e);
      }
      token = response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
    } while (token);
    return { executions, more: false };
  }

  private list(query: string, pageSize: number, token?: string | Uint8Array): Promise<ListResponse> {
    return this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query,
      pageSize,
      nextPageToken: typeof token === 'string' ? Buffer.from(token, 'base64') : token,
    });
  }
}
