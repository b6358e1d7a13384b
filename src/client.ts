/**
 * The typed client library: what a TypeScript service imports to run s3-batch jobs through Temporal directly
 * (`import { JobClient } from 's3-batch'`). The job spec types are the same the CLI, the HTTP API and the workflow
 * validate with; the message definitions let a service query and update a job without the client too.
 *
 *   const jobs = new JobClient(temporalClient, { taskQueue: 's3-batch' });
 *   // or connected as the worker is, e.g. over mTLS (or apiKeyFile / apiKeyEnv for Temporal Cloud):
 *   const jobs = new JobClient(await connectTemporalClient({ address, namespace, tls: { clientCertFile, clientKeyFile, serverCaFile } }));
 *   const { jobId } = await jobs.createJob(request);
 *   const job = await jobs.waitForCompletion(jobId, { onProgress: (j) => console.log(j.S3Batch.Summary) });
 */
export {
  JobClient,
  JobSpecError,
  IdempotencyError,
  JobStatusError,
  InvalidNextTokenError,
  RedriveError,
  jobIdFromToken,
  redriveToken,
  type RedriveOptions,
  type RedriveRefusal,
  type JobClientOptions,
  type JobListEntry,
  type JobListPage,
  type ListJobsOptions,
} from './job-client';
export {
  validateJobSpec,
  CreateJobRequest,
  RedriveOf,
  type CreateJob,
  type CreateJobInput,
  type SpecProblem,
} from './schemas/job-spec';
/** Who the client acts as (recorded with every change) and what it may do: `principal: principalFromEnv(process.env)`. */
export {
  principalFromEnv,
  resolvePrincipal,
  defaultIdentity,
  PrincipalConfigError,
  IdentityPolicy,
  IDENTITY_ENV,
  IDENTITY_POLICY_ENV,
  type Principal,
  type IdentityPolicyInput,
} from './client-principal';
export { AccessDeniedError, type AccessPolicy } from './access-policy';
export { Actor, type JobAction, type JobChange } from './shared/audit';
export { JOB_STATUSES, type JobStatus } from './shared/job-status';
export { NO_ACCOUNT_ID } from './shared/constants';
export type { JobDescriptor, JobProgressSummary, JobFailure } from './shared/types';
export {
  describeJobQuery,
  updateJobStatusUpdate,
  pauseJobUpdate,
  resumeJobUpdate,
  updateJobPriorityUpdate,
  updateJobRateUpdate,
  putJobTaggingUpdate,
  type JobTag,
} from './shared/messages';
export { JOB_WORKFLOW_TYPE, DEFAULT_TASK_QUEUE } from './shared/constants';
/** Payload encryption: give a service's Temporal Client `dataConverter: clientDataConverter()` (S3BATCH_PAYLOAD_KEYS). */
export { clientDataConverter, dataConverterFor } from './codec/data-converter';
export { AesGcmCodec } from './codec/aes-gcm-codec';
export { payloadKeysFromEnv, PAYLOAD_KEYS_ENV, type PayloadKeys } from './codec/payload-keys';
/** Connecting as the worker does: the same `temporal` fields (address, namespace, tls, apiKeyFile, apiKeyEnv). */
export {
  connectTemporalClient,
  temporalConnectOptions,
  describeTemporalSecurity,
  TemporalConnectionError,
  type TemporalConnectOptions,
} from './temporal-connection';
export { TemporalConnectionConfig, type TemporalConnectionConfigInput, type TemporalConnectionSettings } from './schemas/temporal-connection';
