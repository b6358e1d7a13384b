/** Names shared by the worker, the client and the stack. Sandbox-safe. */

export const DEFAULT_TASK_QUEUE = 's3-batch';
export const DEFAULT_NAMESPACE = 's3-batch';

export const JOB_WORKFLOW_TYPE = 'batchJobWorkflow';
export const PAGE_WORKFLOW_TYPE = 'batchPageWorkflow';

/** A page's workflow id: readable in Temporal Web, and deterministic so a page is started once. */
export function pageWorkflowId(jobId: string, pageIndex: number): string {
  return `${jobId}/page-${pageIndex}`;
}

/** The workflow id of a page's current execution: the page's own id, or `<page id>/restart-<n>` after n restarts. */
export function pageRunWorkflowId(jobId: string, pageIndex: number, restarts = 0): string {
  return restarts > 0 ? `${pageWorkflowId(jobId, pageIndex)}/restart-${restarts}` : pageWorkflowId(jobId, pageIndex);
}

/**
 * The account of a job created without an AccountId (CLI and library without --account-id): it belongs to no
 * account, and the HTTP API serves it to every account (DescribeJob and ListJobs alike).
 */
export const NO_ACCOUNT_ID = '000000000000';

/** The job ARN in AWS's form; the account and region are placeholders unless the job gave an AccountId. */
export function jobArn(jobId: string, accountId = NO_ACCOUNT_ID, region = 'local'): string {
  return `arn:aws:s3:${region}:${accountId}:job/${jobId}`;
}
