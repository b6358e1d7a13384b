/**
 * batchJobWorkflow: one S3 Batch job. Validates the CreateJob request (in an activity), prepares the manifest,
 * waits for confirmation when asked (job-prepare.ts), then runs the manifest's pages as a sliding window of child
 * workflows (batchPageWorkflow, page-window.ts), keeps AWS's status machine and counters (job-run.ts, updated by the
 * handlers of job-handlers.ts), and writes the report manifest at the end (here).
 *
 * Invariants (../shared/design/engine.md): each page is started once (pages are numbered and the next number is
 * carried across continue-as-new); each page part's counts are added once (keyed by page and part); pages are
 * ABANDONed children that report by signal to this workflow's id, so they outlive a continue-as-new of this run.
 *
 * The workflow returns the final DescribeJob descriptor; a job that ends Failed or Cancelled is still a completed
 * workflow (its status says how the job ended). Only an invalid request fails the workflow itself.
 *
 * Running jobs replay this code: the commands it issues, their order and the patched() ids must not change without
 * a new patched() guard (test/unit/workflow-replay.test.ts replays recorded histories against it).
 */
import { CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { JobOrigin } from '../shared/audit';
import { checkRequest, type JobStatus } from '../shared/job-status';
import type { JobDescriptor } from '../shared/types';
import { recordChange, setJobHandlers } from './job-handlers';
import { createJob } from './job-prepare';
import { JobRun } from './job-run';
import type { JobState } from './job-state';
import { pageContext, runPages } from './page-window';

type Activities = ReturnType<typeof createActivities>;

const { writeReportManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

export async function batchJobWorkflow(request: unknown, carried?: JobState, start?: JobOrigin): Promise<JobDescriptor> {
  const info = workflowInfo();
  const run = new JobRun(info.workflowId, request, carried);
  // Audit: who created the job, known from the start (a continued run carries it in its state instead).
  const origin = JobOrigin.safeParse(start ?? {});
  if (origin.success) run.early.createdBy = origin.data.createdBy;

  setJobHandlers(run);

  // A Temporal cancellation (`temporal workflow cancel`, Web UI) is a user's Cancel: drain, report, end Cancelled.
  CancellationScope.current().cancelRequested.catch(() => {
    run.changes++;
    if (!checkRequest(run.status(), 'Cancelled').ok) return;
    // Who asked is in the cancel request's event (its identity); the workflow is not told.
    recordChange(run, 'CancelJob', undefined);
    run.stop('Cancelling', 'Cancelled through Temporal');
  });

  return CancellationScope.nonCancellable(async () => {
    const result = await runJob();
    // Notifications still queued go out before the workflow ends (at most StatusWebhook.GiveUpAfterHours).
    return (await run.webhook.drain(run.state)) ? run.describe() : result;
  });

  async function runJob(): Promise<JobDescriptor> {
    let state = run.state;
    if (!state) {
      const created = await createJob(run, request, info.startTime, origin.error);
      if ('failed' in created) return created.failed;
      state = created.state;
    } else {
      run.webhook.start(state);
      run.publishProgress();
    }
    await runPages(run, state);
    return finish(run, state);
  }
}

// ---- Completing / Cancelled / Failed: the report manifest, then the end ----

async function finish(run: JobRun, s: JobState): Promise<JobDescriptor> {
  const final: JobStatus = s.status === 'Cancelling' ? 'Cancelled' : s.status === 'Failing' ? 'Failed' : 'Complete';
  if (final === 'Complete') run.setStatus('Completing');
  if (s.job.report && s.succeeded + s.failed > 0) {
    try {
      const written = await writeReportManifest({ jobId: run.jobId, report: pageContext(s).report! });
      s.reportManifestKey = written.key;
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause;
      run.fail('ReportWriteFailed', cause?.message ?? String(err));
      // A cancel keeps its promise: the job ends Cancelled, with the reason the report is missing.
      run.setStatus(final === 'Cancelled' ? 'Cancelled' : 'Failed', 'The completion report could not be written');
      return run.describe(s);
    }
  }
  run.setStatus(final);
  return run.describe(s);
}
