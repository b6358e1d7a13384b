/** moto on the shared stack: the S3 features MinIO lacks (object ACLs, archive storage classes, RestoreObject). */
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  HeadObjectCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { motoClient, uniqueName } from '../helpers/stack';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

describe('shared stack: moto', () => {
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => {
    s3 = motoClient();
    bucket = uniqueName('moto-test');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => s3.destroy());

  it('applies a canned public-read ACL: AllUsers gets READ', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl.txt', Body: 'acl' }));
    const before = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'acl.txt' }));
    expect(before.Grants?.some((g) => g.Grantee?.URI === ALL_USERS)).toBe(false);

    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl.txt', ACL: 'public-read' }));
    const after = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'acl.txt' }));
    expect(after.Grants).toEqual(expect.arrayContaining([expect.objectContaining({ Grantee: expect.objectContaining({ Type: 'Group', URI: ALL_USERS }), Permission: 'READ' })]));
  });

  it('accepts RestoreObject for a GLACIER object and reports the restore in HeadObject', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cold.txt', Body: 'cold', StorageClass: 'GLACIER' }));
    const before = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cold.txt' }));
    expect(before.StorageClass).toBe('GLACIER');
    expect(before.Restore).toBeUndefined();

    const restore = await s3.send(
      new RestoreObjectCommand({ Bucket: bucket, Key: 'cold.txt', RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Standard' } } }),
    );
    expect([200, 202]).toContain(restore.$metadata.httpStatusCode);
    const after = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cold.txt' }));
    expect(after.Restore).toMatch(/ongoing-request="(true|false)"/);
  });
});
