/**
 * report: summary of a finished job's completion report, read from S3 (manifest.json, then its shards) with the
 * worker config's connection the job wrote it with: counts by status and error code, and the first failures.
 */
import { Command } from 'commander';
import type { CliContext } from '../context';
import { printJson, printLine } from '../output';
import { parseJobId, positiveInt } from '../parse';
import { readReportSummary } from '../report-reader';
import { formatReportSummary } from '../report-summary';

export function reportCommand(ctx: CliContext): Command {
  return new Command('report')
    .description("Summarise a finished job's completion report: counts by status and error code, first failures")
    .argument('<job-id>', 'the job', parseJobId)
    .option('--limit <n>', 'how many failures to list', positiveInt(10_000), 10)
    .option('--connection <name>', "the worker config's S3 connection to read with (default: the one the job wrote with)")
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nS3 access comes from the worker config (S3BATCH_WORKER_CONFIG, or S3BATCH_S3_ENDPOINT and AWS_* for "default");\n' +
        "given neither, from the running local stack's connections, as npm run worker:stack uses them."
    )
    .action(async (jobId: string, options: { limit: number; connection?: string; json?: boolean }) => {
      const job = await (await ctx.jobs()).describeJob(jobId);
      const summary = await readReportSummary(job, { connection: options.connection, limit: options.limit });
      if (options.json) printJson(summary);
      else printLine(formatReportSummary(summary));
    });
}
