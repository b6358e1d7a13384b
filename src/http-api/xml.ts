/**
 * S3 Control's XML (restXml) both ways, with fast-xml-parser. XML alone does not say which elements are lists, maps,
 * numbers or booleans, so both directions are driven by the zod schemas of src/schemas (the single source of truth):
 * - lists are a wrapper element with one child per item: `<Tags><member>…</member></Tags>` (the SDKs send `member`;
 *   AWS's docs show the shape name, e.g. `<S3Tag>`, so any child name is read);
 * - maps are `<UserMetadata><entry><key>k</key><value>v</value></entry></UserMetadata>`;
 * - numbers and booleans are converted where the schema wants them; anything else stays text, so that zod reports
 *   a wrong value with the field's path.
 * Every element is parsed as an array (isArray), so one and many children are read the same way.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { z } from 'zod';
import { unwrapSchema as unwrap } from '../shared/zod-schema';
import { apiErrors } from './errors';

export const S3CONTROL_XMLNS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

type Schema = z.ZodType;
type XmlNode = Record<string, unknown[]> | string;

/** The primitive a schema accepts, for converting element text: 'number', 'boolean' or 'string'. */
function primitiveOf(schema: Schema | undefined): 'number' | 'boolean' | 'string' {
  const u = unwrap(schema);
  if (!u) return 'string';
  if (u.type === 'number' || u.type === 'int' || u.type === 'bigint') return 'number';
  if (u.type === 'boolean') return 'boolean';
  if (u.type === 'literal') {
    const kinds = (u.def.values as unknown[]).map((v) => typeof v);
    return kinds.includes('boolean') ? 'boolean' : kinds.includes('number') ? 'number' : 'string';
  }
  if (u.type === 'union') {
    const kinds = (u.def.options as Schema[]).map(primitiveOf);
    // Timestamps are ISO text or epoch numbers: text wins, as XML timestamps are ISO.
    return kinds.includes('string') ? 'string' : (kinds[0] ?? 'string');
  }
  return 'string';
}

function textOf(node: unknown): string {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object') {
    const text = (node as Record<string, unknown>)['#text'];
    if (typeof text === 'string') return text;
    if (Object.keys(node).every((k) => k === '#text')) return '';
  }
  return '';
}

/** Child elements of a node, without whitespace text between them. */
function childrenOf(node: unknown): [string, unknown[]][] {
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node as Record<string, unknown[]>).filter(([name]) => name !== '#text');
}

function hasText(node: unknown): boolean {
  return textOf(node).trim().length > 0;
}

function convert(node: unknown, schema: Schema | undefined, path: string): unknown {
  const u = unwrap(schema);
  const kind = u?.type;
  if (kind === 'array') {
    const items: unknown[] = [];
    for (const [, occurrences] of childrenOf(node)) {
      for (const item of occurrences) items.push(convert(item, u!.def.element, `${path}[${items.length}]`));
    }
    return items;
  }
  if (kind === 'record') {
    const map: Record<string, unknown> = {};
    for (const [name, occurrences] of childrenOf(node)) {
      if (name !== 'entry') throw apiErrors.malformedXml(`${path}: expected <entry> elements, found <${name}>`);
      for (const entry of occurrences) {
        const key = childrenOf(entry).find(([n]) => n === 'key')?.[1]?.[0];
        const value = childrenOf(entry).find(([n]) => n === 'value')?.[1]?.[0];
        if (key === undefined) throw apiErrors.malformedXml(`${path}: an <entry> has no <key>`);
        map[textOf(key)] = convert(value ?? '', u!.def.valueType, `${path}.${textOf(key)}`);
      }
    }
    return map;
  }
  const children = childrenOf(node);
  if (kind === 'object' || (children.length > 0 && !hasText(node))) {
    const shape = kind === 'object' ? (u!.def.shape as Record<string, Schema>) : {};
    const out: Record<string, unknown> = {};
    for (const [name, occurrences] of children) {
      if (occurrences.length > 1) throw apiErrors.malformedXml(`${path ? `${path}.` : ''}${name} appears more than once`);
      out[name] = convert(occurrences[0], shape[name], path ? `${path}.${name}` : name);
    }
    return out;
  }
  const text = textOf(node);
  switch (primitiveOf(schema)) {
    case 'number': {
      const trimmed = text.trim();
      // Left as text when not a number, so the schema names the field in its error.
      return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : text;
    }
    case 'boolean':
      return text.trim() === 'true' ? true : text.trim() === 'false' ? false : text;
    default:
      return text;
  }
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  isArray: () => true,
  // Entities beyond XML's own five could expand without bound; DOCTYPEs are refused before parsing anyway.
  processEntities: true,
  htmlEntities: false,
});

