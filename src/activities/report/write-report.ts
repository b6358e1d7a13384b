/**
 * Report writing, in AWS's layout under `<Prefix>/job-<JobId>/`:
 * - `results/<40-hex>.csv` shards, written by pages; succeeded and failed tasks in separate files. The name is a
 *   SHA-1 of (job, page, part, status), so a retried write overwrites the same object and no row is ever written
 *   twice.
 * - `manifest.json` (and `manifest.json.md5`) written last by the job, listing every shard with its MD5.
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import { reportJobFolder, type ReportRef } from '../../shared/page-context';
import { addFailures, type FailureCounts, type ReportRow, type TaskStatus } from '../../shared/types';
import { classifyAwsError } from '../aws-errors';
import { expectingOwner } from '../bucket-owner';
import type { Connections } from '../s3-clients';
import { REPORT_FORMAT, REPORT_SCHEMA, reportCsv } from './report-csv';

const STATUS_META = 's3batch-task-status';
const MD5_META = 's3batch-md5';
const ROWS_META = 's3batch-rows';
/** A failed-tasks shard's counts by error code (JSON), so a page restarted after its run died can count the part. */
const FAILURES_META = 's3batch-failures';
/** S3 keeps at most 2 KB of user metadata per object: past this, the rest of the codes are counted as `Other`. */
const MAX_FAILURES_META = 1024;

export interface WriteShardInput {
  jobId: string;
  report: ReportRef;
  pageIndex: number;
  part: number;
  rows: ReportRow[];
}

function reportError(err: unknown, what: string): Error {
  const c = classifyAwsError(err);
  const message = `writing ${what}: ${c.code}: ${c.message}`;
  return c.retryable ? ApplicationFailure.retryable(message, c.code) : ApplicationFailure.nonRetryable(message, 'ReportWriteFailed');
}

export function shardKey(jobId: string, report: ReportRef, pageIndex: number, part: number, status: TaskStatus): string {
  const name = createHash('sha1').update(`${jobId}:${pageIndex}:${part}:${status}`).digest('hex');
  return `${reportJobFolder(report, jobId)}/results/${name}.csv`;
}

async function putText(s3: S3Client, bucket: string, key: string, body: string, metadata?: Record<string, string>) {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: key.endsWith('.json') ? 'application/json' : 'text/csv',
      Metadata: metadata,
    })
  );
}

export async function writeReportShard(connections: Connections, input: WriteShardInput): Promise<{ keys: string[] }> {
  const s3 = expectingOwner(connections.s3(input.report.connection), input.report.bucket, input.report.expectedOwner);
  const keys: string[] = [];
  const statuses: TaskStatus[] = input.report.scope === 'AllTasks' ? ['succeeded', 'failed'] : ['failed'];
  for (const status of statuses) {
    const rows = input.rows.filter((row) => row.result.status === status);
    if (rows.length === 0) continue;
    const body = reportCsv(rows);
    const key = shardKey(input.jobId, input.report, input.pageIndex, input.part, status);
    const md5 = createHash('md5').update(body).digest('hex');
    const metadata: Record<string, string> = { [STATUS_META]: status, [MD5_META]: md5, [ROWS_META]: String(rows.length) };
    if (status === 'failed') metadata[FAILURES_META] = failuresMeta(rows);
    try {
      await putText(s3, input.report.bucket, key, body, metadata);
    } catch (err) {
      throw reportError(err, `report shard s3://${input.report.bucket}/${key}`);
    }
    keys.push(key);
  }
  return { keys };
}

function failuresMeta(rows: ReportRow[]): string {
  const counts: FailureCounts = {};
  for (const row of rows) addFailures(counts, { [row.result.errorCode ?? 'Unknown']: 1 });
  const kept: FailureCounts = {};
  let other = 0;
  for (const [code, count] of Object.entries(counts)) {
    if (JSON.stringify(kept).length + code.length + 16 < MAX_FAILURES_META) kept[code] = count;
    else other += count;
  }
  if (other > 0) addFailures(kept, { Other: other });
  return JSON.stringify(kept);
}

