/**
 * Test Lambda functions: one local "Lambda service" per fixture in test/fixtures/lambda/functions/*.mjs, each with
 * its own invoke port (the Lambda Invoke API, for @aws-sdk/client-lambda) and runtime API port (the Lambda Runtime API,
 * polled by test/fixtures/lambda/bootstrap.mjs). Served by the real Runtime Interface Emulator when it could be built,
 * else by scripts/stack/lambda-emulator.ts, which speaks the same two APIs.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { STACK_HOST } from './config';
import { assertPortsFree, canConnect, waitForHealthy } from './health';
import { type OwnedProcess, spawnDetached, stopPid } from './processes';

export type LambdaKind = 'rie' | 'emulator';

export interface LambdaFunctionFixture {
  /** Function name: the file's basename, e.g. `echo`. */
  name: string;
  file: string;
  /** `_HANDLER` for the bootstrap: `<file>.<export>`, e.g. `echo.handler`. */
  handler: string;
}

/** Fixtures in `functionsDir`, sorted by name (so ports are stable); `only` restricts and checks the names. */
export function discoverLambdaFunctions(functionsDir: string, only?: readonly string[]): LambdaFunctionFixture[] {
  const all = existsSync(functionsDir)
    ? readdirSync(functionsDir)
        .filter((file) => file.endsWith('.mjs'))
        .sort()
        .map((file) => ({ name: basename(file, '.mjs'), file: join(functionsDir, file), handler: `${basename(file, '.mjs')}.handler` }))
    : [];
  if (!only) return all;
  const unknown = only.filter((name) => !all.some((fn) => fn.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `S3BATCH_LAMBDA_FUNCTIONS names unknown functions: ${unknown.join(', ')}; ` +
        `available in ${functionsDir}: ${all.map((fn) => fn.name).join(', ') || '(none)'}`,
    );
  }
  return all.filter((fn) => only.includes(fn.name));
}

/** The emulator is TypeScript; Node runs it with tsx's loader (no separate build step, no extra process). */
export const LAMBDA_EMULATOR_SCRIPT = join(__dirname, 'lambda-emulator.ts');

export function tsxLoaderUrl(): string {
  return pathToFileURL(require.resolve('tsx')).href;
}

export interface LambdaFunctionOptions {
  fn: LambdaFunctionFixture;
  kind: LambdaKind;
  /** Required when kind is `rie`. */
  rieBin?: string;
  invokePort: number;
  runtimeApiPort: number;
  bootstrap: string;
  functionsDir: string;
  region: string;
  timeoutSeconds: number;
  logFile: string;
  /** How long to wait for the invoke port. */
  startTimeoutMs: number;
  portVariable?: string;
  /** Told the PID as soon as the process exists, before it is healthy (the stack records it for cleanup). */
  onSpawn?: (owned: OwnedProcess) => void;
}

export interface LambdaFunctionServer {
  endpoint: string;
  runtimeApi: string;
  kind: LambdaKind;
  process: OwnedProcess;
}

/**
 * Starts the local Lambda service for one function and waits until its invoke port accepts connections. Health is
 * deliberately not an invocation: running user code as a probe would show up in the function's behaviour and logs.
 */
export async function startLambdaFunction(options: LambdaFunctionOptions): Promise<LambdaFunctionServer> {
  const invokeAddress = `${STACK_HOST}:${options.invokePort}`;
  const runtimeApi = `${STACK_HOST}:${options.runtimeApiPort}`;
  await assertPortsFree([
    { port: options.invokePort, variable: options.portVariable, what: `Lambda ${options.fn.name} invoke` },
    { port: options.runtimeApiPort, variable: options.portVariable, what: `Lambda ${options.fn.name} runtime API` },
  ]);

  // Both emulators take the same flags and then the runtime command, which they start with AWS_LAMBDA_RUNTIME_API set.
  const emulatorFlags = ['--runtime-interface-emulator-address', invokeAddress, '--runtime-api-address', runtimeApi];
  const runtimeCommand = [process.execPath, options.bootstrap];
  let command: string;
  let args: string[];
  let markers: string[];
  if (options.kind === 'rie') {
    if (!options.rieBin) throw new Error('startLambdaFunction: kind rie needs rieBin');
    command = options.rieBin;
    args = [...emulatorFlags, ...runtimeCommand];
    markers = [options.rieBin, invokeAddress];
  } else {
    command = process.execPath;
    args = ['--import', tsxLoaderUrl(), LAMBDA_EMULATOR_SCRIPT, ...emulatorFlags, ...runtimeCommand];
    markers = [LAMBDA_EMULATOR_SCRIPT, invokeAddress];
  }

  const owned = await spawnDetached({
    component: `lambda:${options.fn.name}`,
    command,
    args,
    env: {
      ...process.env,
      _HANDLER: options.fn.handler,
      LAMBDA_TASK_ROOT: options.functionsDir,
      AWS_LAMBDA_FUNCTION_NAME: options.fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds),
      AWS_REGION: options.region,
      AWS_DEFAULT_REGION: options.region,
    },
    logFile: options.logFile,
    markers,
  });
  options.onSpawn?.(owned);

  try {
    await waitForHealthy({
      component: `Lambda function ${options.fn.name} (${options.kind})`,
      address: invokeAddress,
      portVariable: options.portVariable,
      pid: owned.pid,
      logFile: options.logFile,
      timeoutMs: options.startTimeoutMs,
      check: async () =>
        (await canConnect(options.invokePort)) ? { healthy: true } : { healthy: false, detail: 'invoke port not accepting connections' },
    });
  } catch (error) {
    await stopPid(owned.pid).catch(() => undefined);
    throw error;
  }
  return { endpoint: `http://${invokeAddress}`, runtimeApi, kind: options.kind, process: owned };
}
