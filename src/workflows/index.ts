/** The worker's workflowsPath: every workflow type this worker runs. */
export { batchJobWorkflow } from './batch-job';
export { batchPageWorkflow } from './batch-page';
