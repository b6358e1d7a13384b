/**
 * The job workflow's first step: validate its input as the client would. A job started from the Temporal CLI
 * bypasses our client, and a recorded activity result keeps replay deterministic even after the schema changes.
 * Also checks that every connection the job names exists in this worker's config, and, when the config defines roles,
 * that the job's role allows everything the job names (src/activities/role-access.ts).
 */
import { DEFAULT_BATCH_SIZE, type TaskExecution, validateJobSpec, type SpecValidation } from '../schemas/job-spec';
import type { RolesConfig } from '../schemas/roles';
import type { CustomOperations } from './operations/custom';
import { functionName, jobRoleProblems, roleArnProblem, withRoleDefaults } from './role-access';
import type { Connections } from './s3-clients';
import { isWebhookUrlAllowed } from './status-webhook';

export interface WorkerJobDefaults {
  /** The Temporal server's priority levels (worker config). */
  priorityLevels: number;
  /** How tasks run when the job does not say (worker config). */
  taskExecution: TaskExecution;
  /** Rows per batch activity when the job runs in Batch mode and does not say (worker config). */
  batchSize?: number;
  /** Status webhooks on this worker: whether it has a secret to sign with, and which URLs it may call. */
  webhooks?: { hasSecret: boolean; allowedUrlPrefixes?: string[] };
  /** The operations this worker's operator registered; a job naming another one is refused. */
  customOperations?: CustomOperations;
  /** The worker config's roles; absent: no roles, a job may use every connection (single-tenant). */
  roles?: RolesConfig;
}

export function validateJob(connections: Connections, request: unknown, defaults: WorkerJobDefaults): SpecValidation {
  // The role decides the connection when the job names none: filled in before validation, so every default that
  // follows from Extensions.Connection (manifest, report) follows from the role's.
  const result = validateJobSpec(defaults.roles ? withRoleDefaults(request, defaults.roles) : request);
  if (!result.ok) return result;
  const { job } = result;
  // Without its role, nothing else about the job can be judged (its connections default from the role).
  const arnProblem = defaults.roles && roleArnProblem(job.request.RoleArn, defaults.roles);
  if (arnProblem) return { ok: false, problems: [arnProblem] };
  const named: [string, string][] = [
    ['Extensions.Connection', job.connection],
    ['Extensions.ManifestConnection', job.manifest.connection],
  ];
  if (job.report) named.push(['Extensions.ReportConnection', job.report.connection]);
  // The source of an inventory or a generated listing is read with the manifest connection.
  if (job.inventory) named.push(['Extensions.ManifestConnection', job.inventory.connection]);
  if (job.generator) named.push(['Extensions.ManifestConnection', job.generator.connection], ['Extensions.ReportConnection', job.generator.output.connection]);
  const problems = named
    .filter(([path, name], i) => !connections.has('s3', name) && named.findIndex(([p, n]) => p === path && n === name) === i)
    .map(([path, name]) => ({ path, message: `unknown S3 connection "${name}": the worker config does not define it` }));
  let lambdaConnection: string | undefined;
  if (job.operation.name === 'LambdaInvoke') {
    lambdaConnection = resolveLambdaConnection(connections, job.extensions.LambdaConnection, job.operation.params.FunctionArn);
    if (!connections.has('lambda', lambdaConnection)) {
      problems.push({
        path: job.extensions.LambdaConnection ? 'Extensions.LambdaConnection' : 'Operation.LambdaInvoke.FunctionArn',
        message: `unknown Lambda connection "${lambdaConnection}": the worker config does not define it${
          job.extensions.LambdaConnection ? '' : ' (name one with Extensions.LambdaConnection)'
        }`,
      });
    }
  }
  if (job.operation.name === 'CustomOperation') {
    problems.push(
      ...(defaults.customOperations?.problems(job.operation.params) ?? [
        { path: 'Operation.CustomOperation.Name', message: 'this worker has no custom operations registered' },
      ])
    );
  }
  const webhook = job.extensions.StatusWebhook;
  if (webhook) {
    const problem = webhookProblem(webhook.Url, defaults.webhooks);
    if (problem) problems.push({ path: 'Extensions.StatusWebhook.Url', message: problem });
  }
  if (problems.length === 0 && defaults.roles) {
    problems.push(...jobRoleProblems({ ...job, lambdaConnection }, defaults.roles));
  }
  if (problems.length > 0) return { ok: false, problems };
  const taskExecution = job.extensions.TaskExecution ?? defaults.taskExecution;
  const batchSize = taskExecution === 'Batch' ? (job.extensions.BatchSize ?? defaults.batchSize ?? DEFAULT_BATCH_SIZE) : undefined;
  // The effective mode is echoed in the request, so describeJob and Temporal Web show how the tasks run.
  const Extensions = { ...job.request.Extensions, TaskExecution: taskExecution, ...(batchSize ? { BatchSize: batchSize } : {}) };
  const echoed = { ...job.request, Extensions };
  return {
    ok: true,
    job: {
      ...job,
      request: echoed,
      taskExecution,
      ...(batchSize ? { batchSize } : {}),
      priorityLevels: defaults.priorityLevels,
      lambdaConnection,
      // Carried to every task, which checks its object against the role as the worker config has it then.
      ...(defaults.roles ? { role: job.request.RoleArn } : {}),
    },
  };
}

/**
 * Why this worker will not call a job's webhook, or undefined. A job spec comes from whoever may create jobs, but the
 * call leaves from the worker, inside the operator's network: an allow-list in the worker config keeps jobs from
 * making the worker POST to hosts the operator did not choose (internal services, other tenants' endpoints).
 */
export function webhookProblem(url: string, webhooks: WorkerJobDefaults['webhooks']): string | undefined {
  if (!webhooks?.hasSecret) {
    return 'this worker has no webhook secret to sign notifications with; its operator must set webhooks.secret, webhooks.secretEnv or S3BATCH_WEBHOOK_SECRET';
  }
  if (!isWebhookUrlAllowed(url, webhooks.allowedUrlPrefixes)) {
    return `${url} is not allowed by this worker's webhooks.allowedUrlPrefixes (${webhooks.allowedUrlPrefixes!.join(', ')})`;
  }
  return undefined;
}

/** Extensions.LambdaConnection; else a connection named after the function, if the worker has one; else "default". */
export function resolveLambdaConnection(connections: Connections, named: string | undefined, functionArn: string): string {
  if (named) return named;
  const fn = functionName(functionArn);
  return connections.has('lambda', fn) ? fn : 'default';
}
