/**
 * The worker config that points s3-batch at the local stack: S3 connections "default" and "minio" (MinIO) and
 * "moto", and one Lambda connection per test function. Used by the demo, the tests and `npm run worker:stack`.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { parseWorkerConfig, type WorkerConfig } from '../../src/schemas/worker-config';
import { localStackWorkerConfigInput } from '../../src/local-stack';
import type { StackState } from './state';

/** An S3 client for one of the stack's S3 services (MinIO or moto): path-style, its keys. Destroy it when done. */
export function stackS3Client(service: StackState['s3']): S3Client {
  return new S3Client({
    endpoint: service.endpoint,
    region: service.region,
    forcePathStyle: true,
    credentials: { accessKeyId: service.accessKeyId, secretAccessKey: service.secretAccessKey },
  });
}

/** Creates the bucket unless it exists already (from an earlier demo or bench run). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err) => {
    if (err?.name !== 'BucketAlreadyOwnedByYou' && err?.name !== 'BucketAlreadyExists') throw err;
  });
}

export function workerConfigForStack(state: StackState, taskQueue = 's3-batch'): WorkerConfig {
  return parseWorkerConfig(localStackWorkerConfigInput(state, taskQueue));
}
