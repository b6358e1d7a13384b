/**
 * moto server: a second S3 endpoint for what MinIO does not implement — object ACLs, archive storage classes
 * (GLACIER, DEEP_ARCHIVE) and RestoreObject. In memory: its buckets are gone after a restart.
 */
import { STACK_HOST } from './config';
import { assertPortsFree, checkS3ListBuckets, waitForHealthy } from './health';
import { type OwnedProcess, spawnDetached, stopPid } from './processes';

export interface MotoOptions {
  motoServer: string;
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  logFile: string;
  timeoutMs: number;
  portVariable?: string;
  /** Told the PID as soon as the process exists, before it is healthy (the stack records it for cleanup). */
  onSpawn?: (owned: OwnedProcess) => void;
}

export interface MotoServer {
  endpoint: string;
  process: OwnedProcess;
}

export async function startMoto(options: MotoOptions): Promise<MotoServer> {
  const address = `${STACK_HOST}:${options.port}`;
  const endpoint = `http://${address}`;
  await assertPortsFree([{ port: options.port, variable: options.portVariable, what: 'moto S3 API' }]);
  const owned = await spawnDetached({
    component: 'moto',
    command: options.motoServer,
    args: ['-H', STACK_HOST, '-p', String(options.port)],
    // Unbuffered, so the log shows requests as they happen rather than when a buffer fills.
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    logFile: options.logFile,
    markers: [options.motoServer, `-p ${options.port}`],
  });
  options.onSpawn?.(owned);

  try {
    await waitForHealthy({
      component: 'moto server',
      address,
      portVariable: options.portVariable,
      pid: owned.pid,
      logFile: options.logFile,
      timeoutMs: options.timeoutMs,
      check: () =>
        checkS3ListBuckets(endpoint, options.region, { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }),
    });
  } catch (error) {
    await stopPid(owned.pid).catch(() => undefined);
    throw error;
  }
  return { endpoint, process: owned };
}
