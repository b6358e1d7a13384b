/**
 * Running jobs survive a deploy: histories recorded by earlier workflow code replay on the current code without a
 * determinism error. Both fixtures are a ConfirmationRequired job with Report.ExpectedBucketOwner run by the code of
 * commit 43b1ed0 (before the Suspended expiry and the bucket-owner check in Preparing): suspended-before-expiry.pb
 * up to Suspended (then terminated), confirmed-before-expiry.pb confirmed while Suspended and run to Complete
 * (pages, report and all), so a later change to any step of a job's life is replayed against it too.
 *
 * What these do not show: that the two patched() guards are needed for replay. Without them both still replay: the
 * SDK drops the expiry's StartTimer, the last command of its workflow task, once the confirmation cancels it; and an
 * old job was resolved without owners by the old validateJob, whose result the replay reads from history. The
 * guards keep an old Suspended job from gaining an expiry after a deploy (its next workflow task that does not
 * confirm or cancel it, e.g. UpdateJobPriority, would otherwise send the timer).
 *
 * Histories are stored as binary History protos (History.encode of handle.fetchHistory()): the JSON form
 * (`temporal workflow show -o json`) cannot be read here, since historyFromJSON fails with "type must be a Type"
 * (@temporalio/common's own protobufjs 8 meets @temporalio/proto's protobufjs 7 in this install).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundlePath } from '../../scripts/lib/workflow-bundle';

const HISTORIES = join(__dirname, '../fixtures/histories');

/** Each history with its job's workflow id (page ids derive from it; a history does not record it). */
const histories: [string, string][] = [
  ['suspended-before-expiry.pb', '0519bf95-a2d4-5eb6-8316-ede63143020c'],
  ['confirmed-before-expiry.pb', '8e0e9aa5-5b33-53cb-930d-41471924fdaa'],
];

test.each(histories)('the current workflow code replays %s', async (name, workflowId) => {
  const history = temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES, name)));
  expect(history.events!.length).toBeGreaterThan(0);
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: await workflowBundlePath() } }, history, workflowId)
  ).resolves.toBeUndefined();
});
