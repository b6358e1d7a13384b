import { classifyAwsError } from '../../src/activities/aws-errors';
import { deleteObjectTagging } from '../../src/activities/operations/delete-object-tagging';
import { putObjectTagging } from '../../src/activities/operations/put-object-tagging';

const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe.each([
  ['S3PutObjectTagging', putObjectTagging.errorCodes],
  ['S3DeleteObjectTagging', deleteObjectTagging.errorCodes],
])('%s error classification', (_name, codes) => {
  test.each([
    ['NoSuchKey', 404, false],
    ['NoSuchVersion', 404, false],
    ['AccessDenied', 403, false],
    ['MethodNotAllowed', 405, false],
    ['InvalidTag', 400, false],
    ['InvalidArgument', 400, false],
    ['SlowDown', 503, true],
    ['InternalError', 500, true],
    ['ServiceUnavailable', 503, true],
    ['OperationAborted', 409, true],
  ])('%s (%s) retryable=%s', (code, status, retryable) => {
    expect(classifyAwsError(s3Error(code, status), codes)).toMatchObject({ code, retryable, httpStatus: status });
  });
});