export interface ShardCounts {
  succeeded: number;
  failed: number;
  failures: FailureCounts;
}

/**
 * The counts of a page part's shards as written (from their metadata), or undefined when the part wrote none. A page
 * restarted while its job stops runs no task: this is how it counts a part that its dead run finished and wrote.
 */
export async function readShardCounts(
  connections: Connections,
  input: Omit<WriteShardInput, 'rows'>
): Promise<ShardCounts | undefined> {
  const s3 = connections.s3(input.report.connection);
  const counts: ShardCounts = { succeeded: 0, failed: 0, failures: {} };
  let found = false;
  for (const status of ['succeeded', 'failed'] as const) {
    const key = shardKey(input.jobId, input.report, input.pageIndex, input.part, status);
    let meta: Record<string, string>;
    try {
      meta = (await s3.send(new HeadObjectCommand({ Bucket: input.report.bucket, Key: key }))).Metadata ?? {};
    } catch (err) {
      const c = classifyAwsError(err);
      if (c.code === 'NotFound' || c.code === 'NoSuchKey' || c.httpStatus === 404) continue;
      throw reportError(err, `report shard s3://${input.report.bucket}/${key}`);
    }
    found = true;
    const rows = Number(meta[ROWS_META] ?? 0);
    counts[status] = rows;
    if (status === 'failed') addFailures(counts.failures, meta[FAILURES_META] ? (JSON.parse(meta[FAILURES_META]) as FailureCounts) : { Unknown: rows });
  }
  return found ? counts : undefined;
}

export interface ReportManifest {
  Format: string;
  ReportCreationDate: string;
  Results: { TaskExecutionStatus: TaskStatus; Bucket: string; MD5Checksum: string; Key: string }[];
  ReportSchema: string;
}

export async function writeReportManifest(
  connections: Connections,
  input: { jobId: string; report: ReportRef }
): Promise<{ key: string; shards: number }> {
  const { report, jobId } = input;
  const s3 = expectingOwner(connections.s3(report.connection), report.bucket, report.expectedOwner);
  const folder = reportJobFolder(report, jobId);
  const results: ReportManifest['Results'] = [];
  try {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: report.bucket, Prefix: `${folder}/results/`, ContinuationToken: token })
      );
      token = page.NextContinuationToken;
      const heads = await Promise.all(
        (page.Contents ?? []).map(async (object) => {
          const head = await s3.send(new HeadObjectCommand({ Bucket: report.bucket, Key: object.Key! }));
          return { key: object.Key!, meta: head.Metadata ?? {} };
        })
      );
      for (const { key, meta } of heads) {
        const status = meta[STATUS_META];
        if (status !== 'succeeded' && status !== 'failed') continue; // not ours
        results.push({ TaskExecutionStatus: status, Bucket: report.bucket, MD5Checksum: meta[MD5_META] ?? '', Key: key });
      }
    } while (token);
  } catch (err) {
    throw reportError(err, `listing report shards under s3://${report.bucket}/${folder}/results/`);
  }
  results.sort((a, b) => a.TaskExecutionStatus.localeCompare(b.TaskExecutionStatus) || a.Key.localeCompare(b.Key));
  const manifest: ReportManifest = {
    Format: REPORT_FORMAT,
    ReportCreationDate: new Date().toISOString(),
    Results: results,
    ReportSchema: REPORT_SCHEMA,
  };
  const body = JSON.stringify(manifest);
  const key = `${folder}/manifest.json`;
  try {
    await putText(s3, report.bucket, key, body);
    await putText(s3, report.bucket, `${key}.md5`, createHash('md5').update(body).digest('hex'));
  } catch (err) {
    throw reportError(err, `report manifest s3://${report.bucket}/${key}`);
  }
  return { key, shards: results.length };
}
