/** MinIO on the shared stack: buckets, objects and tagging round-trip over the real S3 API. */
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand, PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client, uniqueName } from '../helpers/stack';

describe('shared stack: MinIO', () => {
  let s3: S3Client;
  beforeAll(() => {
    s3 = s3Client();
  });
  afterAll(() => s3.destroy());

  it('stores an object and its tags and reads both back', async () => {
    const bucket = uniqueName('minio-test');
    const key = 'folder/hello world.txt';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello from s3-batch', ContentType: 'text/plain' }));
    const tags = [
      { Key: 'project', Value: 's3-batch' },
      { Key: 'stage', Value: 'test' },
    ];
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet: tags } }));

    const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    expect([...(tagging.TagSet ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? ''))).toEqual(tags);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await object.Body?.transformToString()).toBe('hello from s3-batch');
    expect(object.ContentType).toBe('text/plain');
  });
});
