/**
 * s5cmd, the benchmark's fastest-public-tool contender (bench only; the stack and the tests do not need it).
 *
 * Built once into `<cache>/bin/s5cmd` with `go build` inside scripts/tools/s5cmd/, a module that requires
 * github.com/peak/s5cmd/v2 v2.3.0 with a go.sum: see the comment in tools.go there for why not `go install`.
 */
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatSeconds, runCommand } from '../lib/exec';
import { type CachePaths, ensureCacheDirs, recordBuildTime, withToolLock } from './cache';
import { embeddedModuleVersion, GoMissingError, isGoAvailable, type GoTool } from './go-tools';

export const S5CMD: GoTool = {
  name: 's5cmd',
  pkg: 'github.com/peak/s5cmd/v2',
  module: 'github.com/peak/s5cmd/v2',
  version: 'v2.3.0',
};

const PIN_MODULE_DIR = join(__dirname, 's5cmd');

export async function ensureS5cmd(paths: CachePaths): Promise<string> {
  ensureCacheDirs(paths);
  const binary = join(paths.bin, S5CMD.name);
  if (existsSync(binary) && (await embeddedModuleVersion(binary, S5CMD.module)) === S5CMD.version) return binary;
  if (!(await isGoAvailable())) throw new GoMissingError([S5CMD]);
  return withToolLock(paths, S5CMD.name, async () => {
    if (existsSync(binary) && (await embeddedModuleVersion(binary, S5CMD.module)) === S5CMD.version) return binary;
    // Build in a copy: `go build` may touch go.sum, and the checkout stays read-only.
    const buildDir = join(paths.root, 'build', 's5cmd');
    mkdirSync(buildDir, { recursive: true });
    for (const file of ['go.mod', 'go.sum', 'tools.go']) cpSync(join(PIN_MODULE_DIR, file), join(buildDir, file));
    console.log(`tools: building s5cmd ${S5CMD.version} (about a minute)`);
    const started = Date.now();
    const result = await runCommand('go', ['build', '-o', binary, S5CMD.pkg], { cwd: buildDir, timeoutMs: 20 * 60_000 });
    if (result.code !== 0 || !existsSync(binary)) {
      throw new Error(`building s5cmd failed (exit ${result.code ?? result.signal}):\n${(result.stdout + result.stderr).trim().split('\n').slice(-8).join('\n')}`);
    }
    const seconds = (Date.now() - started) / 1000;
    recordBuildTime(paths, S5CMD.name, {
      source: `${S5CMD.module}@${S5CMD.version}`,
      seconds: Math.round(seconds * 10) / 10,
      finishedAt: new Date().toISOString(),
      how: 'measured',
    });
    console.log(`tools: built s5cmd in ${formatSeconds(seconds)}`);
    return binary;
  });
}
