/**
 * Looks for secrets in the workflow histories of a namespace: every run of every workflow (inputs, results, signals,
 * updates, memo, search attributes, failures), payload bytes decoded as UTF-8 before searching. Used by the secret
 * scan of the shared stack (secrets-in-history.test.ts) and by the TLS test on its own server.
 */
import type { Client } from '@temporalio/client';

/** Every string in an event, payload bytes decoded, with the path it was found at. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (value instanceof Uint8Array) yield [path, Buffer.from(value).toString('utf8')];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}.${k}`);
}

export interface SecretScan {
  runs: number;
  events: number;
  /** Where each secret was found (its length, never its value). */
  leaks: string[];
}

export async function scanHistoriesForSecrets(client: Client, secrets: readonly string[]): Promise<SecretScan> {
  // Listed raw: the client's list() decodes each memo, and the payload-encryption test leaves jobs whose memos only
  // its key can decode (their histories are still read and searched below, as ciphertext).
  const executions: { workflowId: string; runId: string }[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, pageSize: 1000, nextPageToken });
    for (const wf of page.executions ?? []) executions.push({ workflowId: wf.execution!.workflowId!, runId: wf.execution!.runId! });
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  const leaks: string[] = [];
  let events = 0;
  let next = 0;
  const scan = async () => {
    while (next < executions.length) {
      const { workflowId, runId } = executions[next++]!;
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      for (const event of history.events ?? []) {
        events++;
        for (const [path, text] of strings(event, `event ${String(event.eventId)}`)) {
          for (const secret of secrets) {
            if (text.includes(secret)) leaks.push(`${workflowId} (run ${runId}) ${path}: secret of ${secret.length} characters`);
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, scan));
  return { runs: executions.length, events, leaks };
}
