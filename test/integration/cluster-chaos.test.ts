/**
 * The short cluster chaos run (`npm run chaos -- --cluster` is the long one), for `npm run test:cluster`: 3,000 tasks
 * on the run's own Temporal cluster (the cluster profile's services and PostgreSQL, on free ports) while its history
 * service, its matching service and PostgreSQL are each SIGKILLed and started again, both workers are SIGKILLed and
 * restarted, and the workers' S3 traffic meets injected faults. Every promise of test/chaos/figures.ts must hold:
 * Complete, exact counts, every row once in the report, objects' state as reported.
 */
import { brokenPromises, formatFigures } from '../chaos/figures';
import { faultPathForChaos } from '../chaos/faults';
import { runChaos } from '../chaos/run-chaos';
import { getStack } from '../helpers/stack';

const TASKS = Number(process.env.S3BATCH_CHAOS_TASKS ?? 3000);
const MISSING = 10;

// It starts its own cluster whatever the stack's profile, but belongs to `npm run test:cluster` (which runs on the
// cluster profile), not to the main suite: the main suite skips it unless S3BATCH_CLUSTER_CHAOS=1.
const inClusterSuite = getStack().profile === 'cluster' || process.env.S3BATCH_CLUSTER_CHAOS === '1';

(inClusterSuite ? test : test.skip)(`cluster chaos: ${TASKS} tasks through history, matching and PostgreSQL crashes, worker kills and S3 faults`, async () => {
  const figures = await runChaos({
    stack: getStack(),
    temporal: 'cluster',
    tasks: TASKS,
    missing: MISSING,
    kills: 2,
    restartTemporal: true,
    stepSeconds: [2, 4],
    timeLimitMs: 15 * 60_000,
    faults: faultPathForChaos,
    seed: 20261204,
    log: (line) => console.log(line),
    // Half the default concurrency: the job must outlast the chaos (every crash is made by 40% of the tasks), even
    // when the workers are quicker than the driver on a machine less busy than this one.
    jobExtensions: { MaxConcurrentPages: 2 },
  });
  console.log(formatFigures(figures));
  expect(brokenPromises(figures, MISSING)).toEqual([]);
  // The chaos happened: a run that crashed nothing proves nothing.
  expect(figures.temporalCrashes).toEqual({ history: 1, matching: 1, postgres: 1 });
  expect(figures.workerKills).toBe(2);
  expect(Object.values(figures.injectedFaults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
}, 20 * 60_000);
