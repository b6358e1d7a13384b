/**
 * Makes the stack's binaries available in the per-user tool cache and returns their absolute paths.
 *
 *   npm run tools            build or verify everything, then print what is where and how long builds took
 *
 * Cache: `S3BATCH_CACHE_DIR`, default `${XDG_CACHE_HOME:-$HOME/.cache}/s3-batch`:
 *   bin/temporal, bin/minio, bin/aws-lambda-rie   built once with `GOBIN=<cache>/bin go install <pkg>@<pinned>`
 *   moto-venv/                                    `pip install 'moto[server]==5.2.5'`
 *   (not in the cache) /usr/bin/chromium           `apt-get install chromium`, for the browser test (tools/chromium.ts)
 *   logs/<tool>-build.log, build-times.json       what each build printed and how long it took
 *   aws-lambda-rie.unavailable.json               why RIE could not be built (retried at most once a day)
 *
 * A `temporal` already on PATH with version >= 1.5 is used as is. Cold builds take minutes (MinIO is the big one);
 * afterwards this only checks versions, in well under a second per tool.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, formatSeconds, runCommand } from './lib/exec';
import { buildSecondsFromLog, type CachePaths, cachePaths, ensureCacheDirs, readBuildTimes, recordBuildTime, toolCacheDir } from './tools/cache';
import {
  cachedBinaryPath,
  embeddedModuleVersion,
  GoMissingError,
  goInstall,
  type GoTool,
  goToolSource,
  isCachedBinaryCurrent,
  isGoAvailable,
  MINIO,
  TEMPORAL_CLI,
} from './tools/go-tools';
import { ensureChromium } from './tools/chromium';
import { ensureLambdaRie } from './tools/lambda-rie';
import { ensureMotoVenv, isMotoVenvCurrent, MOTO_VERSION, PythonMissingError } from './tools/moto-venv';

export interface ToolPaths {
  cacheDir: string;
  temporal: string;
  minio: string;
  /** `moto_server` inside the cached virtualenv. */
  motoServer: string;
  /** The real Lambda Runtime Interface Emulator, or undefined when it cannot be built here. */
  lambdaRie: string | undefined;
  /** Why `lambdaRie` is undefined, in one line. */
  lambdaRieUnavailable?: string;
}

export interface EnsureToolsOptions {
  /** Skip the one-line notice about falling back to the project's Lambda emulator. */
  quiet?: boolean;
}

/** Minimum Temporal CLI accepted from PATH: 1.5 is the first whose `--search-attribute` registers at namespace creation. */
const MIN_TEMPORAL_CLI = [1, 5, 0] as const;

/**
 * Version of a Temporal CLI: what `temporal --version` prints for release builds ("temporal version 1.5.1 (Server
 * 1.29.1, UI 2.42.1)"). A `go install` build prints 0.0.0-DEV (the version is set by release linker flags), so for
 * those the module version embedded in the binary is read instead.
 */
