import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderThroughputChart, throughputChartSvg, type ChartPoint } from '../../bench/chart';

const contenders = ['limit', 's5cmd', 's3-batch (Activity)', 's3-batch (LocalActivity)'];
const operations = ['copy', 'tagging'];
const points: ChartPoint[] = operations.flatMap((operation, o) =>
  [1000, 10000, 100000].flatMap((objects) =>
    contenders.map((contender, c) => ({ contender, operation, objects, tasksPerSecond: 500 * (o + 1) + 300 * c + objects / 200 }))
  )
);

// vega and vega-lite are ESM-only, and jest's module system cannot import() them without --experimental-vm-modules.
// So the chart is drawn the way the benchmark draws it, in a node process running tsx, and checked here.
const RENDER = `
const { writeFileSync, readFileSync } = require('node:fs');
const [chartModule, pointsFile, pngFile, svgFile] = process.argv.slice(1);
const { renderThroughputChart, throughputChartSvg } = require(chartModule);
const points = JSON.parse(readFileSync(pointsFile, 'utf8'));
const options = { title: 'Throughput', subtitle: 'tasks per second' };
(async () => {
  await renderThroughputChart(points, pngFile, options);
  writeFileSync(svgFile, await throughputChartSvg(points, options));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('bench throughput chart', () => {
  let dir: string;
  let png: Buffer;
  let svg: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-chart-'));
    const pointsFile = join(dir, 'points.json');
    writeFileSync(pointsFile, JSON.stringify(points));
    const [pngFile, svgFile] = [join(dir, 'chart.png'), join(dir, 'chart.svg')];
    const chartModule = join(__dirname, '..', '..', 'bench', 'chart.ts');
    execFileSync(process.execPath, ['--import', 'tsx', '-e', RENDER, chartModule, pointsFile, pngFile, svgFile], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 60_000,
    });
    png = readFileSync(pngFile);
    svg = readFileSync(svgFile, 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes a PNG about 900 CSS pixels wide, drawn at 2x', () => {
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR is always the first chunk: length (4 bytes), type (4), then width and height, big-endian.
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(width).toBeGreaterThan(1600);
    expect(width).toBeLessThan(2000);
    expect(height).toBeGreaterThan(600);
    expect(height).toBeLessThan(width);
  });

  test('the SVG has every contender, operation and size as text, in the packaged font', () => {
    // Each <text> element's lines (tspans), joined by spaces, unescaped.
    const texts = [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) =>
      m[1]!.replace(/<\/tspan><tspan[^>]*>/g, ' ').replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&amp;/g, '&')
    );
    for (const text of [...contenders, ...operations, '1,000 objects', '100,000 objects', 'Throughput', 'tasks / s']) {
      expect(texts).toContain(text);
    }
    expect(svg).toContain('font-family="DejaVu Sans"');
  });

  test('no points is a clear error, before any rendering', async () => {
    await expect(throughputChartSvg([])).rejects.toThrow(/no points/);
    await expect(renderThroughputChart([], join(dir, 'empty.png'))).rejects.toThrow(/no points/);
  });
});
