/** LambdaInvoke without Lambda: the event we send, how we read every kind of answer, and the API error table. */
import { classifyAwsError } from '../../src/activities/aws-errors';
import {
  buildLambdaEvent,
  encodeS3Key,
  interpretLambdaResponse,
  lambdaInvoke,
  LAMBDA_PERMANENT_CODES,
  LAMBDA_RETRYABLE_CODES,
} from '../../src/activities/operations/lambda-invoke';
import { TaskFailure } from '../../src/activities/operations/operation';
import { LambdaInvoke } from '../../src/schemas/operations';

const ids = { jobId: 'job-1', taskId: 'task-7', invocationId: 'inv-7-1' };

describe('buildLambdaEvent', () => {
  test('schema 1.0: bucket ARN, encoded key, null version, no user arguments', () => {
    const event = buildLambdaEvent(ids, { bucket: 'data', key: 'dir/a b+c/ü.txt' }, { InvocationSchemaVersion: '1.0' });
    expect(event).toEqual({
      invocationSchemaVersion: '1.0',
      invocationId: 'inv-7-1',
      job: { id: 'job-1' },
      tasks: [{ taskId: 'task-7', s3Key: 'dir/a%20b%2Bc/%C3%BC.txt', s3VersionId: null, s3BucketArn: 'arn:aws:s3:::data' }],
    });
  });

  test('schema 1.0 ignores UserArguments (the spec schema refuses them anyway)', () => {
    const event = buildLambdaEvent(ids, { bucket: 'data', key: 'k' }, { InvocationSchemaVersion: '1.0', UserArguments: { a: 'b' } });
    expect(event.job).toEqual({ id: 'job-1' });
  });

  test('schema 2.0: bucket name, version id, user arguments', () => {
    const event = buildLambdaEvent(
      ids,
      { bucket: 'data', key: 'prefix/obj.json.gz', versionId: 'v1' },
      { InvocationSchemaVersion: '2.0', UserArguments: { k1: 'v1', k2: 'v2' } }
    );
    expect(event).toEqual({
      invocationSchemaVersion: '2.0',
      invocationId: 'inv-7-1',
      job: { id: 'job-1', userArguments: { k1: 'v1', k2: 'v2' } },
      tasks: [{ taskId: 'task-7', s3Key: 'prefix/obj.json.gz', s3VersionId: 'v1', s3Bucket: 'data' }],
    });
  });

  test('schema 2.0 without UserArguments has no userArguments field', () => {
    const event = buildLambdaEvent(ids, { bucket: 'data', key: 'k' }, { InvocationSchemaVersion: '2.0' });
    expect(JSON.parse(JSON.stringify(event)).job).toEqual({ id: 'job-1' });
  });

  test('the spec schema defaults to 1.0 and needs 2.0 for UserArguments', () => {
    expect(LambdaInvoke.parse({ FunctionArn: 'fn' }).InvocationSchemaVersion).toBe('1.0');
    expect(LambdaInvoke.safeParse({ FunctionArn: 'fn', UserArguments: { a: 'b' } }).success).toBe(false);
  });

  test.each([
    ['plain/key.txt', 'plain/key.txt'],
    ['a b/c', 'a%20b/c'],
    ['a+b', 'a%2Bb'],
    ['x,y&z=1?#', 'x%2Cy%26z%3D1%3F%23'],
    ['/leading//double/', '/leading//double/'],
    ['日本', '%E6%97%A5%E6%9C%AC'],
  ])('encodeS3Key(%j) = %j, and decodes back', (key, encoded) => {
    expect(encodeS3Key(key)).toBe(encoded);
    expect(decodeURIComponent(encoded)).toBe(key);
  });
});

