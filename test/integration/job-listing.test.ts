/**
 * ListJobs paging (JobClient.listJobsPage, which the HTTP API and the CLI serve) while jobs change: each job is
 * listed exactly once, though jobs end between pages (Temporal's own order moves a workflow when it closes) and
 * though a job's workflow continues as new (each run is a workflow execution of its own).
 */
import type { JobListEntry } from '../../src/job-client';
import { JobListing, type RawExecution } from '../../src/job-listing';
import type { JobStatus } from '../../src/shared/job-status';
import { createBucket, csvJob, putText, seedObjects, startEngine, uniqueBucket, type Engine } from '../helpers/engine';
import { until } from '../helpers/until';

let engine: Engine;
const data = uniqueBucket('listing-data');
const keys = Array.from({ length: 6 }, (_, i) => `l/${i}`);
let manifest: { bucket: string; key: string; etag: string };

beforeAll(async () => {
  engine = await startEngine();
  await createBucket(engine.s3, data);
  await seedObjects(engine.s3, data, keys);
  manifest = { bucket: data, key: 'm.csv', etag: await putText(engine.s3, data, 'm.csv', keys.map((k) => `${data},${k}\n`).join('')) };
});
afterAll(() => engine?.close());

const tagging = { S3PutObjectTagging: { TagSet: [{ Key: 'l', Value: '1' }] } };

/** Every page of one listing from its first page, calling `between` after each. */
async function listAll(options: { statuses?: JobStatus[]; maxResults: number }, between: (page: number) => Promise<void> = async () => {}) {
  const listed: JobListEntry[] = [];
  let nextToken: string | undefined;
  let page = 0;
  do {
    const out = await engine.jobs.listJobsPage({ ...options, nextToken });
    expect(out.jobs.length).toBeLessThanOrEqual(options.maxResults);
    listed.push(...out.jobs);
    nextToken = out.nextToken;
    await between(page++);
  } while (nextToken);
  return listed;
}

/** Waits until visibility shows the job in one of `statuses`. */
const listedAs = (jobId: string, statuses: JobStatus[]) =>
  until(`${jobId} listed as ${statuses.join('/')}`, async () => {
    for (const entry of await listAll({ statuses, maxResults: 1000 })) if (entry.JobId === jobId) return entry;
    return undefined;
  });

test('jobs that end between pages are listed exactly once, whether already listed or not', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const { jobId } = await engine.jobs.createJob(
      csvJob(manifest, tagging, data, { ConfirmationRequired: true, Report: { Enabled: false }, Description: `listing ${i}` })
    );
    ids.push(jobId);
  }
  for (const id of ids) await listedAs(id, ['Suspended']);

  // Newest first: ids[3] is on the first page. Once it is listed it ends (moving, in Temporal's order, after the
  // running jobs not yet listed); then ids[0], listed last, ends before its turn.
  const listed = await listAll({ maxResults: 1 }, async (page) => {
    if (page === 0) {
      await engine.jobs.cancelJob(ids[3]!, 'ends once listed');
      await engine.jobs.cancelJob(ids[0]!, 'ends before its turn');
      await listedAs(ids[3]!, ['Cancelled']);
      await listedAs(ids[0]!, ['Cancelled']);
    }
  });
  try {
    const ours = listed.map((j) => j.JobId).filter((id) => ids.includes(id));
    expect(ours.sort()).toEqual([...ids].sort());
    expect(listed.find((j) => j.JobId === ids[0])!.Status).toBe('Cancelled');
  } finally {
    for (const id of ids.slice(1, 3)) await engine.jobs.cancelJob(id, 'done');
  }
});

test('a job seen running whose end visibility records late (ended before the listing began) is listed once', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { jobId } = await engine.jobs.createJob(
      csvJob(manifest, tagging, data, { ConfirmationRequired: true, Report: { Enabled: false }, Description: `late ${i}` })
    );
    ids.push(jobId);
  }
  try {
    for (const id of ids) await listedAs(id, ['Suspended']);
    // As if visibility had shown ids[2] running for half a minute after it ended: a listing begun 30 s from now
    // sees it running on its first page, though by its close time it ended before the listing began.
    const query = `WorkflowType = 'batchJobWorkflow' AND TaskQueue = '${engine.taskQueue}'`;
    const listing = new JobListing(engine.client, { query, unfiltered: query }, () => new Date(Date.now() + 30_000));
    const first = await listing.page(1);
    expect(first.executions.map((e) => e.execution?.workflowId)).toEqual([ids[2]]);
    await engine.jobs.cancelJob(ids[2]!, 'ends once listed');
    await listedAs(ids[2]!, ['Cancelled']);
    const listed: RawExecution[] = [...first.executions];
    for (let token = first.nextToken; token; ) {
      const page = await listing.page(1, token);
      listed.push(...page.executions);
      token = page.nextToken;
    }
    expect(listed.map((e) => e.execution!.workflowId!).filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
  } finally {
    for (const id of ids.slice(0, 2)) await engine.jobs.cancelJob(id, 'done');
  }
});

