/**
 * create-job: from a CreateJob JSON file (as for `aws s3control create-job --cli-input-json`), from flags for the
 * common cases, or both (flags win; see ../job-flags.ts). Validated by the job spec schema before anything is sent.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { validateJobSpec } from '../../schemas/job-spec';
import { StorageClass } from '../../schemas/operations';
import type { CliContext } from '../context';
import { badInput } from '../errors';
import { exitCodeForStatus } from '../exit-codes';
import { buildCreateJob, collectKeyValue, describeProblems, ManifestFieldsFlag, OPERATION_FLAGS, type JobFlags } from '../job-flags';
import { printJson, printLine } from '../output';
import { parseNonNegativeInt, parsePriority, parseRate, positiveInt, zodParser } from '../parse';
import { formatFinal } from '../progress-bar';
import { watchJob } from '../watch-job';

interface CreateJobOptions extends JobFlags {
  wait?: boolean;
  watch?: boolean;
  json?: boolean;
  interval: number;
}

/** The job file's JSON ('-' reads stdin), or a bad-input error saying what is wrong with it. */
export function readJobFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw badInput(`cannot read the job file ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badInput(`the job file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** --tag and --user-argument: key=value, repeatable; a malformed one is commander's bad-option-value error. */
const keyValue = (value: string, previous: [string, string][] | undefined) => {
  try {
    return collectKeyValue(value, previous);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

export function createJobCommand(ctx: CliContext): Command {
  return new Command('create-job')
    .description('Create a job from a CreateJob JSON file, from flags, or both (flags override the file)')
    .argument('[job-file]', "CreateJob JSON file ('-' for stdin)")
    .option('--manifest <s3-url>', 'CSV manifest, s3://bucket/key.csv (rows bucket,key[,versionId])')
    .option('--manifest-fields <fields>', 'manifest columns, e.g. Bucket,Key,VersionId (default Bucket,Key)', zodParser(ManifestFieldsFlag, 'a comma list of Bucket, Key, VersionId, Ignore'))
    .option('--manifest-etag <etag>', "the manifest's ETag (checked before the job runs)")
    .option('--manifest-version-id <id>', "the manifest object's version")
    .option('--manifest-header-row', "the CSV manifest's first line is a header: skip it (Extensions.ManifestHeaderRow)")
    .addOption(new Option('--operation <name>', 'the operation').choices(Object.keys(OPERATION_FLAGS)))
    .option('--tag <key=value>', 'tagging: a tag to set (repeat for more); copy: a tag for the new objects', keyValue)
    .option('--target-bucket <bucket>', 'copy: destination bucket')
    .option('--target-prefix <prefix>', 'copy: prefix for the destination keys')
    .addOption(new Option('--storage-class <class>', 'copy: storage class of the new objects').choices(StorageClass.options))
    .option('--function <name-or-arn>', 'lambda: the function (name, ARN or name:alias)')
    .option('--user-argument <key=value>', 'lambda: a UserArguments entry (repeatable; uses invocation schema 2.0)', keyValue)
    .option('--expiration-days <n>', 'restore: days the restored copy stays readable', parseNonNegativeInt)
    .addOption(new Option('--tier <tier>', 'restore: retrieval tier').choices(['BULK', 'STANDARD']))
    .option('--confirm-data-deletion', 'delete: confirm that the job deletes every object in the manifest')
    .option('--report <s3-url>', 'write the completion report under s3://bucket/prefix')
    .option('--no-report', 'no completion report')
    .addOption(new Option('--report-scope <scope>', 'which tasks the report lists').choices(['AllTasks', 'FailedTasksOnly']))
    .option('--priority <n>', 'job priority, higher first (default 10)', parsePriority)
    .option('--max-tasks-per-second <n>', 'rate limit for the whole job, tasks started per second (Extensions.MaxTasksPerSecond)', parseRate)
    .option('--description <text>', 'a description (1 to 256 characters)')
    .option('--confirmation-required', 'create the job Suspended, to run after `update-job-status <id> Ready`')
    .option('--connection <name>', "the worker's S3 connection for the tasks (Extensions.Connection)")
    .option('--client-token <token>', 'idempotency token: the same token and request give the same job')
    .option('--account-id <id>', 'AccountId (12 digits; recorded, grants nothing)')
    .option('--role-arn <arn>', 'RoleArn (recorded, grants nothing: the worker config decides access)')
    .option('--wait', 'wait for the job to end; exit code by its final status')
    .option('--watch', 'like --wait, with live progress on stderr')
    .option('--interval <ms>', 'with --wait/--watch: poll interval', positiveInt(60_000), 1000)
    .option('--json', 'print {"JobId","Created"} (and "Job", the final descriptor, when waiting) as JSON')
    .addHelpText(
      'after',
      `
Examples:
  s3batch create-job job.json --watch
  s3batch create-job --manifest s3://data/manifest.csv --operation tagging --tag project=blue \\
      --report s3://reports/batch --priority 20
  s3batch create-job --manifest s3://data/m.csv --operation copy --target-bucket backup --no-report
  s3batch create-job base.json --priority 50 --client-token rerun-2   (flags override the file)

A flag group replaces its part of the file: --manifest replaces Manifest.Location, --operation replaces Operation,
--report/--no-report replace Report; other flags set one field each.`
    )
    .action(async (file: string | undefined, options: CreateJobOptions) => {
      const fromFile = file === undefined ? undefined : readJobFile(file);
      const request = buildCreateJob(options, fromFile);
      // The schema judges the request before any server is contacted, so bad input never needs a server.
      const validation = validateJobSpec(request);
      if (!validation.ok) throw badInput(`invalid job:\n${describeProblems(validation.problems)}`);
      const jobs = await ctx.jobs();
      const { jobId, created } = await jobs.createJob(request);
      if (!options.wait && !options.watch) {
        if (options.json) printJson({ JobId: jobId, Created: created });
        else printLine(created ? `Created job ${jobId}` : `Job ${jobId} already exists (same --client-token and request)`);
        return;
      }
      if (!options.json) process.stderr.write(`${created ? 'Created' : 'Existing'} job ${jobId}\n`);
      const final = await watchJob(jobs, jobId, { pollMs: options.interval, tty: Boolean(process.stderr.isTTY), quiet: !options.watch });
      if (options.json) printJson({ JobId: jobId, Created: created, Job: final });
      else printLine(formatFinal(final));
      ctx.exitCode = exitCodeForStatus(final.Status);
    });
}
