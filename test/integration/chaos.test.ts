/**
 * The short chaos run in `npm test` (`npm run chaos` is the long one): 2,000 tasks while both workers are SIGKILLed
 * and restarted, the Temporal dev server is SIGKILLed and restarted once, and the workers' S3 traffic meets injected faults. Every
 * promise of test/chaos/figures.ts must hold: Complete, exact counts, every row once in the report, objects' state
 * as reported.
 */
import { brokenPromises, formatFigures } from '../chaos/figures';
import { faultPathForChaos } from '../chaos/faults';
import { runChaos } from '../chaos/run-chaos';
import { getStack } from '../helpers/stack';
import { TaskExecution } from '../../src/schemas/job-spec';

const TASKS = Number(process.env.S3BATCH_CHAOS_TASKS ?? 2000);
const MISSING = 10;
/** S3BATCH_CHAOS_MODE: the job's task execution mode (absent: the default, LocalActivity). */
const MODE = process.env.S3BATCH_CHAOS_MODE ? TaskExecution.parse(process.env.S3BATCH_CHAOS_MODE) : undefined;

test(`chaos${MODE ? ` (${MODE})` : ''}: ${TASKS} tasks through worker kills, a Temporal crash and restart, and S3 faults`, async () => {
  const figures = await runChaos({
    stack: getStack(),
    tasks: TASKS,
    missing: MISSING,
    kills: 2,
    restartTemporal: true,
    stepSeconds: [3, 6],
    timeLimitMs: 12 * 60_000,
    faults: process.env.S3BATCH_CHAOS_NO_FAULTS ? undefined : faultPathForChaos,
    seed: 20261122,
    taskExecution: MODE,
    log: (line) => console.log(line),
  });
  console.log(formatFigures(figures));
  expect(brokenPromises(figures, MISSING)).toEqual([]);
  // The chaos happened: a run that killed nothing or injected nothing proves nothing.
  expect(figures.workerKills).toBe(2);
  expect(figures.temporalCrashes).toEqual({ 'dev server': 1 });
  if (!process.env.S3BATCH_CHAOS_NO_FAULTS) expect(Object.values(figures.injectedFaults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
}, 15 * 60_000);
