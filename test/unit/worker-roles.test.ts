/**
 * Roles in the worker config (src/schemas/roles.ts) and their enforcement in validateJob and runTask's check
 * (src/activities/role-access.ts): configuration mistakes are start-up errors with exact messages, never an open door.
 */
import { Connections } from '../../src/activities/s3-clients';
import { taskAccessDenied } from '../../src/activities/role-access';
import { validateJob, type WorkerJobDefaults } from '../../src/activities/validate-job';
import { rolesStartupLine } from '../../src/schemas/roles';
import { parseWorkerConfig, WorkerConfigError, type WorkerConfigInput } from '../../src/schemas/worker-config';
import type { ResolvedOperation } from '../../src/schemas/operations';

const ROLE = 'arn:aws:iam::111122223333:role/team-a';
const s3 = { team: { endpoint: 'http://127.0.0.1:1' }, other: { endpoint: 'http://127.0.0.1:2' } };

function config(roles: unknown, extra: Partial<WorkerConfigInput> = {}) {
  return parseWorkerConfig({ s3, ...extra, roles }, 'test.json');
}

/** The problems of a config, one per line, as the worker prints them at start-up. */
function problems(roles: unknown, extra: Partial<WorkerConfigInput> = {}): string[] {
  try {
    config(roles, extra);
  } catch (err) {
    expect(err).toBeInstanceOf(WorkerConfigError);
    return (err as Error).message.split('\n').slice(1).map((l) => l.replace(/^\s*- /, ''));
  }
  throw new Error('the config was accepted');
}

const teamA = {
  connections: ['team'],
  manifestRead: ['manifests/team-a/'],
  reportWrite: ['reports/team-a/'],
  actOn: { readOnly: ['data-a'], write: ['data-a/tagged/'] },
};

describe('roles in the worker config', () => {
  test('a good role parses, with the lists it leaves out empty', () => {
    expect(config({ [ROLE]: teamA }).roles![ROLE]).toEqual({ ...teamA, actOn: { ...teamA.actOn, delete: [] } });
  });

  test('no roles: undefined, and the worker says at start-up that it runs single-tenant', () => {
    expect(config(undefined).roles).toBeUndefined();
    expect(rolesStartupLine(undefined)).toBe(
      'roles: none configured; single-tenant mode: RoleArn is recorded and grants nothing, every job may use every connection'
    );
    expect(rolesStartupLine(config({ [ROLE]: teamA }).roles)).toBe('roles: 1 configured; every job must name one in RoleArn, and runs within it');
  });

  test('a key that is not a role ARN', () => {
    expect(problems({ 'team-a': teamA })).toEqual([
      'roles.team-a: expected a role ARN, arn:aws:iam::<12-digit account>:role/<name>',
    ]);
    expect(problems({ 'arn:aws:iam::1111:role/x': teamA })[0]).toMatch(/expected a role ARN/);
  });

  test('an empty roles object, an empty policy, a role with no locations', () => {
    expect(problems({})).toEqual(['roles: empty: define at least one role, or leave roles out for a single-tenant worker']);
    expect(problems({ [ROLE]: { ...teamA, actOn: {} } })).toEqual([
      `roles.${ROLE}.actOn: empty policy: name at least one location under readOnly, write or delete`,
    ]);
    expect(problems({ [ROLE]: {} })).toEqual([
      `roles.${ROLE}.connections: required (a list of text)`,
      `roles.${ROLE}.manifestRead: required (a list of text)`,
      `roles.${ROLE}.actOn: required ({readOnly, write, delete})`,
    ]);
    expect(problems({ [ROLE]: { ...teamA, connections: [], manifestRead: [] } })).toEqual([
      `roles.${ROLE}.connections: name at least one S3 connection`,
      `roles.${ROLE}.manifestRead: name at least one location manifests may be read from`,
    ]);
  });

  test('unknown connections', () => {
    expect(problems({ [ROLE]: { ...teamA, connections: ['team', 'nope'], lambda: { connection: 'fn', functions: ['f'] } } })).toEqual([
      `roles.${ROLE}.connections.1: unknown S3 connection "nope": s3 does not define it`,
      `roles.${ROLE}.lambda.connection: unknown Lambda connection "fn": lambda does not define it`,
    ]);
    expect(problems({ [ROLE]: { ...teamA, connections: ['constructor'] } })).toEqual([
      `roles.${ROLE}.connections.0: unknown S3 connection "constructor": s3 does not define it`,
    ]);
  });

  test('overlapping and malformed prefixes', () => {
    expect(problems({ [ROLE]: { ...teamA, actOn: { write: ['data-a/x/', 'data-a', 'data-a/x/'] } } })).toEqual([
      `roles.${ROLE}.actOn.write.0: "data-a/x/" overlaps "data-a" (listed too): list each location once, the widest you mean`,
      `roles.${ROLE}.actOn.write.2: "data-a/x/" overlaps "data-a/x/" (listed too): list each location once, the widest you mean`,
    ]);
    expect(problems({ [ROLE]: { ...teamA, reportWrite: ['data-a/reports/'], actOn: { delete: ['data-a'] } } })).toEqual([
      `roles.${ROLE}.actOn.delete.0: "data-a" overlaps reportWrite "data-a/reports/": jobs of this role could delete completion reports`,
    ]);
    expect(problems({ [ROLE]: { ...teamA, actOn: { write: ['data-a/logs', 'data-a/*', 'data-a/', 'Data_A', 'b/../x/', 'b//x/'] } } })).toEqual([
      `roles.${ROLE}.actOn.write.0: "data-a/logs": a prefix must end with "/" (otherwise "logs" would also grant "logs-other/…")`,
      `roles.${ROLE}.actOn.write.1: "data-a/*": * and ? are not patterns here; a prefix matches every key that starts with it`,
      `roles.${ROLE}.actOn.write.2: "data-a/": drop the trailing "/" to mean the whole bucket`,
      `roles.${ROLE}.actOn.write.3: "Data_A": expected "bucket" or "bucket/prefix/" with a valid bucket name`,
      `roles.${ROLE}.actOn.write.4: "b/../x/": expected "bucket" or "bucket/prefix/" with a valid bucket name`,
      `roles.${ROLE}.actOn.write.5: "b//x/": expected "bucket" or "bucket/prefix/" with a valid bucket name`,
    ]);
    expect(problems({ [ROLE]: { ...teamA, actOn: { write: ['bkt/../x/', 'bkt/a//b/'] } } })).toEqual([
      `roles.${ROLE}.actOn.write.0: "bkt/../x/": a prefix may not start with "/" nor hold "//", "." or ".." segments`,
      `roles.${ROLE}.actOn.write.1: "bkt/a//b/": a prefix may not start with "/" nor hold "//", "." or ".." segments`,
    ]);
  });
});