/** Largest request body read (CreateJob requests are a few KiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Parses a request body whose root element must be `root`, converting it by `schema` to the JSON shape the spec
 * validates. Throws MalformedXML (not well-formed, wrong root, DOCTYPE, repeated element).
 */
/** Deeper than any request this API takes (CreateJob nests about 8 levels). */
export const MAX_XML_DEPTH = 64;

/** The deepest element nesting in `body`, counted from its tags (comments and declarations aside). */
export function nestingDepth(body: string): number {
  let depth = 0;
  let deepest = 0;
  for (let at = body.indexOf('<'); at !== -1; at = body.indexOf('<', at + 1)) {
    // Comments and CDATA may hold '<' that opens nothing: skip to their end.
    const closer = body.startsWith('<!--', at) ? '-->' : body.startsWith('<![CDATA[', at) ? ']]>' : undefined;
    if (closer) {
      const end = body.indexOf(closer, at);
      if (end === -1) break;
      at = end;
      continue;
    }
    const next = body[at + 1];
    if (next === '/') depth--;
    else if (next !== '?' && next !== '!') {
      const end = body.indexOf('>', at);
      if (end === -1) break;
      if (body[end - 1] !== '/') deepest = Math.max(deepest, ++depth);
    }
  }
  return deepest;
}

export function parseXmlBody(body: string, root: string, schema: Schema): Record<string, unknown> {
  if (!body.trim()) throw apiErrors.malformedXml('the request body is empty');
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw apiErrors.malformedXml('DOCTYPE and entity declarations are not accepted');
  // Before any recursive parsing: thousands of nested elements would exhaust the stack (found by the fuzz test).
  if (nestingDepth(body) > MAX_XML_DEPTH) throw apiErrors.malformedXml(`elements nest more than ${MAX_XML_DEPTH} deep`);
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw apiErrors.malformedXml(`${valid.err.msg} (line ${valid.err.line})`);
  const document = parser.parse(body) as Record<string, XmlNode[]>;
  const roots = Object.keys(document).filter((k) => k !== '?xml');
  if (roots.length !== 1 || roots[0] !== root || document[root]!.length !== 1) {
    throw apiErrors.malformedXml(`expected the root element <${root}>, found ${roots.map((r) => `<${r}>`).join(', ') || 'none'}`);
  }
  const converted = convert(document[root]![0], schema, '');
  return converted && typeof converted === 'object' && !Array.isArray(converted) ? (converted as Record<string, unknown>) : {};
}

/** JSON → the object fast-xml-parser's builder writes as restXml (lists as `member`, maps as `entry`). */
function toBuilderValue(value: unknown, schema: Schema | undefined): unknown {
  if (value === undefined || value === null) return undefined;
  const u = unwrap(schema);
  if (Array.isArray(value)) {
    const element = u?.type === 'array' ? u.def.element : undefined;
    return value.length ? { member: value.map((item) => toBuilderValue(item, element)) } : '';
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    if (u?.type === 'record') {
      const entries = Object.entries(value as Record<string, unknown>).map(([key, v]) => ({
        key,
        value: toBuilderValue(v, u.def.valueType),
      }));
      return entries.length ? { entry: entries } : '';
    }
    const shape = u?.type === 'object' ? (u.def.shape as Record<string, Schema>) : {};
    const out: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      const converted = toBuilderValue(v, shape[name]);
      if (converted !== undefined) out[name] = converted;
    }
    return Object.keys(out).length ? out : '';
  }
  return String(value);
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: false,
  suppressEmptyNode: false,
  processEntities: true,
});

/** Writes `value` as the response document `<root xmlns=…>`, using `schema` (when given) to find maps and lists. */
export function toXml(root: string, value: Record<string, unknown>, schema?: Schema): string {
  const content = toBuilderValue(value, schema);
  const element = typeof content === 'object' && content ? { '@_xmlns': S3CONTROL_XMLNS, ...content } : { '@_xmlns': S3CONTROL_XMLNS };
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [root]: element })}`;
}
