/**
 * ExpectedBucketOwner (Report, ManifestGenerator, ManifestOutputLocation): S3 answers a request that carries
 * `x-amz-expected-bucket-owner` with 403 AccessDenied when another account owns the bucket. The engine sends the
 * header on every call to such a bucket (expectingOwner), and checks each one in Preparing (checkBucketOwners), so
 * that a wrong owner fails the job before any task runs, as on AWS.
 *
 * Stores that ignore the header (MinIO, moto: docs/manifests.md) cannot report a mismatch: there it is sent and
 * has no effect.
 */
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import type { BucketOwnerCheck } from '../schemas/job-spec';
import { classifyAwsError } from './aws-errors';
import type { Connections } from './s3-clients';

/** The FailureCode of a job whose bucket answered 403 to its expected owner. */
export const BUCKET_OWNER_MISMATCH = 'ExpectedBucketOwnerMismatch';

type OwnedInput = { Bucket?: string; ExpectedBucketOwner?: string };

/**
 * The client, adding ExpectedBucketOwner to every command on `bucket` (when `owner` is given). Clients are shared by
 * all jobs of a worker, so the header is set per command, never on the client.
 */
export function expectingOwner(s3: S3Client, bucket: string, owner: string | undefined): S3Client {
  if (!owner) return s3;
  return new Proxy(s3, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: { input: OwnedInput }, ...rest: unknown[]) => {
        if (command.input.Bucket === bucket) command.input.ExpectedBucketOwner ??= owner;
        return (target.send as (...args: unknown[]) => unknown).call(target, command, ...rest);
      };
    },
  });
}

/** HeadBucket with the expected owner, for each bucket the job names one for; the first refusal fails the job. */
export async function checkBucketOwners(connections: Connections, input: { checks: BucketOwnerCheck[] }): Promise<void> {
  for (const check of input.checks) {
    try {
      await connections.s3(check.connection).send(new HeadBucketCommand({ Bucket: check.bucket, ExpectedBucketOwner: check.expectedOwner }));
    } catch (err) {
      const c = classifyAwsError(err);
      if (c.retryable) throw ApplicationFailure.retryable(`checking the owner of bucket ${check.bucket}: ${c.code}: ${c.message}`, c.code);
      if (c.httpStatus === 403) {
        throw ApplicationFailure.nonRetryable(
          `${check.field}: S3 refused bucket ${check.bucket} to expected owner ${check.expectedOwner} (HTTP 403): another account owns it, or the connection "${check.connection}" may not access it`,
          BUCKET_OWNER_MISMATCH
        );
      }
      throw ApplicationFailure.nonRetryable(`${check.field}: bucket ${check.bucket}: ${c.code}: ${c.message}`, c.httpStatus === 404 ? 'NoSuchBucket' : 'BucketUnreadable');
    }
  }
}
