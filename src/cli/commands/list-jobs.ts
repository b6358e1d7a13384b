/** list-jobs: jobs newest first, by status, a page at a time (ListJobs' MaxResults and NextToken). */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { InvalidNextTokenError } from '../../job-client';
import { JOB_STATUSES, type JobStatus } from '../../shared/job-status';
import type { CliContext } from '../context';
import { badInput } from '../errors';
import { formatTable, printJson, printLine } from '../output';
import { positiveInt, zodParser } from '../parse';

/** Tokens are base64 plus a checksum (see JobClient.listJobsPage); other characters are refused at once. */
const NextToken = z.string().regex(/^[A-Za-z0-9+/=:]+$/, 'not a list-jobs token').max(10_000);

const AccountId = z.string().regex(/^\d{12}$/, 'expected 12 digits');

interface ListOptions {
  status?: JobStatus[];
  accountId?: string;
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
    .option(
      '--account-id <id>',
      "only this account's jobs (and those created without an account); default: every account's",
      zodParser(AccountId, 'a 12-digit account id')
    )
    .option('--limit <n>', 'at most this many jobs per page', positiveInt(1000), 50)
    .option('--next-token <token>', 'the page after the one that printed this token', zodParser(NextToken, 'a token printed by list-jobs'))
    .option('--json', 'print { "Jobs": [...], "NextToken": … } as JSON')
    .action(async (options: ListOptions) => {
      const jobs = await ctx.jobs();
      const page = await jobs
        .listJobsPage({ statuses: options.status, accountId: options.accountId, maxResults: options.limit, nextToken: options.nextToken })
        .catch((err) => {
          // The token's checksum did not match: not ours, or from a listing with other --status filters.
          if (err instanceof InvalidNextTokenError) {
            throw badInput(`--next-token: not a token from an earlier list-jobs (with the same --status and --account-id): ${err.message}`);
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
