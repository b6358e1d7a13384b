/**
 * The HTTP API's audit trail: one JSON line per authenticated call that changes something (CreateJob, UpdateJobStatus,
 * UpdateJobPriority, UpdateJobRate, PutJobTagging, DeleteJobTagging), refused ones included, so who did what to which job, and
 * whether it was allowed, can be read back with any JSON log tool. It names the access key id, never a secret; its
 * `actor` is the one the job itself records (docs/security.md, audit trail).
 */
export interface AuditEntry {
  requestId: string;
  /** Who: the actor the job's history and DescribeJob record for the change (`access-key:<id>`). */
  actor: string;
  accessKeyId: string;
  /** The x-amz-account-id sent, as sent (absent if none). */
  accountId?: string;
  /** S3 Control's name of the call. */
  operation: string;
  /** The job acted on; for CreateJob, the job created (absent when it was refused). */
  jobId?: string;
  /** The HTTP status answered. */
  status: number;
  /** The AWS error code, when refused. */
  errorCode?: string;
}

/** The line, `"audit": "s3batch-api"` first so it is easy to pick out of the API's other log lines. */
export function auditLine(entry: AuditEntry, now: Date = new Date()): string {
  return JSON.stringify({ audit: 's3batch-api', time: now.toISOString(), ...entry });
}
