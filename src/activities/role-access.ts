/**
 * Enforcing roles (worker config `roles`, src/schemas/roles.ts) in the worker, so every way of starting a job (the CLI,
 * the HTTP API, `temporal workflow start`) is held to them:
 *   - validateJob: the job's RoleArn must name a configured role; the role picks the connection when the job names
 *     none, and every connection, the manifest, the report folder, a generator's source and output, a copy's target
 *     and a Lambda function must lie within the role. Otherwise the job fails in New, naming the role and location.
 *   - runTask: each object is checked before its call, against the worker's config as it is now (the task carries
 *     only the role's ARN, never a policy: a role narrowed or removed holds the tasks not yet run). Outside the role,
 *     the task fails with AccessDenied, 403, as on AWS, and no request is sent.
 */
import { bucketFromArn } from '../schemas/arn';
import type { ResolvedJob, SpecProblem } from '../schemas/job-spec';
import type { ResolvedOperation } from '../schemas/operations';
import { allows, OPERATION_ACCESS, type AccessKind, type RolePolicy, type RolesConfig } from '../schemas/roles';
import type { TaskResult } from '../shared/types';
import type { TaskObject } from './operations/operation';

const KIND_LABEL: Record<AccessKind, string> = { readOnly: 'read-only operations', write: 'writes', delete: 'deletes' };

/** `s3://bucket/key` */
const s3Url = (bucket: string, key: string) => `s3://${bucket}/${key}`;

function listed(locations: readonly string[]): string {
  return locations.length ? locations.join(', ') : 'none';
}

/**
 * The request with the role's defaults filled in: its first connection when the job names none, its Lambda
 * connection for a LambdaInvoke job that names none. The request is raw input (not yet validated): anything that is
 * not a plain object is passed through for the spec validation to reject.
 */
export function withRoleDefaults(request: unknown, roles: RolesConfig): unknown {
  if (!isObject(request) || typeof request.RoleArn !== 'string') return request;
  const role = roleOf(roles, request.RoleArn);
  if (!role) return request;
  const ext = isObject(request.Extensions) ? request.Extensions : request.Extensions === undefined ? {} : undefined;
  if (!ext) return request;
  const filled: Record<string, unknown> = { ...ext };
  if (filled.Connection === undefined) filled.Connection = role.connections[0];
  if (filled.LambdaConnection === undefined && role.lambda && isObject(request.Operation) && request.Operation.LambdaInvoke !== undefined) {
    filled.LambdaConnection = role.lambda.connection;
  }
  return { ...request, Extensions: filled };
}

