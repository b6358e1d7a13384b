/**
 * The benchmark's throughput chart: a vega-lite spec, rendered to SVG by vega's headless View and rasterized to PNG
 * by resvg. This chain needs no install script, no browser and no node-canvas (resvg ships its binary in per-platform
 * optional packages), and the font comes from an npm package, so the PNG is the same on any machine.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite/build/index';

export interface ChartPoint {
  contender: string;
  operation: string;
  objects: number;
  tasksPerSecond: number;
}

export interface ChartOptions {
  title?: string;
  subtitle?: string;
}

// vega and vega-lite are ESM-only and this project compiles to CommonJS, where TypeScript turns `import()` into
// `require()`. An import() built with Function stays a real one under tsx and plain node (not inside jest's VM, which
// is why the test draws its chart in a child process).
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

const FONT_FAMILY = 'DejaVu Sans';
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
// Only the packaged font: system fonts differ between machines (or are absent) and would change the picture.
const RESVG_FONT = {
  fontFiles: ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((file) => join(FONT_DIR, file)),
  loadSystemFonts: false,
  defaultFontFamily: FONT_FAMILY,
};

/** Target width of the whole chart in CSS pixels; the PNG is drawn at twice that so it stays sharp when zoomed. */
const CHART_WIDTH = 900;
const SCALE = 2;

/** The font properties vega hands to text measurement. */
type TextItem = { fontSize?: number; fontWeight?: string | number; fontStyle?: string };

// vega lays text out by its width. With no canvas it guesses 0.8 em a character, half as wide again as DejaVu Sans
// really is, which spreads the legend out unevenly and truncates labels that would fit. resvg draws the text anyway,
// so it measures it too (a few milliseconds a string, cached).
const textWidths = new Map<string, number>();
function measureText(item: TextItem, text: string): number {
  const line = String(text ?? '').trim();
  const style = `font-size="${item.fontSize ?? 11}" font-weight="${item.fontWeight ?? 'normal'}" font-style="${item.fontStyle ?? 'normal'}"`;
  const key = `${style}|${line}`;
  let width = textWidths.get(key);
  if (width === undefined) {
    const escaped = line.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="200"><text x="0" y="100" ${style}>${escaped}</text></svg>`;
    width = line ? (new Resvg(svg, { font: RESVG_FONT }).getBBox()?.width ?? 0) : 0;
    textWidths.set(key, width);
  }
  return width;
}

function chartSpec(points: ChartPoint[], options: ChartOptions): TopLevelSpec {
  // First-seen order keeps contenders and operations in the order the benchmark ran them, so colours are stable.
  const contenders = [...new Set(points.map((p) => p.contender))];
  const operations = [...new Set(points.map((p) => p.operation))];
  const sizes = [...new Set(points.map((p) => p.objects))].sort((a, b) => a - b);
  // Facet panels share the width; what is left over goes to the y axis and the gaps between panels.
  const panelWidth = Math.floor(CHART_WIDTH / operations.length) - 85;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title ? { title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) } } : {}),
    data: { values: points },
    background: 'white',
    padding: 12,
    facet: { column: { field: 'operation', type: 'nominal', sort: operations, title: null } },
    // Each operation gets its own y scale: operations can differ by an order of magnitude, and a shared scale would
    // flatten the slower one's bars, whose differences are what a reader compares.
    resolve: { scale: { y: 'independent' } },
    spacing: 24,
    spec: {
      width: panelWidth,
      height: 320,
      encoding: {
        // "10,000" over "objects": two short lines still fit under three or four panels side by side.
        x: { field: 'objects', type: 'ordinal', sort: sizes, title: null, axis: { labelAngle: 0, labelExpr: "[format(datum.value, ','), 'objects']" } },
        xOffset: { field: 'contender', type: 'nominal', sort: contenders },
        y: { field: 'tasksPerSecond', type: 'quantitative', title: 'tasks / s' },
      },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            color: { field: 'contender', type: 'nominal', sort: contenders, title: null, legend: { orient: 'bottom', direction: 'horizontal' } },
          },
        },
        {
          // Values on the bars: the point of the benchmark is the numbers, not only their ratio. Four significant
          // digits keep 2,980 whole and 3.75 from showing as 4.
          mark: { type: 'text', angle: 270, align: 'left', baseline: 'middle', dx: 3, fontSize: 10 },
          encoding: { text: { field: 'tasksPerSecond', type: 'quantitative', format: ',.4~r' } },
        },
        {
          // An invisible mark 15% above each panel's tallest bar, so the y scale leaves room for that bar's label
          // (scale padding would also push the axis below zero, and domainMax cannot differ between panels).
          transform: [{ joinaggregate: [{ op: 'max', field: 'tasksPerSecond', as: 'peak' }], groupby: ['operation'] }, { calculate: 'datum.peak * 1.15', as: 'headroom' }],
          mark: { type: 'point', opacity: 0 },
          encoding: { y: { field: 'headroom', type: 'quantitative', title: 'tasks / s' } },
        },
      ],
    },
    config: {
      font: FONT_FAMILY,
      title: { fontSize: 18, subtitleFontSize: 13, anchor: 'start', offset: 12 },
      header: { labelFontSize: 15, labelFontWeight: 'bold' },
      axis: { labelFontSize: 12, titleFontSize: 13 },
      legend: { labelFontSize: 13, labelLimit: 0, symbolSize: 160, columnPadding: 24 },
      view: { stroke: '#ddd' },
    },
  };
}

/** The SVG text (exported for testing). */
export async function throughputChartSvg(points: ChartPoint[], options: ChartOptions = {}): Promise<string> {
  if (points.length === 0) throw new Error('throughput chart: no points to chart (did the benchmark record any run?)');
  const vegaLite = (await importEsm('vega-lite')) as typeof import('vega-lite/build/index');
  const vega = (await importEsm('vega')) as typeof import('vega') & { textMetrics: { width: typeof measureText } };
  vega.textMetrics.width = measureText; // process-wide, like vega's own canvas measurement
  const { spec } = vegaLite.compile(chartSpec(points, options));
  // renderer 'none': no canvas or DOM is needed to lay the scene out and serialize it.
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes a PNG bar chart: tasks/s per contender, grouped by N, one panel (facet column) per operation. */
export async function renderThroughputChart(points: ChartPoint[], pngPath: string, options: ChartOptions = {}): Promise<void> {
  const svg = await throughputChartSvg(points, options);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: SCALE },
    background: 'white',
    font: RESVG_FONT,
  });
  writeFileSync(pngPath, resvg.render().asPng());
}