describe('interpretLambdaResponse', () => {
  const answer = (body: unknown, functionError?: string) => ({
    functionError,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const response = (results: unknown[], extra: object = {}) =>
    answer({ invocationSchemaVersion: '1.0', invocationId: 'inv-7-1', ...extra, results });
  const failureOf = (fn: () => unknown): TaskFailure => {
    try {
      fn();
    } catch (err) {
      if (err instanceof TaskFailure) return err;
      throw err;
    }
    throw new Error('expected a TaskFailure');
  };

  test('Succeeded: resultString is the message, HTTP 200', () => {
    const out = interpretLambdaResponse('task-7', response([{ taskId: 'task-7', resultCode: 'Succeeded', resultString: 'done it' }]));
    expect(out).toEqual({ message: 'done it', httpStatus: 200 });
  });

  test.each([undefined, null, ''])('Succeeded with resultString %j: a default message', (resultString) => {
    const out = interpretLambdaResponse('task-7', response([{ taskId: 'task-7', resultCode: 'Succeeded', resultString }]));
    expect(out).toEqual({ message: 'Successful', httpStatus: 200 });
  });

  test('TemporaryFailure: retryable, resultString as the message', () => {
    const f = failureOf(() =>
      interpretLambdaResponse('task-7', response([{ taskId: 'task-7', resultCode: 'TemporaryFailure', resultString: 'busy' }]))
    );
    expect(f).toMatchObject({ code: 'TemporaryFailure', retryable: true, httpStatus: 200, message: 'busy' });
    expect(classifyAwsError(f, lambdaInvoke.errorCodes)).toEqual({
      code: 'TemporaryFailure',
      retryable: true,
      httpStatus: 200,
      message: 'busy',
    });
  });

  test('PermanentFailure: not retryable, resultString as the message', () => {
    const f = failureOf(() =>
      interpretLambdaResponse('task-7', response([{ taskId: 'task-7', resultCode: 'PermanentFailure', resultString: 'nope' }]))
    );
    expect(f).toMatchObject({ code: 'PermanentFailure', retryable: false, httpStatus: 200, message: 'nope' });
  });

  test('a failure without resultString gets a message naming the code', () => {
    const f = failureOf(() => interpretLambdaResponse('task-7', response([{ taskId: 'task-7', resultCode: 'PermanentFailure' }])));
    expect(f.message).toBe('Lambda returned PermanentFailure');
  });

  test('missing task, no treatMissingKeysAs: PermanentFailure by default, saying why', () => {
    const f = failureOf(() => interpretLambdaResponse('task-7', response([])));
    expect(f).toMatchObject({ code: 'PermanentFailure', retryable: false, httpStatus: 200 });
    expect(f.message).toBe('Lambda response has no result for task task-7 (treatMissingKeysAs absent, default PermanentFailure)');
  });

  test('missing task, treatMissingKeysAs Succeeded', () => {
    const out = interpretLambdaResponse('task-7', response([], { treatMissingKeysAs: 'Succeeded' }));
    expect(out).toEqual({ message: 'Lambda response has no result for task task-7 (treatMissingKeysAs: Succeeded)', httpStatus: 200 });
  });

  test('missing task, treatMissingKeysAs TemporaryFailure: retryable', () => {
    const f = failureOf(() => interpretLambdaResponse('task-7', response([], { treatMissingKeysAs: 'TemporaryFailure' })));
    expect(f).toMatchObject({ code: 'TemporaryFailure', retryable: true });
  });

  test('function error: PermanentFailure with the payload, HTTP 200', () => {
    const payload = '{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 3.00 seconds"}';
    const f = failureOf(() => interpretLambdaResponse('task-7', answer(payload, 'Unhandled')));
    expect(f).toMatchObject({
      code: 'PermanentFailure',
      retryable: false,
      httpStatus: 200,
      message: `Lambda returned function error: ${payload}`,
    });
  });

  test('a function error wins even if the payload looks like a good response', () => {
    const good = JSON.stringify({ results: [{ taskId: 'task-7', resultCode: 'Succeeded' }] });
    expect(failureOf(() => interpretLambdaResponse('task-7', answer(good, 'Handled'))).code).toBe('PermanentFailure');
  });

  test.each<[string, string, RegExp]>([
    ['not JSON', 'hello there', /^Invalid JSON returned in Lambda payload: not JSON: "hello there"$/],
    ['empty payload', '', /^Invalid JSON returned in Lambda payload: not JSON: ""$/],
    ['a JSON string', '"just text"', /^Invalid JSON returned in Lambda payload: \(root\): expected \{invocationSchemaVersion, .*\}, got text "just text"/],
    ['null', 'null', /^Invalid JSON returned in Lambda payload: \(root\): /],
    ['no results array', JSON.stringify({ invocationId: 'x', outcome: 'done' }), /: results: required \(a list of \{taskId, resultCode, resultString\}\)/],
    ['results not an array', JSON.stringify({ results: { taskId: 'task-7' } }), /: results: expected a list of \{taskId, resultCode, resultString\}, got an object/],
    [
      'unknown resultCode',
      JSON.stringify({ results: [{ taskId: 'task-7', resultCode: 'Success' }] }),
      /: results\.0\.resultCode: /,
    ],
    ['result without taskId', JSON.stringify({ results: [{ resultCode: 'Succeeded' }] }), /: results\.0\.taskId: /],
    ['unknown treatMissingKeysAs', JSON.stringify({ treatMissingKeysAs: 'Ignore', results: [] }), /: treatMissingKeysAs: /],
    [
      'a result for another task',
      JSON.stringify({ results: [{ taskId: 'task-8', resultCode: 'Succeeded' }] }),
      /: results name tasks that were not sent: \["task-8"\]$/,
    ],
    [
      'ours plus another task',
      JSON.stringify({
        results: [
          { taskId: 'task-7', resultCode: 'Succeeded' },
          { taskId: 'task-8', resultCode: 'Succeeded' },
        ],
      }),
      /not sent: \["task-8"\]/,
    ],
    [
      'two results for our task',
      JSON.stringify({
        results: [
          { taskId: 'task-7', resultCode: 'Succeeded' },
          { taskId: 'task-7', resultCode: 'PermanentFailure' },
        ],
      }),
      /: 2 results for task task-7, expected 1$/,
    ],
  ])('%s: PermanentFailure, "Invalid JSON returned in Lambda payload"', (_name, payload, message) => {
    const f = failureOf(() => interpretLambdaResponse('task-7', answer(payload)));
    expect(f).toMatchObject({ code: 'PermanentFailure', retryable: false, httpStatus: 200 });
    expect(f.message).toMatch(/^Invalid JSON returned in Lambda payload: /);
    expect(f.message).toMatch(message);
  });

  test('extra fields and a different echoed version are tolerated', () => {
    const out = interpretLambdaResponse(
      'task-7',
      answer({ invocationSchemaVersion: '2.0', note: 'x', results: [{ taskId: 'task-7', resultCode: 'Succeeded', resultString: 'ok', extra: 1 }] })
    );
    expect(out.message).toBe('ok');
  });
});

describe('LambdaInvoke error classification', () => {
  const lambdaError = (name: string, status: number) =>
    Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });

  test.each([
    ['TooManyRequestsException', 429, true],
    ['ServiceException', 500, true],
    ['EC2ThrottledException', 502, true],
    ['EC2UnexpectedException', 502, true],
    ['ResourceConflictException', 409, true],
    ['ResourceNotReadyException', 502, true],
    ['ENILimitReachedException', 502, true],
    ['SubnetIPAddressLimitReachedException', 502, true],
    ['EFSMountConnectivityException', 408, true],
    ['EFSMountTimeoutException', 410, true],
    ['EFSIOException', 410, true],
    ['SnapStartNotReadyException', 409, true],
    ['SnapStartTimeoutException', 408, true],
    ['ResourceNotFoundException', 404, false],
    ['InvalidRequestContentException', 400, false],
    ['RequestTooLargeException', 413, false],
    ['InvalidParameterValueException', 400, false],
    ['AccessDeniedException', 403, false],
    ['UnsupportedMediaTypeException', 415, false],
    ['EC2AccessDeniedException', 502, false],
    ['KMSAccessDeniedException', 502, false],
    ['KMSDisabledException', 502, false],
    ['KMSNotFoundException', 502, false],
    ['InvalidRuntimeException', 502, false],
    ['InvalidSubnetIDException', 502, false],
    ['EFSMountFailureException', 403, false],
    ['RecursiveInvocationException', 400, false],
    ['SnapStartException', 400, false],
    // Not in our table: the common rules decide (network errors and 5xx retried, other 4xx not).
    ['SomeNewException', 503, true],
    ['SomeNewClientException', 400, false],
    ['ECONNREFUSED', 0, true],
  ])('%s (%s) retryable=%s', (code, status, retryable) => {
    const err = status === 0 ? Object.assign(new Error('connect refused'), { code }) : lambdaError(code, status);
    expect(classifyAwsError(err, lambdaInvoke.errorCodes)).toMatchObject({ code, retryable });
  });

  test('the retryable and permanent lists do not overlap', () => {
    const retryable = new Set<string>(LAMBDA_RETRYABLE_CODES);
    expect(LAMBDA_PERMANENT_CODES.filter((code) => retryable.has(code))).toEqual([]);
  });

  test('server-fault statuses on permanent codes are not retried (the table wins over the status)', () => {
    expect(classifyAwsError(lambdaError('KMSInvalidStateException', 502), lambdaInvoke.errorCodes).retryable).toBe(false);
  });
});
