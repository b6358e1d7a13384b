/**
 * A worker that runs the built-in operations and SetContentType: `npx tsx examples/custom-operation/worker.ts`,
 * configured like `npm run worker` (S3BATCH_WORKER_CONFIG and the S3BATCH_* variables). Installed as a package,
 * the import is `from 's3-batch/worker'`.
 */
import { createWorker, loadWorkerConfig, WorkerConfigError } from '../../src/worker-api';
import { setContentType } from './set-content-type';

async function main(): Promise<void> {
  const { worker, close } = await createWorker(loadWorkerConfig(), { customOperations: [setContentType] });
  await worker.run(); // until SIGINT/SIGTERM
  await close();
}

main().catch((err) => {
  console.error(err instanceof WorkerConfigError ? err.message : err);
  process.exit(1);
});
