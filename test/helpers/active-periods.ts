/**
 * When a job was Active, read from Temporal history (the times the engine recorded, not the test's clock): every
 * status change upserts the S3BatchJobStatus search attribute, and the workflow stamps the change with its own time,
 * which is the start of the workflow task that made it (WorkflowTaskStarted). Summing the Active periods gives what
 * ElapsedTimeInActiveSeconds must be.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { JobStatusKey } from '../../src/shared/search-attributes';

export interface ActivePeriods {
  /** Seconds in Active periods that have ended. */
  closedSeconds: number;
  /** ms since the epoch (workflow time) when the period still in progress began; absent when not Active. */
  activeSince?: number;
  /** Every status change, in order, with its workflow time. */
  changes: { status: string; at: number }[];
  /** The workflow time of the latest workflow task so far: the "now" a query answered at this point can see. */
  lastTaskStarted: number;
}

const ms = (t: { seconds?: unknown; nanos?: number | null }) => Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;

/** The status changes of every run of the job (continue-as-new included), in order. */
export async function jobActivePeriods(client: Client, jobId: string): Promise<ActivePeriods> {
  const runs: { runId: string; start: number }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${jobId}'` })) runs.push({ runId: run.runId, start: run.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  const changes: ActivePeriods['changes'] = [];
  let lastTaskStarted = 0;
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
    let taskStarted: number | undefined;
    for (const e of history.events ?? []) {
      if (e.workflowTaskStartedEventAttributes) lastTaskStarted = taskStarted = ms(e.eventTime!);
      const payload = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[JobStatusKey.name];
      if (!payload) continue;
      const value = defaultPayloadConverter.fromPayload<string | string[]>(payload);
      const status = Array.isArray(value) ? value[0]! : value;
      if (taskStarted === undefined) throw new Error(`run ${runId}: status ${status} upserted before any workflow task started`);
      changes.push({ status, at: taskStarted });
    }
  }
  let closedSeconds = 0;
  let activeSince: number | undefined;
  for (const { status, at } of changes) {
    if (status === 'Active' && activeSince === undefined) activeSince = at;
    if (status !== 'Active' && activeSince !== undefined) {
      closedSeconds += (at - activeSince) / 1000;
      activeSince = undefined;
    }
  }
  return { closedSeconds, activeSince, changes, lastTaskStarted };
}
