/**
 * When a job's tasks ran, read from Temporal history (the facts the engine records, not the test's clock): for each
 * runTask activity of the job's pages, when a worker took it (ActivityTaskStarted: polled, before the worker's
 * priority gate) and when it completed.
 */
import type { Client } from '@temporalio/client';

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
