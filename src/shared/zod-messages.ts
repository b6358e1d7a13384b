/**
 * Every zod message a user can meet, in words: what is missing or wrong and what the field expects, described from
 * the schema itself (`required (a list of {Key, Value})`, `expected a whole number, got text "ten"`, `unknown field
 * "Operaton" (expected here: Operation, Manifest, …)`), never zod's generic "Invalid input". Installed once, for the
 * whole process, as zod's global error map when this module loads: schemas that give a message of their own keep
 * it. Imported by every module that validates user input (job spec, worker config, API config, CLI flags). The
 * path is added by whoever formats the problem. Sandbox-safe (pure; zod only).
 */
import { z } from 'zod';
import type { $ZodRawIssue, $ZodType } from 'zod/v4/core';
import { unwrapSchema } from './zod-schema';

type Def = { type: string; [key: string]: any };
const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

const quoteAll = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');

/** What a schema accepts, in a few words: "a whole number", "a list of {Key, Value}", "one of "A", "B"". */
export function describeSchema(schema: unknown, depth = 0): string {
  const unwrapped = unwrapSchema(schema);
  if (!unwrapped) return 'a value';
  const { type, def } = unwrapped;
  switch (type) {
    case 'string':
      return 'text';
    case 'number':
    case 'int':
      return isWholeNumber(def) ? 'a whole number' : 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return `a list${depth < 3 ? ` of ${describeSchema(def.element, depth + 1)}` : ''}`;
    case 'object':
      return depth < 3 ? `{${Object.keys(def.shape ?? {}).join(', ')}}` : 'an object';
    case 'record':
      return 'an object of names to values';
    case 'enum':
      return `one of ${quoteAll(Object.values(def.entries ?? {}))}`;
    case 'literal':
      return quoteAll(def.values ?? []);
    case 'union':
      return [...new Set<string>((def.options ?? []).map((o: unknown) => describeSchema(o, depth + 1)))].join(' or ');
    default:
      return `a ${type}`;
  }
}

/** z.number().int() and z.int(): a check (or the schema itself) with an integer format. */
function isWholeNumber(def: Def): boolean {
  const format = (s: unknown) => String(defOf(s)?.format ?? '');
  return def.type === 'int' || String(def.format ?? '').includes('int') || (def.checks ?? []).some((check: unknown) => format(check).includes('int'));
}

/** For a union no form of which matched an object: the form that came closest, and what it still lacks. */
function closestForm(issue: $ZodRawIssue): string {
  const branches = ((issue as { errors?: { path: PropertyKey[]; message: string }[][] }).errors ?? [])
    .map((branchIssues, index) => ({ branchIssues, index }))
    .filter((b) => b.branchIssues.length > 0);
  if (branches.length === 0 || typeof issue.input !== 'object' || issue.input === null) return '';
  const closest = branches.reduce((best, branch) => (branch.branchIssues.length < best.branchIssues.length ? branch : best));
  const form = describeSchema(defOf(issue.inst)?.options?.[closest.index], 1);
  return `; as ${form}: ${closest.branchIssues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`;
}

/** What a given value is, for "expected X, got Y". */
function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'string') return `text ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`;
  if (typeof input === 'number') return Number.isNaN(input) ? 'a value that is not a number' : `the number ${input}`;
  if (typeof input === 'boolean') return String(input);
  if (typeof input === 'object') return 'an object';
  return typeof input;
}

function sizeWords(origin: string | undefined, n: number | bigint): string {
  if (origin === 'string') return `${n} character${n === 1 ? '' : 's'}`;
  if (origin === 'array' || origin === 'set') return `${n} item${n === 1 ? '' : 's'}`;
  return String(n);
}

/** The user's message for one issue zod raises without a message of the schema's own. */
export function userMessage(issue: $ZodRawIssue): string {
  const schema = issue.inst as $ZodType | undefined;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `required (${describeSchema(schema)})`;
      return `expected ${describeSchema(schema)}, got ${describeInput(issue.input)}`;
    case 'too_small': {
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      if ((issue.origin === 'array' || issue.origin === 'set') && Number(issue.minimum) === 1) return 'must list at least one item';
      const bound = sizeWords(issue.origin, issue.minimum);
      return issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set' || issue.inclusive !== false
        ? `must be at least ${bound}${issue.input !== undefined && typeof issue.input === 'number' ? `, got ${issue.input}` : ''}`
        : `must be more than ${bound}${typeof issue.input === 'number' ? `, got ${issue.input}` : ''}`;
    }
    case 'too_big': {
      const bound = sizeWords(issue.origin, issue.maximum);
      return issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set' || issue.inclusive !== false
        ? `must be at most ${bound}${typeof issue.input === 'number' ? `, got ${issue.input}` : ''}`
        : `must be less than ${bound}${typeof issue.input === 'number' ? `, got ${issue.input}` : ''}`;
    }
    case 'invalid_format':
      if (issue.format === 'regex') return `${describeInput(issue.input)} does not have the expected form (${(issue as { pattern?: string }).pattern ?? 'a pattern'})`;
      if (issue.format === 'url') return `expected a URL such as http://127.0.0.1:9000, got ${describeInput(issue.input)}`;
      if (issue.format === 'starts_with' || issue.format === 'ends_with' || issue.format === 'includes') {
        return `${describeInput(issue.input)} does not have the expected form (${issue.format.replace('_', ' ')} "${(issue as { prefix?: string; suffix?: string; includes?: string }).prefix ?? (issue as { suffix?: string }).suffix ?? (issue as { includes?: string }).includes}")`;
      }
      return `expected a valid ${issue.format}, got ${describeInput(issue.input)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? quoteAll(issue.values) : `one of ${quoteAll(issue.values)}`}, got ${describeInput(issue.input)}`;
    case 'unrecognized_keys': {
      const allowed = Object.keys(defOf(schema)?.shape ?? {});
      const names = issue.keys.map((k) => `"${k}"`).join(', ');
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${names}${allowed.length ? ` (expected here: ${allowed.join(', ')})` : ''}`;
    }
    case 'invalid_union':
      if (issue.input === undefined) return `required (${describeSchema(schema)})`;
      return `expected ${describeSchema(schema)}, got ${describeInput(issue.input)}${closestForm(issue)}`;
    case 'invalid_key':
      return 'has a name that is not allowed here';
    case 'invalid_element':
      return 'has a value that is not allowed here';
    default:
      return 'is not valid here';
  }
}

z.config({ customError: userMessage });
