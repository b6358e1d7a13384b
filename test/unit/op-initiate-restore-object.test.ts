import { classifyAwsError } from '../../src/activities/aws-errors';
import { initiateRestoreObject, restoreObjectInput } from '../../src/activities/operations/initiate-restore-object';
import { parseRestoreHeader } from '../../src/activities/restore-status';

const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('S3InitiateRestoreObject', () => {
  test('the RestoreObject request carries the lifetime, the tier and the row version', () => {
    expect(restoreObjectInput({ bucket: 'b', key: 'k', versionId: 'v1' }, { ExpirationInDays: 3, GlacierJobTier: 'BULK' })).toEqual({
      Bucket: 'b',
      Key: 'k',
      VersionId: 'v1',
      RestoreRequest: { Days: 3, GlacierJobParameters: { Tier: 'Bulk' } },
    });
    // Intelligent-Tiering archive tiers: no Days, as AWS requires.
    expect(restoreObjectInput({ bucket: 'b', key: 'k' }, { GlacierJobTier: 'STANDARD' }).RestoreRequest).toEqual({
      Days: undefined,
      GlacierJobParameters: { Tier: 'Standard' },
    });
  });

  test.each([
    ['RestoreAlreadyInProgress', 409, false],
    ['InvalidObjectState', 403, false],
    ['GlacierExpeditedRetrievalNotAvailable', 503, false],
    ['NoSuchKey', 404, false],
    ['NoSuchVersion', 404, false],
    ['AccessDenied', 403, false],
    ['SlowDown', 503, true],
    ['InternalError', 500, true],
  ])('error %s (%s) retryable=%s', (code, status, retryable) => {
    expect(classifyAwsError(s3Error(code, status), initiateRestoreObject.errorCodes)).toMatchObject({ code, retryable, httpStatus: status });
  });

  test("the x-amz-restore header says whether the restored copy is readable, and until when", () => {
    expect(parseRestoreHeader('ongoing-request="true"')).toEqual({ ongoing: true, expiry: undefined });
    expect(parseRestoreHeader('ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')).toEqual({
      ongoing: false,
      expiry: '2012-12-21T00:00:00.000Z',
    });
    expect(parseRestoreHeader(undefined)).toBeUndefined();
    expect(parseRestoreHeader('garbage')).toBeUndefined();
  });
});
