/** list-jobs: jobs newest first, by status, a page at a time (ListJobs' MaxResults and NextToken). */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { JOB_STATUSES, type JobStatus } from '../../shared/job-status';
import type { CliContext } from '../context';
import { badInput } from '../errors';
import { formatTable, printJson, printLine } from '../output';
import { positiveInt, zodParser } from '../parse';

// A token the server did not issue: INVALID_ARGUMENT, or UNKNOWN from the dev server's SQL visibility store.
const BAD_TOKEN_CODES = [2, 3];

/** Tokens are base64 (see JobClient.listJobsPage); anything else is refused before contacting the server. */
const NextToken = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64').max(10_000);

function grpcCode(err: unknown): unknown {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  return e.code ?? e.cause?.code;
}

interface ListOptions {
  status?: JobStatus[];
  limit: number;
  nextToken?: string;
  json?: boolean;
}

export function listJobsCommand(ctx: CliContext): Command {
  return new Command('list-jobs')
    .description('List jobs, newest first')
    .addOption(
      // Variadic, so both --status A --status B and --status A B work; choices checks every value.
      new Option('--status <status...>', 'only jobs in these statuses (repeatable)').choices(JOB_STATUSES)
    )
    .option('--limit <n>', 'at most this many jobs per page', positiveInt(1000), 50)
    .option('--next-token <token>', 'the page after the one that printed this token', zodParser(NextToken, 'a token printed by list-jobs'))
    .option('--json', 'print { "Jobs": [...], "NextToken": … } as JSON')
    .action(async (options: ListOptions) => {
      const jobs = await ctx.jobs();
      const page = await jobs
        .listJobsPage({ statuses: options.status, pageSize: options.limit, nextToken: options.nextToken })
        .catch((err) => {
          // Past the base64 check, only the server can judge the token (it is opaque to us).
          if (options.nextToken && BAD_TOKEN_CODES.includes(grpcCode(err) as number)) {
            throw badInput(`--next-token: not a token from an earlier list-jobs (with the same --status): ${(err as Error).message}`);
          }
          throw err;
        });
      if (options.json) {
        printJson({ Jobs: page.jobs, ...(page.nextToken && { NextToken: page.nextToken }) });
        return;
      }
      if (page.jobs.length === 0) printLine('No jobs.');
      else printLine(formatTable(['JOB ID', 'STATUS', 'OPERATION', 'PRIORITY', 'CREATED'], page.jobs.map((j) => [j.JobId, j.Status, j.Operation, j.Priority, j.CreationTime])));
      if (page.nextToken) printLine(`More: add --next-token ${page.nextToken}`);
    });
}
