/** describe-job: the DescribeJob view of one job, as text or as S3 Control's `{ "Job": … }` JSON. */
import { Command } from 'commander';
import type { JobDescriptor } from '../../shared/types';
import type { CliContext } from '../context';
import { printJson, printLine } from '../output';
import { parseJobId } from '../parse';
import { reportLocation } from '../progress-bar';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { checkJobWorkers } from '../worker-presence';

function operationName(job: JobDescriptor): string {
  return Object.keys((job.Operation as Record<string, unknown> | undefined) ?? {})[0] ?? '?';
}

/** "UpdateJobPriority by cli:bob@host at <time>" (the audit trail's last entry; no actor: the caller named none). */
function lastChange(job: JobDescriptor): string | undefined {
  const change = job.S3Batch.LastChange;
  return change && `${change.Action}${change.Actor ? ` by ${change.Actor}` : ''} at ${change.Time}`;
}

export function formatJob(job: JobDescriptor): string {
  const p = job.ProgressSummary;
  const lines: [string, string | number | undefined][] = [
    ['Job', job.JobId],
    ['Status', job.Status],
    ['Summary', job.S3Batch.Summary],
    ['Operation', operationName(job)],
    ['Priority', job.Priority],
    ['Rate limit', job.S3Batch.MaxTasksPerSecond === undefined ? undefined : `${job.S3Batch.MaxTasksPerSecond} tasks/s`],
    ['Description', job.Description],
    ['Created', job.CreationTime],
    ['Created by', job.S3Batch.CreatedBy],
    ['Last change', lastChange(job)],
    ['Ended', job.TerminationDate],
    ['Tasks', `${p.NumberOfTasksSucceeded + p.NumberOfTasksFailed}/${p.TotalNumberOfTasks ?? '?'} (${p.NumberOfTasksSucceeded} succeeded, ${p.NumberOfTasksFailed} failed)`],
    ['Active for', `${p.Timers.ElapsedTimeInActiveSeconds}s`],
    ['Status reason', job.StatusUpdateReason],
    ['Suspended', job.SuspendedCause],
    ...job.FailureReasons.map((f): [string, string] => ['Failure', `${f.FailureCode}: ${f.FailureReason}`]),
    ['Report', reportLocation(job)],
  ];
  return lines
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${`${k}:`.padEnd(15)}${v}`)
    .join('\n');
}

export function describeJobCommand(ctx: CliContext): Command {
  return new Command('describe-job')
    .description("Show a job's status, progress, failures and report location")
    .argument('<job-id>', 'the job', parseJobId)
    .option('--json', 'print the DescribeJob response ({ "Job": … }) as JSON')
    .action(async (jobId: string, options: { json?: boolean }) => {
      const jobs = await ctx.jobs();
      // First whether this identity may see the job at all: the worker check below would tell it the job's queue.
      await jobs.checkAccess(jobId, 'DescribeJob');
      // Before the query: a running job answers it from its worker, so with none the query could only time out.
      const workers = await checkJobWorkers(jobs, jobId);
      if (workers.warning) process.stderr.write(`${workers.warning}\n`);
      if (!workers.canAnswerQueries) {
        throw new CliError(EXIT_CODES.noWorker, `job ${jobId} is running, and only a worker can tell its status and progress: start one (above)`);
      }
      const job = await jobs.describeJob(jobId);
      if (options.json) printJson({ Job: job });
      else printLine(formatJob(job));
    });
}
