/**
 * Safe worker upgrades: every recorded history (test/fixtures/histories, written by `npm run histories:record` from
 * real jobs of earlier workflow code) replays against the current workflow bundle. A change to src/workflows that
 * issues other commands for an existing history without a `patched()` guard fails here, naming the fixture file, as
 * it would fail the running jobs of a deploy. Replay needs no server.
 *
 * The fixtures are also checked for secrets: the stack's S3 keys, and the webhook secrets the recorder uses.
 */
import { Worker } from '@temporalio/worker';
import { stackConfigFromEnv, readStackState } from '../../scripts/stack/index';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';
import { listHistoryFixtures, loadHistoryFixture, secretsIn, stringsIn, type LoadedFixture } from '../helpers/history-fixtures';

const fixtures: LoadedFixture[] = listHistoryFixtures().map(loadHistoryFixture);

/** The features the recorder covers (scripts/record-histories.ts): each must have fixtures. */
const FEATURES = [
  'plain-local-activity',
  'plain-activity',
  'continue-as-new',
  'continue-as-new-activity',
  'pause-resume',
  'cancel',
  'cancel-activity-inflight',
  'temporal-cancel',
  'priority-change',
  'confirmation-required',
  'bad-rows',
  'failure-threshold',
  'generated-manifest',
  'redrive',
  'status-webhook',
  'restore-wait',
];

test('every recorded feature has fixtures, job and page runs, and continue-as-new chains', () => {
  for (const feature of FEATURES) {
    const files = fixtures.filter((f) => f.file.includes(`/histories/${feature}/`));
    expect({ feature, types: [...new Set(files.map((f) => f.workflowType))].sort() }).toEqual({
      feature,
      types: ['batchJobWorkflow', 'batchPageWorkflow'],
    });
  }
  const runTwo = fixtures.filter((f) => f.file.endsWith('-run-2.json')).map((f) => f.workflowType);
  expect(new Set(runTwo)).toEqual(new Set(['batchJobWorkflow', 'batchPageWorkflow']));
});

/** Core's own message (`[TMPRL1100] Nondeterminism error: …`) when the SDK wraps it in a long preamble. */
function briefly(message: string): string {
  return /message: "([^"]+)"/.exec(message)?.[1] ?? message;
}

test('every recorded history replays against the current workflow code', async () => {
  const codePath = await workflowBundlePath();
  const failures: string[] = [];
  let replayed = 0;
  // One replay worker for all; it replays one history at a time and answers in order.
  const results = Worker.runReplayHistories(
    { workflowBundle: { codePath }, replayName: 'workflow-replay-test' },
    fixtures.map((f) => ({ workflowId: f.workflowId, history: f.history }))
  );
  for await (const result of results) {
    const fixture = fixtures[replayed++]!;
    if (result.error) failures.push(`${fixture.file} (${fixture.workflowType}): ${result.error.name}: ${briefly(result.error.message)}`);
  }
  expect(replayed).toBe(fixtures.length);
  expect(failures).toEqual([]);
}, 300_000);

test('no fixture holds a secret of the stack or of the recorder', () => {
  const stateFile = process.env.S3BATCH_STACK_STATE;
  const state = stateFile ? readStackState(stateFile) : undefined;
  const config = stackConfigFromEnv();
  const secrets = [...new Set([
    config.minio.rootPassword,
    config.moto.secretAccessKey,
    ...(state ? [state.s3.secretAccessKey, state.moto.secretAccessKey] : []),
    // The recorder's webhook secrets are random `whsec-…` values (the recorder checks each before saving).
    'whsec-',
  ])].filter((secret) => secret.length >= 6);
  expect(secrets).toContain(config.minio.rootPassword);
  const leaks = fixtures.flatMap((f) => secretsIn(f.history, secrets).map((at) => `${f.file} ${at}`));
  expect(leaks).toEqual([]);
  // The scan reads payloads: the manifests' bucket names, carried in job input, are found decoded.
  expect(fixtures.some((f) => [...stringsIn(f.history.events?.[0], 'first')].some(([, text]) => text.includes('rec-data-')))).toBe(true);
});
