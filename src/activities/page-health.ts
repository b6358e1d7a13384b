/**
 * The job's watch over its pages: which of them ended without telling the job (terminated by an operator, timed
 * out, or failed before they could signal). Pages are ABANDONed children that report only by signal, so a page that
 * dies silently would otherwise leave its job waiting forever.
 *
 * For each dead page the answer carries the input of its last run (read from that run's first history event,
 * decoded with the worker's data converter), so the job can restart the page from exactly the part that never
 * reported: every earlier part's counts are already in, and that part's shard key is overwritten, never duplicated.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { temporal } from '@temporalio/proto';
import { PAGE_FAILURE_NOTIFIED } from '../shared/page-context';
import type { PageInput } from '../shared/page-context';

export interface CheckPagesInput {
  /** The pages the job still waits for: index and the workflow id of its current execution. */
  pages: { pageIndex: number; workflowId: string }[];
}

/** A page whose latest run closed without completing. */
export interface DeadPage {
  pageIndex: number;
  workflowId: string;
  /** How its last run closed: Failed, Terminated, TimedOut or Canceled. */
  closedAs: string;
  /** Why, as Temporal recorded it (failure message, terminate reason), truncated. */
  reason: string;
  /** FailureCode for the job: the failure's type, or Page<closedAs>. */
  code: string;
  /** The run failed with a non-retryable error: a restart would fail the same way. */
  permanent: boolean;
  /** The last run's input: where a restart picks up. */
  input: PageInput;
}

/** The client's status names of a run that closed without completing, and how we report each. */
const CLOSED_WITHOUT_COMPLETING: Record<string, string> = {
  FAILED: 'Failed',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  CANCELLED: 'Canceled',
};

/** temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: only the close event. */
const CLOSE_EVENT_ONLY = 2;

export async function checkPages(input: CheckPagesInput): Promise<DeadPage[]> {
  const { client } = Context.current();
  const namespace = client.options.namespace;
  const service = client.workflowService;
  const dead: DeadPage[] = [];
  for (const { pageIndex, workflowId } of input.pages) {
    let described;
    try {
      described = await client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      // Not started yet (the job's start command is still in flight): nothing to judge.
      if (err instanceof WorkflowNotFoundError) continue;
      throw err;
    }
    const closedAs = CLOSED_WITHOUT_COMPLETING[described.status.name];
    if (!closedAs) continue;
    const runId = described.runId;
    const [first, close] = await Promise.all([
      service.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 1 }),
      service.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId, runId },
        historyEventFilterType: CLOSE_EVENT_ONLY,
      }),
    ]);
    const converter = client.options.loadedDataConverter;
    const closeEvent = close.history?.events?.[0];
    const failure = closeEvent?.workflowExecutionFailedEventAttributes?.failure;
    const details = failure?.applicationFailureInfo?.details?.payloads;
    // An activity's failure is wrapped (ActivityFailure → its ApplicationFailure): the first application failure says.
    const application = causes(failure).find((f) => f.applicationFailureInfo);
    // A page that told the job itself (pageFailedSignal) is the signal's business.
    if (details?.length && (await decodeFromPayloadsAtIndex(converter, 0, details)) === PAGE_FAILURE_NOTIFIED) continue;
    const payloads = first.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    const pageInput = await decodeFromPayloadsAtIndex<PageInput>(converter, 0, payloads);
    dead.push({
      pageIndex,
      workflowId,
      closedAs,
      reason: (application?.message || closeReason(closeEvent)).slice(0, 200),
      code: application?.applicationFailureInfo?.type || `Page${closedAs}`,
      permanent: application?.applicationFailureInfo?.nonRetryable ?? false,
      input: pageInput,
    });
  }
  return dead;
}

function causes(failure: temporal.api.failure.v1.IFailure | null | undefined): temporal.api.failure.v1.IFailure[] {
  const chain: temporal.api.failure.v1.IFailure[] = [];
  for (let f = failure; f && chain.length < 10; f = f.cause) chain.push(f);
  return chain;
}

function closeReason(event: temporal.api.history.v1.IHistoryEvent | undefined): string {
  const reason =
    event?.workflowExecutionFailedEventAttributes?.failure?.message ??
    event?.workflowExecutionTerminatedEventAttributes?.reason ??
    (event?.workflowExecutionTimedOutEventAttributes ? 'the page workflow timed out' : undefined) ??
    (event?.workflowExecutionCanceledEventAttributes ? 'the page workflow was cancelled' : undefined);
  return (reason || 'no reason recorded').slice(0, 200);
}
