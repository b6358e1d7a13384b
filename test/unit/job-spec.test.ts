import { WorkerConfig } from '../../src/schemas/worker-config';
import { validateJob } from '../../src/activities/validate-job';
import { Connections } from '../../src/activities/s3-clients';
import {
  bucketOwnerChecks,
  SUSPENDED_EXPIRY_SECONDS,
  suspendedExpiryText,
  validateJobSpec,
  type CreateJobInput,
} from '../../src/schemas/job-spec';

const base: CreateJobInput = {
  AccountId: '123456789012',
  Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'k', Value: 'v' }] } },
  Report: { Enabled: true, Bucket: 'arn:aws:s3:::reports', Format: 'Report_CSV_20180820', Prefix: 'r/', ReportScope: 'AllTasks' },
  Manifest: {
    Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
    Location: { ObjectArn: 'arn:aws:s3:::manifests/m.csv', ETag: '60e460c9d1046e73f7dde5043ac3ae85' },
  },
  Priority: 10,
  RoleArn: 'arn:aws:iam::123456789012:role/batch',
  ClientRequestToken: 'tok-1',
};

function problems(input: unknown): string[] {
  const r = validateJobSpec(input);
  if (r.ok) return [];
  return r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('job spec', () => {
  test('an AWS CLI create-job input is accepted and resolved', () => {
    const r = validateJobSpec(base);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.job.operation.name).toBe('S3PutObjectTagging');
    expect(r.job.manifest).toMatchObject({ bucket: 'manifests', key: 'm.csv', etag: '60e460c9d1046e73f7dde5043ac3ae85' });
    expect(r.job.manifest.columns).toEqual({ bucket: 0, key: 1, versionId: -1, count: 2 });
    // The trailing slash of the prefix is not doubled in report keys.
    expect(r.job.report).toEqual({ bucket: 'reports', prefix: 'r', scope: 'AllTasks', connection: 'default' });
    expect(r.job.extensions.PageSize).toBeGreaterThan(0);
    expect(r.job.request.ConfirmationRequired).toBe(false);
  });

  test('every problem is listed with its path', () => {
    const bad = {
      ...base,
      Operation: { S3PutObjectCopy: { TargetResource: 'not-an-arn' } },
      Report: { Enabled: true },
      Priority: -1,
      Surprise: 1,
    };
    expect(problems(bad)).toEqual(
      expect.arrayContaining([
        'Operation.S3PutObjectCopy.TargetResource: expected an S3 bucket ARN such as arn:aws:s3:::my-bucket',
        'Report.Bucket: required when Enabled is true',
        'Report.Format: required when Enabled is true',
        expect.stringMatching(/^Priority: /),
        expect.stringMatching(/unknown field "Surprise"/),
      ])
    );
  });

  test('exactly one operation', () => {
    expect(problems({ ...base, Operation: {} })).toEqual([expect.stringMatching(/^Operation: expected exactly one operation, got none/)]);
    expect(
      problems({ ...base, Operation: { S3PutObjectTagging: { TagSet: [] }, S3DeleteObjectTagging: {} } })
    ).toEqual([expect.stringMatching(/got S3PutObjectTagging, S3DeleteObjectTagging/)]);
  });

  test('S3ReplicateObject is refused with the reason, not run as a no-op', () => {
    expect(problems({ ...base, Operation: { S3ReplicateObject: {} } })).toEqual([
      expect.stringMatching(/^Operation\.S3ReplicateObject: S3ReplicateObject is not supported: Batch Replication/),
    ]);
  });

  test("a copy's ChecksumAlgorithm takes every algorithm the reference lists (§4.1), and names the field otherwise", () => {
    const copy = (ChecksumAlgorithm: string) =>
      problems({ ...base, Operation: { S3PutObjectCopy: { TargetResource: 'arn:aws:s3:::target', ChecksumAlgorithm } } });
    for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME', 'SHA512', 'MD5', 'XXHASH64', 'XXHASH3', 'XXHASH128']) {
      expect([algorithm, copy(algorithm)]).toEqual([algorithm, []]);
    }
    expect(copy('CRC16')).toEqual([expect.stringMatching(/^Operation\.S3PutObjectCopy\.ChecksumAlgorithm: .*XXHASH128/)]);
  });

  test("each operation's own rules name the field", () => {
    const op = (Operation: object) => problems({ ...base, Operation });
    expect(op({ S3PutObjectAcl: { AccessControlPolicy: {} } })).toEqual([
      'Operation.S3PutObjectAcl.AccessControlPolicy: give exactly one of AccessControlList and CannedAccessControlList',
    ]);
    expect(op({ S3PutObjectAcl: { AccessControlPolicy: { CannedAccessControlList: 'public-read' } } })).toEqual([]);
    expect(op({ S3PutObjectRetention: { Retention: { Mode: 'GOVERNANCE' } } })).toEqual([
      'Operation.S3PutObjectRetention.Retention: give Mode and RetainUntilDate together (or neither, to remove the retention)',
    ]);
    expect(op({ S3PutObjectRetention: { Retention: {} } })).toEqual([]);
    expect(op({ S3PutObjectLegalHold: { LegalHold: { Status: 'MAYBE' } } })).toEqual([
      expect.stringMatching(/^Operation\.S3PutObjectLegalHold\.LegalHold\.Status: /),
    ]);
    expect(op({ LambdaInvoke: { FunctionArn: 'f', UserArguments: { a: 'b' } } })).toEqual([
      'Operation.LambdaInvoke.UserArguments: UserArguments needs InvocationSchemaVersion "2.0"',
    ]);
    expect(op({ LambdaInvoke: { FunctionArn: 'f', InvocationSchemaVersion: '2.0', UserArguments: {} } })).toEqual([
      'Operation.LambdaInvoke.UserArguments: expected 1 to 10 entries',
    ]);
    expect(op({ S3ComputeObjectChecksum: { ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' } })).toEqual([
      'Operation.S3ComputeObjectChecksum.ChecksumType: CRC64NVME supports only FULL_OBJECT',
    ]);
    expect(op({ S3UpdateObjectEncryption: { ObjectEncryption: { 'SSE-KMS': {} } } })).toEqual([
      expect.stringMatching(/^Operation\.S3UpdateObjectEncryption\.ObjectEncryption\.SSE-KMS\.KMSKeyArn: /),
    ]);
    expect(op({ S3InitiateRestoreObject: { ExpirationInDays: -1 } })).toEqual([
      expect.stringMatching(/^Operation\.S3InitiateRestoreObject\.ExpirationInDays: /),
    ]);
  });

  test('operation-specific extensions are refused on other operations', () => {
    expect(problems({ ...base, Extensions: { WaitForRestore: {} } })).toEqual([
      'Extensions.WaitForRestore: applies only to S3InitiateRestoreObject jobs',
    ]);
    expect(problems({ ...base, Extensions: { LambdaConnection: 'fn' } })).toEqual([
      'Extensions.LambdaConnection: applies only to LambdaInvoke jobs',
    ]);
    expect(problems({ ...base, Operation: { S3InitiateRestoreObject: { ExpirationInDays: 1 } }, Extensions: { WaitForRestore: {} } })).toEqual([]);
  });

  test('manifest Fields must name Bucket and Key once', () => {
    const m = { ...base.Manifest!, Spec: { Format: 'S3BatchOperations_CSV_20180820' as const, Fields: ['Key', 'Ignore'] as any } };
    expect(problems({ ...base, Manifest: m })).toEqual(['Manifest.Spec.Fields: must name Bucket exactly once']);
  });

  test('duplicate tag keys and NewObjectMetadata without REPLACE are caught', () => {
    expect(
      problems({ ...base, Operation: { S3PutObjectTagging: { TagSet: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] } } })
    ).toEqual(['Operation.S3PutObjectTagging.TagSet[1].Key: duplicate tag key "a"']);
    expect(
      problems({
        ...base,
        Operation: { S3PutObjectCopy: { TargetResource: 'arn:aws:s3:::dest', NewObjectMetadata: { ContentType: 'text/plain' } } },
      })
    ).toEqual([
      'Operation.S3PutObjectCopy.MetadataDirective: NewObjectMetadata (ContentType) needs MetadataDirective REPLACE (with COPY the source metadata is kept)',
    ]);
    // Encryption is not metadata: a COPY may set it.
    const copy = (extra: object) => problems({ ...base, Operation: { S3PutObjectCopy: { TargetResource: 'arn:aws:s3:::dest', ...extra } } });
    expect(copy({ MetadataDirective: 'COPY', NewObjectMetadata: { SSEAlgorithm: 'AES256' } })).toEqual([]);
    expect(copy({ AccessControlGrants: [{ Grantee: { TypeIdentifier: 'id', Identifier: 'abc' }, Permission: 'WRITE' }] })).toEqual([
      expect.stringMatching(/^Operation\.S3PutObjectCopy\.AccessControlGrants\[0\]\.Permission: WRITE cannot be granted on an object/),
    ]);
  });

  test('timestamps accept ISO text and epoch seconds', () => {
    const r = validateJobSpec({
      ...base,
      Operation: { S3PutObjectCopy: { TargetResource: 'arn:aws:s3:::dest', ModifiedSinceConstraint: 0 } },
    });
    expect(r.ok && r.job.operation.name === 'S3PutObjectCopy' && r.job.operation.params.ModifiedSinceConstraint).toBe(
      '1970-01-01T00:00:00.000Z'
    );
  });

  test('a manifest is required: Manifest or ManifestGenerator, not both', () => {
    const { Manifest: _m, ...noManifest } = base;
    expect(problems(noManifest)).toEqual(['Manifest: required (or ManifestGenerator, or Extensions.RedriveOf)']);
    const generator = { S3JobManifestGenerator: { SourceBucket: 'arn:aws:s3:::src', EnableManifestOutput: false } };
    expect(problems({ ...base, ManifestGenerator: generator })).toEqual(['ManifestGenerator: give either Manifest or ManifestGenerator, not both']);
    expect(problems({ ...base, ManifestGenerator: {} })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ManifestGenerator.S3JobManifestGenerator: /)])
    );
  });

  describe('generated manifests', () => {
    const { Manifest: _m, ...noManifest } = base;
    const generated = (gen: Record<string, unknown>, extra: Partial<CreateJobInput> = {}) => ({
      ...noManifest,
      ManifestGenerator: { S3JobManifestGenerator: { SourceBucket: 'arn:aws:s3:::src', EnableManifestOutput: false, ...gen } },
      ...extra,
    });

    test('resolved: source, listing mode, filter, and where the listing goes', () => {
      const r = validateJobSpec(
        generated({
          Filter: {
            KeyNameConstraint: { MatchAnyPrefix: ['logs/'] },
            CreatedAfter: '2024-01-01T00:00:00Z',
            ObjectSizeGreaterThanBytes: 10,
            MatchAnyStorageClass: ['STANDARD'],
          },
        })
      );
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.job.generator).toEqual({
        sourceBucket: 'src',
        connection: 'default',
        versions: 'Current',
        filter: { prefix: 'logs/', createdAfter: '2024-01-01T00:00:00.000Z', sizeGreaterThan: 10, storageClasses: ['STANDARD'] },
        // Without EnableManifestOutput, the listing is a working copy in the report folder.
        output: { connection: 'default', bucket: 'reports', prefix: 'r', kept: false },
      });
    });

    test('EnableManifestOutput writes to ManifestOutputLocation', () => {
      const r = validateJobSpec(
        generated({
          EnableManifestOutput: true,
          ManifestOutputLocation: { Bucket: 'arn:aws:s3:::out', ManifestPrefix: 'gen/', ManifestFormat: 'S3InventoryReport_CSV_20211130' },
        })
      );
      expect(r.ok && r.job.generator!.output).toEqual({ connection: 'default', bucket: 'out', prefix: 'gen', kept: true });
    });

    test('refusals say why', () => {
      expect(problems(generated({ EnableManifestOutput: true }))).toEqual([
        'ManifestGenerator.S3JobManifestGenerator.ManifestOutputLocation: required when EnableManifestOutput is true',
      ]);
      expect(problems(generated({}, { Report: { Enabled: false } }))).toEqual([
        expect.stringMatching(/^ManifestGenerator.S3JobManifestGenerator.EnableManifestOutput: the generated listing is written to S3/),
      ]);
      expect(problems(generated({ Filter: { KeyNameConstraint: { MatchAnySuffix: ['.a', '.b'] } } }))).toEqual([
        'ManifestGenerator.S3JobManifestGenerator.Filter.KeyNameConstraint.MatchAnySuffix: AWS accepts exactly one suffix in this list',
      ]);
      expect(problems(generated({ Filter: { CreatedAfter: '2024-02-01T00:00:00Z', CreatedBefore: '2024-01-01T00:00:00Z' } }))).toEqual([
        'ManifestGenerator.S3JobManifestGenerator.Filter.CreatedBefore: must be later than CreatedAfter: no object can match',
      ]);
    });
  });

  describe('S3 Inventory manifests', () => {
    const inventory = {
      ...base,
      Manifest: {
        Spec: { Format: 'S3InventoryReport_CSV_20161130' as const },
        Location: { ObjectArn: 'arn:aws:s3:::inv/src/cfg/2024-01-01T00-00Z/manifest.json', ETag: 'abc' },
      },
    };

    test('resolved: the inventory to read, and a CSV to gather its rows into in the report folder', () => {
      const r = validateJobSpec(inventory);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.job.inventory).toEqual({ bucket: 'inv', key: 'src/cfg/2024-01-01T00-00Z/manifest.json', etag: 'abc', connection: 'default' });
      expect(r.job.manifest).toMatchObject({ bucket: 'reports', key: '', columns: { bucket: 0, key: 1, versionId: 2, count: 3 } });
    });

    test('needs the report, and takes no Fields', () => {
      expect(problems({ ...inventory, Report: { Enabled: false } })).toEqual([expect.stringMatching(/^Report.Enabled: must be true for an S3 Inventory manifest/)]);
      expect(problems({ ...inventory, Manifest: { ...inventory.Manifest, Spec: { ...inventory.Manifest.Spec, Fields: ['Bucket', 'Key'] } } })).toEqual([
        expect.stringMatching(/^Manifest.Spec.Fields: applies only to CSV manifests/),
      ]);
    });
  });

  test('extensions are validated', () => {
    expect(problems({ ...base, Extensions: { Connection: 'has space', PageSize: 0 } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Extensions.Connection: /), expect.stringMatching(/^Extensions.PageSize: /)])
    );
  });

  test('SuspendedExpirySeconds: AWS\'s 30 days by default, from 1 second up to 30 days', () => {
    const r = validateJobSpec(base);
    expect(r.ok && r.job.extensions.SuspendedExpirySeconds).toBe(SUSPENDED_EXPIRY_SECONDS);
    expect(SUSPENDED_EXPIRY_SECONDS).toBe(30 * 24 * 3600);
    expect(problems({ ...base, Extensions: { SuspendedExpirySeconds: 1 } })).toEqual([]);
    expect(problems({ ...base, Extensions: { SuspendedExpirySeconds: 0 } })).toEqual([expect.stringMatching(/^Extensions.SuspendedExpirySeconds: /)]);
    expect(problems({ ...base, Extensions: { SuspendedExpirySeconds: SUSPENDED_EXPIRY_SECONDS + 1 } })).toEqual([
      expect.stringMatching(/^Extensions.SuspendedExpirySeconds: /),
    ]);
    expect([30 * 86_400, 3 * 3600, 90, 1].map(suspendedExpiryText)).toEqual(['30 days', '3 hours', '90 seconds', '1 second']);
  });

  test('every ExpectedBucketOwner is resolved onto its bucket and checked in Preparing', () => {
    const generated = (output: boolean): CreateJobInput => ({
      ...base,
      Manifest: undefined,
      Report: { ...base.Report, ExpectedBucketOwner: '111111111111' },
      ManifestGenerator: {
        S3JobManifestGenerator: {
          SourceBucket: 'arn:aws:s3:::source',
          ExpectedBucketOwner: '222222222222',
          EnableManifestOutput: output,
          ...(output
            ? { ManifestOutputLocation: { Bucket: 'arn:aws:s3:::out', ExpectedManifestBucketOwner: '333333333333', ManifestFormat: 'S3InventoryReport_CSV_20211130' as const } }
            : {}),
        },
      },
      Extensions: { ManifestConnection: 'src', ReportConnection: 'rep' },
    });
    const kept = validateJobSpec(generated(true));
    if (!kept.ok) throw new Error(JSON.stringify(kept.problems));
    expect(kept.job.report!.expectedOwner).toBe('111111111111');
    expect(kept.job.generator).toMatchObject({ expectedOwner: '222222222222', output: { bucket: 'out', expectedOwner: '333333333333' } });
    // Pages read the data files from the output bucket: with its owner.
    expect(kept.job.manifest).toMatchObject({ bucket: 'out', expectedOwner: '333333333333' });
    const field = 'ManifestGenerator.S3JobManifestGenerator';
    expect(bucketOwnerChecks(kept.job)).toEqual([
      { field: `${field}.ExpectedBucketOwner`, connection: 'src', bucket: 'source', expectedOwner: '222222222222' },
      { field: `${field}.ManifestOutputLocation.ExpectedManifestBucketOwner`, connection: 'rep', bucket: 'out', expectedOwner: '333333333333' },
      { field: 'Report.ExpectedBucketOwner', connection: 'rep', bucket: 'reports', expectedOwner: '111111111111' },
    ]);
    // Without EnableManifestOutput the listing goes into the report folder, under the report's owner.
    const working = validateJobSpec(generated(false));
    if (!working.ok) throw new Error(JSON.stringify(working.problems));
    expect(working.job.manifest).toMatchObject({ bucket: 'reports', expectedOwner: '111111111111' });
    expect(bucketOwnerChecks(working.job).map((c) => c.field)).toEqual([`${field}.ExpectedBucketOwner`, 'Report.ExpectedBucketOwner']);
    // A redrive job's manifest is built in the report folder, and read under the report's owner.
    const redrive = validateJobSpec({
      ...base,
      Manifest: undefined,
      Report: { ...base.Report, ExpectedBucketOwner: '111111111111' },
      Extensions: { RedriveOf: { JobId: 'old-job', ReportManifest: 'arn:aws:s3:::reports/r/job-old-job/manifest.json' } },
    });
    if (!redrive.ok) throw new Error(JSON.stringify(redrive.problems));
    expect(redrive.job.manifest).toMatchObject({ bucket: 'reports', expectedOwner: '111111111111' });
    // No owner named: nothing to check, and nothing added to the resolved job.
    const plain = validateJobSpec(base);
    if (!plain.ok) throw new Error('invalid');
    expect(bucketOwnerChecks(plain.job)).toEqual([]);
    expect(plain.job.report).not.toHaveProperty('expectedOwner');
  });

  test('non-object input gets a clear error', () => {
    expect(problems('hello')).toEqual([expect.stringMatching(/^: expected \{AccountId, .*\}, got text "hello"$/)]);
    expect(problems(null)).toEqual([expect.stringMatching(/^: expected \{AccountId, .*\}, got null$/)]);
  });
});

