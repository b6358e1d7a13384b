/**
 * stackUp / stackDown on an isolated second stack (own temp data dir, own free ports, one Lambda function), so the
 * shared stack the other tests use is not disturbed: idempotent up, clean down, recovery from stale state, port errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childProcessIds,
  isProcessAlive,
  processGroupMembers,
  readStackState,
  type StackConfig,
  stackConfigFromEnv,
  type StackState,
  stackDown,
  stackStatus,
  stackUp,
  stateFilePath,
} from '../../scripts/stack/index';
import { ensureTools, type ToolPaths } from '../../scripts/tools';
import { freePortBlock } from '../helpers/ports';

const quiet = { log: () => undefined };

/** Every process of a stack: the recorded ones and the children of each (the emulators' runtimes). */
function allPids(state: StackState): number[] {
  const recorded = state.processes.map((p) => p.pid);
  return [...recorded, ...recorded.flatMap((pid) => childProcessIds(pid))];
}

describe('stack lifecycle (isolated stack)', () => {
  let dataDir: string;
  let config: StackConfig;
  let tools: ToolPaths;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 's3batch-stack-'));
    const [temporal, temporalUi, minio, minioConsole, moto, lambdaBase] = await freePortBlock(7);
    config = stackConfigFromEnv({
      dataDir,
      ports: { temporal, temporalUi, minio, minioConsole, moto, lambdaBase },
      lambda: { functions: ['echo'] },
    });
    tools = await ensureTools({ quiet: true });
  });

  afterAll(async () => {
    await stackDown(config, quiet).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('comes up, is a no-op when already up, and goes down leaving no process behind', async () => {
    const first = await stackUp(config, { ...quiet, tools });
    expect(first.temporal.address).toBe(`127.0.0.1:${config.ports.temporal}`);
    expect(Object.keys(first.lambda.functions)).toEqual(['echo']);
    const pids = allPids(first);
    // temporal, minio, moto, the echo emulator, and the emulator's runtime (or RIE's).
    expect(pids.length).toBeGreaterThanOrEqual(5);
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(true);
    expect((await stackStatus(config, { tools })).phase).toBe('running');

    const second = await stackUp(config, { ...quiet, tools });
    expect(second).toEqual(first);

    await stackDown(config, quiet);
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    for (const owned of first.processes) expect(processGroupMembers(owned.pid)).toEqual([]);
    expect(readStackState(dataDir)).toBeUndefined();
    expect((await stackStatus(config)).phase).toBe('stopped');
  });

  it('cleans a stale state file whose processes are dead, then starts afresh', async () => {
    const first = await stackUp(config, { ...quiet, tools });
    const staleJson = readFileSync(stateFilePath(dataDir), 'utf8');
    await stackDown(config, quiet);
    // As after a reboot or `kill -9`: the state file survives, its PIDs do not.
    writeFileSync(stateFilePath(dataDir), staleJson);
    expect((await stackStatus(config, { tools })).phase).toBe('degraded');

    const second = await stackUp(config, { ...quiet, tools });
    expect(second.startedAt).not.toBe(first.startedAt);
    for (const pid of allPids(second)) expect(isProcessAlive(pid)).toBe(true);
    expect((await stackStatus(config, { tools })).phase).toBe('running');
  });

  it('restarts a stack one of whose components died, stopping the survivors first', async () => {
    const before = await stackUp(config, { ...quiet, tools });
    process.kill(before.s3.pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (isProcessAlive(before.s3.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const after = await stackUp(config, { ...quiet, tools });
    expect(after.s3.pid).not.toBe(before.s3.pid);
    for (const pid of allPids(before)) expect(isProcessAlive(pid)).toBe(false);
    for (const pid of allPids(after)) expect(isProcessAlive(pid)).toBe(true);
    await stackDown(config, quiet);
    for (const pid of allPids(after)) expect(isProcessAlive(pid)).toBe(false);
  });

  it('refuses to start when a port is taken by another program, naming the port and its variable', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(config.ports.moto, '127.0.0.1', resolve));
    try {
      await expect(stackUp(config, { ...quiet, tools })).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${config.ports.moto} \\(moto S3 API\\).*S3BATCH_MOTO_PORT`),
      );
      expect(readStackState(dataDir)).toBeUndefined();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