/** The role of that ARN; own keys only, so a RoleArn such as "constructor" or "__proto__" names no role. */
function roleOf(roles: RolesConfig, arn: string): RolePolicy | undefined {
  return Object.hasOwn(roles, arn) ? roles[arn] : undefined;
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why the job's RoleArn names no role of this worker, or undefined. */
export function roleArnProblem(arn: string | undefined, roles: RolesConfig): SpecProblem | undefined {
  if (!arn) return { path: 'RoleArn', message: "required: this worker's config defines roles, and a job runs as one of them" };
  if (!roleOf(roles, arn)) return { path: 'RoleArn', message: `role ${arn} is not configured on this worker` };
  return undefined;
}

/** Why the role does not allow the job, one problem per field (empty: it does). */
export function jobRoleProblems(job: ResolvedJob, roles: RolesConfig): SpecProblem[] {
  const arnProblem = roleArnProblem(job.request.RoleArn, roles);
  if (arnProblem) return [arnProblem];
  const arn = job.request.RoleArn!;
  const role = roleOf(roles, arn)!;
  const problems: SpecProblem[] = [];
  const deny = (path: string, what: string, locations: readonly string[]) =>
    problems.push({ path, message: `role ${arn} does not allow ${what} (it allows: ${listed(locations)})` });

  const connections: [string, string][] = [['Extensions.Connection', job.connection], ['Extensions.ManifestConnection', job.manifest.connection]];
  if (job.report) connections.push(['Extensions.ReportConnection', job.report.connection]);
  if (job.inventory) connections.push(['Extensions.ManifestConnection', job.inventory.connection]);
  if (job.generator) connections.push(['Extensions.ManifestConnection', job.generator.connection], ['Extensions.ReportConnection', job.generator.output.connection]);
  const seen = new Set<string>();
  for (const [path, name] of connections) {
    if (role.connections.includes(name) || seen.has(`${path}=${name}`)) continue;
    seen.add(`${path}=${name}`);
    deny(path, `the S3 connection "${name}"`, role.connections);
  }

  // Where the manifest is read from. A redrive reads the earlier job's report manifest; an inventory job its
  // manifest.json; a generated job lists objects instead (checked below, as the objects it acts on).
  if (job.redrive) {
    const { bucket, key } = job.redrive;
    const readable = [...role.manifestRead, ...role.reportWrite];
    if (!allows(readable, bucket, key)) deny('Extensions.RedriveOf.ReportManifest', `reading the earlier job's report manifest ${s3Url(bucket, key)}`, readable);
  } else if (job.inventory) {
    const { bucket, key } = job.inventory;
    if (!allows(role.manifestRead, bucket, key)) deny('Manifest.Location.ObjectArn', `reading the manifest ${s3Url(bucket, key)}`, role.manifestRead);
  } else if (!job.generator) {
    const { bucket, key } = job.manifest;
    if (!allows(role.manifestRead, bucket, key)) deny('Manifest.Location.ObjectArn', `reading the manifest ${s3Url(bucket, key)}`, role.manifestRead);
  }
  if (job.report) {
    const folder = job.report.prefix ? `${job.report.prefix}/` : '';
    if (!allows(role.reportWrite, job.report.bucket, folder)) {
      deny('Report.Bucket', `writing the report to ${s3Url(job.report.bucket, folder)}`, role.reportWrite);
    }
  }
  const kind = OPERATION_ACCESS[job.operation.name];
  const actOn = role.actOn[kind];
  if (actOn.length === 0) {
    problems.push({ path: 'Operation', message: `role ${arn} does not allow ${job.operation.name}: it grants no ${KIND_LABEL[kind]} (actOn.${kind} is empty)` });
  }
  if (job.generator) {
    const { sourceBucket, filter, output } = job.generator;
    const prefix = filter.prefix ?? '';
    if (actOn.length > 0 && !allows(actOn, sourceBucket, prefix)) {
      deny('ManifestGenerator.S3JobManifestGenerator.SourceBucket', `${job.operation.name} on ${s3Url(sourceBucket, prefix)}`, actOn);
    }
    if (output.kept) {
      const folder = output.prefix ? `${output.prefix}/` : '';
      if (!allows(role.reportWrite, output.bucket, folder)) {
        const path = 'ManifestGenerator.S3JobManifestGenerator.ManifestOutputLocation';
        deny(path, `writing the generated manifest to ${s3Url(output.bucket, folder)}`, role.reportWrite);
      }
    }
  }
  const target = copyTarget(job.operation);
  if (target && !allows(role.actOn.write, target.bucket, target.prefix)) {
    deny('Operation.S3PutObjectCopy.TargetResource', `copying to ${s3Url(target.bucket, target.prefix)}`, role.actOn.write);
  }
  const lambda = lambdaProblem(role, job.operation, job.lambdaConnection);
  if (lambda) problems.push({ path: 'Operation.LambdaInvoke.FunctionArn', message: `role ${arn} does not allow ${lambda}` });
  return problems;
}

function copyTarget(operation: ResolvedOperation): { bucket: string; prefix: string } | undefined {
  if (operation.name !== 'S3PutObjectCopy') return undefined;
  return { bucket: bucketFromArn(operation.params.TargetResource)!, prefix: operation.params.TargetKeyPrefix ?? '' };
}

/** What a LambdaInvoke job or task may not do under the role, or undefined. */
function lambdaProblem(role: RolePolicy, operation: ResolvedOperation, lambdaConnection: string | undefined): string | undefined {
  if (operation.name !== 'LambdaInvoke') return undefined;
  const fn = functionName(operation.params.FunctionArn);
  if (!role.lambda) return `invoking Lambda functions (it names none): ${fn}`;
  if (lambdaConnection !== role.lambda.connection) {
    return `the Lambda connection "${lambdaConnection}" (it allows: ${role.lambda.connection})`;
  }
  if (!role.lambda.functions.some((allowed) => functionName(allowed) === fn)) {
    return `invoking the function ${fn} (it allows: ${role.lambda.functions.join(', ')})`;
  }
  return undefined;
}

/** `arn:aws:lambda:region:acct:function:name[:qualifier]`, `name[:qualifier]` → `name`. */
export function functionName(functionArn: string): string {
  const parts = functionArn.split(':');
  const at = parts.indexOf('function');
  return at >= 0 && parts[at + 1] ? parts[at + 1]! : parts[0]!;
}

export interface TaskAccess {
  /** The job's role ARN (absent on jobs validated by a worker without roles). */
  role?: string;
  connection: string;
  lambdaConnection?: string;
  operation: ResolvedOperation;
  object: TaskObject;
}

/** The failed result of a task its role does not allow (AWS: AccessDenied, 403), or undefined when it is allowed. */
export function taskAccessDenied(roles: RolesConfig | undefined, task: TaskAccess): TaskResult | undefined {
  if (!roles) return undefined;
  const why = taskProblem(roles, task);
  return why ? { status: 'failed', errorCode: 'AccessDenied', httpStatus: 403, message: `Access Denied: ${why}` } : undefined;
}

function taskProblem(roles: RolesConfig, task: TaskAccess): string | undefined {
  if (!task.role) return "the task names no role, and this worker's config defines roles";
  const role = roleOf(roles, task.role);
  if (!role) return `role ${task.role} is not configured on this worker`;
  const deny = (what: string) => `role ${task.role} does not allow ${what}`;
  if (!role.connections.includes(task.connection)) return deny(`the S3 connection "${task.connection}"`);
  const { bucket, key } = task.object;
  const kind = OPERATION_ACCESS[task.operation.name];
  if (!allows(role.actOn[kind], bucket, key)) return deny(`${task.operation.name} on ${s3Url(bucket, key)} (${KIND_LABEL[kind]} allowed on: ${listed(role.actOn[kind])})`);
  const target = copyTarget(task.operation);
  if (target && !allows(role.actOn.write, target.bucket, `${target.prefix}${key}`)) {
    return deny(`copying to ${s3Url(target.bucket, `${target.prefix}${key}`)} (writes allowed on: ${listed(role.actOn.write)})`);
  }
  const lambda = lambdaProblem(role, task.operation, task.lambdaConnection);
  return lambda ? deny(lambda) : undefined;
}
