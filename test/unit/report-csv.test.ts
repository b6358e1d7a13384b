import { reportLine } from '../../src/activities/report/report-csv';
import { classifyAwsError } from '../../src/activities/aws-errors';

describe('report CSV', () => {
  test('AWS physical column order, quoting', () => {
    expect(
      reportLine({ bucket: 'b', key: 'a%2Cb', versionId: '', result: { status: 'succeeded', httpStatus: 200, message: 'Successful' } })
    ).toBe('b,a%2Cb,,succeeded,200,,"Successful"');
    expect(
      reportLine({
        bucket: 'b',
        key: 'k,1',
        versionId: 'v',
        result: { status: 'failed', httpStatus: 404, errorCode: 'NoSuchKey', message: 'The "key" does not exist' },
      })
    ).toBe('b,"k,1",v,failed,404,NoSuchKey,"The ""key"" does not exist"');
  });
});

describe('AWS error classification', () => {
  const err = (name: string, status?: number, extra: object = {}) =>
    Object.assign(new Error(`${name} happened`), { name, $metadata: status ? { httpStatusCode: status } : {} }, extra);
  test.each([
    ['SlowDown', 503, true],
    ['InternalError', 500, true],
    ['ServiceUnavailable', 503, true],
    ['RequestTimeout', 400, true],
    ['TimeoutError', undefined, true],
    ['NoSuchKey', 404, false],
    ['NoSuchBucket', 404, false],
    ['AccessDenied', 403, false],
    ['InvalidObjectState', 403, false],
    ['NotImplemented', 501, false],
    ['SomethingNew', 502, true],
    ['SomethingNew', 400, false],
  ])('%s (%s) retryable=%s', (name, status, retryable) => {
    const c = classifyAwsError(err(name, status));
    expect(c).toMatchObject({ retryable, code: name, httpStatus: status });
  });

  test('network errors without an HTTP answer are retried', () => {
    const e = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyAwsError(e)).toMatchObject({ retryable: true, code: 'ECONNRESET' });
  });
});
