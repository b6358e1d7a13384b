/**
 * A small stand-in for the AWS Lambda Runtime Interface Emulator (RIE), used where RIE cannot be built. It serves the
 * same two APIs, so callers and runtimes cannot tell the difference:
 *
 *   invoke port       POST /2015-03-31/functions/{any name}/invocations      (Lambda Invoke API, for the AWS SDK)
 *   runtime API port  GET  /2018-06-01/runtime/invocation/next               (Lambda Runtime API, for the runtime)
 *                     POST /2018-06-01/runtime/invocation/{id}/response
 *                     POST /2018-06-01/runtime/invocation/{id}/error
 *                     POST /2018-06-01/runtime/init/error
 *
 * Usage (same flags as aws-lambda-rie; everything after them is the runtime command):
 *   node --import tsx scripts/stack/lambda-emulator.ts \
 *     --runtime-interface-emulator-address 127.0.0.1:9100 --runtime-api-address 127.0.0.1:9101 \
 *     node test/fixtures/lambda/bootstrap.mjs
 *
 * Environment: AWS_LAMBDA_FUNCTION_TIMEOUT (seconds, default 30), AWS_LAMBDA_FUNCTION_NAME, AWS_REGION; all of it is
 * passed on to the runtime, which also gets AWS_LAMBDA_RUNTIME_API.
 *
 * Behaviour, as Lambda's: one invocation at a time (others queue); a function error or timeout is HTTP 200 with
 * `X-Amz-Function-Error: Unhandled` and an `{errorType, errorMessage}` body; a timeout restarts the runtime at once,
 * a crash on the next invocation; `Event` invocations answer 202 at once, `DryRun` 204. The runtime is a child in
 * our process group and is killed when we exit, on SIGTERM/SIGINT too.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../../src/node-version-guard';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';

/** Lambda's synchronous payload limit, for requests and responses alike. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ACCOUNT_ID = '000000000000';

// ---------------------------------------------------------------------------------------------------------------
// Arguments and environment.

const addressSchema = z.string().regex(/^[^:]+:\d{1,5}$/, 'must be host:port');

const settingsSchema = z.object({
  invokeAddress: addressSchema,
  runtimeApiAddress: addressSchema,
  runtimeCommand: z.array(z.string()).min(1, 'a runtime command must follow the flags'),
  timeoutSeconds: z.coerce.number().int().min(1).max(900),
  functionName: z.string().min(1),
  region: z.string().min(1),
});

type Settings = z.infer<typeof settingsSchema>;

function parseSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const flags: Record<string, string> = {};
  let i = 0;
  while (i < argv.length && argv[i]?.startsWith('--')) {
    const flag = argv[i] ?? '';
    const [name, inline] = flag.slice(2).split('=', 2);
    if (inline !== undefined) {
      flags[name ?? ''] = inline;
      i += 1;
    } else {
      flags[name ?? ''] = argv[i + 1] ?? '';
      i += 2;
    }
  }
  const parsed = settingsSchema.safeParse({
    invokeAddress: flags['runtime-interface-emulator-address'] ?? '127.0.0.1:8080',
    runtimeApiAddress: flags['runtime-api-address'] ?? '127.0.0.1:9001',
    runtimeCommand: argv.slice(i),
    timeoutSeconds: env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 30,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? 'function',
    region: env.AWS_REGION ?? 'us-east-1',
  });
  if (!parsed.success) {
    const names: Record<string, string> = {
      invokeAddress: '--runtime-interface-emulator-address',
      runtimeApiAddress: '--runtime-api-address',
      runtimeCommand: 'runtime command',
      timeoutSeconds: 'AWS_LAMBDA_FUNCTION_TIMEOUT',
    };
    const problems = parsed.error.issues.map((issue) => `${names[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}`);
    throw new Error(`lambda-emulator: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers.

/** Reads a request body; undefined if it exceeds `limit` (the rest is drained and discarded). */
function readBody(req: IncomingMessage, limit = MAX_PAYLOAD_BYTES): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': payload.length, ...headers });
  res.end(payload);
}

/** An error of the Lambda service itself (not of the function): Lambda's REST error shape. */
function sendServiceError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { Type: 'User', message }, { 'x-amzn-ErrorType': type });
}

