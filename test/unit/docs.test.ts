/**
 * The docs stay true: every job JSON in README.md and docs/ is a job the schema accepts (and every worker config a
 * config the worker accepts), every `s3batch` command and flag they show is one the CLI has, and every relative link
 * and image resolves to a file git tracks (and a #anchor to a heading of that file). Each check also runs on a small
 * broken document, so that a check that can no longer fail fails here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Command } from 'commander';
import { CliContext } from '../../src/cli/context';
import { buildProgram } from '../../src/cli/index';
import { validateJobSpec } from '../../src/schemas/job-spec';
import { WorkerConfig } from '../../src/schemas/worker-config';
import { parseMarkdown, s3batchInvocations, type MarkdownDoc } from '../helpers/markdown';

const ROOT = join(__dirname, '..', '..');

interface Doc {
  /** Repository-relative, with forward slashes: README.md, docs/cli.md. */
  path: string;
  source: string;
  md: MarkdownDoc;
}

function loadDoc(path: string, source = readFileSync(join(ROOT, path), 'utf8')): Doc {
  return { path, source, md: parseMarkdown(source) };
}

/** README.md and every Markdown file under docs/ (on disk: a new page is checked before it is committed). */
function projectDocs(): Doc[] {
  const pages = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? pages(`${dir}/${e.name}`) : e.name.endsWith('.md') ? [`${dir}/${e.name}`] : []
    );
  return ['README.md', ...(existsSync(join(ROOT, 'docs')) ? pages('docs') : [])].map((p) => loadDoc(p));
}

// ---------------------------------------------------------------------------------------------------------------
// Job JSON and worker configs

const WORKER_CONFIG_KEYS = ['temporal', 's3', 'lambda', 'operations', 'webhooks', 'worker', 'payloadEncryption'];

