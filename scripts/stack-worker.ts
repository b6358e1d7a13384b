/**
 * npm run worker:stack — a worker for the running local stack (`npm run stack:up`), on task queue s3-batch, with
 * the stack's connections: "default"/"minio" (MinIO), "moto", and one Lambda connection per test function.
 * Jobs can then be started with `npm run s3batch -- create-job job.json --wait` or the Temporal CLI.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker } from '../src/worker-runtime';
import { readStackState, stackConfigFromEnv, stateFilePath } from './stack/index';
import { workerConfigForStack } from './stack/worker-config';

async function main(): Promise<void> {
  const stateFile = stateFilePath(stackConfigFromEnv().dataDir);
  const state = readStackState(stateFile);
  if (!state) throw new Error(`no running stack (${stateFile}); start one with \`npm run stack:up\``);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = workerConfigForStack(state);
  const built = await createWorker(config);
  console.log(
    `s3-batch worker on ${config.temporal.address}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}; S3 connections: ${Object.keys(config.s3).join(', ')}`
  );
  await built.worker.run();
  await built.close();
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