// ---------------------------------------------------------------------------------------------------------------
// Invocations and the runtime process.

type Outcome = { kind: 'success'; body: Buffer } | { kind: 'error'; body: Buffer };

interface Invocation {
  id: string;
  payload: Buffer;
  clientContext?: string;
  /** Called exactly once with the result; a no-op for `Event` invocations. */
  settle: (outcome: Outcome) => void;
  startedAt?: number;
  timer?: NodeJS.Timeout;
}

function functionErrorBody(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

/** The function's error as the runtime reported it, made sure to have errorType and errorMessage like Lambda's. */
function normalizeFunctionError(body: Buffer, typeHeader: string | undefined): Buffer {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const error = parsed as Record<string, unknown>;
      return Buffer.from(
        JSON.stringify({
          ...error,
          errorType: typeof error.errorType === 'string' ? error.errorType : (typeHeader ?? 'Runtime.Unknown'),
          errorMessage: typeof error.errorMessage === 'string' ? error.errorMessage : '',
        }),
      );
    }
  } catch {
    // Not JSON: fall through and wrap the raw text.
  }
  return functionErrorBody(typeHeader ?? 'Runtime.Unknown', body.toString('utf8'));
}

class LambdaEmulator {
  private readonly queue: Invocation[] = [];
  /** Handed to the runtime, awaiting its response or error. */
  private current: Invocation | undefined;
  /** The runtime's pending long-poll for the next invocation. */
  private waitingForNext: ServerResponse | undefined;
  private runtime: ChildProcess | undefined;
  /** Whether the running runtime has asked for an invocation yet (else it died during init). */
  private runtimeAskedForWork = false;
  /** We killed the runtime for a timeout: start a fresh one at once (it was healthy, so this cannot spin). */
  private killedForTimeout = false;
  /** An init error with no invocation to report it on yet. */
  private pendingInitError: Buffer | undefined;
  private shuttingDown = false;
  private readonly servers: Server[] = [];

  constructor(private readonly settings: Settings) {}

  async start(): Promise<void> {
    const invoke = createServer((req, res) => void this.handleInvokeApi(req, res).catch((error) => this.internalError(res, error)));
    const runtimeApi = createServer((req, res) => void this.handleRuntimeApi(req, res).catch((error) => this.internalError(res, error)));
    for (const server of [invoke, runtimeApi]) {
      // Long polls and long invocations (up to 15 minutes) must not be cut by Node's default request timeout.
      server.requestTimeout = 0;
      server.keepAliveTimeout = 60_000;
      this.servers.push(server);
    }
    // Runtime API first: the runtime connects to it as soon as it starts.
    await listen(runtimeApi, this.settings.runtimeApiAddress);
    await listen(invoke, this.settings.invokeAddress);
    log(`listening: invoke ${this.settings.invokeAddress}, runtime API ${this.settings.runtimeApiAddress}, timeout ${this.settings.timeoutSeconds} s`);
    // Start the runtime now so the first invocation is warm and import errors show in the log early.
    this.ensureRuntime();
  }

  /** Kills the runtime and closes the servers. */
  shutdown(): void {
    this.shuttingDown = true;
    this.runtime?.kill('SIGKILL');
    for (const server of this.servers) {
      server.close();
      server.closeAllConnections();
    }
  }

  // -- Invoke API ---------------------------------------------------------------------------------------------