function checkJsonBlocks(docs: Doc[]): { problems: string[]; jobs: number; configs: number } {
  const problems: string[] = [];
  let jobs = 0;
  let configs = 0;
  for (const doc of docs) {
    for (const block of doc.md.blocks.filter((b) => b.lang === 'json')) {
      const where = `${doc.path}:${block.line}`;
      let value: unknown;
      try {
        value = JSON.parse(block.text);
      } catch (err) {
        // Fragments (a config excerpt, a body with "…") are allowed; a job must be whole, to be checked.
        if (/"Operation"\s*:/.test(block.text)) problems.push(`${where}: a job example that is not valid JSON (${(err as Error).message})`);
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
      if ('Operation' in value) {
        jobs++;
        const result = validateJobSpec(value);
        if (!result.ok) {
          problems.push(`${where}: the job example is not a valid CreateJob request:\n${result.problems.map((p) => `    ${p.path || '(the request)'}: ${p.message}`).join('\n')}`);
        }
      } else if (Object.keys(value).some((k) => WORKER_CONFIG_KEYS.includes(k))) {
        configs++;
        const result = WorkerConfig.safeParse(value);
        if (!result.success) {
          problems.push(`${where}: the worker config example is not valid:\n${result.error.issues.map((i) => `    ${i.path.join('.')}: ${i.message}`).join('\n')}`);
        }
      }
    }
  }
  return { problems, jobs, configs };
}

// ---------------------------------------------------------------------------------------------------------------
// s3batch commands and flags

function optionsOf(cmd: Command): Set<string> {
  const names = new Set(['--help', '-h']);
  for (const o of cmd.options) {
    if (o.long) names.add(o.long);
    if (o.short) names.add(o.short);
  }
  return names;
}

/** The CLI as users get it: the same commander program `s3batch` runs, built without connecting to anything. */
function cliModel() {
  const program = buildProgram(new CliContext({}));
  const commands = new Map<string, Set<string>>();
  for (const cmd of program.commands) {
    for (const name of [cmd.name(), ...cmd.aliases()]) commands.set(name, optionsOf(cmd));
  }
  const global = new Set([...optionsOf(program), '--version', '-V']);
  const allFlags = new Set([...global, ...[...commands.values()].flatMap((s) => [...s])]);
  return { commands, global, allFlags };
}

function checkCommands(docs: Doc[]): { problems: string[]; invocations: number; tableRows: number } {
  const cli = cliModel();
  const known = [...cli.commands.keys()].join(', ');
  const problems: string[] = [];
  let invocations = 0;
  let tableRows = 0;
  const checkFlags = (where: string, commandNames: string[], flags: string[], shown: string) => {
    for (const flag of flags) {
      const ok = cli.global.has(flag) || commandNames.some((c) => cli.commands.get(c)?.has(flag));
      if (!ok) {
        const own = commandNames.map((c) => `${c}: ${[...(cli.commands.get(c) ?? [])].join(' ')}`).join('; ');
        problems.push(`${where}: \`${shown}\`: the CLI has no option ${flag}${own ? ` (${own})` : ''}`);
      }
    }
  };
  for (const doc of docs) {
    const code = [...doc.md.blocks.filter((b) => !['json', 'ts', 'js', 'mermaid'].includes(b.lang)), ...doc.md.inlineCode];
    for (const invocation of code.flatMap(s3batchInvocations)) {
      invocations++;
      const where = `${doc.path}:${invocation.line}`;
      if (invocation.command && !cli.commands.has(invocation.command)) {
        problems.push(`${where}: \`${invocation.text}\`: the CLI has no command ${invocation.command} (it has: ${known})`);
        continue;
      }
      checkFlags(where, invocation.command ? [invocation.command] : [], invocation.flags, invocation.text);
    }
    // A table whose first column is "Command": each row's commands exist, and the flags the row names are theirs.
    for (const row of doc.md.tableRows.filter((r) => /^command$/i.test(r.header[0] ?? ''))) {
      tableRows++;
      const where = `${doc.path}:${row.line}`;
      const names = [...row.cells[0]!.matchAll(/`([a-z][a-z-]*)/g)].map((m) => m[1]!);
      for (const name of names.filter((n) => !cli.commands.has(n))) {
        problems.push(`${where}: the command table names \`${name}\`, which the CLI lacks (it has: ${known})`);
      }
      const flags = [...row.cells.join(' ').matchAll(/`(--?[A-Za-z][\w-]*)/g)].map((m) => m[1]!);
      checkFlags(where, names, flags, row.cells[0]!.replace(/`/g, ''));
    }
    // The CLI's own page: every flag it shows in code is one of the CLI's.
    if (doc.path === 'docs/cli.md') {
      for (const span of doc.md.inlineCode) {
        for (const m of span.text.matchAll(/(?:^|\s)(--[A-Za-z][\w-]*)/g)) {
          if (!cli.allFlags.has(m[1]!)) problems.push(`${doc.path}:${span.line}: \`${span.text}\`: no s3batch command has the option ${m[1]}`);
        }
      }
    }
  }
  return { problems, invocations, tableRows };
}

// ---------------------------------------------------------------------------------------------------------------
// Links and images

function trackedFiles(): Set<string> {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return new Set(out.split('\0').filter(Boolean));
}

function checkLinks(docs: Doc[], tracked: Set<string>, read: (path: string) => string | undefined): { problems: string[]; links: number } {
  const problems: string[] = [];
  let links = 0;
  const anchorsOf = new Map<string, Set<string> | undefined>();
  const anchors = (path: string) => {
    if (!anchorsOf.has(path)) {
      const source = read(path);
      anchorsOf.set(path, source === undefined ? undefined : parseMarkdown(source).anchors);
    }
    return anchorsOf.get(path);
  };
  for (const doc of docs) {
    for (const link of doc.md.links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // http:, https:, mailto:
      links++;
      const where = `${doc.path}:${link.line}`;
      const [rawPath, anchor] = link.target.split('#', 2) as [string, string | undefined];
      const path = rawPath ? posix.normalize(posix.join(posix.dirname(doc.path), decodeURI(rawPath))).replace(/\/$/, '') : doc.path;
      const kind = link.image ? 'image' : 'link';
      if (path.startsWith('../')) {
        problems.push(`${where}: ${kind} ${link.target} points outside the repository`);
        continue;
      }
      const isFile = tracked.has(path);
      const isDir = !isFile && [...tracked].some((f) => f.startsWith(`${path}/`));
      if (!isFile && !isDir) {
        problems.push(`${where}: ${kind} ${link.target} resolves to ${path}, which is not a file tracked by git`);
        continue;
      }
      if (anchor !== undefined && path.endsWith('.md')) {
        const found = path === doc.path ? doc.md.anchors : anchors(path);
        if (!found?.has(anchor)) problems.push(`${where}: ${kind} ${link.target}: ${path} has no heading with the anchor #${anchor}`);
      }
    }
  }
  return { problems, links };
}

// ---------------------------------------------------------------------------------------------------------------

describe('the docs (README.md and docs/)', () => {
  const docs = projectDocs();

  test('every job JSON is a valid CreateJob request, and every worker config a valid config', () => {
    const { problems, jobs, configs } = checkJsonBlocks(docs);
    expect(problems).toEqual([]);
    // The README's tour and docs/jobs.md each show a whole job; docs/configuration.md a worker config.
    expect(jobs).toBeGreaterThanOrEqual(2);
    expect(configs).toBeGreaterThanOrEqual(1);
  });

  test('every s3batch command and flag shown is one the CLI has', () => {
    const { problems, invocations, tableRows } = checkCommands(docs);
    expect(problems).toEqual([]);
    expect(invocations).toBeGreaterThanOrEqual(10);
    expect(tableRows).toBeGreaterThanOrEqual(9); // docs/cli.md's command table
  });

  test('every relative link and image resolves to a tracked file (and an anchor to a heading there)', () => {
    const read = (path: string) => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined);
    const { problems, links } = checkLinks(docs, trackedFiles(), read);
    expect(problems).toEqual([]);
    expect(links).toBeGreaterThanOrEqual(20);
  });

  test('the README stays a front door: the two commands first, at most about 200 lines', () => {
    const readme = docs.find((d) => d.path === 'README.md')!;
    expect(readme.md.anchors.has('the-two-commands')).toBe(true);
    expect(readme.source).toContain('npm ci && npm run demo');
    expect(readme.source).toContain('npm ci && npm test');
    expect(readme.source.trimEnd().split('\n').length).toBeLessThanOrEqual(200);
  });
});