describe('task execution mode', () => {
  const connections = new Connections(WorkerConfig.parse({ s3: { default: {} } }));

  test.each([
    [undefined, 'LocalActivity', 'LocalActivity'],
    [undefined, 'Activity', 'Activity'],
    ['Activity', 'LocalActivity', 'Activity'],
    ['LocalActivity', 'Activity', 'LocalActivity'],
  ] as const)("job says %s, worker default %s: tasks run as %s, and describeJob's request says so", (asked, workerDefault, runs) => {
    const request = { ...base, Extensions: asked ? { TaskExecution: asked } : undefined };
    const r = validateJob(connections, request, { priorityLevels: 32, taskExecution: workerDefault });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.job.taskExecution).toBe(runs);
    expect(r.job.request.Extensions.TaskExecution).toBe(runs);
    expect(r.job.priorityLevels).toBe(32);
  });

  test('an unknown mode is refused with its path', () => {
    expect(problems({ ...base, Extensions: { TaskExecution: 'Thread' } })).toEqual([
      'Extensions.TaskExecution: expected one of "LocalActivity", "Activity", "Batch", got text "Thread"',
    ]);
  });

  test.each([
    // [job's TaskExecution, job's BatchSize, worker default mode, worker batch size] → [mode, batch size]
    ['Batch', undefined, 'LocalActivity', undefined, 'Batch', 50],
    ['Batch', 20, 'LocalActivity', 100, 'Batch', 20],
    [undefined, undefined, 'Batch', 100, 'Batch', 100],
    [undefined, 20, 'LocalActivity', 100, 'LocalActivity', undefined],
  ] as const)('Batch mode: job says %s with BatchSize %s, worker default %s with batchSize %s: runs %s, %s rows per batch', (asked, size, workerDefault, workerSize, runs, rows) => {
    const request = { ...base, Extensions: { ...(asked ? { TaskExecution: asked } : {}), ...(size ? { BatchSize: size } : {}) } };
    const r = validateJob(connections, request, { priorityLevels: 5, taskExecution: workerDefault, batchSize: workerSize });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.job.taskExecution).toBe(runs);
    expect(r.job.batchSize).toBe(rows);
    // describeJob's request shows the batch size the job runs with (and only in Batch mode, where it means something).
    expect(r.job.request.Extensions.BatchSize).toBe(rows ?? size);
  });

  test('a batch size out of bounds is refused with its path', () => {
    expect(problems({ ...base, Extensions: { TaskExecution: 'Batch', BatchSize: 0 } })).toEqual([
      expect.stringMatching(/^Extensions\.BatchSize: .*1/),
    ]);
    expect(problems({ ...base, Extensions: { TaskExecution: 'Batch', BatchSize: 501 } })).toEqual([
      expect.stringMatching(/^Extensions\.BatchSize: .*500/),
    ]);
  });
});
