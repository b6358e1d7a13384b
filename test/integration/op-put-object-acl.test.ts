/**
 * S3PutObjectAcl end to end: on moto (which keeps object ACLs) a canned ACL and explicit grants are read back with
 * GetObjectAcl; on MinIO (which implements only the private ACL) public ACLs fail each task once with NotImplemented.
 * Every manifest also holds a missing key and a version id that does not exist.
 */
import { randomUUID } from 'node:crypto';
import {
  GetObjectAclCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type Grant as SdkGrant,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CreateJobInput } from '../../src/schemas/job-spec';
import { createBucket, csvJob, putManifest, readReport, startEngine, uniqueBucket, type Engine, withVersionIds } from '../helpers/engine';
import { motoClient } from '../helpers/stack';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const OTHER_ID = 'b'.repeat(64);

let engine: Engine;
let moto: S3Client;

beforeAll(async () => {
  engine = await startEngine();
  moto = motoClient();
});

afterAll(async () => {
  moto?.destroy();
  await engine?.close();
});

/** A versioned bucket with `keys`, each put once; returns their version ids. */
async function versionedBucket(s3: S3Client, bucket: string, keys: string[]): Promise<Record<string, string>> {
  await createBucket(s3, bucket);
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const versions: Record<string, string> = {};
  for (const key of keys) {
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
    versions[key] = out.VersionId!;
  }
  return versions;
}

/**
 * Runs `operation` over bucket,key,versionId rows: `a` at its version, `b` (latest), a missing key, and `c` at a
 * version id that does not exist. Returns the job and its report rows by key.
 */
async function runJob(
  s3: S3Client,
  bucket: string,
  versions: Record<string, string>,
  operation: CreateJobInput['Operation'],
  extra: Partial<CreateJobInput> = {}
) {
  const rows = [`${bucket},a,${versions.a}`, `${bucket},b,`, `${bucket},missing,`, `${bucket},c,${randomUUID()}`];
  const manifest = await putManifest(s3, bucket, `acl-${randomUUID().slice(0, 8)}`, rows);
  const request = withVersionIds(csvJob(manifest, operation, bucket, extra));
  const { jobId } = await engine.jobs.createJob(request);
  const job = await engine.jobs.waitForCompletion(jobId, { timeoutMs: 60_000 });
  expect(job.Status).toBe('Complete');
  const report = await readReport(s3, bucket, job.S3Batch.ReportManifestKey!);
  expect(report.rows).toHaveLength(4);
  return { job, byKey: Object.fromEntries(report.rows.map((r) => [r.key, r])) };
}

const sortGrants = (grants: SdkGrant[] = []) =>
  grants
    .map((g) => ({ Type: g.Grantee?.Type, ID: g.Grantee?.ID, URI: g.Grantee?.URI, Permission: g.Permission }))
    .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));

