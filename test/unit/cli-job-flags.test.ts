/** create-job's flags → CreateJob mapping (src/cli/job-flags.ts), and that the schema judges the result. */
import { CliError } from '../../src/cli/errors';
import { EXIT_CODES } from '../../src/cli/exit-codes';
import { buildCreateJob, collectKeyValue, describeProblems, flagForPath, parseS3Url } from '../../src/cli/job-flags';
import { parseRate, parseRateOrNone } from '../../src/cli/parse';
import { validateJobSpec } from '../../src/schemas/job-spec';

const base = { manifest: 's3://data-bucket/manifests/m.csv', report: 's3://report-bucket/batch/' } as const;

test('tagging from flags is a valid CreateJob with AWS defaults for the manifest and report', () => {
  const job = buildCreateJob({ ...base, operation: 'tagging', tag: [['project', 'blue'], ['team', 'a=b']], priority: 20 });
  expect(job).toEqual({
    Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'project', Value: 'blue' }, { Key: 'team', Value: 'a=b' }] } },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
      Location: { ObjectArn: 'arn:aws:s3:::data-bucket/manifests/m.csv' },
    },
    Report: { Enabled: true, Bucket: 'arn:aws:s3:::report-bucket', Format: 'Report_CSV_20180820', Prefix: 'batch', ReportScope: 'AllTasks' },
    Priority: 20,
  });
  expect(validateJobSpec(job).ok).toBe(true);
});

test('each operation flag maps to its CreateJob member', () => {
  expect(buildCreateJob({ ...base, operation: 'delete-tagging' }).Operation).toEqual({ S3DeleteObjectTagging: {} });
  expect(
    buildCreateJob({ ...base, operation: 'copy', targetBucket: 'backup-bucket', targetPrefix: 'copies/', storageClass: 'STANDARD_IA', tag: [['k', 'v']] })
      .Operation
  ).toEqual({
    S3PutObjectCopy: { TargetResource: 'arn:aws:s3:::backup-bucket', TargetKeyPrefix: 'copies/', StorageClass: 'STANDARD_IA', NewObjectTagging: [{ Key: 'k', Value: 'v' }] },
  });
  expect(buildCreateJob({ ...base, operation: 'lambda', function: 'batch-task' }).Operation).toEqual({ LambdaInvoke: { FunctionArn: 'batch-task' } });
  expect(buildCreateJob({ ...base, operation: 'lambda', function: 'f', userArgument: [['mode', 'x']] }).Operation).toEqual({
    LambdaInvoke: { FunctionArn: 'f', InvocationSchemaVersion: '2.0', UserArguments: { mode: 'x' } },
  });
  expect(buildCreateJob({ ...base, operation: 'restore', expirationDays: 3, tier: 'BULK' }).Operation).toEqual({
    S3InitiateRestoreObject: { ExpirationInDays: 3, GlacierJobTier: 'BULK' },
  });
  for (const operation of ['delete-tagging', 'checksum'] as const) expect(validateJobSpec(buildCreateJob({ ...base, operation })).ok).toBe(true);
});

test('--no-report, --report-scope, manifest flags and single-field flags', () => {
  const job = buildCreateJob({
    manifest: 's3://data-bucket/m.csv',
    manifestFields: ['Bucket', 'Key', 'VersionId'],
    manifestEtag: 'abc',
    manifestVersionId: 'v1',
    operation: 'delete-tagging',
    report: false,
    description: 'd',
    confirmationRequired: true,
    connection: 'moto',
    clientToken: 't-1',
    accountId: '123456789012',
    roleArn: 'arn:aws:iam::123456789012:role/r',
  });
  expect(job).toMatchObject({
    Manifest: { Spec: { Fields: ['Bucket', 'Key', 'VersionId'] }, Location: { ETag: 'abc', ObjectVersionId: 'v1' } },
    Report: { Enabled: false },
    Description: 'd',
    ConfirmationRequired: true,
    Extensions: { Connection: 'moto' },
    ClientRequestToken: 't-1',
    AccountId: '123456789012',
  });
  expect(validateJobSpec(job).ok).toBe(true);
  expect(buildCreateJob({ ...base, operation: 'delete-tagging', reportScope: 'FailedTasksOnly' }).Report).toMatchObject({ ReportScope: 'FailedTasksOnly' });
});

test('flags override a job file: groups replace their member, single flags one field', () => {
  const file = {
    Operation: { S3PutObjectTagging: { TagSet: [] } },
    Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key', 'VersionId'] }, Location: { ObjectArn: 'arn:aws:s3:::old-bucket/m.csv', ETag: 'old' } },
    Report: { Enabled: false },
    Priority: 1,
    Extensions: { PageSize: 30 },
  };
  const job = buildCreateJob({ manifest: 's3://new-bucket/n.csv', operation: 'delete-tagging', priority: 9, connection: 'moto' }, file);
  expect(job.Operation).toEqual({ S3DeleteObjectTagging: {} });
  // The old ETag belonged to the old manifest; the file's Spec stays.
  expect(job.Manifest).toEqual({ Spec: file.Manifest.Spec, Location: { ObjectArn: 'arn:aws:s3:::new-bucket/n.csv' } });
  expect(job.Priority).toBe(9);
  expect(job.Extensions).toEqual({ PageSize: 30, Connection: 'moto' });
  expect(file.Priority).toBe(1); // the file's object is not modified
  // Only an ETag flag: set on the file's manifest.
  expect(buildCreateJob({ manifestEtag: 'new' }, file).Manifest).toMatchObject({ Location: { ObjectArn: 'arn:aws:s3:::old-bucket/m.csv', ETag: 'new' } });
});

