/**
 * redrive: create a job that runs only the failed tasks of a finished job (beyond AWS, like Step Functions' redrive).
 * The worker builds the new job's manifest from the old job's report; this command only names the old job.
 */
import { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context';
import { exitCodeForStatus } from '../exit-codes';
import { printJson, printLine } from '../output';
import { parseJobId, parsePriority, positiveInt, zodParser } from '../parse';
import { formatFinal } from '../progress-bar';
import { watchJob } from '../watch-job';

interface RedriveCommandOptions {
  clientToken?: string;
  description?: string;
  priority?: number;
  wait?: boolean;
  watch?: boolean;
  json?: boolean;
  interval: number;
}

// The job spec's own bounds for ClientRequestToken and Description.
const parseToken = zodParser(z.string().min(1).max(64), 'a token of 1 to 64 characters');
const parseDescription = zodParser(z.string().min(1).max(256), 'a description of 1 to 256 characters');

export function redriveCommand(ctx: CliContext): Command {
  return new Command('redrive')
    .description("Create a job that runs only the failed tasks of a finished job (from its completion report)")
    .argument('<job-id>', 'the finished job (Complete, Failed or Cancelled, with a report)', parseJobId)
    .option('--client-token <token>', 'idempotency token of the new job (default: derived from <job-id>, so redriving twice gives the same job)', parseToken)
    .option('--description <text>', 'description of the new job (default "Redrive of <job-id>")', parseDescription)
    .option('--priority <n>', "priority of the new job (default: the old job's)", parsePriority)
    .option('--wait', 'wait for the new job to end; exit code by its final status')
    .option('--watch', 'like --wait, with live progress on stderr')
    .option('--interval <ms>', 'with --wait/--watch: poll interval', positiveInt(60_000), 1000)
    .option('--json', 'print {"JobId","Created","RedriveOf"} (and "Job", the final descriptor, when waiting) as JSON')
    .addHelpText(
      'after',
      `
The new job has the old job's operation, report settings, extensions, tags and priority; its manifest is built by
the worker from the failed rows of the old job's report. Tasks that a cancelled or failed job never ran are not in
its report and are not redriven. Refused (exit 3) when the job is still running, has no report, or has no failed tasks.

Examples:
  s3batch redrive 1f0e…c2 --watch
  s3batch redrive 1f0e…c2 --json --description "after fixing the bucket policy"`
    )
    .action(async (oldJobId: string, options: RedriveCommandOptions) => {
      const jobs = await ctx.jobs();
      const { jobId, created } = await jobs.redriveJob(oldJobId, {
        clientRequestToken: options.clientToken,
        description: options.description,
        priority: options.priority,
      });
      if (!options.wait && !options.watch) {
        if (options.json) printJson({ JobId: jobId, Created: created, RedriveOf: oldJobId });
        else printLine(created ? `Created job ${jobId} (redrive of ${oldJobId})` : `Job ${jobId} already redrives ${oldJobId}`);
        return;
      }
      if (!options.json) process.stderr.write(`${created ? 'Created' : 'Existing'} job ${jobId} (redrive of ${oldJobId})\n`);
      const final = await watchJob(jobs, jobId, { pollMs: options.interval, tty: Boolean(process.stderr.isTTY), quiet: !options.watch });
      if (options.json) printJson({ JobId: jobId, Created: created, RedriveOf: oldJobId, Job: final });
      else printLine(formatFinal(final));
      ctx.exitCode = exitCodeForStatus(final.Status);
    });
}
