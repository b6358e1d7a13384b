/**
 * S3 ARNs as S3 Control's CreateJob uses them: `arn:<partition>:s3:::<bucket>` for buckets and
 * `arn:<partition>:s3:::<bucket>/<key>` for objects. Pure functions, safe in workflow code.
 */

const BUCKET_ARN = /^arn:[a-z0-9-]+:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;
const OBJECT_ARN = /^arn:[a-z0-9-]+:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/s;

/** The bucket name of a bucket ARN, or undefined when the text is not one. */
export function bucketFromArn(arn: string): string | undefined {
  return BUCKET_ARN.exec(arn)?.[1];
}

/** Bucket and key of an object ARN, or undefined when the text is not one. */
export function objectFromArn(arn: string): { bucket: string; key: string } | undefined {
  const match = OBJECT_ARN.exec(arn);
  if (!match?.[1] || match[2] === undefined) return undefined;
  return { bucket: match[1], key: match[2] };
}

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}
