#!/usr/bin/env node
/**
 * The s3batch command line (a first cut; the interfaces issue grows it): create, describe, list and steer jobs.
 *
 *   s3batch create-job <job.json> [--wait]     CreateJob JSON, as for `aws s3control create-job --cli-input-json`
 *   s3batch describe-job <job-id>
 *   s3batch list-jobs [--status Active]...
 *   s3batch confirm|pause|resume|cancel <job-id> [--reason text]
 *   s3batch update-job-priority <job-id> <priority>
 *   s3batch wait <job-id>
 *
 * Connects to S3BATCH_TEMPORAL_ADDRESS (127.0.0.1:7233), namespace S3BATCH_NAMESPACE (s3-batch), task queue
 * S3BATCH_TASK_QUEUE (s3-batch). Exit codes: 0 ok, 1 job ended Failed/Cancelled (when waiting), 2 bad input,
 * 3 refused by the job, 4 server unreachable.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { IdempotencyError, JobClient, JobSpecError, JobStatusError } from './job-client';
import { JOB_STATUSES } from './shared/job-status';
import type { JobDescriptor } from './shared/types';

const EXIT = { ok: 0, jobNotComplete: 1, badInput: 2, refused: 3, unreachable: 4 } as const;

class UsageError extends Error {}

const Env = z.object({
  S3BATCH_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  S3BATCH_NAMESPACE: z.string().min(1).default('s3-batch'),
  S3BATCH_TASK_QUEUE: z.string().min(1).default('s3-batch'),
});

const Priority = z.coerce.number().int().min(0).max(2_147_483_647);

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

function line(job: JobDescriptor): string {
  const p = job.ProgressSummary;
  return `${job.Status}: ${p.NumberOfTasksSucceeded + p.NumberOfTasksFailed}/${p.TotalNumberOfTasks ?? '?'} tasks (${p.NumberOfTasksFailed} failed)`;
}

async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { wait: { type: 'boolean' }, reason: { type: 'string' }, status: { type: 'string', multiple: true } },
  });
  const [command, ...rest] = positionals;
  const env = Env.parse(process.env);
  const need = (n: number, usage: string) => {
    if (rest.length !== n) throw new UsageError(`usage: s3batch ${command} ${usage}`);
  };
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: env.S3BATCH_TEMPORAL_ADDRESS });
  } catch (err) {
    console.error(`cannot reach Temporal at ${env.S3BATCH_TEMPORAL_ADDRESS} (S3BATCH_TEMPORAL_ADDRESS): ${(err as Error).message}`);
    return EXIT.unreachable;
  }
  const jobs = new JobClient(new Client({ connection, namespace: env.S3BATCH_NAMESPACE }), { taskQueue: env.S3BATCH_TASK_QUEUE });
  const wait = async (jobId: string) => {
    const final = await jobs.waitForCompletion(jobId, { onProgress: (job) => console.error(line(job)) });
    print(final);
    return final.Status === 'Complete' ? EXIT.ok : EXIT.jobNotComplete;
  };
  try {
    switch (command) {
      case 'create-job': {
        need(1, '<job.json> [--wait]');
        let request: unknown;
        try {
          request = JSON.parse(readFileSync(rest[0]!, 'utf8'));
        } catch (err) {
          throw new UsageError(`cannot read ${rest[0]} as JSON: ${(err as Error).message}`);
        }
        const { jobId, created } = await jobs.createJob(request);
        print({ JobId: jobId, Created: created });
        // Awaited here: the finally below closes the connection.
        return values.wait ? await wait(jobId) : EXIT.ok;
      }
      case 'describe-job':
        need(1, '<job-id>');
        print({ Job: await jobs.describeJob(rest[0]!) });
        return EXIT.ok;
      case 'list-jobs': {
        need(0, '[--status <JobStatus>]...');
        const statuses = z.array(z.enum(JOB_STATUSES)).parse(values.status ?? []);
        print({ Jobs: await jobs.listJobs({ statuses }) });
        return EXIT.ok;
      }
      case 'confirm':
        need(1, '<job-id> [--reason text]');
        print(await jobs.confirmJob(rest[0]!, values.reason));
        return EXIT.ok;
      case 'cancel':
        need(1, '<job-id> [--reason text]');
        print(await jobs.cancelJob(rest[0]!, values.reason));
        return EXIT.ok;
      case 'pause':
        need(1, '<job-id> [--reason text]');
        print(await jobs.pauseJob(rest[0]!, values.reason));
        return EXIT.ok;
      case 'resume':
        need(1, '<job-id> [--reason text]');
        print(await jobs.resumeJob(rest[0]!, values.reason));
        return EXIT.ok;
      case 'update-job-priority':
        need(2, '<job-id> <priority>');
        print(await jobs.updateJobPriority(rest[0]!, Priority.parse(rest[1])));
        return EXIT.ok;
      case 'wait':
        need(1, '<job-id>');
        return await wait(rest[0]!);
      default:
        throw new UsageError(
          'usage: s3batch create-job|describe-job|list-jobs|confirm|pause|resume|cancel|update-job-priority|wait ...'
        );
    }
  } finally {
    await connection.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message);
    if (process.env.S3BATCH_DEBUG) console.error(err);
    const code =
      err instanceof UsageError || err instanceof JobSpecError || err instanceof z.ZodError || err instanceof IdempotencyError
        ? EXIT.badInput
        : err instanceof JobStatusError
          ? EXIT.refused
          : 1;
    process.exit(code);
  }
);
