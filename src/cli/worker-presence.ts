/**
 * Is any worker serving a task queue? The most common way a Temporal application confuses its users is a job that
 * sits in New because nothing polls its queue (wrong queue, wrong namespace, worker down). Temporal's
 * DescribeTaskQueue lists the recent pollers of a queue with the time of their last poll, for workflow and activity
 * tasks separately; that is what `describe-job`, `watch`, `create-job --watch` and `doctor` read.
 */
import type { ConnectionLike } from '@temporalio/client';
import type { JobClient } from '../job-client';

/** temporal.api.enums.v1.TaskQueueType (numeric, so the CLI needs no runtime import of the protos). */
const TASK_QUEUE_TYPE = { workflow: 1, activity: 2 } as const;
/** temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL. */
const TASK_QUEUE_KIND_NORMAL = 1;

/**
 * How long after its last poll a worker still counts as present. A live, idle worker re-polls when its long poll
 * expires (one minute on the server), so its last poll can be that old; the server itself forgets pollers only
 * after five minutes, which would hide a stopped worker for that long.
 */
export const POLLER_FRESH_MS = 2 * 60_000;

export type TaskQueueKind = keyof typeof TASK_QUEUE_TYPE;

export interface QueuePoller {
  kind: TaskQueueKind;
  identity: string;
  /** The worker's build id (the SDK's, or the one the worker was given). */
  buildId?: string;
  lastAccessMs: number;
}

export interface QueuePresence {
  namespace: string;
  taskQueue: string;
  /** Pollers that polled within POLLER_FRESH_MS, per kind. */
  fresh: Record<TaskQueueKind, QueuePoller[]>;
  /** The most recent poll of any kind, fresh or not (undefined: the server remembers none). */
  lastSeen?: QueuePoller;
}

function timestampMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!t) return 0;
  return Number(String(t.seconds ?? 0)) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/** The pollers of `taskQueue`, workflow and activity, as the server reports them. */
export async function describeQueuePresence(
  connection: ConnectionLike,
  namespace: string,
  taskQueue: string,
  now = Date.now()
): Promise<QueuePresence> {
  const presence: QueuePresence = { namespace, taskQueue, fresh: { workflow: [], activity: [] } };
  for (const kind of Object.keys(TASK_QUEUE_TYPE) as TaskQueueKind[]) {
    const response = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TASK_QUEUE_TYPE[kind],
    });
    for (const p of response.pollers ?? []) {
      const poller: QueuePoller = {
        kind,
        identity: p.identity || '(no identity)',
        buildId: p.deploymentOptions?.buildId || p.workerVersionCapabilities?.buildId || undefined,
        lastAccessMs: timestampMs(p.lastAccessTime),
      };
      if (now - poller.lastAccessMs <= POLLER_FRESH_MS) presence.fresh[kind].push(poller);
      if (!presence.lastSeen || poller.lastAccessMs > presence.lastSeen.lastAccessMs) presence.lastSeen = poller;
    }
  }
  return presence;
}

/** The kinds of task no worker has polled for recently (empty: the queue is served). */
export function unservedKinds(presence: QueuePresence): TaskQueueKind[] {
  return (Object.keys(presence.fresh) as TaskQueueKind[]).filter((kind) => presence.fresh[kind].length === 0);
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/** The command that starts a worker for this queue and namespace. */
export function startWorkerHint(namespace: string, taskQueue: string): string {
  const vars = `S3BATCH_NAMESPACE=${namespace} S3BATCH_TASK_QUEUE=${taskQueue}`;
  const stack = namespace === 's3-batch' && taskQueue === 's3-batch' ? ' (on the local stack: `npm run worker:stack`)' : '';
  return `start a worker: \`${vars} npm run worker\` with its config in S3BATCH_WORKER_CONFIG${stack}`;
}

/** What is missing, in words: which kinds lack a worker, and when one was last seen. */
export function describeAbsence(presence: QueuePresence, now = Date.now()): string {
  const kinds = unservedKinds(presence);
  const what = kinds.length === 2 ? 'no worker has polled' : `no worker has polled for ${kinds[0]} tasks on`;
  const last = presence.lastSeen ? `; last poll ${ago(now - presence.lastSeen.lastAccessMs)} by ${presence.lastSeen.identity}` : '';
  return `${what} task queue "${presence.taskQueue}" in namespace "${presence.namespace}" in the last ${POLLER_FRESH_MS / 60_000} minutes${last}`;
}

/** The one-line warning the job commands print on stderr when a job's queue has no worker. */
export function noWorkerWarning(presence: QueuePresence, jobId: string, now = Date.now()): string {
  return (
    `s3batch: warning: ${describeAbsence(presence, now)}, so job ${jobId} cannot advance.\n` +
    `  Fix: ${startWorkerHint(presence.namespace, presence.taskQueue)}; \`s3batch doctor\` checks the rest.`
  );
}

/** What the job commands learn about a job's workers. */
export interface JobWorkers {
  /** False when the check itself failed: it is advice, and the command goes on without it. */
  known: boolean;
  /** The warning to print: the job is running and no worker serves (some of) its queue. */
  warning?: string;
  /** False when no worker polls for workflow tasks: the job's query cannot be answered, only time out. */
  canAnswerQueries: boolean;
}

/** Whether a running job's task queue is served (a job that has ended needs no worker). */
export async function checkJobWorkers(jobs: JobClient, jobId: string, now = Date.now()): Promise<JobWorkers> {
  try {
    const execution = await jobs.handle(jobId).describe();
    if (execution.status.name !== 'RUNNING') return { known: true, canAnswerQueries: true };
    const presence = await describeQueuePresence(jobs.client.connection, jobs.client.options.namespace, execution.taskQueue, now);
    const unserved = unservedKinds(presence);
    return {
      known: true,
      warning: unserved.length > 0 ? noWorkerWarning(presence, jobId, now) : undefined,
      canAnswerQueries: !unserved.includes('workflow'),
    };
  } catch {
    return { known: false, canAnswerQueries: true };
  }
}

/** How often `watch` looks again: the check costs three calls, and a worker that went away is news within a minute. */
export const WATCH_CHECK_INTERVAL_MS = 30_000;

/**
 * For `watch` and `create-job --watch`: checks now and every WATCH_CHECK_INTERVAL_MS until stopped (also while the
 * job's query hangs for want of a worker); prints the warning when the queue becomes unserved and a line when a
 * worker is back, never the same news twice.
 */
export function watchWorkers(jobs: JobClient, jobId: string, write: (text: string) => void): { stop(): void } {
  let warned = false;
  let stopped = false;
  const check = async () => {
    const { known, warning } = await checkJobWorkers(jobs, jobId);
    if (stopped || !known) return;
    if (warning && !warned) write(`${warning}\n`);
    else if (!warning && warned) write(`s3batch: a worker polls the task queue of job ${jobId} again\n`);
    warned = Boolean(warning);
  };
  void check();
  const timer = setInterval(() => void check(), WATCH_CHECK_INTERVAL_MS);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
