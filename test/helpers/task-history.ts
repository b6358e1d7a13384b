/**
 * When a job's tasks ran, read from Temporal history (the facts the engine records, not the test's clock): for each
 * runTask activity of the job's pages, when a worker took it (ActivityTaskStarted: polled, before the worker's
 * priority gate) and when it completed; when each task started in either mode; when an update was accepted.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

export interface TaskTimes {
  /** ms since the epoch, on the Temporal server's clock. */
  started: number;
  completed: number;
}

const ms = (t: { seconds?: unknown; nanos?: number | null }) => Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);

/** Every completed runTask of the job (activity tasks only: local activities leave no such events). */
export async function jobTaskTimes(client: Client, jobId: string): Promise<TaskTimes[]> {
  const tasks: TaskTimes[] = [];
  for await (const page of client.workflow.list({ query: `WorkflowId STARTS_WITH '${jobId}/page-'` })) {
    const history = await client.workflow.getHandle(page.workflowId, page.runId).fetchHistory();
    const runTasks = new Set<string>();
    const started = new Map<string, number>();
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTask') runTasks.add(String(e.eventId));
      const start = e.activityTaskStartedEventAttributes;
      if (start && runTasks.has(String(start.scheduledEventId))) started.set(String(start.scheduledEventId), ms(e.eventTime!));
      const done = e.activityTaskCompletedEventAttributes;
      if (done && runTasks.has(String(done.scheduledEventId))) {
        tasks.push({ started: started.get(String(done.scheduledEventId))!, completed: ms(e.eventTime!) });
      }
    }
  }
  return tasks;
}

/**
 * When each task of the job started, by Temporal's record, sorted: in Activity mode the ActivityTaskStarted events
 * (server clock: a worker took the task); in LocalActivity mode the local-activity markers' original_schedule_time
 * (the page worker's clock: the task was handed to its activity slot); in Batch mode each runTaskBatch's
 * ActivityTaskScheduled time, once per row of the batch (the page charges a batch's rows to its rate when it
 * schedules it; the activity then starts them together).
 */
export async function jobTaskStarts(client: Client, jobId: string, mode: 'Activity' | 'LocalActivity' | 'Batch'): Promise<number[]> {
  if (mode === 'Activity') return (await jobTaskTimes(client, jobId)).map((t) => t.started).sort((a, b) => a - b);
  const starts: number[] = [];
  for await (const page of client.workflow.list({ query: `WorkflowId STARTS_WITH '${jobId}/page-'` })) {
    const history = await client.workflow.getHandle(page.workflowId, page.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (mode === 'Batch' && scheduled?.activityType?.name === 'runTaskBatch') {
        const input = defaultPayloadConverter.fromPayload<{ rows: unknown[] }>(scheduled.input!.payloads![0]!);
        for (let i = 0; i < input.rows.length; i++) starts.push(ms(e.eventTime!));
      }
      const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0];
      if (mode !== 'LocalActivity' || !data) continue;
      const marker = defaultPayloadConverter.fromPayload<{ activity_type?: string; original_schedule_time?: { seconds: number; nanos: number } }>(data);
      if (marker.activity_type === 'runTask' && marker.original_schedule_time) starts.push(ms(marker.original_schedule_time));
    }
  }
  return starts.sort((a, b) => a - b);
}

/** When each update of this name was accepted by the workflow, in any of its runs (server clock, ms), sorted. */
export async function updateAcceptedTimes(client: Client, workflowId: string, updateName: string): Promise<number[]> {
  const times: number[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
      if (accepted?.acceptedRequest?.input?.name === updateName) times.push(ms(e.eventTime!));
    }
  }
  return times.sort((a, b) => a - b);
}