test('a job whose workflow continued as new is listed once, as its latest run', async () => {
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, data, {
      Report: { Enabled: false },
      Description: 'continues as new',
      // Three pages, one page per run: two continue-as-new.
      Extensions: { PageSize: 2, MaxConcurrentPages: 1, PagesPerRun: 1 },
    })
  );
  expect((await engine.jobs.waitForCompletion(jobId, { timeoutMs: 120_000 })).Status).toBe('Complete');
  let runs = 0;
  for await (const _ of engine.client.workflow.list({ query: `WorkflowId = '${jobId}'` })) runs++;
  expect(runs).toBeGreaterThanOrEqual(3);

  const entry = await listedAs(jobId, ['Complete']);
  expect(entry).toMatchObject({ Status: 'Complete', Description: 'continues as new' });
  // Created when its first run started, as DescribeJob says, not when its latest run did.
  expect(entry.CreationTime).toBe((await engine.jobs.describeJob(jobId)).CreationTime);
  for (const maxResults of [1, 1000]) {
    expect((await listAll({ maxResults })).filter((j) => j.JobId === jobId)).toHaveLength(1);
  }
  // Its earlier runs ended while it was Active; they are not listed as Active jobs.
  expect((await listAll({ statuses: ['Active'], maxResults: 1000 })).filter((j) => j.JobId === jobId)).toEqual([]);
}, 180_000);

test('a job that continues as new while a listing pages through is listed once, as its latest run', async () => {
  const create = async (description: string, extensions = {}) =>
    (
      await engine.jobs.createJob(
        csvJob(manifest, tagging, data, { ConfirmationRequired: true, Report: { Enabled: false }, Description: description, Extensions: extensions })
      )
    ).jobId;
  const older = await create('continues while listed', { PageSize: 2, MaxConcurrentPages: 1, PagesPerRun: 1 });
  const newer = await create('listed first');
  for (const id of [older, newer]) await listedAs(id, ['Suspended']);

  const listed = await listAll({ maxResults: 1 }, async (page) => {
    if (page !== 0) return;
    // The older job, not listed yet, runs to the end over three runs.
    await engine.jobs.confirmJob(older, 'run now');
    expect((await engine.jobs.waitForCompletion(older, { timeoutMs: 120_000 })).Status).toBe('Complete');
    await listedAs(older, ['Complete']);
  });
  try {
    expect(listed[0]!.JobId).toBe(newer);
    const entries = listed.filter((j) => j.JobId === older);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ Status: 'Complete', ProgressSummary: { NumberOfTasksSucceeded: keys.length } });
  } finally {
    await engine.jobs.cancelJob(newer, 'done');
  }
}, 180_000);

test('listJobs follows the pages to the end (or to its limit), by status; waitForCompletion reports each change', async () => {
  const { jobId } = await engine.jobs.createJob(
    csvJob(manifest, tagging, data, { Report: { Enabled: false }, Description: 'watched', Extensions: { PageSize: 1, MaxConcurrentPages: 1 } })
  );
  const seen: string[] = [];
  const final = await engine.jobs.waitForCompletion(jobId, {
    pollMs: 50,
    timeoutMs: 60_000,
    onProgress: (job) => seen.push(`${job.Status} ${job.ProgressSummary.NumberOfTasksSucceeded}`),
  });
  expect(final.Status).toBe('Complete');
  // One call per change, never twice for the same state, the last the final one; progress only grows.
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen.at(-1)).toBe(`Complete ${keys.length}`);
  const counts = seen.map((s) => Number(s.split(' ')[1]));
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
  await listedAs(jobId, ['Complete']);

  const paged = await listAll({ maxResults: 1000 });
  const all = await engine.jobs.listJobs();
  expect(all.map((j) => j.JobId)).toEqual(paged.map((j) => j.JobId));
  expect(all.find((j) => j.JobId === jobId)).toMatchObject({ Status: 'Complete', Description: 'watched' });
  expect(all.length).toBeGreaterThan(2);
  expect((await engine.jobs.listJobs({ limit: 2 })).map((j) => j.JobId)).toEqual(paged.slice(0, 2).map((j) => j.JobId));
  const complete = await engine.jobs.listJobs({ statuses: ['Complete'] });
  expect(complete.every((j) => j.Status === 'Complete')).toBe(true);
  expect(complete.map((j) => j.JobId)).toContain(jobId);
  expect(await engine.jobs.listJobs({ statuses: ['Preparing'] })).toEqual([]);
}, 120_000);
