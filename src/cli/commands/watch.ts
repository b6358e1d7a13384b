/** watch: follow a job to its end with live progress; exit code by its final status. */
import { Command } from 'commander';
import type { CliContext } from '../context';
import { exitCodeForStatus } from '../exit-codes';
import { printJson, printLine } from '../output';
import { parseJobId, positiveInt } from '../parse';
import { formatFinal } from '../progress-bar';
import { watchJob } from '../watch-job';

export function watchCommand(ctx: CliContext): Command {
  return new Command('watch')
    .description('Follow a job: progress bar (succeeded/failed, rate, ETA), then final status and report location')
    .argument('<job-id>', 'the job', parseJobId)
    .option('--interval <ms>', 'poll interval', positiveInt(60_000), 1000)
    .option('--json', 'print the final DescribeJob response ({ "Job": … }) as JSON on stdout')
    .addHelpText(
      'after',
      '\nProgress goes to stderr: a bar redrawn in place on a terminal, one line per change otherwise.\nExits 0 when the job ends Complete, 5 when Failed, 6 when Cancelled.'
    )
    .action(async (jobId: string, options: { interval: number; json?: boolean }) => {
      const final = await watchJob(await ctx.jobs(), jobId, { pollMs: options.interval, tty: Boolean(process.stderr.isTTY) });
      if (options.json) printJson({ Job: final });
      else printLine(formatFinal(final));
      ctx.exitCode = exitCodeForStatus(final.Status);
    });
}
