/**
 * S3PutObjectAcl, S3PutObjectLegalHold and S3PutObjectRetention without a server: the requests they build, how the
 * ACL operation picks headers or body (and fetches the owner), and how each classifies S3's answers.
 */
import {
  GetObjectAclCommand,
  PutObjectAclCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { classifyAwsError } from '../../src/activities/aws-errors';
import { TaskFailure, type OperationContext } from '../../src/activities/operations/operation';
import {
  GRANT_HEADER_BUDGET,
  grantHeaders,
  putObjectAcl,
  putObjectAclInput,
  toSdkGrant,
} from '../../src/activities/operations/put-object-acl';
import { putObjectLegalHold, putObjectLegalHoldInput } from '../../src/activities/operations/put-object-legal-hold';
import { putObjectRetention, putObjectRetentionInput } from '../../src/activities/operations/put-object-retention';
import { S3PutObjectAcl, S3PutObjectLegalHold, S3PutObjectRetention } from '../../src/schemas/operations';

const object = { bucket: 'b', key: 'k', versionId: 'v1' };
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const OWNER_ID = 'a'.repeat(64);

const acl = (policy: unknown) => S3PutObjectAcl.parse({ AccessControlPolicy: policy }).AccessControlPolicy;

/** A context whose S3 client answers each command with the next of `answers` (a value, or an error to throw). */
function fakeContext(...answers: unknown[]) {
  const sent: unknown[] = [];
  const send = jest.fn(async (command: unknown) => {
    sent.push(command);
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  });
  const ctx = { s3: { send } as unknown as S3Client, signal: new AbortController().signal } as OperationContext;
  return { ctx, sent };
}

const ok = (status = 200) => ({ $metadata: { httpStatusCode: status } });
const s3Error = (name: string, status: number, message = `${name} happened`) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('S3PutObjectAcl input', () => {
  test('a canned ACL goes out as x-amz-acl with the row\'s version', () => {
    expect(putObjectAclInput(object, acl({ CannedAccessControlList: 'public-read' }))).toEqual({
      Bucket: 'b',
      Key: 'k',
      VersionId: 'v1',
      ACL: 'public-read',
    });
  });

  test('grantees map to the SDK types', () => {
    const me = { TypeIdentifier: 'id', Identifier: OWNER_ID, DisplayName: 'me' } as const;
    expect(toSdkGrant({ Grantee: me, Permission: 'FULL_CONTROL' })).toEqual({
      Grantee: { Type: 'CanonicalUser', ID: OWNER_ID, DisplayName: 'me' },
      Permission: 'FULL_CONTROL',
    });
    const email = { TypeIdentifier: 'emailAddress', Identifier: 'a@example.com' } as const;
    expect(toSdkGrant({ Grantee: email, Permission: 'READ_ACP' })).toEqual({
      Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'a@example.com' },
      Permission: 'READ_ACP',
    });
    expect(toSdkGrant({ Grantee: { TypeIdentifier: 'uri', Identifier: ALL_USERS }, Permission: 'READ' })).toEqual({
      Grantee: { Type: 'Group', URI: ALL_USERS },
      Permission: 'READ',
    });
  });

  test('explicit grants go out as grant headers, one per permission, without needing the owner', () => {
    const policy = acl({
      AccessControlList: {
        Owner: {},
        Grants: [
          { Grantee: { TypeIdentifier: 'id', Identifier: OWNER_ID }, Permission: 'FULL_CONTROL' },
          { Grantee: { TypeIdentifier: 'uri', Identifier: ALL_USERS }, Permission: 'READ' },
          { Grantee: { TypeIdentifier: 'emailAddress', Identifier: 'a@example.com' }, Permission: 'READ' },
          { Grantee: { TypeIdentifier: 'id', Identifier: 'b'.repeat(64) }, Permission: 'WRITE_ACP' },
        ],
      },
    });
    expect(putObjectAclInput(object, policy)).toEqual({
      Bucket: 'b',
      Key: 'k',
      VersionId: 'v1',
      GrantFullControl: `id="${OWNER_ID}"`,
      GrantRead: `uri="${ALL_USERS}", emailAddress="a@example.com"`,
      GrantWriteACP: `id="${'b'.repeat(64)}"`,
    });
  });

  test('what headers cannot carry goes in the body, which needs the owner', () => {
    const grant = (id: string) => ({ Grantee: { TypeIdentifier: 'id', Identifier: id }, Permission: 'READ' }) as const;
    expect(grantHeaders([])).toBeUndefined();
    expect(grantHeaders([grant('has"quote')])).toBeUndefined();
    expect(grantHeaders([grant('has,comma')])).toBeUndefined();
    const many = Array.from({ length: 100 }, (_, i) => grant(String(i).padStart(64, '0')));
    const fifty = Object.values(grantHeaders(many.slice(0, 50))!).join('');
    expect(Buffer.byteLength(fifty)).toBeLessThanOrEqual(GRANT_HEADER_BUDGET);
    expect(grantHeaders(many)).toBeUndefined();

    const noOwner = acl({ AccessControlList: { Owner: {}, Grants: many } });
    expect(putObjectAclInput(object, noOwner)).toBeUndefined();
    expect(putObjectAclInput(object, noOwner, { ID: OWNER_ID, DisplayName: 'me' })).toMatchObject({
      AccessControlPolicy: { Owner: { ID: OWNER_ID, DisplayName: 'me' }, Grants: many.map(toSdkGrant) },
    });
    const withOwner = acl({ AccessControlList: { Owner: { ID: 'given' } } });
    expect(putObjectAclInput(object, withOwner, { ID: 'ignored' })).toEqual({
      Bucket: 'b',
      Key: 'k',
      VersionId: 'v1',
      AccessControlPolicy: { Owner: { ID: 'given', DisplayName: undefined }, Grants: [] },
    });
  });

  test('a body without Owner.ID asks GetObjectAcl for the owner first (same version)', async () => {
    const { ctx, sent } = fakeContext({ ...ok(), Owner: { ID: OWNER_ID, DisplayName: 'me' }, Grants: [] }, ok());
    const policy = acl({ AccessControlList: { Owner: {}, Grants: [] } });
    const out = await putObjectAcl.run(ctx, object, { AccessControlPolicy: policy });
    expect(out).toEqual({ message: 'Successful', httpStatus: 200 });
    expect(sent[0]).toBeInstanceOf(GetObjectAclCommand);
    expect((sent[0] as GetObjectAclCommand).input).toEqual({ Bucket: 'b', Key: 'k', VersionId: 'v1' });
    expect(sent[1]).toBeInstanceOf(PutObjectAclCommand);
    expect((sent[1] as PutObjectAclCommand).input.AccessControlPolicy).toEqual({
      Owner: { ID: OWNER_ID, DisplayName: 'me' },
      Grants: [],
    });
  });

  test('grant headers need no GetObjectAcl', async () => {
    const { ctx, sent } = fakeContext(ok());
    const grants = [{ Grantee: { TypeIdentifier: 'uri', Identifier: ALL_USERS }, Permission: 'READ' }];
    const policy = acl({ AccessControlList: { Owner: {}, Grants: grants } });
    await putObjectAcl.run(ctx, object, { AccessControlPolicy: policy });
    expect(sent).toHaveLength(1);
    expect((sent[0] as PutObjectAclCommand).input.GrantRead).toBe(`uri="${ALL_USERS}"`);
  });

  test('NotImplemented (MinIO, any ACL but private) fails the task once, with a message that says why', async () => {
    const minio = 'A header you provided implies functionality that is not implemented';
    const { ctx } = fakeContext(s3Error('NotImplemented', 501, minio));
    const policy = acl({ CannedAccessControlList: 'public-read' });
    const err = await putObjectAcl.run(ctx, object, { AccessControlPolicy: policy }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect(classifyAwsError(err, putObjectAcl.errorCodes)).toEqual({
      retryable: false,
      code: 'NotImplemented',
      httpStatus: 501,
      message: expect.stringMatching(/does not implement this object ACL.*implies functionality/),
    });
  });
});

describe('Object Lock inputs', () => {
  test('legal hold', () => {
    expect(putObjectLegalHoldInput(object, S3PutObjectLegalHold.parse({ LegalHold: { Status: 'ON' } }))).toEqual({
      Bucket: 'b',
      Key: 'k',
      VersionId: 'v1',
      LegalHold: { Status: 'ON' },
    });
    const latest = putObjectLegalHoldInput({ bucket: 'b', key: 'k' }, { LegalHold: { Status: 'OFF' } });
    expect(latest.VersionId).toBeUndefined();
  });

  test('retention: mode and date (a Date for the SDK), bypass passed through', () => {
    const params = S3PutObjectRetention.parse({
      BypassGovernanceRetention: true,
      Retention: { Mode: 'GOVERNANCE', RetainUntilDate: '2030-01-02T03:04:05Z' },
    });
    expect(putObjectRetentionInput(object, params)).toEqual({
      Bucket: 'b',
      Key: 'k',
      VersionId: 'v1',
      BypassGovernanceRetention: true,
      Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date('2030-01-02T03:04:05Z') },
    });
    const epoch = S3PutObjectRetention.parse({ Retention: { Mode: 'COMPLIANCE', RetainUntilDate: 1893456000 } });
    expect(putObjectRetentionInput(object, epoch).Retention).toEqual({
      Mode: 'COMPLIANCE',
      RetainUntilDate: new Date('2030-01-01T00:00:00Z'),
    });
  });

  test('retention: neither mode nor date sends an empty Retention element (removal)', () => {
    const params = S3PutObjectRetention.parse({ BypassGovernanceRetention: true, Retention: {} });
    expect(putObjectRetentionInput(object, params)).toEqual({
      Bucket: 'b',
      Key: 'k',
      VersionId: 'v1',
      BypassGovernanceRetention: true,
      Retention: {},
    });
  });

  test('the operations send their commands with the task\'s abort signal', async () => {
    const { ctx, sent } = fakeContext(ok(), ok(204));
    const success = { message: 'Successful', httpStatus: 200 };
    await expect(putObjectLegalHold.run(ctx, object, { LegalHold: { Status: 'ON' } })).resolves.toEqual(success);
    // A success other than 200 (here 204) is reported as 200, as AWS does.
    await expect(putObjectRetention.run(ctx, object, { Retention: {} })).resolves.toEqual(success);
    expect(sent[0]).toBeInstanceOf(PutObjectLegalHoldCommand);
    expect(sent[1]).toBeInstanceOf(PutObjectRetentionCommand);
    const send = ctx.s3.send as jest.Mock;
    expect(send.mock.calls.every(([, options]) => options?.abortSignal === ctx.signal)).toBe(true);
  });
});

