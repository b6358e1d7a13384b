/**
 * The shape of the house: no import circle among the files of src/ (a circle, even through `import type`, means two
 * modules are one concept split wrongly, and tools and readers cannot take either alone), and no workflow file
 * past 400 lines (the job workflow is split along its seams: state, status machine, page window, handlers).
 * Reads the sources as text; runs none of them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');
const MAX_WORKFLOW_FILE_LINES = 400;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
    });
}

/**
 * The relative specifiers a module names: `import … from`, `import type … from`, `export … from`, bare `import '…'`,
 * dynamic `import('…')` and `require('…')`. Comments are dropped first so that an example in a comment is no edge.
 */
export function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      if (match[1]!.startsWith('.')) specifiers.push(match[1]!);
    }
  }
  return specifiers;
}

/** The file a relative specifier names, as Node and TypeScript resolve it (x.ts, x/index.ts); undefined outside. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, `${base}.ts`, join(base, 'index.ts')];
  if (base.endsWith('.js')) candidates.push(base.replace(/\.js$/, '.ts'));
  return candidates.find((path) => path.endsWith('.ts') && existsSync(path) && statSync(path).isFile());
}

/** The import graph of a set of files: each file to the files (of the set) it imports. */
export function importGraph(files: string[]): Map<string, string[]> {
  const inSet = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = relativeImports(readFileSync(file, 'utf8'))
      .map((specifier) => resolveImport(file, specifier))
      .filter((target): target is string => target !== undefined && inSet.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every circle of the graph, once each, as the path that closes it (a → b → a): one per strongly connected part. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components; a component of two or more files (or a file importing itself) is a circle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(circleThrough(graph, new Set(component)));
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/** One concrete circle inside a strongly connected part, for the message: start anywhere, follow edges inside it. */
function circleThrough(graph: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const path = [start];
  const seen = new Map([[start, 0]]);
  let node = start;
  for (;;) {
    node = (graph.get(node) ?? []).filter((next) => component.has(next)).sort()[0]!;
    if (seen.has(node)) return [...path.slice(seen.get(node)), node];
    seen.set(node, path.length);
    path.push(node);
  }
}

const name = (path: string) => relative(ROOT, path);

describe('the import graph of src/', () => {
  test('the parser sees every kind of relative import, and no comment', () => {
    const source = [
      "import { a } from './a';",
      "import type { B } from '../b';",
      "import {\n  c,\n  type C,\n} from './c';",
      "export { d } from './d';",
      "export * from './e';",
      "import './f';",
      "const g = require('./g');",
      "const h = await import('./h');",
      "import { z } from 'zod';",
      "// import { x } from './commented';",
      "/* export { y } from './block'; */",
    ].join('\n');
    expect(relativeImports(source).sort()).toEqual(['../b', './a', './c', './d', './e', './f', './g', './h']);
  });

  test('the cycle finder finds a circle through a type import, and none in a tree', () => {
    const circle = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(importCycles(circle)).toEqual([['a', 'b', 'c', 'a']]);
    const tree = new Map([
      ['a', ['b', 'c']],
      ['b', ['c']],
      ['c', []],
    ]);
    expect(importCycles(tree)).toEqual([]);
    expect(importCycles(new Map([['a', ['a']]]))).toEqual([['a', 'a']]);
  });

  test('no file of src/ imports itself back, through any path (`import type` included)', () => {
    const graph = importGraph(sourceFiles(SRC));
    // The walk must actually see the workflows' imports, or an empty graph would pass.
    expect(graph.get(join(SRC, 'workflows/index.ts'))).toContain(join(SRC, 'workflows/batch-job.ts'));
    expect(importCycles(graph).map((cycle) => cycle.map(name).join(' → '))).toEqual([]);
  });
});

test(`no workflow file is over ${MAX_WORKFLOW_FILE_LINES} lines`, () => {
  const files = sourceFiles(join(SRC, 'workflows'));
  expect(files.length).toBeGreaterThan(0);
  const tooLong = files
    .map((file) => ({ file: name(file), lines: readFileSync(file, 'utf8').split('\n').length }))
    .filter(({ lines }) => lines > MAX_WORKFLOW_FILE_LINES);
  expect(tooLong).toEqual([]);
});
