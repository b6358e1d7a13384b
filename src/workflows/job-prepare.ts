/**
 * New → Preparing → (Suspended) → Ready: the job's first steps. Validates the CreateJob request (in an activity),
 * builds the JobState, checks expected bucket owners, prepares the manifest (a redrive's or an inventory's is built
 * first; a generated one is listed later, while the pages run), and waits for confirmation when asked.
 */
import { ApplicationFailure, condition, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { ZodError } from 'zod';
import type { createActivities } from '../activities';
import { bucketOwnerChecks, INVENTORY_MANIFEST_NAME, SUSPENDED_EXPIRY_SECONDS, suspendedExpiryText } from '../schemas/job-spec';
import { formatProblems, zodProblems } from '../shared/problems';
import { reportJobFolder } from '../shared/page-context';
import { JobOperationKey, JobPriorityKey } from '../shared/search-attributes';
import type { JobDescriptor } from '../shared/types';
import type { JobRun } from './job-run';
import type { JobState } from './job-state';
import { newListing } from './manifest-listing';

type Activities = ReturnType<typeof createActivities>;

const { validateJob } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});
const { prepareManifest, buildRedriveManifest, buildInventoryManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});
const { checkBucketOwners } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/**
 * Creates the job's state from the request and brings it to Ready (or leaves it stopping, when a cancel came
 * first). An invalid request fails the workflow itself; a job that fails later ends with its descriptor.
 */
export async function createJob(
  run: JobRun,
  req: unknown,
  startTime: Date,
  originError?: ZodError
): Promise<{ state: JobState } | { failed: JobDescriptor }> {
  const { jobId, early } = run;
  // A start input whose audit fields are wrong fails as a wrong request does (never before the audit trail existed:
  // jobs started without them replay unchanged).
  const validation: Awaited<ReturnType<typeof validateJob>> = originError
    ? { ok: false, problems: zodProblems(originError.issues, ['origin']) }
    : await validateJob(req);
  if (!validation.ok) {
    const problems = formatProblems(validation.problems);
    run.fail('InvalidJobSpec', problems);
    run.setStatus('Failed');
    throw ApplicationFailure.nonRetryable(`Invalid job spec: ${problems}`, 'InvalidJobSpec', validation.problems);
  }
  const job = validation.job;
  const fresh: JobState = {
    job,
    status: early.status,
    priority: job.request.Priority,
    createdAt: new Date(startTime).toISOString(),
    failureReasons: early.failureReasons,
    tags: early.tags,
    createdBy: early.createdBy,
    lastChange: early.lastChange,
    ...(early.maxTasksPerSecond !== undefined ? { maxTasksPerSecond: early.maxTasksPerSecond } : {}),
    nextPage: 0,
    pages: {},
    pagesDone: 0,
    succeeded: 0,
    failed: 0,
    failures: {},
    activeSeconds: 0,
  };
  run.state = fresh;
  run.webhook.start(fresh);
  upsertSearchAttributes([
    { key: JobOperationKey, value: job.operation.name },
    { key: JobPriorityKey, value: fresh.priority },
  ]);
  if (early.stopRequested) return { state: fresh };
  run.setStatus('Preparing');
  // Only jobs that name an expected bucket owner check it (jobs that did before this check existed replay without
  // it): a bucket another account owns fails the job here, before any task runs, as on AWS.
  const ownerChecks = bucketOwnerChecks(job);
  if (ownerChecks.length > 0 && patched('expected-bucket-owner')) {
    try {
      await checkBucketOwners({ checks: ownerChecks });
    } catch (err) {
      const cause = (err as { cause?: { type?: string; message?: string } }).cause;
      run.fail(cause?.type ?? 'BucketUnreadable', cause?.message ?? String(err));
      run.setStatus('Failed', 'A bucket did not match its expected owner, or could not be checked');
      return { failed: run.describe(fresh) };
    }
  }
  try {
    // Only redrive jobs take this branch: jobs without RedriveOf issue exactly the commands they always did.
    if (job.redrive) {
      const built = await buildRedriveManifest({
        jobId,
        source: { jobId: job.redrive.jobId, bucket: job.redrive.bucket, key: job.redrive.key },
        report: job.report!,
      });
      if (built.rows === 0) {
        run.fail(
          'NothingToRedrive',
          `job ${job.redrive.jobId} has no failed tasks in its report (${built.shards} failed shards): nothing to redrive`
        );
        run.setStatus('Failed', 'Nothing to redrive');
        return { failed: run.describe(fresh) };
      }
      // From here on the job is an ordinary CSV job over the built manifest, pinned to the ETag just written.
      fresh.job = { ...job, manifest: { ...job.manifest, key: built.key, etag: built.etag } };
    }
    if (job.inventory) {
      // The inventory's rows, gathered into one CSV in the report folder: from here on an ordinary CSV job.
      const built = await buildInventoryManifest({
        jobId,
        inventory: job.inventory,
        output: {
          connection: job.report!.connection,
          bucket: job.report!.bucket,
          key: `${reportJobFolder(job.report!, jobId)}/${INVENTORY_MANIFEST_NAME}`,
          ...(job.report!.expectedOwner ? { expectedOwner: job.report!.expectedOwner } : {}),
        },
      });
      fresh.job = { ...job, manifest: { ...job.manifest, key: built.key, etag: built.etag } };
    }
    if (job.generator) {
      // Listed while the pages run (runPages): nothing to prepare.
      fresh.listing = newListing();
    } else {
      fresh.prepared = await prepareManifest({
        manifest: { ...fresh.job.manifest },
        pageSize: job.extensions.PageSize,
      });
    }
  } catch (err) {
    const cause = (err as { cause?: { type?: string; message?: string } }).cause;
    run.fail(cause?.type ?? 'ManifestUnreadable', cause?.message ?? String(err));
    run.setStatus('Failed', 'The manifest could not be prepared');
    return { failed: run.describe(fresh) };
  }
  run.publishProgress();
  if (fresh.status === 'Preparing') {
    if (job.request.ConfirmationRequired) {
      run.setStatus('Suspended');
      // Jobs suspended before the expiry existed replay without its timer: they keep waiting, as they did.
      if (patched('suspended-expiry')) {
        // Jobs validated before the setting existed have none: AWS's 30 days.
        const seconds = job.extensions.SuspendedExpirySeconds ?? SUSPENDED_EXPIRY_SECONDS;
        const confirmed = await condition(() => fresh.status !== 'Suspended', seconds * 1000);
        if (!confirmed) {
          run.fail(
            'SuspendedJobExpired',
            `the job was not confirmed (UpdateJobStatus Ready) within ${suspendedExpiryText(seconds)} of being suspended (Extensions.SuspendedExpirySeconds: ${seconds})`
          );
          run.setStatus('Failed', `Left in Suspended for ${suspendedExpiryText(seconds)} without confirmation`);
          return { failed: run.describe(fresh) };
        }
      } else {
        await condition(() => fresh.status !== 'Suspended');
      }
    } else {
      run.setStatus('Ready');
    }
  }
  return { state: fresh };
}