test('flags that do not go together are bad input, saying what to add', () => {
  const fails = (f: () => unknown, message: RegExp) => {
    try {
      f();
      throw new Error('did not throw');
    } catch (err) {
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(EXIT_CODES.badInput);
      expect((err as Error).message).toMatch(message);
    }
  };
  fails(() => buildCreateJob({ ...base, operation: 'copy' }), /--operation copy needs --target-bucket/);
  fails(() => buildCreateJob({ ...base, operation: 'lambda' }), /needs --function/);
  fails(() => buildCreateJob({ ...base, tag: [['a', 'b']] }), /--tag needs --operation tagging or copy/);
  fails(() => buildCreateJob({ ...base, operation: 'restore', targetBucket: 'x' }), /--target-bucket applies to --operation copy, not restore/);
  fails(() => buildCreateJob({ manifestEtag: 'x' }), /need --manifest/);
  fails(() => buildCreateJob({ ...base, report: false, reportScope: 'AllTasks' }), /--no-report/);
  fails(() => buildCreateJob({ manifest: 'data/m.csv' }), /--manifest: expected s3:\/\/bucket\/key/);
  fails(() => buildCreateJob({}, [1, 2]), /JSON object/);
});

test('schema problems name their path and the flag that sets it', () => {
  const v = validateJobSpec(buildCreateJob({ manifest: 's3://B/m.csv', operation: 'tagging', priority: 5 }));
  expect(v.ok).toBe(false);
  if (v.ok) return;
  const text = describeProblems(v.problems);
  expect(text).toContain('Report: required ({Enabled, Bucket, Format, Prefix, ReportScope, ExpectedBucketOwner}) (flag: --report s3://bucket/prefix or --no-report)');
  expect(text).toContain('Manifest.Location.ObjectArn: expected an S3 object ARN');
  expect(text).toContain('(flag: --manifest)');
  expect(flagForPath('Operation.S3PutObjectTagging.TagSet[3].Key')).toBe('--tag');
  expect(flagForPath('Extensions.PageSize')).toBeUndefined();
});

test('s3 URLs and key=value pairs', () => {
  expect(parseS3Url('s3://bucket/a/b.csv', '--manifest', true)).toEqual({ bucket: 'bucket', key: 'a/b.csv' });
  expect(parseS3Url('s3://bucket', '--report', false)).toEqual({ bucket: 'bucket', key: '' });
  expect(() => parseS3Url('s3://bucket', '--manifest', true)).toThrow(/s3:\/\/bucket\/key/);
  expect(collectKeyValue('a=b=c', [['x', 'y']])).toEqual([['x', 'y'], ['a', 'b=c']]);
  expect(() => collectKeyValue('=v', undefined)).toThrow(/key=value/);
});

test('--operation delete needs --confirm-data-deletion, and the schema says which flag is missing', () => {
  const unconfirmed = buildCreateJob({ ...base, operation: 'delete' });
  expect(unconfirmed.Operation).toEqual({ S3DeleteObject: {} });
  const v = validateJobSpec(unconfirmed);
  expect(v.ok).toBe(false);
  if (v.ok) return;
  expect(describeProblems(v.problems)).toMatch(
    /Operation\.S3DeleteObject\.ConfirmDataDeletion: S3DeleteObject deletes every object.*\(flag: --confirm-data-deletion\)/
  );
  const confirmed = buildCreateJob({ ...base, operation: 'delete', confirmDataDeletion: true });
  expect(confirmed.Operation).toEqual({ S3DeleteObject: { ConfirmDataDeletion: true } });
  expect(validateJobSpec(confirmed).ok).toBe(true);
  expect(() => buildCreateJob({ ...base, operation: 'tagging', confirmDataDeletion: true })).toThrow(
    /--confirm-data-deletion applies to --operation delete, not tagging/
  );
});

test('--manifest-header-row sets Extensions.ManifestHeaderRow beside the file\'s other extensions', () => {
  const job = buildCreateJob({ ...base, operation: 'tagging', tag: [['k', 'v']], manifestHeaderRow: true, connection: 'minio' }, {
    Extensions: { PageSize: 50 },
  });
  expect(job.Extensions).toEqual({ PageSize: 50, Connection: 'minio', ManifestHeaderRow: true });
  expect(validateJobSpec(job).ok).toBe(true);
  expect(flagForPath('Extensions.ManifestHeaderRow')).toBe('--manifest-header-row');
});

test('--max-tasks-per-second sets Extensions.MaxTasksPerSecond beside the file\'s other extensions', () => {
  const job = buildCreateJob({ ...base, operation: 'tagging', tag: [['k', 'v']], maxTasksPerSecond: 2.5 }, { Extensions: { PageSize: 50 } });
  expect(job.Extensions).toEqual({ PageSize: 50, MaxTasksPerSecond: 2.5 });
  expect(validateJobSpec(job).ok).toBe(true);
  expect(flagForPath('Extensions.MaxTasksPerSecond')).toBe('--max-tasks-per-second');
  const zero = validateJobSpec({ ...job, Extensions: { MaxTasksPerSecond: 0 } });
  expect(zero.ok).toBe(false);
  expect(!zero.ok && zero.problems.map((p) => p.path)).toEqual(['Extensions.MaxTasksPerSecond']);
});

test('update-job-rate and --max-tasks-per-second take a positive number of tasks per second (update-job-rate: or none)', () => {
  expect(parseRate('2.5')).toBe(2.5);
  expect(parseRateOrNone('none')).toBeNull();
  expect(parseRateOrNone('40')).toBe(40);
  for (const bad of ['0', '-1', 'fast', '1e3', '100001']) {
    expect(() => parseRateOrNone(bad)).toThrow(/expected a number of tasks per second from 0\.001 to 100000, or none/);
  }
  expect(() => parseRate('none')).toThrow(/expected a number of tasks per second/);
});
