/**
 * The production Temporal server and its companions, for the cluster profile and the TLS tests (the dev server that
 * `temporal server start-dev` runs has no TLS options and one process for every service):
 *   temporal-server      go.temporal.io/server's `cmd/server` (frontend, history, matching, worker; each service can
 *                        run as a process of its own with `--service`)
 *   temporal-sql-tool    its `cmd/tools/sql`, which creates and upgrades the PostgreSQL (or SQLite) schemas
 *   temporal-ui-server   github.com/temporalio/ui-server's `cmd/server`, the Web UI served on its own
 * v1.32.1 is the newest server release (and ui-server v2.55.0 the newest UI) whose go.mod the Go installed here (1.26.8)
 * can build. The schema files the SQL
 * tool applies ship in the server module, which `go install` leaves in the module cache: `temporalSchemaDir` finds them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../lib/exec';
import type { CachePaths } from './cache';
import type { GoTool } from './go-tools';
import { ensureRenamedGoTool } from './renamed-go-tool';

export const TEMPORAL_SERVER: GoTool = {
  name: 'temporal-server',
  pkg: 'go.temporal.io/server/cmd/server',
  module: 'go.temporal.io/server',
  version: 'v1.32.1',
};

export const TEMPORAL_SQL_TOOL: GoTool = {
  name: 'temporal-sql-tool',
  pkg: 'go.temporal.io/server/cmd/tools/sql',
  module: 'go.temporal.io/server',
  version: TEMPORAL_SERVER.version,
};

export const TEMPORAL_UI_SERVER: GoTool = {
  name: 'temporal-ui-server',
  pkg: 'github.com/temporalio/ui-server/v2/cmd/server',
  module: 'github.com/temporalio/ui-server/v2',
  // v2.56.0 and later need go >= 1.26.9; v2.55.0 is the newest the Go installed here (1.26.8) builds.
  version: 'v2.55.0',
};

export function ensureTemporalServer(paths: CachePaths): Promise<string> {
  return ensureRenamedGoTool(paths, TEMPORAL_SERVER, { expectedTime: 'several minutes on 2 cores' });
}

export function ensureTemporalSqlTool(paths: CachePaths): Promise<string> {
  return ensureRenamedGoTool(paths, TEMPORAL_SQL_TOOL, { expectedTime: 'a few minutes, less after the server' });
}

export function ensureTemporalUiServer(paths: CachePaths): Promise<string> {
  return ensureRenamedGoTool(paths, TEMPORAL_UI_SERVER, { expectedTime: 'a few minutes' });
}

/**
 * The server module's `schema/` folder (postgresql/v12/temporal/versioned, .../visibility/versioned, sqlite/...) in the
 * Go module cache, downloading the module if a cleaned cache lost it.
 */
export async function temporalSchemaDir(): Promise<string> {
  const modCache = (await runCommand('go', ['env', 'GOMODCACHE'], { timeoutMs: 30_000 })).stdout.trim();
  const dir = join(modCache, `${TEMPORAL_SERVER.module}@${TEMPORAL_SERVER.version}`, 'schema');
  if (!existsSync(dir)) {
    const result = await runCommand('go', ['mod', 'download', `${TEMPORAL_SERVER.module}@${TEMPORAL_SERVER.version}`], { timeoutMs: 10 * 60_000 });
    if (result.code !== 0 || !existsSync(dir)) throw new Error(`could not find the Temporal server's schemas in ${dir}: ${result.stderr.trim()}`);
  }
  return dir;
}
