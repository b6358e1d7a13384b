import { PageLanes } from '../../src/activities/page-lanes';

/** Runs `rows` rows through `lanes` the way a batch does (each row holds a lane until it ends); returns the peak. */
async function runRows(pageLanes: PageLanes, page: string, limit: number, batches: number, rowsPerBatch: number) {
  let running = 0;
  let peak = 0;
  const ran: string[] = [];
  const batch = async (b: number) => {
    const lanes = pageLanes.join(page, limit);
    try {
      for (let r = 0; r < rowsPerBatch; r++) {
        await lanes.acquire();
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        ran.push(`${b}/${r}`);
        running--;
        lanes.release();
      }
    } finally {
      lanes.leave();
    }
  };
  await Promise.all(Array.from({ length: batches }, (_, b) => Promise.all([batch(b), batch(b)])));
  return { peak, ran };
}

test("a page's batches share its lanes: never more rows at once than the page's limit, every row runs", async () => {
  const lanes = new PageLanes();
  const { peak, ran } = await runRows(lanes, 'job/page-0', 3, 4, 5);
  expect(peak).toBe(3);
  expect(ran).toHaveLength(4 * 2 * 5);
  // The page's lanes are let go when its last batch leaves.
  expect(lanes.size).toBe(0);
});

test('pages do not share lanes', async () => {
  const lanes = new PageLanes();
  const a = lanes.join('job/page-0', 1);
  const b = lanes.join('job/page-1', 1);
  await a.acquire();
  // Page 1's lane is free although page 0's only one is taken.
  await expect(Promise.race([b.acquire().then(() => 'acquired'), new Promise((r) => setTimeout(() => r('waiting'), 20))])).resolves.toBe('acquired');
  a.release();
  b.release();
  a.leave();
  b.leave();
  expect(lanes.size).toBe(0);
});

test("the oldest batch's rows go first, so batches end one after another rather than all together", async () => {
  const lanes = new PageLanes();
  const first = lanes.join('job/page-0', 1);
  const second = lanes.join('job/page-0', 1);
  const order: string[] = [];
  await first.acquire();
  // The second batch asks first, the first batch asks again later: the first batch still goes first.
  const waiting = [second.acquire().then(() => order.push('second')), first.acquire().then(() => order.push('first'))];
  first.release();
  await waiting[1];
  first.release();
  await waiting[0];
  second.release();
  expect(order).toEqual(['first', 'second']);
});
