/**
 * The project's Lambda emulator (scripts/stack/lambda-emulator.ts) on its own ports, with a 1-second function timeout:
 * Lambda's timeout answer and runtime restart, one invocation at a time, invocation types, and no orphans on stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { childProcessIds, discoverLambdaFunctions, isProcessAlive, startLambdaFunction, stackConfigFromEnv, stopPid } from '../../scripts/stack/index';
import { freePortBlock } from '../helpers/ports';

function json(payload: Uint8Array | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>;
}

describe('Lambda emulator', () => {
  const config = stackConfigFromEnv();
  let dir: string;
  let pid: number;
  let client: LambdaClient;
  const invokeSleep = (ms: number) => client.send(new InvokeCommand({ FunctionName: 'function', Payload: Buffer.from(JSON.stringify({ ms })) }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3batch-emulator-'));
    const [invokePort, runtimeApiPort] = await freePortBlock(2);
    const [fn] = discoverLambdaFunctions(config.lambda.functionsDir, ['sleep']);
    if (!fn || invokePort === undefined || runtimeApiPort === undefined) throw new Error('setup');
    const server = await startLambdaFunction({
      fn,
      kind: 'emulator',
      invokePort,
      runtimeApiPort,
      bootstrap: config.lambda.bootstrap,
      functionsDir: config.lambda.functionsDir,
      region: 'us-east-1',
      timeoutSeconds: 1,
      logFile: join(dir, 'lambda-sleep.log'),
      startTimeoutMs: 30_000,
    });
    pid = server.process.pid;
    client = new LambdaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  });

  afterAll(async () => {
    client?.destroy();
    if (pid) await stopPid(pid);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the runtime warm between invocations', async () => {
    const first = json((await invokeSleep(1)).Payload);
    const second = json((await invokeSleep(1)).Payload);
    expect(second.pid).toBe(first.pid);
    expect(first.remainingMs).toBeGreaterThan(0);
    expect(first.remainingMs).toBeLessThanOrEqual(1000);
  });

  it("runs functions on the stack's own Node (24), as Lambda's nodejs24.x runtime would", async () => {
    const result = json((await invokeSleep(1)).Payload);
    expect(result.node).toBe(process.version);
    expect(result.node).toMatch(/^v24\./);
  });

  it('runs one invocation at a time and queues the rest', async () => {
    const started = Date.now();
    const results = await Promise.all([invokeSleep(300), invokeSleep(300), invokeSleep(300)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    for (const result of results) expect(json(result.Payload).slept).toBe(300);
  });

  it('answers a timeout like Lambda and restarts the runtime', async () => {
    const before = json((await invokeSleep(1)).Payload).pid as number;
    const timedOut = await invokeSleep(5_000);
    expect(timedOut.StatusCode).toBe(200);
    expect(timedOut.FunctionError).toBe('Unhandled');
    const error = json(timedOut.Payload);
    expect(error.errorType).toBe('Sandbox.Timedout');
    expect(error.errorMessage).toMatch(/Task timed out after 1\.00 seconds/);

    const after = json((await invokeSleep(1)).Payload).pid as number;
    expect(after).not.toBe(before);
    expect(isProcessAlive(before)).toBe(false);
  });

  it('answers Event with 202 and DryRun with 204', async () => {
    const event = await client.send(new InvokeCommand({ FunctionName: 'function', InvocationType: 'Event', Payload: Buffer.from('{"ms":1}') }));
    expect(event.StatusCode).toBe(202);
    const dryRun = await client.send(new InvokeCommand({ FunctionName: 'function', InvocationType: 'DryRun' }));
    expect(dryRun.StatusCode).toBe(204);
  });

  it('rejects a payload that is not JSON, as Lambda does', async () => {
    await expect(client.send(new InvokeCommand({ FunctionName: 'function', Payload: Buffer.from('not json') }))).rejects.toMatchObject({
      name: 'InvalidRequestContentException',
    });
  });

  it('restarts the runtime right after a timeout, without waiting for the next invocation', async () => {
    const [before] = childProcessIds(pid);
    expect((await invokeSleep(5_000)).FunctionError).toBe('Unhandled');
    // The killed runtime may still be listed for a moment: wait for a different one.
    const fresh = (): number[] => childProcessIds(pid).filter((child) => child !== before);
    const deadline = Date.now() + 10_000;
    while (fresh().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fresh()).toHaveLength(1);
    expect(isProcessAlive(before ?? 0)).toBe(false);
  });

  it('kills its runtime when it gets SIGTERM (sent to the emulator alone, not its process group)', async () => {
    await invokeSleep(1);
    const runtimes = childProcessIds(pid);
    expect(runtimes).toHaveLength(1);
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while ([pid, ...runtimes].some(isProcessAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(isProcessAlive(pid)).toBe(false);
    for (const runtime of runtimes) expect(isProcessAlive(runtime)).toBe(false);
    pid = 0;
  });
});
