/**
 * Go-built tools (Temporal CLI, MinIO, Lambda RIE): pinned module versions, how to tell whether the cached binary is
 * the pinned one, and `GOBIN=<cache>/bin go install` to build it.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatSeconds, runCommand, sleep } from '../lib/exec';
import { type CachePaths, recordBuildTime, runningGoInstalls, withToolLock } from './cache';

export interface GoTool {
  /** Binary name, also the cache key for logs, locks and build times. */
  name: string;
  /** Package path given to `go install`. */
  pkg: string;
  /** Module path whose version is embedded in the binary (`go version -m`). */
  module: string;
  version: string;
}

export const TEMPORAL_CLI: GoTool = {
  name: 'temporal',
  pkg: 'github.com/temporalio/cli/cmd/temporal',
  module: 'github.com/temporalio/cli',
  version: 'v1.5.1',
};

/** Commit 7aac2a2c5b7c as a pseudo-version: the module proxy refuses the short-hash form. */
export const MINIO: GoTool = {
  name: 'minio',
  pkg: 'github.com/minio/minio',
  module: 'github.com/minio/minio',
  version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
};

export const LAMBDA_RIE: GoTool = {
  name: 'aws-lambda-rie',
  pkg: 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie',
  module: 'github.com/aws/aws-lambda-runtime-interface-emulator',
  version: '4fa21571526087e3a0076b9fecf67a79e3927994',
};

export function goToolSource(tool: GoTool): string {
  return `${tool.pkg}@${tool.version}`;
}

export function cachedBinaryPath(paths: CachePaths, tool: GoTool): string {
  return join(paths.bin, tool.name);
}

/** Thrown when a build is needed but Go is not installed. */
export class GoMissingError extends Error {
  constructor(tools: readonly GoTool[]) {
    super(
      `Go is needed to build ${tools.map((t) => `${t.name} (${goToolSource(t)})`).join(' and ')} but \`go\` was not ` +
        'found on PATH. Install Go 1.24 or newer (https://go.dev/dl/) and run `npm run tools` again.',
    );
    this.name = 'GoMissingError';
  }
}

export async function isGoAvailable(): Promise<boolean> {
  try {
    return (await runCommand('go', ['version'], { timeoutMs: 30_000 })).code === 0;
  } catch {
    return false;
  }
}

/**
 * The module version embedded in a Go binary, read with `go version -m` (e.g. `v1.5.1`), or undefined when it cannot
 * be read (not a Go binary, or no Go to read it with).
 */
export async function embeddedModuleVersion(binary: string, module: string): Promise<string | undefined> {
  try {
    const result = await runCommand('go', ['version', '-m', binary], { timeoutMs: 30_000 });
    if (result.code !== 0) return undefined;
    for (const line of result.stdout.split('\n')) {
      const [kind, path, version] = line.trim().split(/\s+/);
      if ((kind === 'mod' || kind === 'dep') && path === module) return version;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when the cached binary exists and is the pinned version. Without Go to inspect it, an existing binary is
 * trusted: only this script (or machine provisioning with the same pins) puts binaries in the cache.
 */
export async function isCachedBinaryCurrent(paths: CachePaths, tool: GoTool, goAvailable: boolean): Promise<boolean> {
  const binary = cachedBinaryPath(paths, tool);
  if (!existsSync(binary)) return false;
  if (!goAvailable) return true;
  const version = await embeddedModuleVersion(binary, tool.module);
  return version === undefined || version === tool.version;
}

export interface GoInstallResult {
  binary: string;
  /** Wall time of the build, or undefined if another process built it while we waited. */
  seconds?: number;
}

export class GoInstallError extends Error {
  constructor(
    readonly tool: GoTool,
    readonly logFile: string,
    readonly output: string,
  ) {
    super(`go install ${goToolSource(tool)} failed; log: ${logFile}\n${summarizeGoError(output)}`);
    this.name = 'GoInstallError';
  }
}

/** The lines of `go install` output that say why it failed, without the "go: downloading" noise. */
export function summarizeGoError(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line && !line.startsWith('go: downloading') && !/^(real|user|sys)\s/.test(line));
  return lines.slice(-6).join('\n');
}

/**
 * Builds a tool into `<cache>/bin` with `GOBIN=<cache>/bin go install pkg@version`, at most once at a time per tool on
 * this machine: waits for our own lock and for any `go install` of the same package already running (e.g. one started
 * by provisioning), then builds only if the binary is still missing. Logs go to `<cache>/logs/<tool>-build.log`.
 */
export async function goInstall(paths: CachePaths, tool: GoTool, options: { timeoutMs?: number } = {}): Promise<GoInstallResult> {
  const binary = cachedBinaryPath(paths, tool);
  return withToolLock(paths, tool.name, async () => {
    await waitForForeignBuilds(tool);
    if (await isCachedBinaryCurrent(paths, tool, true)) return { binary };

    const logFile = join(paths.logs, `${tool.name}-build.log`);
    console.log(`tools: building ${tool.name} from ${goToolSource(tool)} (log: ${logFile})`);
    const started = Date.now();
    const progress = setInterval(() => {
      console.log(`tools: still building ${tool.name} (${formatSeconds((Date.now() - started) / 1000)})`);
    }, 30_000);
    try {
      const result = await runCommand('go', ['install', goToolSource(tool)], {
        env: { ...process.env, GOBIN: paths.bin },
        timeoutMs: options.timeoutMs,
      });
      const output = result.stdout + result.stderr;
      const seconds = (Date.now() - started) / 1000;
      const log = createWriteStream(logFile, { flags: 'w' });
      log.end(`$ GOBIN=${paths.bin} go install ${goToolSource(tool)}\n${output}\nexit: ${result.code ?? result.signal}\nseconds: ${seconds.toFixed(1)}\n`);
      if (result.code !== 0 || !existsSync(binary)) {
        const timedOut = result.signal === 'SIGKILL' ? `timed out after ${formatSeconds(seconds)}\n` : '';
        throw new GoInstallError(tool, logFile, timedOut + output);
      }
      recordMeasuredBuild(paths, tool, seconds);
      return { binary, seconds };
    } finally {
      clearInterval(progress);
    }
  });
}

/** Keeps a build's measured time in build-times.json and says it took that long. */
export function recordMeasuredBuild(paths: CachePaths, tool: GoTool, seconds: number): void {
  recordBuildTime(paths, tool.name, {
    source: goToolSource(tool),
    seconds: Math.round(seconds * 10) / 10,
    finishedAt: new Date().toISOString(),
    how: 'measured',
  });
  console.log(`tools: built ${tool.name} in ${formatSeconds(seconds)}`);
}

async function waitForForeignBuilds(tool: GoTool): Promise<void> {
  let announced = false;
  for (;;) {
    const pids = runningGoInstalls(tool.pkg);
    if (pids.length === 0) return;
    if (!announced) {
      console.log(`tools: a build of ${tool.name} is already running (pid ${pids.join(', ')}); waiting for it to finish`);
      announced = true;
    }
    await sleep(2000);
  }
}
