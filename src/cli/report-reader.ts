/**
 * Reads a finished job's completion report from S3 for `report`: manifest.json, then each shard it lists. The CLI
 * reaches S3 as a worker does, through the worker config's named connections (S3BATCH_WORKER_CONFIG or the
 * S3BATCH_S3_* / AWS_* variables), so endpoints and keys stay out of job specs and out of the CLI's flags. Given
 * neither, it uses the running local stack's connections, as `npm run worker:stack` does, and says so on stderr.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { Connections, UnknownConnectionError } from '../activities/s3-clients';
import type { JobDescriptor } from '../shared/types';
import { bucketFromArn } from '../schemas/arn';
import { findLocalStack, localStackWorkerConfigInput } from '../local-stack';
import { loadWorkerConfig, parseWorkerConfig, type WorkerConfig } from '../schemas/worker-config';
import { CliError } from './errors';
import { EXIT_CODES } from './exit-codes';
import { ReportSummarizer, type ReportSummary } from './report-summary';

const ReportManifest = z.object({
  Results: z.array(z.object({ TaskExecutionStatus: z.string(), Bucket: z.string().min(1), Key: z.string().min(1) })),
});

/** Where the report of `job` is, or a CliError saying why there is none to read. */
export function reportManifestOf(job: JobDescriptor): { bucket: string; key: string } {
  const report = job.Report as { Enabled?: boolean; Bucket?: string } | undefined;
  if (!report?.Enabled) throw new CliError(EXIT_CODES.badInput, `job ${job.JobId} has no report (it was created with Report.Enabled false)`);
  const bucket = report.Bucket ? bucketFromArn(report.Bucket) : undefined;
  if (!bucket || !job.S3Batch.ReportManifestKey) {
    throw new CliError(
      EXIT_CODES.badInput,
      `job ${job.JobId} is ${job.Status} and has no report manifest yet: a report is written when the job ends (try \`s3batch watch ${job.JobId}\`)`
    );
  }
  return { bucket, key: job.S3Batch.ReportManifestKey };
}

async function getText(connections: Connections, connection: string, bucket: string, key: string): Promise<string> {
  try {
    const out = await connections.s3(connection).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body!.transformToString();
  } catch (err) {
    if (err instanceof UnknownConnectionError) {
      throw new CliError(EXIT_CODES.badInput, `${err.message}\nDefine it in the file named by S3BATCH_WORKER_CONFIG, start the local stack (npm run stack:up), or pass --connection <name>.`);
    }
    const e = err as { name?: string; message?: string };
    throw new CliError(EXIT_CODES.error, `cannot read s3://${bucket}/${key} with connection "${connection}": ${e.name ?? 'Error'}: ${e.message ?? ''}`);
  }
}

/** The worker config to read S3 with: the one given, else the local stack's (announced through `note`). */
export function cliWorkerConfig(env: NodeJS.ProcessEnv = process.env, note: (line: string) => void = (line) => console.error(line)): WorkerConfig {
  if (!env.S3BATCH_WORKER_CONFIG && !env.S3BATCH_S3_ENDPOINT) {
    const stack = findLocalStack(env);
    if (stack) {
      const config = parseWorkerConfig(localStackWorkerConfigInput(stack.state), stack.stateFile);
      note(`No worker config (S3BATCH_WORKER_CONFIG) given: using the local stack's S3 connections (${Object.keys(config.s3).join(', ')}) from ${stack.stateFile}`);
      return config;
    }
  }
  return loadWorkerConfig(env);
}

export async function readReportSummary(job: JobDescriptor, options: { connection?: string; limit: number }): Promise<ReportSummary> {
  const { bucket, key } = reportManifestOf(job);
  // The connection the job wrote its report with, unless told otherwise; 'default' for descriptors of older workers.
  const connection = options.connection ?? job.S3Batch.ReportConnection ?? 'default';
  const connections = new Connections(cliWorkerConfig());
  try {
    const text = await getText(connections, connection, bucket, key);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CliError(EXIT_CODES.error, `s3://${bucket}/${key} is not JSON: ${(err as Error).message}`);
    }
    const parsed = ReportManifest.safeParse(json);
    if (!parsed.success) throw new CliError(EXIT_CODES.error, `s3://${bucket}/${key} is not a report manifest: ${z.prettifyError(parsed.error)}`);
    const summarizer = new ReportSummarizer(job.JobId, `s3://${bucket}/${key}`, options.limit);
    // Shards one at a time: a report can be large, and only counts and the first failures are kept.
    for (const shard of parsed.data.Results) summarizer.addShard(await getText(connections, connection, shard.Bucket, shard.Key));
    return summarizer.summary;
  } finally {
    connections.destroy();
  }
}
