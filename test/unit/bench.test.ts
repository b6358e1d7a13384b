/** The bench's own logic: flags, ratios and the table, and measuring a child process's memory and CPU. */
import { cpuSecondsOf, spawnMeasured, treeCpuSeconds } from '../../bench/child-process';
import { BenchUsageError, parseBenchArgs } from '../../bench/options';
import { formatTable, type RunResult, withRatios } from '../../bench/results';
import { objectKey, objectKeys, runConcurrently } from '../../bench/workload';

describe('bench flags', () => {
  test('defaults: 10,000 objects of 1 KiB, both operations, every contender, every task mode', () => {
    expect(parseBenchArgs([])).toEqual({
      objects: [10000],
      size: 1024,
      operation: ['copy', 'tagging'],
      concurrency: [64],
      latencyMs: 0,
      contenders: ['limit', 's5cmd', 's3-batch'],
      modes: ['Activity', 'LocalActivity', 'Batch'],
      pages: [4],
      slots: [100],
      workers: [1],
      out: 'bench/results',
    });
  });

  test('lists and numbers are parsed', () => {
    const options = parseBenchArgs(['--objects', '1000,100000', '--operation', 'copy', '--modes', 'LocalActivity', '--pages', '2,8', '--concurrency', '32,256', '--latency-ms', '20']);
    expect(options).toMatchObject({ objects: [1000, 100000], operation: ['copy'], modes: ['LocalActivity'], pages: [2, 8], concurrency: [32, 256], latencyMs: 20 });
  });

  test.each([
    [['--objects', '10,ten'], /--objects item 2: .*number/i],
    [['--operation', 'delete'], /--operation item 1: /],
    [['--concurrency', '0'], /--concurrency item 1: /],
    [['--pages', '3'], /--pages 3 does not divide --concurrency 64/],
    [['--pages', '4', '--concurrency', '64,6'], /--pages 4 does not divide --concurrency 6/],
    [['--latency-ms=-1'], /--latency-ms: /],
    [['--latency-ms', 'soon'], /--latency-ms: /],
    [['--speed', 'max'], /Unknown option '--speed'/],
  ])('%j is refused, naming the flag', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });

  test('--help', () => {
    expect(parseBenchArgs(['--help'])).toBe('help');
  });
});

function result(contender: string, operation: 'copy' | 'tagging', tasksPerSecond: number): RunResult {
  return {
    contender,
    operation,
    objects: 1000,
    objectSize: 1024,
    concurrency: 64,
    verified: 1000,
    seconds: 1000 / tasksPerSecond,
    tasksPerSecond,
    peakRssBytes: 100 * 1024 * 1024,
    cpuSecondsPerThousand: { contender: 2, temporal: 1, minio: 1.5 },
  };
}

describe('bench results', () => {
  test('ratios are to the limit of the same operation and N', () => {
    const rows = withRatios([result('limit', 'copy', 400), result('s3-batch', 'copy', 300), result('limit', 'tagging', 200), result('s3-batch', 'tagging', 50)]);
    expect(rows.map((r) => r.ratioToLimit)).toEqual([1, 0.75, 1, 0.25]);
  });

  test('on the cluster profile the CPU cell splits Temporal by service and adds PostgreSQL', () => {
    const row = {
      ...result('s3-batch', 'copy', 300),
      cpuSecondsPerThousand: { contender: 2, temporal: 3.1, minio: 1.5, postgres: 0.9, temporalServices: { frontend: 0.4, history: 1.9, matching: 0.6, worker: 0.2 } },
    };
    expect(formatTable([row]).split('\n')[2]).toContain('| 2.0+3.1(f0.4 h1.9 m0.6 w0.2)+1.5+0.9 |');
  });

  test('ratios are to the limit at the same concurrency and S3 latency', () => {
    const at = (r: RunResult, concurrency: number, latencyMs: number) => ({ ...r, concurrency, latencyMs });
    const rows = withRatios([
      at(result('limit @64 +20 ms', 'copy', 100), 64, 20),
      at(result('limit @256 +20 ms', 'copy', 400), 256, 20),
      at(result('s3-batch', 'copy', 80), 64, 20),
      at(result('s3-batch', 'copy', 320), 256, 20),
      at(result('s3-batch', 'copy', 50), 256, 0),
    ]);
    expect(rows.map((r) => r.ratioToLimit)).toEqual([1, 1, 0.8, 0.8, undefined]);
    expect(formatTable(rows).split('\n')[3]).toMatch(/\| 256 \+20 ms \|/);
  });

  test('the table has a row per run, with the ratio and the CPU split', () => {
    const table = formatTable(withRatios([result('limit', 'copy', 400), result('s3-batch', 'copy', 300)]));
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('CPU s/1k: own+temporal+minio(+pg)');
    expect(lines[3]).toMatch(/\| copy +\| 1,000 +\| s3-batch +\| +64 \| +300 \| +0\.75 \|.*\| +100 MiB \|.*2\.0\+1\.0\+1\.5 \| 1000\/1000 \|/);
  });
});

describe('bench workload helpers', () => {
  test('object keys sort in manifest order', () => {
    expect(objectKey(7)).toBe('obj/0000007');
    const keys = objectKeys(12);
    expect([...keys].sort()).toEqual(keys);
  });

  test('runConcurrently visits every index once with at most N at a time', async () => {
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    await runConcurrently(50, 4, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(i);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(4);
  });
});

describe('measuring a child process', () => {
  test('peak RSS and CPU of a child that allocates 200 MiB and spins', async () => {
    const script = `
      const b = Buffer.alloc(200 * 1024 * 1024, 1);
      const until = Date.now() + 400; let x = 0; while (Date.now() < until) x += b[x % b.length];
      console.log('ready', x > 0);
      setTimeout(() => {}, 300);`;
    const child = spawnMeasured(process.execPath, ['-e', script]);
    await child.waitFor('ready', 20_000);
    expect(child.peakRssBytes()).toBeGreaterThan(200 * 1024 * 1024);
    expect(child.cpuSeconds()).toBeGreaterThan(0.2);
    expect(await child.exited).toBe(0);
  });

  test('waitFor rejects when the child exits without the line', async () => {
    const child = spawnMeasured(process.execPath, ['-e', 'console.log("something else")']);
    await expect(child.waitFor('never printed', 20_000)).rejects.toThrow(/exited with 0 before printing "never printed"/);
  });

  test('treeCpuSeconds adds the CPU of live descendants (PostgreSQL works in its backends)', async () => {
    const script = `const until = Date.now() + 500; let x = 0; while (Date.now() < until) x++; console.log('spun', x > 0); setTimeout(() => {}, 5000);`;
    const child = spawnMeasured(process.execPath, ['-e', script]);
    await child.waitFor('spun', 20_000);
    const own = cpuSecondsOf(process.pid);
    const childCpu = cpuSecondsOf(child.child.pid!);
    expect(childCpu).toBeGreaterThan(0.3);
    expect(treeCpuSeconds(process.pid)).toBeGreaterThanOrEqual(own + childCpu - 0.02);
    await child.stop();
  });

  test('cpuSecondsOf reads this process, and 0 for a pid that does not exist', () => {
    expect(cpuSecondsOf(process.pid)).toBeGreaterThan(0);
    expect(cpuSecondsOf(2 ** 22 + 12345)).toBe(0);
  });
});