describe('error classification', () => {
  test.each([
    // ACL: MinIO's answer to non-private ACLs; AWS's answers to bad grants, ACL-disabled buckets, bad versions.
    ['acl', 'NotImplemented', 501, false],
    ['acl', 'MalformedACLError', 400, false],
    ['acl', 'InvalidArgument', 400, false],
    ['acl', 'AccessControlListNotSupported', 400, false],
    ['acl', 'UnresolvableGrantByEmailAddress', 400, false],
    ['acl', 'AccessDenied', 403, false],
    ['acl', 'NoSuchKey', 404, false],
    ['acl', 'NoSuchVersion', 404, false],
    ['acl', 'SlowDown', 503, true],
    ['acl', 'InternalError', 500, true],
    // Object Lock: buckets without it (InvalidRequest on AWS and MinIO), WORM refusals, bad dates and versions.
    ['legalHold', 'InvalidRequest', 400, false],
    ['legalHold', 'ObjectLockConfigurationNotFoundError', 404, false],
    ['legalHold', 'NoSuchObjectLockConfiguration', 404, false],
    ['legalHold', 'InvalidArgument', 400, false],
    ['legalHold', 'MalformedXML', 400, false],
    ['legalHold', 'AccessDenied', 403, false],
    ['legalHold', 'NoSuchVersion', 404, false],
    ['legalHold', 'SlowDown', 503, true],
    ['retention', 'InvalidRequest', 400, false],
    ['retention', 'ObjectLockConfigurationNotFoundError', 404, false],
    ['retention', 'AccessDenied', 403, false],
    ['retention', 'InvalidRetentionPeriod', 400, false],
    ['retention', 'MalformedXML', 400, false],
    ['retention', 'InvalidArgument', 400, false],
    ['retention', 'ServiceUnavailable', 503, true],
  ] as const)('%s: %s (%s) retryable=%s', (op, code, status, retryable) => {
    const ops = { acl: putObjectAcl, legalHold: putObjectLegalHold, retention: putObjectRetention };
    const classified = classifyAwsError(s3Error(code, status), ops[op].errorCodes);
    expect(classified).toMatchObject({ retryable, code, httpStatus: status });
  });
});
