/**
 * doctor: checks everything a job needs, one line each, with a fix for every failure: the Temporal server, the
 * namespace and its retention, the search attributes, the workers polling the task queue (identities and build
 * ids), each S3 and Lambda connection of the worker config with its credentials, and the clock. Exits non-zero when
 * anything failed.
 */
import { Command } from 'commander';
import { localStackStateFile } from '../../local-stack';
import { WorkerConfigError, type WorkerConfig } from '../../schemas/worker-config';
import type { CliContext } from '../context';
import { formatCheck, formatVerdict, fail, type CheckResult } from '../doctor/check';
import { connectionChecks, type ConfigSource } from '../doctor/connection-checks';
import { temporalChecks } from '../doctor/temporal-checks';
import { EXIT_CODES } from '../exit-codes';
import { printJson, printLine } from '../output';
import { cliWorkerConfig } from '../report-reader';

/** The worker config the CLI reads connections with, and where it came from; or the failed check saying why not. */
function workerConfig(env: NodeJS.ProcessEnv): { config: WorkerConfig; source: ConfigSource } | CheckResult {
  let fromStack = false;
  try {
    const config = cliWorkerConfig(env, () => (fromStack = true));
    const where = fromStack
      ? `the local stack's state (${localStackStateFile(env)}; restart it: npm run stack:up)`
      : env.S3BATCH_WORKER_CONFIG
        ? `the worker config ${env.S3BATCH_WORKER_CONFIG} (S3BATCH_WORKER_CONFIG)`
        : 'the S3BATCH_S3_* and AWS_* variables';
    return { config, source: { where } };
  } catch (err) {
    if (!(err instanceof WorkerConfigError)) throw err;
    return fail(err.message.replace(/\n/g, ' '), 'fix the file named by S3BATCH_WORKER_CONFIG or the S3BATCH_* variables');
  }
}

export function doctorCommand(ctx: CliContext): Command {
  return new Command('doctor')
    .description('Check the Temporal server, namespace, search attributes, workers, S3 and Lambda connections and clock')
    .option('--json', 'print the checks as JSON ({ "ok", "checks": [{ "status", "summary", "fix" }] })')
    .addHelpText(
      'after',
      '\nOne line per check (ok, FAIL with its fix, or skip when an earlier failure makes it moot).\n' +
        `Exits 0 when every check passed, ${EXIT_CODES.unhealthy} when one failed. Connections come from the worker config, as for \`report\`.`
    )
    .action(async (options: { json?: boolean }) => {
      const env = ctx.env;
      const target = { address: ctx.address, namespace: env.S3BATCH_NAMESPACE, taskQueue: env.S3BATCH_TASK_QUEUE };
      const checks = await temporalChecks(async () => (await ctx.jobs()).client.connection, target);
      const loaded = workerConfig(ctx.processEnv);
      if ('status' in loaded) checks.push(loaded);
      else checks.push(...(await connectionChecks(loaded.config, loaded.source)));
      const healthy = checks.every((c) => c.status !== 'fail');
      if (options.json) printJson({ ok: healthy, checks });
      else printLine([...checks.map(formatCheck), formatVerdict(checks)].join('\n'));
      ctx.exitCode = healthy ? EXIT_CODES.ok : EXIT_CODES.unhealthy;
    });
}
