/**
 * Go tools whose main package is not named after the binary we want (Toxiproxy's and Temporal's `cmd/server`, the
 * Temporal SQL tool's `cmd/tools/sql`): `go install` would name them `server` or `sql`, and two of them would overwrite
 * each other in `<cache>/bin`. Each is built into a folder of its own under `<cache>/build/` and renamed into
 * `<cache>/bin/<name>`. Built once; afterwards only the embedded module version is checked.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatSeconds, runCommand } from '../lib/exec';
import { type CachePaths, ensureCacheDirs, withToolLock } from './cache';
import { embeddedModuleVersion, GoMissingError, type GoTool, goToolSource, isGoAvailable, recordMeasuredBuild } from './go-tools';

export interface RenamedGoToolOptions {
  /** Said while building, e.g. "a minute or two". */
  expectedTime: string;
  timeoutMs?: number;
}

export async function ensureRenamedGoTool(paths: CachePaths, tool: GoTool, options: RenamedGoToolOptions): Promise<string> {
  ensureCacheDirs(paths);
  const binary = join(paths.bin, tool.name);
  const current = async () => existsSync(binary) && (await embeddedModuleVersion(binary, tool.module)) === tool.version;
  if (await current()) return binary;
  if (!(await isGoAvailable())) throw new GoMissingError([tool]);
  return withToolLock(paths, tool.name, async () => {
    if (await current()) return binary;
    const buildBin = join(paths.root, 'build', tool.name);
    mkdirSync(buildBin, { recursive: true });
    console.log(`tools: building ${tool.name} from ${goToolSource(tool)} (${options.expectedTime})`);
    const started = Date.now();
    const progress = setInterval(() => {
      console.log(`tools: still building ${tool.name} (${formatSeconds((Date.now() - started) / 1000)})`);
    }, 60_000);
    try {
      const result = await runCommand('go', ['install', goToolSource(tool)], {
        env: { ...process.env, GOBIN: buildBin },
        timeoutMs: options.timeoutMs ?? 30 * 60_000,
      });
      const built = join(buildBin, basename(tool.pkg));
      if (result.code !== 0 || !existsSync(built)) {
        const output = (result.stdout + result.stderr).trim().split('\n').filter((l) => !l.startsWith('go: downloading'));
        throw new Error(`building ${tool.name} failed (exit ${result.code ?? result.signal}):\n${output.slice(-8).join('\n')}`);
      }
      renameSync(built, binary);
      recordMeasuredBuild(paths, tool, (Date.now() - started) / 1000);
      return binary;
    } finally {
      clearInterval(progress);
    }
  });
}
