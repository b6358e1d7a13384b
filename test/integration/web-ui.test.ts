/**
 * Temporal Web in a real headless browser (Debian's Chromium driven by playwright-core): the page of a running job
 * shows the job's status and progress. The job is paused after some tasks, so what the page must show is fixed while
 * the browser looks; the engine's worker keeps running, because Current Details and queries are answered by it.
 * Screenshots go to .cache/artifacts/web-ui-<jobId>*.png.
 */
import type { JobDescriptor } from '../../src/shared/types';
import { launchBrowser, pngSize, saveScreenshot, waitForFrameText, type TestBrowser } from '../helpers/browser';
import { createBucket, csvJob, manifestKey, putManifest, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { getStack } from '../helpers/stack';

let engine: Engine | undefined;
let browser: TestBrowser | undefined;
let jobId: string | undefined;
let paused: JobDescriptor;
const data = uniqueBucket('webui-data');
const reports = uniqueBucket('webui-reports');
const keys = Array.from({ length: 300 }, (_, i) => `w/${i}.txt`);
/** The page renders markdown in iframes, a query needs the worker: be generous, CI machines have two cores. */
const UI_TIMEOUT_MS = 60_000;

const done = (job: JobDescriptor) => job.ProgressSummary.NumberOfTasksSucceeded + job.ProgressSummary.NumberOfTasksFailed;

async function waitFor(id: string, predicate: (job: JobDescriptor) => boolean, timeoutMs = 60_000): Promise<JobDescriptor> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await engine!.jobs.describeJob(id);
    if (predicate(job)) return job;
    if (Date.now() > deadline) throw new Error(`timed out; last status ${job.Status} ${JSON.stringify(job.ProgressSummary)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await createBucket(engine.s3, reports);
  await seedObjects(engine.s3, data, keys);
  const manifest = await putManifest(engine.s3, data, 'webui', keys.map((k) => `${data},${manifestKey(k)}`));
  // One task at a time: 300 tasks take seconds, so the pause lands well before the end.
  const request = csvJob(manifest, { S3PutObjectTagging: { TagSet: [{ Key: 'seen', Value: 'web' }] } }, reports, {
    Description: 'Temporal Web browser test',
    Extensions: { PageSize: 20, MaxConcurrentPages: 1, MaxConcurrentTasksPerPage: 1 },
  });
  jobId = (await engine.jobs.createJob(request)).jobId;
  await waitFor(jobId, (j) => j.Status === 'Active' && done(j) >= 3);
  await engine.jobs.pauseJob(jobId, 'paused for the browser test');
  paused = await waitFor(jobId, (j) => j.Status === 'Paused');
  expect(done(paused)).toBeGreaterThan(0);
  expect(done(paused)).toBeLessThan(keys.length);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (engine && jobId) {
    // Leave nothing running on the shared dev server: cancel (the job ends with its report), else terminate.
    try {
      await engine.jobs.cancelJob(jobId, 'browser test done');
      await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
    } catch (error) {
      console.warn(`cancelling ${jobId} failed (${String(error)}); terminating it`);
      await engine.jobs.handle(jobId).terminate('browser test done').catch(() => undefined);
    }
  }
  await engine?.close();
}, 120_000);

test('the job page shows its status and progress (Current Details), with a screenshot', async () => {
  const page = browser!.page;
  const stack = getStack();
  const url = `${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows/${encodeURIComponent(jobId!)}`;
  console.log(`Temporal Web: ${url}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT_MS });

  // The header: the workflow id, and Temporal's own status of the run (a paused job is still a running workflow).
  await page.getByRole('heading', { name: jobId! }).first().waitFor({ timeout: UI_TIMEOUT_MS });
  await page.getByText('Running', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT_MS });
  await page.getByText('batchJobWorkflow', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT_MS });

  // Our progress line is under User Metadata → Current Details, rendered from markdown in an iframe, where
  // `840/2000` becomes a typographic fraction (<sup>840</sup>⁄<sub>2000</sub>).
  await page.getByRole('link', { name: 'User Metadata', exact: true }).or(page.getByRole('tab', { name: 'User Metadata' })).first().click();
  await page.getByText('Current Details', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT_MS });
  const line = /\bPaused\b\s*(\d+)%\s*·\s*(\d+)\s*[/⁄]\s*(\d+)\s+tasks\s*·\s*(\d+) succeeded\s*·\s*(\d+) failed/;
  const { text } = await waitForFrameText(page, line, UI_TIMEOUT_MS);
  console.log(`Current Details: ${text.trim()}`);
  const [, pct, shownDone, shownTotal, succeeded, failed] = line.exec(text)!.map(Number);
  const total = paused.ProgressSummary.TotalNumberOfTasks!;
  expect({ shownDone, shownTotal, succeeded, failed }).toEqual({
    shownDone: done(paused),
    shownTotal: total,
    succeeded: paused.ProgressSummary.NumberOfTasksSucceeded,
    failed: paused.ProgressSummary.NumberOfTasksFailed,
  });
  expect(pct).toBe(Math.floor((done(paused) / total) * 100));

  const screenshot = await saveScreenshot(page, `web-ui-${jobId}`);
  const png = pngSize(screenshot);
  expect(png.bytes).toBeGreaterThan(10_000);
  expect(png.width).toBeGreaterThan(0);
  expect(png.height).toBeGreaterThan(0);
});

test('the Queries tab answers describeJob with the same status and counts', async () => {
  const page = browser!.page;
  await page.getByRole('link', { name: 'Queries', exact: true }).or(page.getByRole('tab', { name: 'Queries' })).first().click();
  // The query list comes from the worker (the __temporal_workflow_metadata query); pick describeJob from it.
  await page.getByTestId('query-select-button').click({ timeout: UI_TIMEOUT_MS });
  await page.getByRole('option', { name: /^describeJob\b/ }).click({ timeout: UI_TIMEOUT_MS });
  expect(await page.getByTestId('query-select').inputValue()).toBe('describeJob');
  await page.getByRole('button', { name: 'Run Query' }).click();
  const body = page.locator('body');
  await page.getByText(`"JobId": "${jobId}"`).first().waitFor({ timeout: UI_TIMEOUT_MS });
  const text = await body.innerText();
  expect(text).toContain('"Status": "Paused"');
  expect(text).toContain(`"NumberOfTasksSucceeded": ${paused.ProgressSummary.NumberOfTasksSucceeded}`);
  expect(text).toContain(`"TotalNumberOfTasks": ${paused.ProgressSummary.TotalNumberOfTasks}`);
  pngSize(await saveScreenshot(page, `web-ui-${jobId}-describeJob`));
});
