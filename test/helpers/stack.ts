/**
 * The running local stack, for test files: its state (endpoints, credentials, PIDs) and clients pointed at it.
 * test/global-setup.ts starts or finds the stack and names its state file in S3BATCH_STACK_STATE.
 */
import { randomUUID } from 'node:crypto';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { readStackState, type StackState } from '../../scripts/stack/index';
import { stackS3Client } from '../../scripts/stack/worker-config';

export type { StackState } from '../../scripts/stack/index';

let cached: StackState | undefined;

/** The stack named by S3BATCH_STACK_STATE; throws with what to do if there is none. */
export function getStack(): StackState {
  if (cached) return cached;
  const stateFile = process.env.S3BATCH_STACK_STATE;
  if (!stateFile) {
    throw new Error('S3BATCH_STACK_STATE is not set: run the tests with jest, whose global setup (test/global-setup.ts) starts the stack');
  }
  const state = readStackState(stateFile);
  if (!state) throw new Error(`no running stack at ${stateFile} (S3BATCH_STACK_STATE); run \`npm run stack:up\``);
  cached = state;
  return state;
}

/** An S3 client for MinIO (path-style, as a local endpoint needs). Call destroy() when done. */
export function s3Client(stack: StackState = getStack()): S3Client {
  return stackS3Client(stack.s3);
}

/** An S3 client for moto: ACLs, archive storage classes, RestoreObject. */
export function motoClient(stack: StackState = getStack()): S3Client {
  return stackS3Client(stack.moto);
}

/**
 * A Lambda client whose endpoint is the local service of one test function (each function has its own endpoint, so
 * any FunctionName works; 'function' is what RIE documents).
 */
export function lambdaClient(stack: StackState, functionName: string): LambdaClient {
  const fn = stack.lambda.functions[functionName];
  if (!fn) {
    throw new Error(`no Lambda test function ${JSON.stringify(functionName)} in the stack; have: ${Object.keys(stack.lambda.functions).join(', ')}`);
  }
  return new LambdaClient({
    endpoint: fn.endpoint,
    region: stack.lambda.region,
    // Local services accept any credentials; fixed ones keep the SDK from searching the machine for real ones.
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** A Temporal client on the stack's namespace. Close the connection when done. */
export async function temporalClient(stack: StackState = getStack()): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: stack.temporal.address });
  return { client: new Client({ connection, namespace: stack.temporal.namespace }), connection };
}

/** A name unique to this run, valid as a bucket name or task queue: lowercase letters, digits and dashes. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`.toLowerCase();
}
