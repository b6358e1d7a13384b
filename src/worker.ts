/**
 * The worker process: `npm run worker` (or `node lib/src/worker.js`). Configured by S3BATCH_WORKER_CONFIG and
 * environment variables (see src/schemas/worker-config.ts); stops cleanly on SIGINT/SIGTERM.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import './node-version-guard';
import { loadWorkerConfig, WorkerConfigError } from './schemas/worker-config';
import { createWorker } from './worker-runtime';
import { rolesStartupLine } from './schemas/roles';
import { PayloadKeyError } from './codec/payload-keys';
import { describeTemporalSecurity, TemporalConnectionError } from './temporal-connection';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const built = await createWorker(config, { workflowBundlePath: process.env.S3BATCH_WORKFLOW_BUNDLE });
  console.log(
    `s3-batch worker on ${config.temporal.address} (${describeTemporalSecurity(config.temporal)}), namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}; S3 connections: ${Object.keys(config.s3).join(', ') || '(none)'}; Node ${process.version}`
  );
  console.log(rolesStartupLine(config.roles));
  // Worker.run installs SIGINT/SIGTERM handlers that shut it down gracefully.
  await built.worker.run();
  await built.close();
}

main().catch((err) => {
  console.error(err instanceof WorkerConfigError || err instanceof PayloadKeyError || err instanceof TemporalConnectionError ? err.message : err);
  process.exit(1);
});
