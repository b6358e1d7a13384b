/**
 * Just enough of Markdown for test/unit/docs.test.ts to check what the docs claim: fenced code blocks, inline code
 * spans, links and images, headings (as GitHub turns them into anchors), and `s3batch` command lines. Every piece
 * carries the line it starts on, so a failure names the place to fix.
 */

export interface Located {
  /** 1-based line in the file. */
  line: number;
  text: string;
}

export interface CodeBlock extends Located {
  /** The info string after the opening fence (```json → "json"). */
  lang: string;
}

export interface Link extends Located {
  /** As written: a URL, a relative path, or a path with a #anchor. */
  target: string;
  image: boolean;
}

export interface MarkdownDoc {
  blocks: CodeBlock[];
  /** Inline code spans outside code blocks; a span may run over a line break, as in a wrapped paragraph. */
  inlineCode: Located[];
  links: Link[];
  /** GitHub's anchors for the headings, in order (duplicates get -1, -2, … as on GitHub). */
  anchors: Set<string>;
  /** Table body rows outside code blocks, as their cells' raw text, with their table's header cells. */
  tableRows: Array<{ line: number; cells: string[]; header: string[] }>;
}

const FENCE = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/;

/** GitHub's heading anchor: lower case, punctuation dropped (letters, digits, `-` and `_` kept), spaces to `-`. */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function parseMarkdown(source: string): MarkdownDoc {
  const lines = source.split('\n');
  const doc: MarkdownDoc = { blocks: [], inlineCode: [], links: [], anchors: new Set(), tableRows: [] };
  const seen = new Map<string, number>();
  // Paragraphs outside code blocks, with their first line, for spans and links that wrap.
  const paragraphs: Located[] = [];
  let paragraph: Located | undefined;
  let header: string[] = [];
  const endParagraph = () => {
    if (paragraph) paragraphs.push(paragraph);
    paragraph = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      endParagraph();
      const close = fence[1]!;
      const start = i + 1;
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trim().startsWith(close); i++) body.push(lines[i]!);
      doc.blocks.push({ line: start + 1, lang: fence[2] ?? '', text: dedent(body).join('\n') });
      continue;
    }
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      endParagraph();
      const base = githubAnchor(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      doc.anchors.add(n === 0 ? base : `${base}-${n}`);
      paragraphs.push({ line: i + 1, text: heading[1]! });
      continue;
    }
    if (!line.trim()) {
      endParagraph();
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line)) {
      const separator = /^\s*\|[\s:|-]+\|\s*$/.test(line);
      if (!/^\s*\|.*\|\s*$/.test(lines[i - 1] ?? '')) header = splitRow(line);
      else if (!separator) doc.tableRows.push({ line: i + 1, cells: splitRow(line), header });
    }
    if (paragraph) paragraph.text += `\n${line}`;
    else paragraph = { line: i + 1, text: line };
  }
  endParagraph();

  for (const p of paragraphs) {
    const lineOf = (index: number) => p.line + (p.text.slice(0, index).match(/\n/g)?.length ?? 0);
    // Code spans first; links are looked for in the text without them (code may hold brackets and parentheses).
    let prose = '';
    let last = 0;
    for (const m of p.text.matchAll(/(`+)([\s\S]*?[^`])\1(?!`)/g)) {
      doc.inlineCode.push({ line: lineOf(m.index), text: m[2]!.replace(/\s+/g, ' ').trim() });
      prose += p.text.slice(last, m.index) + ' '.repeat(m[0].length);
      last = m.index + m[0].length;
    }
    prose += p.text.slice(last);
    for (const m of prose.matchAll(/(!?)\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      doc.links.push({ line: lineOf(m.index), text: m[0], target: m[2]!, image: m[1] === '!' });
    }
    for (const m of prose.matchAll(/<img\s[^>]*src="([^"]+)"/g)) {
      doc.links.push({ line: lineOf(m.index), text: m[0], target: m[1]!, image: true });
    }
  }
  return doc;
}

function dedent(body: string[]): string[] {
  const indents = body.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return body.map((l) => l.slice(cut));
}

function splitRow(line: string): string[] {
  // Cells split on unescaped pipes that are not inside code spans.
  const cells: string[] = [];
  let cell = '';
  let inCode = false;
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && body[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (c === '`') {
      inCode = !inCode;
      cell += c;
    } else if (c === '|' && !inCode) {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += c;
    }
  }
  cells.push(cell.trim());
  return cells;
}

/** One `s3batch …` command line found in the docs: the command (if any) and the flags given to it. */
export interface S3batchInvocation {
  line: number;
  text: string;
  command?: string;
  flags: string[];
}

/** Tokens that end a command on a shell line. */
const COMMAND_END = new Set(['|', '||', '&&', ';', '>', '2>', '&']);

/**
 * Every `s3batch` command in a piece of code: `s3batch create-job --watch`, `npm run s3batch -- report <id>`,
 * `npx s3batch --help`. Placeholders (`<id>`, `[flags]`, `…`) are neither commands nor flags.
 */
export function s3batchInvocations(code: Located): S3batchInvocation[] {
  // A backslash at the end of a line continues the command on the next one.
  const logical: Located[] = [];
  code.text.split('\n').forEach((text, index) => {
    const previous = logical[logical.length - 1];
    if (previous?.text.endsWith('\\')) previous.text = `${previous.text.slice(0, -1)} ${text}`;
    else logical.push({ line: code.line + index, text });
  });
  const found: S3batchInvocation[] = [];
  logical.forEach(({ line, text }) => {
    for (const m of text.matchAll(/(?:^|[\s(`'"])s3batch(?=\s|$)((?:\s+\S+)*)/g)) {
      const tokens = m[1]!.trim().split(/\s+/).filter(Boolean);
      if (tokens[0] === '--') tokens.shift(); // npm run s3batch -- <command>
      const invocation: S3batchInvocation = { line, text: `s3batch ${tokens.join(' ')}`.trim(), flags: [] };
      for (const [i, token] of tokens.entries()) {
        if (COMMAND_END.has(token) || token.startsWith('#') || token === 's3batch') break;
        if (/^--?[A-Za-z]/.test(token)) invocation.flags.push(token.replace(/=.*$/, '').replace(/[),.;:]+$/, ''));
        else if (i === 0 && /^[a-z][a-z-]*$/.test(token)) invocation.command = token;
      }
      found.push(invocation);
    }
  });
  return found;
}
