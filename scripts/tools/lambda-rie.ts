/**
 * The AWS Lambda Runtime Interface Emulator, when it can be built. Some module proxies refuse it (HTTP 403 "This module
 * version is not available"); then the stack runs the project's own emulator instead. A failure is remembered in a
 * marker file so that every `stack:up` does not pay for a doomed download: we retry at most once a day.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CachePaths } from './cache';
import { GoInstallError, LAMBDA_RIE, cachedBinaryPath, goInstall, goToolSource, isCachedBinaryCurrent, summarizeGoError } from './go-tools';

const RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** Contents of `<cache>/aws-lambda-rie.unavailable.json`. */
interface UnavailableMarker {
  source: string;
  failedAt: string;
  error: string;
}

export type LambdaRieResult = { available: true; binary: string } | { available: false; reason: string; markerFile: string };

export function rieMarkerFile(paths: CachePaths): string {
  return join(paths.root, 'aws-lambda-rie.unavailable.json');
}

function readMarker(file: string): UnavailableMarker | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as UnavailableMarker;
  } catch {
    return undefined;
  }
}

export async function ensureLambdaRie(paths: CachePaths, goAvailable: boolean): Promise<LambdaRieResult> {
  const markerFile = rieMarkerFile(paths);
  if (await isCachedBinaryCurrent(paths, LAMBDA_RIE, goAvailable)) {
    rmSync(markerFile, { force: true });
    return { available: true, binary: cachedBinaryPath(paths, LAMBDA_RIE) };
  }
  if (!goAvailable) return { available: false, reason: '`go` not found on PATH', markerFile };

  const marker = readMarker(markerFile);
  const recentFailure =
    marker && marker.source === goToolSource(LAMBDA_RIE) && Date.now() - Date.parse(marker.failedAt) < RETRY_AFTER_MS;
  if (recentFailure) return { available: false, reason: `${marker.error} (at ${marker.failedAt})`, markerFile };

  try {
    // Ten minutes covers a real build; a refusing proxy answers in well under a second.
    const { binary } = await goInstall(paths, LAMBDA_RIE, { timeoutMs: 10 * 60_000 });
    rmSync(markerFile, { force: true });
    return { available: true, binary };
  } catch (error) {
    const text = error instanceof GoInstallError ? summarizeGoError(error.output) : String(error);
    const failure: UnavailableMarker = { source: goToolSource(LAMBDA_RIE), failedAt: new Date().toISOString(), error: text };
    writeFileSync(markerFile, `${JSON.stringify(failure, null, 2)}\n`);
    return { available: false, reason: text, markerFile };
  }
}
