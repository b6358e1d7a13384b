/**
 * Recorded workflow histories (test/fixtures/histories/<feature>/*.json), written by scripts/record-histories.ts and
 * replayed by test/unit/workflow-replay.test.ts. One file per workflow run: the history in the JSON form
 * `historyFromJSON` reads (proto JSON, as `temporal workflow show --output json` writes; see history-json.ts), with
 * the run's workflow id (replay needs it: a job's page ids derive from it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { historyFromJSONObject, type History } from './history-json';

export const HISTORY_FIXTURES_DIR = resolve(__dirname, '..', 'fixtures', 'histories');

export interface HistoryFixture {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** The history as proto JSON. */
  history: unknown;
}

export interface LoadedFixture {
  /** Path relative to the repository root, as failures name it. */
  file: string;
  workflowId: string;
  workflowType: string;
  history: History;
}

/** Every fixture file under `dir`, sorted by path. */
export function listHistoryFixtures(dir = HISTORY_FIXTURES_DIR): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json')) files.push(path);
    }
  };
  walk(dir);
  return files.sort();
}

export function loadHistoryFixture(path: string): LoadedFixture {
  const fixture = JSON.parse(readFileSync(path, 'utf8')) as HistoryFixture;
  return {
    file: relative(resolve(__dirname, '..', '..'), path),
    workflowId: fixture.workflowId,
    workflowType: fixture.workflowType,
    history: historyFromJSONObject(fixture.history),
  };
}

/** Every string in a value, payload bytes decoded as UTF-8, with the path it was found at. */
export function* stringsIn(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (value instanceof Uint8Array) yield [path, Buffer.from(value).toString('utf8')];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsIn(v, `${path}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* stringsIn(v, `${path}.${k}`);
}

/** Where any of `secrets` occurs in the history's events (payloads decoded): `event 5.…: secret of N characters`. */
export function secretsIn(history: History, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const event of history.events ?? []) {
    for (const [path, text] of stringsIn(event, `event ${String(event.eventId)}`)) {
      for (const secret of secrets) if (text.includes(secret)) found.push(`${path}: secret of ${secret.length} characters`);
    }
  }
  return found;
}
