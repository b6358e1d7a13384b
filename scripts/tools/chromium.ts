/**
 * Chromium for the browser test of Temporal Web (test/integration/web-ui.test.ts), driven by playwright-core.
 *
 * `npx playwright install` downloads its own browser, which closed networks refuse; we use the distribution's
 * Chromium instead. In order of preference:
 *   1. `S3BATCH_CHROMIUM` names a Chromium or Chrome executable: used as is, never installed.
 *   2. /usr/bin/chromium exists: used as is.
 *   3. Debian/Ubuntu: `apt-get install -y --no-install-recommends chromium` (see apt.ts).
 * Anything else fails with a message that says what to install.
 */
import { accessSync, constants } from 'node:fs';
import { ensureAptPackage } from './apt';
import type { CachePaths } from './cache';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Thrown when Chromium is missing and this script cannot install it; the message says what to do. */
export class ChromiumUnavailableError extends Error {
  constructor(reason: string, detail = '') {
    super(
      `Chromium is needed for the Temporal Web browser test but ${reason}. Install it (Debian/Ubuntu: ` +
        '`apt-get install -y --no-install-recommends chromium`), or set S3BATCH_CHROMIUM to a Chromium or Chrome ' +
        `executable.${detail ? `\n${detail}` : ''}`,
    );
    this.name = 'ChromiumUnavailableError';
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium to use without installing anything, or undefined. Throws if S3BATCH_CHROMIUM names nothing usable. */
export function installedChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.S3BATCH_CHROMIUM;
  if (named) {
    if (!isExecutable(named)) throw new ChromiumUnavailableError(`S3BATCH_CHROMIUM=${named} is not an executable file`);
    return named;
  }
  return isExecutable(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;
}

/**
 * The Chromium executable, installed with apt-get on first use when missing. Safe to call from several processes at
 * once: the second waits for the first's install.
 */
export function ensureChromium(paths: CachePaths): Promise<string> {
  return ensureAptPackage(paths, {
    pkg: 'chromium',
    installed: () => installedChromium(),
    versionCommand: (binary) => [binary, ['--version']],
    unavailable: (reason, detail) =>
      new ChromiumUnavailableError(reason.startsWith('`') ? reason : `${DEBIAN_CHROMIUM} does not exist and ${reason}`, detail),
  });
}
