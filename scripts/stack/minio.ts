/**
 * MinIO: the stack's main S3 endpoint (buckets, objects, tagging, copies, versioning). Data persists in the stack's
 * data dir across restarts.
 */
import { mkdirSync } from 'node:fs';
import { STACK_HOST } from './config';
import { assertPortsFree, checkS3ListBuckets, waitForHealthy } from './health';
import { type OwnedProcess, spawnDetached, stopPid } from './processes';

export interface MinioOptions {
  minioBin: string;
  dataDir: string;
  port: number;
  consolePort: number;
  rootUser: string;
  rootPassword: string;
  region: string;
  logFile: string;
  timeoutMs: number;
  portVariables?: { port?: string; consolePort?: string };
  /** Told the PID as soon as the process exists, before it is healthy (the stack records it for cleanup). */
  onSpawn?: (owned: OwnedProcess) => void;
}

export interface MinioServer {
  endpoint: string;
  process: OwnedProcess;
}

export async function startMinio(options: MinioOptions): Promise<MinioServer> {
  const address = `${STACK_HOST}:${options.port}`;
  const endpoint = `http://${address}`;
  mkdirSync(options.dataDir, { recursive: true });
  await assertPortsFree([
    { port: options.port, variable: options.portVariables?.port, what: 'MinIO S3 API' },
    { port: options.consolePort, variable: options.portVariables?.consolePort, what: 'MinIO console' },
  ]);
  const owned = await spawnDetached({
    component: 'minio',
    command: options.minioBin,
    // --quiet: no startup banner, which would otherwise copy the root credentials into the log.
    args: ['server', options.dataDir, '--address', address, '--console-address', `${STACK_HOST}:${options.consolePort}`, '--quiet'],
    env: {
      ...process.env,
      MINIO_ROOT_USER: options.rootUser,
      MINIO_ROOT_PASSWORD: options.rootPassword,
      MINIO_SITE_REGION: options.region,
      // No network here, and a local test server has no business phoning home.
      MINIO_UPDATE: 'off',
      MINIO_CALLHOME_ENABLE: 'off',
    },
    logFile: options.logFile,
    markers: [options.minioBin, address],
  });
  options.onSpawn?.(owned);

  try {
    await waitForHealthy({
      component: 'MinIO',
      address,
      portVariable: options.portVariables?.port,
      pid: owned.pid,
      logFile: options.logFile,
      timeoutMs: options.timeoutMs,
      check: () =>
        checkS3ListBuckets(endpoint, options.region, { accessKeyId: options.rootUser, secretAccessKey: options.rootPassword }),
    });
  } catch (error) {
    await stopPid(owned.pid).catch(() => undefined);
    throw error;
  }
  return { endpoint, process: owned };
}
