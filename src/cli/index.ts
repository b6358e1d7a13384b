/**
 * The s3batch program: registers the commands and turns every outcome into one of EXIT_CODES. Commands are thin
 * (src/cli/commands/*): they parse options, call the JobClient, and print.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { createJobCommand } from './commands/create-job';
import { pauseCommand, resumeCommand, updateJobPriorityCommand, updateJobRateCommand, updateJobStatusCommand } from './commands/control';
import { describeJobCommand } from './commands/describe-job';
import { doctorCommand } from './commands/doctor';
import { listJobsCommand } from './commands/list-jobs';
import { redriveCommand } from './commands/redrive';
import { reportCommand } from './commands/report';
import { watchCommand } from './commands/watch';
import { CliContext, ENV_HELP } from './context';
import { classifyError } from './errors';
import { EXIT_CODES, exitCodesHelp, type ExitCode } from './exit-codes';

/** package.json's version, from src/cli (tsx) or lib/src/cli (built): the nearest package.json up the tree. */
function packageVersion(): string {
  for (const up of ['../..', '../../..']) {
    try {
      return JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')).version as string;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('s3batch')
    .description('Create, follow and steer s3-batch jobs (S3 Batch Operations on Temporal)')
    .version(packageVersion())
    .addHelpText('after', `\n${exitCodesHelp()}\n\n${ENV_HELP}`);
  for (const make of [
    createJobCommand,
    describeJobCommand,
    listJobsCommand,
    updateJobStatusCommand,
    pauseCommand,
    resumeCommand,
    updateJobPriorityCommand,
    updateJobRateCommand,
    watchCommand,
    reportCommand,
    redriveCommand,
    doctorCommand,
  ]) {
    program.addCommand(make(ctx));
  }
  // Usage errors throw instead of exiting, in every subcommand too, so that their exit code is ours (bad input).
  // (addCommand does not copy settings to subcommands, so each is set on every one.)
  const configure = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError('(add --help for usage)').showSuggestionAfterError();
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs the CLI on argv (without node and script); resolves to the exit code. Never throws. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const ctx = new CliContext(env);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed its message (and help) already; help and --version are not errors.
      const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      return ok ? EXIT_CODES.ok : EXIT_CODES.badInput;
    }
    const { exitCode, message } = classifyError(err, ctx.address);
    process.stderr.write(`s3batch: ${message}\n`);
    if (env.S3BATCH_DEBUG) console.error(err);
    return exitCode;
  } finally {
    await ctx.close().catch(() => undefined);
  }
}
