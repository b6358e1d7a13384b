/**
 * Toxiproxy, the TCP fault proxy of the chaos run (latency, connections cut, data stopped until a timeout); the stack
 * and most tests do not need it. Built once into `<cache>/bin/toxiproxy-server` on first use.
 *
 * Its module names the server's package `cmd/server` (so `go install` makes a binary called `server`): it is built
 * into a folder of its own and renamed. v2.5.0 is the newest version the module proxy here serves.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { formatSeconds, runCommand } from '../lib/exec';
import { type CachePaths, ensureCacheDirs, recordBuildTime, withToolLock } from './cache';
import { embeddedModuleVersion, GoMissingError, isGoAvailable, type GoTool } from './go-tools';

export const TOXIPROXY: GoTool = {
  name: 'toxiproxy-server',
  pkg: 'github.com/Shopify/toxiproxy/v2/cmd/server',
  module: 'github.com/Shopify/toxiproxy/v2',
  version: 'v2.5.0',
};

export async function ensureToxiproxy(paths: CachePaths): Promise<string> {
  ensureCacheDirs(paths);
  const binary = join(paths.bin, TOXIPROXY.name);
  const current = async () => existsSync(binary) && (await embeddedModuleVersion(binary, TOXIPROXY.module)) === TOXIPROXY.version;
  if (await current()) return binary;
  if (!(await isGoAvailable())) throw new GoMissingError([TOXIPROXY]);
  return withToolLock(paths, TOXIPROXY.name, async () => {
    if (await current()) return binary;
    const buildBin = join(paths.root, 'build', 'toxiproxy');
    mkdirSync(buildBin, { recursive: true });
    console.log(`tools: building toxiproxy ${TOXIPROXY.version} (a minute or two)`);
    const started = Date.now();
    const result = await runCommand('go', ['install', `${TOXIPROXY.pkg}@${TOXIPROXY.version}`], {
      env: { ...process.env, GOBIN: buildBin },
      timeoutMs: 20 * 60_000,
    });
    const built = join(buildBin, 'server');
    if (result.code !== 0 || !existsSync(built)) {
      throw new Error(`building toxiproxy failed (exit ${result.code ?? result.signal}):\n${(result.stdout + result.stderr).trim().split('\n').slice(-8).join('\n')}`);
    }
    renameSync(built, binary);
    const seconds = (Date.now() - started) / 1000;
    recordBuildTime(paths, TOXIPROXY.name, {
      source: `${TOXIPROXY.pkg}@${TOXIPROXY.version}`,
      seconds: Math.round(seconds * 10) / 10,
      finishedAt: new Date().toISOString(),
      how: 'measured',
    });
    console.log(`tools: built toxiproxy in ${formatSeconds(seconds)}`);
    return binary;
  });
}
