/**
 * Runs an activity function outside a worker, with the context a worker would give it (what @temporalio/testing's
 * MockActivityEnvironment does, which this project does not install): Context.current() works, heartbeats are counted,
 * cancellation never comes. The function itself is the worker's own code, unchanged.
 */
import { asyncLocalStorage, Context, type Info } from '@temporalio/activity';
import { noopMetricMeter, type Logger } from '@temporalio/common';

export interface ActivityRun<T> {
  result: T;
  heartbeats: number;
}

const quietLogger: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message, meta) => console.warn(message, meta ?? ''),
  error: (message, meta) => console.error(message, meta ?? ''),
};

export async function runAsActivity<T>(activityType: string, fn: () => Promise<T>): Promise<ActivityRun<T>> {
  let heartbeats = 0;
  const info = {
    activityId: '1',
    activityType,
    attempt: 1,
    isLocal: false,
    taskQueue: 'bench',
    workflowType: 'bench',
    workflowExecution: { workflowId: 'bench', runId: 'bench' },
    workflowNamespace: 'default',
    activityNamespace: 'default',
    namespace: 'default',
    heartbeatDetails: undefined,
    heartbeatTimeoutMs: 0,
    scheduledTimestampMs: Date.now(),
    startToCloseTimeoutMs: 0,
    scheduleToCloseTimeoutMs: 0,
    currentAttemptScheduledTimestampMs: Date.now(),
    taskToken: new Uint8Array(),
    base64TaskToken: '',
    priority: {},
  } as unknown as Info;
  const controller = new AbortController();
  const context = new Context(
    info,
    new Promise<never>(() => undefined),
    controller.signal,
    () => void heartbeats++,
    undefined,
    quietLogger,
    noopMetricMeter,
    {}
  );
  const result = await asyncLocalStorage.run(context, fn);
  return { result, heartbeats };
}