async function temporalCliVersion(binary: string): Promise<number[] | undefined> {
  const result = await runCommand(binary, ['--version'], { timeoutMs: 30_000 }).catch(() => undefined);
  let text = result?.code === 0 ? (/version (\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ?? '') : '';
  if (text === '0.0.0') text = (await embeddedModuleVersion(binary, TEMPORAL_CLI.module))?.replace(/^v/, '') ?? '';
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function isAtLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const a = version[i] ?? 0;
    const b = minimum[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

async function ensureGoTool(paths: CachePaths, tool: GoTool, goAvailable: boolean): Promise<string> {
  if (await isCachedBinaryCurrent(paths, tool, goAvailable)) return cachedBinaryPath(paths, tool);
  if (!goAvailable) throw new GoMissingError([tool]);
  return (await goInstall(paths, tool)).binary;
}

/** A `temporal` on PATH (other than our cached one) whose version is at least 1.5, if any. */
async function usableTemporalOnPath(paths: CachePaths): Promise<string | undefined> {
  const onPath = findOnPath('temporal');
  if (!onPath || onPath === cachedBinaryPath(paths, TEMPORAL_CLI)) return undefined;
  const version = await temporalCliVersion(onPath);
  return version && isAtLeast(version, MIN_TEMPORAL_CLI) ? onPath : undefined;
}

/** The Temporal CLI: one on PATH if recent enough, else the cached build of the pinned version. */
export async function ensureTemporalCli(paths = cachePaths(toolCacheDir()), goAvailable?: boolean): Promise<string> {
  const onPath = await usableTemporalOnPath(paths);
  if (onPath) return onPath;
  ensureCacheDirs(paths);
  return ensureGoTool(paths, TEMPORAL_CLI, goAvailable ?? (await isGoAvailable()));
}

/**
 * Fails before any build starts if a needed toolchain is missing, naming every tool that needs it (rather than
 * failing on the first after spending minutes on another).
 */
async function assertToolchainsFor(paths: CachePaths, goAvailable: boolean): Promise<void> {
  if (!goAvailable) {
    const needGo: GoTool[] = [];
    if (!(await usableTemporalOnPath(paths)) && !(await isCachedBinaryCurrent(paths, TEMPORAL_CLI, false))) needGo.push(TEMPORAL_CLI);
    if (!(await isCachedBinaryCurrent(paths, MINIO, false))) needGo.push(MINIO);
    if (needGo.length > 0) throw new GoMissingError(needGo);
  }
  if (!(await isMotoVenvCurrent(paths)) && !findOnPath('python3')) throw new PythonMissingError();
}

/** Keeps build times that were measured outside this script (provisioning logs ending in `time` output). */
function adoptLoggedBuildTimes(paths: CachePaths): void {
  const known = readBuildTimes(paths);
  const candidates: Array<[string, string, string]> = [
    ['temporal', goToolSource(TEMPORAL_CLI), 'temporal-build.log'],
    ['minio', goToolSource(MINIO), 'minio-build.log'],
    ['moto', `moto[server]==${MOTO_VERSION}`, 'moto.log'],
  ];
  for (const [tool, source, log] of candidates) {
    if (known[tool]) continue;
    const logFile = join(paths.logs, log);
    const seconds = buildSecondsFromLog(logFile);
    if (seconds === undefined) continue;
    const finishedAt = statSync(logFile).mtime.toISOString();
    recordBuildTime(paths, tool, { source, seconds: Math.round(seconds * 10) / 10, finishedAt, how: 'from-log' });
  }
}

/** One line out of a multi-line `go` error: the proxy's answer if there is one. */
function oneLine(reason: string): string {
  const lines = reason.split('\n').map((l) => l.trim()).filter(Boolean);
  const proxyAnswer = lines.find((l) => l.startsWith('server response:'));
  const status = /\b(\d{3} [A-Z][A-Za-z ]+)$/m.exec(reason)?.[1];
  if (proxyAnswer) return [status, proxyAnswer.replace('server response: ', '')].filter(Boolean).join(': ');
  return lines.at(-1) ?? reason;
}

/**
 * Makes every tool of the stack available, building what is missing (each at most once at a time on this machine),
 * and returns absolute paths. Fails with a clear message when Go or Python 3 is needed but missing.
 */
export async function ensureTools(options: EnsureToolsOptions = {}): Promise<ToolPaths> {
  const paths = cachePaths(toolCacheDir());
  ensureCacheDirs(paths);
  const goAvailable = await isGoAvailable();
  await assertToolchainsFor(paths, goAvailable);
  const [temporal, minio, moto, rie] = await Promise.all([
    ensureTemporalCli(paths, goAvailable),
    ensureGoTool(paths, MINIO, goAvailable),
    ensureMotoVenv(paths),
    ensureLambdaRie(paths, goAvailable),
  ]);
  adoptLoggedBuildTimes(paths);
  const tools: ToolPaths = { cacheDir: paths.root, temporal, minio, motoServer: moto.motoServer, lambdaRie: undefined };
  if (rie.available) {
    tools.lambdaRie = rie.binary;
  } else {
    tools.lambdaRieUnavailable = oneLine(rie.reason);
    if (!options.quiet) {
      console.log(
        `tools: aws-lambda-rie unavailable (${tools.lambdaRieUnavailable}); using the project's Lambda emulator ` +
          `(scripts/stack/lambda-emulator.ts); retried after a day or when ${rie.markerFile} is deleted`,
      );
    }
  }
  return tools;
}

async function main(): Promise<void> {
  const started = Date.now();
  const tools = await ensureTools();
  // Only the tests need a browser, so ensureTools (the stack's and the demo's) leaves it out.
  const chromium = await ensureChromium(cachePaths(tools.cacheDir));
  const times = readBuildTimes(cachePaths(tools.cacheDir));
  const rows: Array<[string, string, string]> = [
    ['temporal', tools.temporal, times.temporal ? formatSeconds(times.temporal.seconds) : '-'],
    ['minio', tools.minio, times.minio ? formatSeconds(times.minio.seconds) : '-'],
    ['moto_server', tools.motoServer, times.moto ? formatSeconds(times.moto.seconds) : '-'],
    ['aws-lambda-rie', tools.lambdaRie ?? '(unavailable: project emulator used)', times['aws-lambda-rie'] ? formatSeconds(times['aws-lambda-rie'].seconds) : '-'],
    ['chromium', chromium, times.chromium ? formatSeconds(times.chromium.seconds) : '-'],
  ];
  const width = Math.max(...rows.map((r) => r[1].length));
  console.log(`${'tool'.padEnd(15)}${'path'.padEnd(width + 2)}last build`);
  for (const [name, path, time] of rows) console.log(`${name.padEnd(15)}${path.padEnd(width + 2)}${time}`);
  console.log(`tools ready in ${formatSeconds((Date.now() - started) / 1000)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`tools: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
