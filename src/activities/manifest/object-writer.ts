/**
 * Writes one S3 object from a stream of text or bytes with bounded memory: one PutObject when it all fits in a part,
 * else a multipart upload of PART_BYTES parts. Used for the manifests the engine builds (redrive, S3 Inventory,
 * generated listings).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import { classifyAwsError } from '../aws-errors';
import { bareETag } from './manifest-object';

/** Parts of a multipart upload (S3's minimum is 5 MiB, except the last). */
export const PART_BYTES = 8 * 1024 * 1024;

/**
 * An S3 error as an activity failure: retryable when S3 says so; else non-retryable with `permanentType`, or with
 * `notFoundType` when the object or bucket is missing (and one is given).
 */
export function s3ActivityFailure(err: unknown, what: string, permanentType: string, notFoundType?: string): Error {
  if (err instanceof ApplicationFailure) return err;
  const c = classifyAwsError(err);
  const message = `${what}: ${c.code}: ${c.message}`;
  if (c.retryable) return ApplicationFailure.retryable(message, c.code);
  const notFound = ['NoSuchKey', 'NoSuchBucket', 'NotFound'].includes(c.code) || c.httpStatus === 404;
  return ApplicationFailure.nonRetryable(message, notFound && notFoundType ? notFoundType : permanentType);
}

/** Writes an object from chunks: one PutObject when it fits in a part, else a multipart upload. */
export interface ObjectTarget {
  bucket: string;
  key: string;
  contentType?: string;
  metadata?: Record<string, string>;
  serverSideEncryption?: 'AES256' | 'aws:kms';
  kmsKeyId?: string;
}

export class ObjectWriter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private text = '';
  private uploadId?: string;
  private readonly etags: { ETag: string; PartNumber: number }[] = [];
  size = 0;

  private readonly bucket: string;
  private readonly key: string;
  private readonly signal?: AbortSignal;

  constructor(
    private readonly s3: S3Client,
    private target: ObjectTarget,
    private readonly failure: { what: string; failureType: string; signal?: AbortSignal }
  ) {
    this.bucket = target.bucket;
    this.key = target.key;
    this.signal = failure.signal;
  }

  /** Buffers text; call flush() now and then to upload full parts. */
  append(text: string): void {
    this.text += text;
    if (this.text.length >= 1024 * 1024) this.encode();
  }

  /** Buffers bytes (compressed output, say); call flush() now and then to upload full parts. */
  appendBytes(bytes: Uint8Array): void {
    this.encode();
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.parts.push(buffer);
    this.partBytes += buffer.length;
    this.size += buffer.length;
  }

  private encode(): void {
    if (!this.text) return;
    const bytes = Buffer.from(this.text, 'utf8');
    this.text = '';
    this.parts.push(bytes);
    this.partBytes += bytes.length;
    this.size += bytes.length;
  }

  /** Uploads a part once a full one is buffered. */
  async flush(): Promise<void> {
    if (this.partBytes >= PART_BYTES) await this.guard(() => this.flushPart());
  }

  /** An S3 error while writing is a write failure (not a failure of what is being read). */
  private async guard<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      throw s3ActivityFailure(err, `writing ${this.failure.what} s3://${this.bucket}/${this.key}`, this.failure.failureType);
    }
  }

  private async flushPart(): Promise<void> {
    const body = Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    if (!this.uploadId) {
      const created = await this.s3.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ...this.headers() }),
        { abortSignal: this.signal }
      );
      this.uploadId = created.UploadId!;
    }
    const PartNumber = this.etags.length + 1;
    const part = await this.s3.send(
      new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: body }),
      { abortSignal: this.signal }
    );
    this.etags.push({ ETag: part.ETag!, PartNumber });
  }

  /** Metadata known only at the end (a checksum of the content): possible while no part has been uploaded. */
  setMetadata(metadata: Record<string, string>): void {
    if (this.uploadId) throw new Error(`s3://${this.bucket}/${this.key}: metadata must be set before the first part is uploaded`);
    this.target = { ...this.target, metadata };
  }

  private headers() {
    const { contentType, metadata, serverSideEncryption, kmsKeyId } = this.target;
    return { ContentType: contentType, Metadata: metadata, ServerSideEncryption: serverSideEncryption, SSEKMSKeyId: kmsKeyId };
  }

  /** Uploads what is left and completes the object; returns its ETag (bare). */
  async close(): Promise<string> {
    this.encode();
    return this.guard(() => this.finish());
  }

  private async finish(): Promise<string> {
    if (!this.uploadId) {
      const body = Buffer.concat(this.parts, this.partBytes);
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: body,
          ...this.headers(),
        }),
        { abortSignal: this.signal }
      );
      return bareETag(out.ETag);
    }
    if (this.partBytes > 0) await this.flushPart();
    const out = await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: this.etags },
      }),
      { abortSignal: this.signal }
    );
    return bareETag(out.ETag);
  }

  /** Best effort: an abandoned upload's parts would otherwise linger (and cost) until a lifecycle rule drops them. */
  async abort(): Promise<void> {
    if (!this.uploadId) return;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => undefined);
  }
}