  private async handleInvokeApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'POST' || !/^\/2015-03-31\/functions\/[^/]+\/invocations$/.test(path)) {
      // Also the answer to a health probe: any HTTP answer means we are up.
      sendServiceError(res, 404, 'ResourceNotFoundException', `no route for ${req.method} ${path}; invoke with POST /2015-03-31/functions/function/invocations`);
      return;
    }
    const payload = await readBody(req);
    if (payload === undefined) {
      sendServiceError(res, 413, 'RequestEntityTooLargeException', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
      return;
    }
    if (payload.length > 0) {
      try {
        JSON.parse(payload.toString('utf8'));
      } catch {
        sendServiceError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
        return;
      }
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType === 'DryRun') {
      res.writeHead(204).end();
      return;
    }
    const id = randomUUID();
    const clientContextHeader = req.headers['x-amz-client-context'];
    const invocation: Invocation = {
      id,
      payload: payload.length > 0 ? payload : Buffer.from('{}'),
      clientContext: typeof clientContextHeader === 'string' ? Buffer.from(clientContextHeader, 'base64').toString('utf8') : undefined,
      settle: () => undefined,
    };
    if (invocationType === 'Event') {
      res.writeHead(202, { 'X-Amzn-RequestId': id, 'Content-Length': 0 }).end();
    } else {
      invocation.settle = (outcome) => {
        if (res.writableEnded || res.destroyed) return; // The caller gave up; Lambda would run the function anyway.
        const headers: Record<string, string> = { 'X-Amzn-RequestId': id, 'X-Amz-Executed-Version': '$LATEST' };
        if (outcome.kind === 'error') headers['X-Amz-Function-Error'] = 'Unhandled';
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': outcome.body.length, ...headers });
        res.end(outcome.body);
      };
    }
    this.queue.push(invocation);
    this.dispatch();
  }

  // -- Runtime API --------------------------------------------------------------------------------------------

  private async handleRuntimeApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/2018-06-01/runtime/invocation/next') {
      this.runtimeAskedForWork = true;
      this.waitingForNext?.destroy(); // A runtime polls once at a time; a second poll replaces a stale one.
      this.waitingForNext = res;
      res.once('close', () => {
        if (this.waitingForNext === res) this.waitingForNext = undefined;
      });
      this.dispatch();
      return;
    }
    const result = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && result) {
      const [, id, kind] = result;
      const body = await readBody(req);
      const invocation = this.current;
      if (!invocation || invocation.id !== id) {
        sendJson(res, 400, { errorMessage: `Invalid request ID: ${id}`, errorType: 'InvalidRequestID' });
        return;
      }
      if (body === undefined) {
        sendJson(res, 413, { errorMessage: 'Response payload too large', errorType: 'RequestEntityTooLarge' });
        this.finish(invocation, {
          kind: 'error',
          body: functionErrorBody('Function.ResponseSizeTooLarge', `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`),
        });
        return;
      }
      sendJson(res, 202, { status: 'OK' });
      const typeHeader = req.headers['lambda-runtime-function-error-type'];
      this.finish(
        invocation,
        kind === 'response'
          ? { kind: 'success', body }
          : { kind: 'error', body: normalizeFunctionError(body, typeof typeHeader === 'string' ? typeHeader : undefined) },
      );
      return;
    }
    if (req.method === 'POST' && path === '/2018-06-01/runtime/init/error') {
      const body = (await readBody(req)) ?? Buffer.from('{}');
      sendJson(res, 202, { status: 'OK' });
      const typeHeader = req.headers['lambda-runtime-function-error-type'];
      const error = normalizeFunctionError(body, typeof typeHeader === 'string' ? typeHeader : 'Runtime.InitError');
      log(`init error: ${error.toString('utf8')}`);
      // Lambda reports an init failure on the invocation that triggered the init.
      const head = this.queue.shift();
      if (head) head.settle({ kind: 'error', body: error });
      else this.pendingInitError = error;
      return;
    }
    sendJson(res, 404, { errorMessage: `no route for ${req.method} ${path}`, errorType: 'NotFound' });
  }

  // -- Scheduling ---------------------------------------------------------------------------------------------

  /** Hands the next queued invocation to the runtime when it is idle and waiting. */
  private dispatch(): void {
    if (this.pendingInitError && this.queue.length > 0) {
      const head = this.queue.shift();
      head?.settle({ kind: 'error', body: this.pendingInitError });
      this.pendingInitError = undefined;
    }
    if (this.queue.length > 0) this.ensureRuntime();
    if (this.current || !this.waitingForNext) return;
    const poll = this.waitingForNext;
    this.waitingForNext = undefined;
    // A poll from a runtime that has just been killed (timeout) may still be read after its death: skip it.
    if (poll.destroyed || poll.socket?.destroyed) return;
    const invocation = this.queue.shift();
    if (!invocation) {
      this.waitingForNext = poll;
      return;
    }
    this.current = invocation;
    invocation.startedAt = Date.now();
    const deadline = invocation.startedAt + this.settings.timeoutSeconds * 1000;
    invocation.timer = setTimeout(() => this.timeOut(invocation), this.settings.timeoutSeconds * 1000);
    log(`START RequestId: ${invocation.id}`);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': invocation.payload.length,
      'Lambda-Runtime-Aws-Request-Id': invocation.id,
      'Lambda-Runtime-Deadline-Ms': deadline,
      'Lambda-Runtime-Invoked-Function-Arn': `arn:aws:lambda:${this.settings.region}:${ACCOUNT_ID}:function:${this.settings.functionName}`,
      'Lambda-Runtime-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`,
    };
    if (invocation.clientContext) headers['Lambda-Runtime-Client-Context'] = invocation.clientContext;
    poll.writeHead(200, headers);
    poll.end(invocation.payload);
  }

  private finish(invocation: Invocation, outcome: Outcome): void {
    if (this.current !== invocation) return;
    clearTimeout(invocation.timer);
    this.current = undefined;
    const ms = Date.now() - (invocation.startedAt ?? Date.now());
    log(`END RequestId: ${invocation.id}`);
    log(`REPORT RequestId: ${invocation.id}\tDuration: ${ms} ms\tStatus: ${outcome.kind}`);
    invocation.settle(outcome);
    this.dispatch();
  }

  private timeOut(invocation: Invocation): void {
    if (this.current !== invocation) return;
    const seconds = this.settings.timeoutSeconds.toFixed(2);
    log(`${invocation.id} Task timed out after ${seconds} seconds; restarting the runtime`);
    this.finish(invocation, {
      kind: 'error',
      body: functionErrorBody('Sandbox.Timedout', `RequestId: ${invocation.id} Error: Task timed out after ${seconds} seconds`),
    });
    // Lambda discards a timed-out sandbox; a fresh runtime is started as soon as this one is gone.
    this.killedForTimeout = true;
    this.runtime?.kill('SIGKILL');
  }

  private ensureRuntime(): void {
    if (this.runtime || this.shuttingDown) return;
    const [command, ...args] = this.settings.runtimeCommand;
    if (!command) return;
    const child = spawn(command, args, {
      env: { ...process.env, AWS_LAMBDA_RUNTIME_API: this.settings.runtimeApiAddress },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.runtime = child;
    this.runtimeAskedForWork = false;
    log(`runtime started (pid ${child.pid ?? '?'})`);
    child.once('error', (error) => log(`runtime could not start: ${error.message}`));
    child.once('exit', (code, signal) => this.onRuntimeExit(child, code, signal));
  }

  private onRuntimeExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.runtime !== child) return;
    this.runtime = undefined;
    this.waitingForNext = undefined;
    if (this.shuttingDown) return;
    const status = signal ? `signal ${signal}` : `exit status ${code}`;
    log(`runtime exited (${status})`);
    const crashed = this.current;
    if (crashed) {
      this.finish(crashed, {
        kind: 'error',
        body: functionErrorBody('Runtime.ExitError', `RequestId: ${crashed.id} Error: Runtime exited with error: ${status}`),
      });
    } else if (!this.runtimeAskedForWork && !this.pendingInitError && this.queue.length > 0) {
      // Died before asking for work and without reporting why: fail one invocation so a broken runtime cannot spin.
      const head = this.queue.shift();
      head?.settle({ kind: 'error', body: functionErrorBody('Runtime.ExitError', `Runtime exited without providing a reason: ${status}`) });
    }
    // After a crash, restart only if work is waiting: a broken runtime then fails one invocation per restart and
    // never spins. After our own timeout kill the runtime was fine: restart at once, so the next call is warm.
    const restartNow = this.killedForTimeout || this.queue.length > 0;
    this.killedForTimeout = false;
    if (restartNow) this.ensureRuntime();
  }

  private internalError(res: ServerResponse, error: unknown): void {
    log(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
    if (!res.headersSent) sendServiceError(res, 500, 'ServiceException', 'lambda-emulator internal error');
  }
}

function listen(server: Server, address: string): Promise<void> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} lambda-emulator ${message}\n`);
}

async function main(): Promise<void> {
  const emulator = new LambdaEmulator(parseSettings(process.argv.slice(2), process.env));
  const stop = (signal: string): void => {
    log(`${signal}: stopping`);
    emulator.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Whatever ends us (including an uncaught error), the runtime must not outlive us.
  process.once('exit', () => emulator.shutdown());
  await emulator.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`lambda-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