describe('on moto', () => {
  const bucket = uniqueBucket('acl-moto');
  let versions: Record<string, string>;
  let ownerId: string;
  const onMoto = { Extensions: { Connection: 'moto' } };

  beforeAll(async () => {
    versions = await versionedBucket(moto, bucket, ['a', 'b', 'c']);
    ownerId = (await moto.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'a' }))).Owner!.ID!;
  });

  test('a canned public-read ACL is applied to each object', async () => {
    const operation = { S3PutObjectAcl: { AccessControlPolicy: { CannedAccessControlList: 'public-read' as const } } };
    const { job, byKey } = await runJob(moto, bucket, versions, operation, onMoto);
    expect(byKey.a).toMatchObject({ status: 'succeeded', httpStatus: '200', versionId: versions.a, message: 'Successful' });
    expect(byKey.b).toMatchObject({ status: 'succeeded', httpStatus: '200' });
    expect(byKey.missing).toMatchObject({ status: 'failed', httpStatus: '404', errorCode: 'NoSuchKey' });
    // moto ignores VersionId on PutObjectAcl (it sets the latest version's ACL), so the bad version succeeds there;
    // AWS answers NoSuchVersion (404), as MinIO does for Object Lock calls (op-object-lock.test.ts).
    expect(byKey.c).toMatchObject({ status: 'succeeded', httpStatus: '200' });
    expect(job.ProgressSummary).toMatchObject({ TotalNumberOfTasks: 4, NumberOfTasksSucceeded: 3, NumberOfTasksFailed: 1 });

    for (const [key, versionId] of [['a', versions.a], ['b', undefined]] as const) {
      const acl = await moto.send(new GetObjectAclCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      expect(sortGrants(acl.Grants)).toEqual(
        sortGrants([
          { Grantee: { Type: 'CanonicalUser', ID: ownerId }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' },
        ])
      );
    }
  });

  test('explicit grants replace the ACL', async () => {
    const grants = [
      { Grantee: { TypeIdentifier: 'id', Identifier: ownerId }, Permission: 'FULL_CONTROL' },
      { Grantee: { TypeIdentifier: 'uri', Identifier: AUTHENTICATED_USERS }, Permission: 'READ' },
      { Grantee: { TypeIdentifier: 'id', Identifier: OTHER_ID, DisplayName: 'other' }, Permission: 'READ_ACP' },
    ] as const;
    const { byKey } = await runJob(
      moto,
      bucket,
      versions,
      // No Owner.ID: grants travel as headers, which need none (see put-object-acl.ts).
      { S3PutObjectAcl: { AccessControlPolicy: { AccessControlList: { Owner: {}, Grants: [...grants] } } } },
      onMoto
    );
    expect(byKey.a).toMatchObject({ status: 'succeeded', httpStatus: '200' });
    expect(byKey.b).toMatchObject({ status: 'succeeded', httpStatus: '200' });
    expect(byKey.missing).toMatchObject({ status: 'failed', httpStatus: '404', errorCode: 'NoSuchKey' });
    expect(byKey.c).toMatchObject({ status: 'succeeded', httpStatus: '200' }); // moto ignores VersionId, as above

    const acl = await moto.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'a', VersionId: versions.a }));
    expect(sortGrants(acl.Grants)).toEqual(
      sortGrants([
        { Grantee: { Type: 'CanonicalUser', ID: ownerId }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'READ' },
        { Grantee: { Type: 'CanonicalUser', ID: OTHER_ID }, Permission: 'READ_ACP' },
      ])
    );
    // public-read from the previous test is gone: the grants replaced the whole ACL.
    expect(acl.Grants?.some((g) => g.Grantee?.URI === ALL_USERS)).toBe(false);
  });
});

describe('on MinIO', () => {
  const bucket = uniqueBucket('acl-minio');
  let versions: Record<string, string>;

  beforeAll(async () => {
    versions = await versionedBucket(engine.s3, bucket, ['a', 'b', 'c']);
  });

  test('a public ACL fails each task once with NotImplemented (501)', async () => {
    const { job, byKey } = await runJob(engine.s3, bucket, versions, {
      S3PutObjectAcl: { AccessControlPolicy: { CannedAccessControlList: 'public-read' } },
    });
    // MinIO refuses before it looks at the version, so the bad version gets the same answer.
    for (const key of ['a', 'b', 'c']) {
      expect(byKey[key]).toMatchObject({ status: 'failed', httpStatus: '501', errorCode: 'NotImplemented' });
      // Permanent: a retried task would say "gave up after N attempts".
      expect(byKey[key]!.message).toMatch(/^this S3 store does not implement this object ACL/);
      expect(byKey[key]!.message).not.toMatch(/gave up/);
    }
    expect(byKey.missing).toMatchObject({ status: 'failed', httpStatus: '404', errorCode: 'NoSuchKey' });
    expect(job.S3Batch.FailedTasksByErrorCode).toEqual({ NotImplemented: 3, NoSuchKey: 1 });

    const acl = await engine.s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'a' }));
    expect(acl.Grants?.map((g) => g.Permission)).toEqual(['FULL_CONTROL']);
  });

  test('the private ACL, the only one MinIO implements, succeeds', async () => {
    const { byKey } = await runJob(engine.s3, bucket, versions, {
      S3PutObjectAcl: { AccessControlPolicy: { CannedAccessControlList: 'private' } },
    });
    expect(byKey.a).toMatchObject({ status: 'succeeded', httpStatus: '200' });
    expect(byKey.b).toMatchObject({ status: 'succeeded', httpStatus: '200' });
    expect(byKey.missing).toMatchObject({ status: 'failed', httpStatus: '404', errorCode: 'NoSuchKey' });
    // MinIO ignores the version for PutObjectAcl (the ACL is a no-op there), so the bad version succeeds too.
    expect(byKey.c).toMatchObject({ status: 'succeeded', httpStatus: '200' });
  });
});
