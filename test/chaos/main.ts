/**
 * `npm run chaos`: the full chaos run (20,000 tasks by default) beside the local stack's MinIO, printing its figures;
 * exits 1 if any promise is broken. `--cluster` runs the job on its own Temporal cluster (the cluster profile's
 * services and PostgreSQL) and crashes its history service, matching service and PostgreSQL instead of a dev server.
 * `npm run chaos -- --help` lists the flags.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../../src/node-version-guard';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { TaskExecution } from '../../src/schemas/job-spec';
import { readStackState, stackConfigFromEnv, stackUp } from '../../scripts/stack/index';
import { brokenPromises, formatFigures } from './figures';
import { faultPathForChaos } from './faults';
import { runChaos } from './run-chaos';

const Flags = z
  .object({
    tasks: z.coerce.number().int().min(10).max(1_000_000).default(20_000),
    missing: z.coerce.number().int().min(0).default(20),
    kills: z.coerce.number().int().min(0).max(100).default(6),
    'no-temporal-restart': z.boolean().default(false),
    'no-faults': z.boolean().default(false),
    cluster: z.boolean().default(false),
    seed: z.coerce.number().int().min(0).default(() => Date.now() % 1_000_000),
    minutes: z.coerce.number().positive().max(600).default(45),
    mode: TaskExecution.optional(),
  })
  .strict()
  .refine((f) => f.missing < f.tasks, { path: ['missing'], message: 'must be less than --tasks' });

const HELP = `npm run chaos -- [--tasks 20000] [--missing 20] [--kills 6] [--seed N] [--minutes 45] [--mode LocalActivity|Activity|Batch] [--no-temporal-restart] [--no-faults] [--cluster]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string' },
      missing: { type: 'string' },
      kills: { type: 'string' },
      seed: { type: 'string' },
      minutes: { type: 'string' },
      mode: { type: 'string' },
      'no-temporal-restart': { type: 'boolean' },
      'no-faults': { type: 'boolean' },
      cluster: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { help: _help, ...given } = values;
  const parsed = Flags.safeParse(given);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`--${issue.path.join('.')}: ${issue.message}`);
    console.error(HELP);
    return 2;
  }
  const flags = parsed.data;
  // Only the stack's MinIO is used (each run starts its own Temporal), so a running stack of either profile will do.
  const stack = readStackState() ?? (await stackUp(stackConfigFromEnv(), { log: (line) => console.log(`  ${line}`) }));
  const on = flags.cluster ? 'its own Temporal cluster (history, matching and PostgreSQL crashes)' : 'its own Temporal dev server';
  console.log(`chaos: ${flags.tasks} tasks on ${on}, up to ${flags.kills} worker kills, seed ${flags.seed}`);
  const figures = await runChaos({
    stack,
    tasks: flags.tasks,
    missing: flags.missing,
    kills: flags.kills,
    temporal: flags.cluster ? 'cluster' : 'dev',
    restartTemporal: !flags['no-temporal-restart'],
    stepSeconds: [5, 20],
    timeLimitMs: flags.minutes * 60_000,
    faults: flags['no-faults'] ? undefined : faultPathForChaos,
    seed: flags.seed,
    taskExecution: flags.mode,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(formatFigures(figures));
  const broken = brokenPromises(figures, flags.missing);
  for (const line of broken) console.error(`BROKEN: ${line}`);
  return broken.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  }
);
