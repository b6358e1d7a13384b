/**
 * The commands that steer a job: update-job-status (Ready confirms a Suspended job, Cancelled cancels), pause,
 * resume, update-job-priority, update-job-rate. Each is a validated Temporal update: a request the job's status does not allow is
 * refused with the job's reason (exit code 3).
 */
import { Argument, Command } from 'commander';
import type { CliContext } from '../context';
import { printJson, printLine } from '../output';
import { parseJobId, parsePriority, parseRateOrNone } from '../parse';

interface ControlOptions {
  reason?: string;
  json?: boolean;
}

function print(result: { JobId: string; Status?: string; StatusUpdateReason?: string }, options: ControlOptions): void {
  if (options.json) printJson(result);
  else printLine(`Job ${result.JobId}: ${result.Status ?? ''}${result.StatusUpdateReason ? ` (${result.StatusUpdateReason})` : ''}`.trim());
}

export function updateJobStatusCommand(ctx: CliContext): Command {
  return new Command('update-job-status')
    .description('Confirm a Suspended job (Ready) or cancel a job (Cancelled)')
    .argument('<job-id>', 'the job', parseJobId)
    .addArgument(new Argument('<status>', 'the requested status').choices(['Ready', 'Cancelled']))
    .option('--reason <text>', 'why (kept as StatusUpdateReason)')
    .option('--json', 'print the result as JSON')
    .action(async (jobId: string, status: 'Ready' | 'Cancelled', options: ControlOptions) => {
      print(await (await ctx.jobs()).updateJobStatus(jobId, status, options.reason), options);
    });
}

export function pauseCommand(ctx: CliContext): Command {
  return new Command('pause')
    .description('Pause a Ready or Active job: no new tasks start, in-flight ones finish, then Paused')
    .argument('<job-id>', 'the job', parseJobId)
    .option('--reason <text>', 'why (kept as StatusUpdateReason)')
    .option('--json', 'print the result as JSON')
    .action(async (jobId: string, options: ControlOptions) => {
      print(await (await ctx.jobs()).pauseJob(jobId, options.reason), options);
    });
}

export function resumeCommand(ctx: CliContext): Command {
  return new Command('resume')
    .description('Resume a Pausing or Paused job')
    .argument('<job-id>', 'the job', parseJobId)
    .option('--reason <text>', 'why (kept as StatusUpdateReason)')
    .option('--json', 'print the result as JSON')
    .action(async (jobId: string, options: ControlOptions) => {
      print(await (await ctx.jobs()).resumeJob(jobId, options.reason), options);
    });
}

export function updateJobPriorityCommand(ctx: CliContext): Command {
  return new Command('update-job-priority')
    .description("Change a job's priority (applies to tasks not yet scheduled)")
    .argument('<job-id>', 'the job', parseJobId)
    .argument('<priority>', 'the new priority, 0 to 2147483647 (higher first)', parsePriority)
    .option('--json', 'print the result as JSON')
    .action(async (jobId: string, priority: number, options: ControlOptions) => {
      const result = await (await ctx.jobs()).updateJobPriority(jobId, priority);
      if (options.json) printJson(result);
      else printLine(`Job ${result.JobId}: priority ${result.Priority}`);
    });
}

export function updateJobRateCommand(ctx: CliContext): Command {
  return new Command('update-job-rate')
    .description("Change a job's rate limit: the most tasks per second the whole job starts (applies to tasks not yet started)")
    .argument('<job-id>', 'the job', parseJobId)
    .argument('<rate>', "tasks per second (fractions allowed, e.g. 0.5), or 'none' to remove the limit", parseRateOrNone)
    .option('--json', 'print the result as JSON')
    .action(async (jobId: string, rate: number | null, options: ControlOptions) => {
      const result = await (await ctx.jobs()).updateJobRate(jobId, rate);
      if (options.json) printJson(result);
      else printLine(`Job ${result.JobId}: ${result.MaxTasksPerSecond === null ? 'no rate limit' : `at most ${result.MaxTasksPerSecond} tasks/s`}`);
    });
}
