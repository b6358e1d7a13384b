/**
 * One workflow bundle per source version, cached in .cache/: bundling takes seconds, and every test file (and bench
 * run) that starts a worker would otherwise pay for it again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/worker-runtime';

const ROOT = resolve(__dirname, '../..');

function hashSources(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'src'));
  return hash.digest('hex').slice(0, 16);
}

export async function workflowBundlePath(): Promise<string> {
  const dir = join(ROOT, '.cache');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `workflow-bundle-${hashSources()}.js`);
  if (!existsSync(path)) {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    writeFileSync(path, code);
  }
  return path;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