describe('validateJob with roles', () => {
  const cfg = config(
    { [ROLE]: teamA, 'arn:aws:iam::444455556666:role/team-b': { ...teamA, connections: ['other'] } },
    { lambda: { default: { endpoint: 'http://127.0.0.1:3' } } }
  );
  const connections = new Connections(cfg);
  const defaults: WorkerJobDefaults = { priorityLevels: 5, taskExecution: 'Activity', roles: cfg.roles };
  afterAll(() => connections.destroy());

  function job(overrides: Record<string, unknown> = {}, operation: unknown = { S3PutObjectTagging: { TagSet: [] } }) {
    return {
      AccountId: '111122223333',
      RoleArn: ROLE,
      Priority: 1,
      Operation: operation,
      Manifest: {
        Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
        Location: { ObjectArn: 'arn:aws:s3:::manifests/team-a/m.csv', ETag: 'e' },
      },
      Report: { Enabled: true, Bucket: 'arn:aws:s3:::reports', Prefix: 'team-a', Format: 'Report_CSV_20180820', ReportScope: 'AllTasks' },
      ...overrides,
    };
  }
  const reasons = (request: unknown) => {
    const result = validateJob(connections, request, defaults);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };

  test('the role picks the connection, and the task carries the role', () => {
    const result = validateJob(connections, job(), defaults);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.job).toMatchObject({ connection: 'team', role: ROLE, manifest: { connection: 'team' }, report: { connection: 'team' } });
    expect(result.job.request.Extensions.Connection).toBe('team');
  });

  test('no RoleArn, an unknown role', () => {
    const { RoleArn: _, ...without } = job();
    expect(reasons(without)).toEqual(["RoleArn: required: this worker's config defines roles, and a job runs as one of them"]);
    expect(reasons(job({ RoleArn: 'arn:aws:iam::111122223333:role/nobody' }))).toEqual([
      'RoleArn: role arn:aws:iam::111122223333:role/nobody is not configured on this worker',
    ]);
    // Names every plain object answers to are not roles.
    for (const arn of ['constructor', '__proto__', 'toString']) {
      expect(reasons(job({ RoleArn: arn }))).toEqual([`RoleArn: role ${arn} is not configured on this worker`]);
    }
  });

  test('a connection outside the role, the manifest and report outside it, deletes it does not grant', () => {
    expect(reasons(job({ Extensions: { Connection: 'other' } }))).toEqual([
      `Extensions.Connection: role ${ROLE} does not allow the S3 connection "other" (it allows: team)`,
      `Extensions.ManifestConnection: role ${ROLE} does not allow the S3 connection "other" (it allows: team)`,
      `Extensions.ReportConnection: role ${ROLE} does not allow the S3 connection "other" (it allows: team)`,
    ]);
    const outside = job({
      Manifest: { ...job().Manifest, Location: { ObjectArn: 'arn:aws:s3:::manifests/team-b/m.csv', ETag: 'e' } },
      Report: { ...job().Report, Prefix: 'team-b' },
    });
    expect(reasons(outside)).toEqual([
      `Manifest.Location.ObjectArn: role ${ROLE} does not allow reading the manifest s3://manifests/team-b/m.csv (it allows: manifests/team-a/)`,
      `Report.Bucket: role ${ROLE} does not allow writing the report to s3://reports/team-b/ (it allows: reports/team-a/)`,
    ]);
    expect(reasons(job({}, { S3DeleteObject: { ConfirmDataDeletion: true } }))).toEqual([
      `Operation: role ${ROLE} does not allow S3DeleteObject: it grants no deletes (actOn.delete is empty)`,
    ]);
    expect(reasons(job({}, { S3PutObjectCopy: { TargetResource: 'arn:aws:s3:::data-b', TargetKeyPrefix: 'x/' } }))).toEqual([
      `Operation.S3PutObjectCopy.TargetResource: role ${ROLE} does not allow copying to s3://data-b/x/ (it allows: data-a/tagged/)`,
    ]);
    expect(reasons(job({}, { LambdaInvoke: { FunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:f' } }))[0]).toMatch(
      /does not allow invoking Lambda functions \(it names none\): f/
    );
  });
  test("a generator's source and output, a redrive's earlier report: within the role", () => {
    const { Manifest: _, ...noManifest } = job();
    const generated = (prefix: string, output: string) => ({
      ...noManifest,
      ManifestGenerator: {
        S3JobManifestGenerator: {
          SourceBucket: 'arn:aws:s3:::data-a',
          Filter: { KeyNameConstraint: { MatchAnyPrefix: [prefix] } },
          EnableManifestOutput: true,
          ManifestOutputLocation: { Bucket: 'arn:aws:s3:::reports', ManifestPrefix: output, ManifestFormat: 'S3InventoryReport_CSV_20211130' },
        },
      },
    });
    expect(reasons(generated('tagged/x', 'team-a/lists'))).toEqual([]);
    expect(reasons(generated('tag', 'team-b'))).toEqual([
      `ManifestGenerator.S3JobManifestGenerator.SourceBucket: role ${ROLE} does not allow S3PutObjectTagging on s3://data-a/tag (it allows: data-a/tagged/)`,
      `ManifestGenerator.S3JobManifestGenerator.ManifestOutputLocation: role ${ROLE} does not allow writing the generated manifest to s3://reports/team-b/ (it allows: reports/team-a/)`,
    ]);
    const redrive = (reportManifest: string) => ({
      ...noManifest,
      Extensions: { RedriveOf: { JobId: 'j1', ReportManifest: `arn:aws:s3:::${reportManifest}` } },
    });
    expect(reasons(redrive('reports/team-a/job-j1/manifest.json'))).toEqual([]);
    expect(reasons(redrive('reports/team-b/job-j1/manifest.json'))).toEqual([
      `Extensions.RedriveOf.ReportManifest: role ${ROLE} does not allow reading the earlier job's report manifest s3://reports/team-b/job-j1/manifest.json (it allows: manifests/team-a/, reports/team-a/)`,
    ]);
  });
});

describe("a task's object, checked before its call", () => {
  const roles = config({ [ROLE]: { ...teamA, actOn: { ...teamA.actOn, delete: ['data-a/trash/'] } } }).roles!;
  const tagging: ResolvedOperation = { name: 'S3PutObjectTagging', params: { TagSet: [] } } as any;
  const task = (key: string, operation = tagging, extra = {}) => ({ role: ROLE, connection: 'team', operation, object: { bucket: 'data-a', key }, ...extra });

  test('inside the role: allowed; outside: AccessDenied 403, naming the role and the object', () => {
    expect(taskAccessDenied(roles, task('tagged/1'))).toBeUndefined();
    expect(taskAccessDenied(roles, task('tagged-not/1'))).toEqual({
      status: 'failed',
      errorCode: 'AccessDenied',
      httpStatus: 403,
      message: `Access Denied: role ${ROLE} does not allow S3PutObjectTagging on s3://data-a/tagged-not/1 (writes allowed on: data-a/tagged/)`,
    });
    const del = { name: 'S3DeleteObject', params: {} } as ResolvedOperation;
    expect(taskAccessDenied(roles, task('trash/1', del))).toBeUndefined();
    expect(taskAccessDenied(roles, task('tagged/1', del))?.message).toMatch(/does not allow S3DeleteObject on s3:\/\/data-a\/tagged\/1 \(deletes allowed on: data-a\/trash\/\)/);
  });

  test('a task with no role, an unknown role or another connection is denied; no roles: nothing is checked', () => {
    expect(taskAccessDenied(roles, task('tagged/1', tagging, { role: undefined }))?.message).toBe(
      "Access Denied: the task names no role, and this worker's config defines roles"
    );
    expect(taskAccessDenied(roles, task('tagged/1', tagging, { role: 'arn:aws:iam::111122223333:role/x' }))?.errorCode).toBe('AccessDenied');
    expect(taskAccessDenied(roles, task('tagged/1', tagging, { connection: 'other' }))?.message).toMatch(/does not allow the S3 connection "other"/);
    expect(taskAccessDenied(roles, task('tagged/1', tagging, { role: 'constructor' }))?.message).toBe(
      'Access Denied: role constructor is not configured on this worker'
    );
    expect(taskAccessDenied(undefined, task('anything', tagging, { role: undefined }))).toBeUndefined();
  });

  test("a copy's target key and a Lambda function are checked per task too", () => {
    const copy = { name: 'S3PutObjectCopy', params: { TargetResource: 'arn:aws:s3:::data-a', TargetKeyPrefix: 'tagged/' } } as ResolvedOperation;
    // The source is read-only access (data-a), the target `tagged/` + key is a write inside data-a/tagged/.
    expect(taskAccessDenied(roles, task('src/1', copy))).toBeUndefined();
    const outside = { ...copy, params: { ...copy.params, TargetKeyPrefix: 'tagged' } } as ResolvedOperation;
    expect(taskAccessDenied(roles, task('x/1', outside))?.message).toBe(
      `Access Denied: role ${ROLE} does not allow copying to s3://data-a/taggedx/1 (writes allowed on: data-a/tagged/)`
    );
    const lambdaRoles = config(
      { [ROLE]: { ...teamA, lambda: { connection: 'fn', functions: ['arn:aws:lambda:us-east-1:111122223333:function:thumbs'] } } },
      { lambda: { fn: {}, other: {} } }
    ).roles!;
    const invoke = (fn: string) => ({ name: 'LambdaInvoke', params: { FunctionArn: fn } }) as ResolvedOperation;
    expect(taskAccessDenied(lambdaRoles, task('tagged/1', invoke('thumbs:live'), { lambdaConnection: 'fn' }))).toBeUndefined();
    expect(taskAccessDenied(lambdaRoles, task('tagged/1', invoke('resize'), { lambdaConnection: 'fn' }))?.message).toBe(
      `Access Denied: role ${ROLE} does not allow invoking the function resize (it allows: arn:aws:lambda:us-east-1:111122223333:function:thumbs)`
    );
    expect(taskAccessDenied(lambdaRoles, task('tagged/1', invoke('thumbs'), { lambdaConnection: 'other' }))?.message).toBe(
      `Access Denied: role ${ROLE} does not allow the Lambda connection "other" (it allows: fn)`
    );
  });
});
