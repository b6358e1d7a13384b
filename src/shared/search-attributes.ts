/**
 * Custom search attributes the job workflow keeps current, so that jobs can be filtered in Temporal Web and with
 * `temporal workflow list --query "S3BatchJobStatus='Active'"`. The dev stack registers exactly this list at start.
 * Sandbox-safe.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
export const JOB_SEARCH_ATTRIBUTES = [
  { name: 'S3BatchJobStatus', type: 'Keyword' },
  { name: 'S3BatchOperation', type: 'Keyword' },
  { name: 'S3BatchPriority', type: 'Int' },
  // Set once, when the client starts the job (never upserted by the workflow): ListJobs lists one account's jobs.
  { name: 'S3BatchAccountId', type: 'Keyword' },
] as const;

export type JobSearchAttributeName = (typeof JOB_SEARCH_ATTRIBUTES)[number]['name'];

export const JobStatusKey = defineSearchAttributeKey('S3BatchJobStatus', SearchAttributeType.KEYWORD);
export const JobOperationKey = defineSearchAttributeKey('S3BatchOperation', SearchAttributeType.KEYWORD);
export const JobPriorityKey = defineSearchAttributeKey('S3BatchPriority', SearchAttributeType.INT);
export const JobAccountKey = defineSearchAttributeKey('S3BatchAccountId', SearchAttributeType.KEYWORD);
