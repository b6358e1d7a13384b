/**
 * S3DeleteObject's spec and error table, and custom operations: registration rules, the problems validateJob
 * reports for a job's CustomOperation, and the per-task dispatch (parsed parameters, unknown names, changed schemas).
 */
import { z } from 'zod';
import { classifyAwsError } from '../../src/activities/aws-errors';
import { CustomOperations, defineOperation } from '../../src/activities/operations/custom';
import { deleteObject } from '../../src/activities/operations/delete-object';
import { TaskFailure, type OperationContext } from '../../src/activities/operations/operation';
import { validateJob } from '../../src/activities/validate-job';
import { Connections } from '../../src/activities/s3-clients';
import { validateJobSpec, type CreateJobInput } from '../../src/schemas/job-spec';
import { WorkerConfig } from '../../src/schemas/worker-config';

const job = (Operation: unknown): CreateJobInput => ({
  Operation: Operation as CreateJobInput['Operation'],
  Report: { Enabled: false },
  Manifest: {
    Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
    Location: { ObjectArn: 'arn:aws:s3:::manifests/m.csv', ETag: '60e460c9d1046e73f7dde5043ac3ae85' },
  },
  Priority: 10,
});

const problems = (input: unknown) => {
  const r = validateJobSpec(input);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('S3DeleteObject', () => {
  test('runs only with ConfirmDataDeletion: true', () => {
    for (const op of [{}, { ConfirmDataDeletion: false }, { ConfirmDataDeletion: 'yes' }]) {
      expect(problems(job({ S3DeleteObject: op }))).toEqual([
        expect.stringMatching(/^Operation\.S3DeleteObject\.ConfirmDataDeletion: S3DeleteObject deletes every object .*set ConfirmDataDeletion to true/),
      ]);
    }
    expect(problems(job({ S3DeleteObject: { ConfirmDataDeletion: true, BypassGovernanceRetention: true } }))).toEqual([]);
    expect(problems(job({ S3DeleteObject: { ConfirmDataDeletion: true, Force: true } }))).toEqual([
      'Operation.S3DeleteObject: unknown field "Force" (expected here: ConfirmDataDeletion, BypassGovernanceRetention)',
    ]);
  });

  const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  test.each([
    ['AccessDenied', 403, false],
    ['InvalidRequest', 400, false],
    ['InvalidArgument', 400, false],
    ['NoSuchBucket', 404, false],
    ['SlowDown', 503, true],
    ['InternalError', 500, true],
  ])('error %s (%s) retryable=%s', (code, status, retryable) => {
    expect(classifyAwsError(s3Error(code, status), deleteObject.errorCodes)).toMatchObject({ code, retryable, httpStatus: status });
  });
});

const upper = defineOperation({
  name: 'Upper',
  parameters: z.object({ Suffix: z.string().min(1).default('!'), Times: z.number().int().positive() }).strict(),
  run: async (_ctx, object, params) => ({ message: `${object.key.toUpperCase()}${params.Suffix.repeat(params.Times)}` }),
  errorCodes: { retryable: ['Busy'] },
});
const ctx = {} as OperationContext;

describe('custom operations', () => {
  test('a job names one with Name and Parameters (default {}); the name must be usable', () => {
    expect(problems(job({ CustomOperation: { Name: 'Upper' } }))).toEqual([]);
    expect(problems(job({ CustomOperation: { Name: '9lives', Parameters: {} } }))).toEqual([
      expect.stringMatching(/^Operation\.CustomOperation\.Name: expected a registered operation name/),
    ]);
    expect(problems(job({ CustomOperation: { Name: 'Upper', Parameters: [] } }))[0]).toMatch(/^Operation\.CustomOperation\.Parameters: /);
  });

  test('registration refuses bad names, built-in names and duplicates', () => {
    expect(() => new CustomOperations([{ ...upper, name: 'has space' }])).toThrow(/"has space" is not valid/);
    expect(() => new CustomOperations([{ ...upper, name: 'S3PutObjectTagging' }])).toThrow(/built-in operation's name/);
    expect(() => new CustomOperations([upper, upper])).toThrow(/"Upper" is registered twice/);
    expect(new CustomOperations([upper]).names).toEqual(['Upper']);
  });

  test('problems name the parameter path, or the registered operations', () => {
    const ops = new CustomOperations([upper]);
    expect(ops.problems({ Name: 'Upper', Parameters: { Times: 2 } })).toEqual([]);
    expect(ops.problems({ Name: 'Upper', Parameters: { Times: 0, Suffix: '' } })).toEqual([
      { path: 'Operation.CustomOperation.Parameters.Suffix', message: 'must not be empty' },
      { path: 'Operation.CustomOperation.Parameters.Times', message: 'must be more than 0, got 0' },
    ]);
    expect(ops.problems({ Name: 'Lower', Parameters: {} })).toEqual([
      { path: 'Operation.CustomOperation.Name', message: expect.stringMatching(/no custom operation "Lower" .*\(registered: Upper\)/) },
    ]);
  });

  test('a task gets the schema output; an unknown name or refused parameters fail it for good', async () => {
    const ops = new CustomOperations([upper]);
    await expect(ops.run(ctx, { bucket: 'b', key: 'k' }, { Name: 'Upper', Parameters: { Times: 3 } })).resolves.toEqual({ message: 'K!!!' });
    const unknown = new CustomOperations().run(ctx, { bucket: 'b', key: 'k' }, { Name: 'Upper', Parameters: {} });
    await expect(unknown).rejects.toMatchObject({ code: 'UnknownOperation', retryable: false, message: expect.stringMatching(/registered: none/) });
    await expect(unknown).rejects.toBeInstanceOf(TaskFailure);
    await expect(ops.run(ctx, { bucket: 'b', key: 'k' }, { Name: 'Upper', Parameters: { Times: 'x' } })).rejects.toMatchObject({
      code: 'InvalidParameters',
      retryable: false,
    });
    expect(ops.errorCodes('Upper')).toEqual({ retryable: ['Busy'] });
    expect(ops.errorCodes('Lower')).toEqual({});
  });

  test('validateJob refuses a job whose custom operation this worker does not have or whose parameters it refuses', () => {
    const connections = new Connections(WorkerConfig.parse({ s3: { default: { endpoint: 'http://127.0.0.1:1' } } }));
    const defaults = { priorityLevels: 5, taskExecution: 'LocalActivity' as const, customOperations: new CustomOperations([upper]) };
    const ok = validateJob(connections, job({ CustomOperation: { Name: 'Upper', Parameters: { Times: 1 } } }), defaults);
    expect(ok.ok).toBe(true);
    const bad = validateJob(connections, job({ CustomOperation: { Name: 'Upper', Parameters: {} } }), defaults);
    expect(bad).toEqual({ ok: false, problems: [{ path: 'Operation.CustomOperation.Parameters.Times', message: expect.any(String) }] });
    const none = validateJob(connections, job({ CustomOperation: { Name: 'Upper' } }), { ...defaults, customOperations: undefined });
    expect(none).toEqual({ ok: false, problems: [{ path: 'Operation.CustomOperation.Name', message: 'this worker has no custom operations registered' }] });
  });
});