describe('the docs checks catch what they are for', () => {
  const broken = loadDoc(
    'docs/broken.md',
    [
      '# Broken',
      '',
      '```json',
      '{ "Operation": { "S3PutObjectTagging": { "TagSet": [] } }, "Report": { "Enabled": false }, "Priorty": 3,',
      '  "Manifest": { "Spec": { "Format": "S3BatchOperations_CSV_20180820" }, "Location": { "ObjectArn": "arn:aws:s3:::b/m.csv" } } }',
      '```',
      '',
      '```sh',
      's3batch create-job job.json --wach \\',
      '  --priority 3',
      'npm run s3batch -- frobnicate 123',
      '```',
      '',
      'Run `s3batch list-jobs --status Active --colour` or see [the CLI](cli.md#no-such-heading), [gone](gone.md),',
      'and ![a chart](../bench/results/throughput.png).',
      '',
      '| Command | What it does |',
      '|---|---|',
      '| `pause <id>` | pauses (`--reason`, `--force`) |',
    ].join('\n')
  );

  test('a job example with a field the schema lacks', () => {
    const { problems } = checkJsonBlocks([broken]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^docs\/broken\.md:4: the job example is not a valid CreateJob request/);
    expect(problems[0]).toContain('Priorty');
  });

  test('a command the CLI lacks, and flags its commands lack', () => {
    const { problems } = checkCommands([broken]);
    expect(problems).toEqual([
      expect.stringMatching(/^docs\/broken\.md:9: `s3batch create-job job\.json --wach --priority 3`: the CLI has no option --wach/),
      expect.stringMatching(/^docs\/broken\.md:11: `s3batch frobnicate 123`: the CLI has no command frobnicate/),
      expect.stringMatching(/^docs\/broken\.md:14: `s3batch list-jobs --status Active --colour`: the CLI has no option --colour/),
      expect.stringMatching(/^docs\/broken\.md:19: `pause <id>`: the CLI has no option --force/),
    ]);
  });

  test('links to untracked files, missing anchors and git-ignored images', () => {
    const tracked = new Set(['docs/cli.md', 'README.md']);
    const { problems } = checkLinks([broken], tracked, (p) => (p === 'docs/cli.md' ? '# The s3batch CLI\n' : undefined));
    expect(problems).toEqual([
      'docs/broken.md:14: link cli.md#no-such-heading: docs/cli.md has no heading with the anchor #no-such-heading',
      'docs/broken.md:14: link gone.md resolves to docs/gone.md, which is not a file tracked by git',
      'docs/broken.md:15: image ../bench/results/throughput.png resolves to bench/results/throughput.png, which is not a file tracked by git',
    ]);
  });
});
