/**
 * The job spec: S3 Control's CreateJob request, PascalCase, so that a JSON file written for
 * `aws s3control create-job --cli-input-json` runs unchanged. The one source of truth for the CLI, the HTTP API,
 * the client library and the workflow input (validated again in the job's first activity).
 *
 * What AWS lacks lives under `Extensions`. AccountId is accepted and recorded. RoleArn grants what the worker config's
 * role of that ARN allows (src/schemas/roles.ts); on a worker without roles it is recorded and grants nothing, and the
 * worker's named connections decide what a job can reach. A job names connections, never endpoints or keys.
 */
import { z } from 'zod';
import { bucketFromArn, objectFromArn } from './arn';
import { JobManifestGenerator, resolveFilter, type ResolvedGenerator } from './manifest-generator';
import { JobOperation, resolveOperation, S3Tag, type ResolvedOperation } from './operations';
import { formatProblems, zodProblems, type SpecProblem } from '../shared/problems';

export { formatProblems, type SpecProblem };

const ConnectionName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a connection name (letters, digits, _ . -; at most 64)');

export const TaskExecution = z.enum(['LocalActivity', 'Activity', 'Batch']);
export type TaskExecution = z.infer<typeof TaskExecution>;
/** The measured winner (README, "Performance"); a worker config may choose otherwise. */
export const DEFAULT_TASK_EXECUTION: TaskExecution = 'LocalActivity';
/** Rows per batch activity in Batch mode (Extensions.BatchSize), and its bounds. */
export const DEFAULT_BATCH_SIZE = 50;
export const BatchSize = z.number().int().min(1).max(500);

export const ManifestFormat = z.enum(['S3BatchOperations_CSV_20180820', 'S3InventoryReport_CSV_20161130']);
export const ManifestField = z.enum(['Ignore', 'Bucket', 'Key', 'VersionId']);

export const JobManifest = z
  .object({
    Spec: z
      .object({
        Format: ManifestFormat,
        Fields: z.array(ManifestField).min(2).optional(),
      })
      .strict(),
    Location: z
      .object({
        ObjectArn: z.string().refine((arn) => objectFromArn(arn) !== undefined, {
          message: 'expected an S3 object ARN such as arn:aws:s3:::my-bucket/manifest.csv',
        }),
        ObjectVersionId: z.string().min(1).max(2000).optional(),
        // Required by AWS; optional here: when absent, the ETag seen in Preparing pins the manifest version.
        ETag: z.string().min(1).max(1024).optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    const fields = manifest.Spec.Fields;
    if (!fields) return;
    for (const required of ['Bucket', 'Key'] as const) {
      if (fields.filter((f) => f === required).length !== 1) {
        ctx.addIssue({ code: 'custom', path: ['Spec', 'Fields'], message: `must name ${required} exactly once` });
      }
    }
    if (fields.filter((f) => f === 'VersionId').length > 1) {
      ctx.addIssue({ code: 'custom', path: ['Spec', 'Fields'], message: 'must name VersionId at most once' });
    }
  });

export const JobReport = z
  .object({
    Enabled: z.boolean(),
    Bucket: z
      .string()
      .refine((arn) => bucketFromArn(arn) !== undefined, { message: 'expected an S3 bucket ARN such as arn:aws:s3:::reports' })
      .optional(),
    Format: z.literal('Report_CSV_20180820').optional(),
    Prefix: z.string().min(1).max(512).optional(),
    ReportScope: z.enum(['AllTasks', 'FailedTasksOnly']).optional(),
    ExpectedBucketOwner: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id').optional(),
  })
  .strict()
  .superRefine((report, ctx) => {
    if (!report.Enabled) return;
    if (!report.Bucket) ctx.addIssue({ code: 'custom', path: ['Bucket'], message: 'required when Enabled is true' });
    if (!report.Format) ctx.addIssue({ code: 'custom', path: ['Format'], message: 'required when Enabled is true' });
  });

/**
 * Extensions.StatusWebhook: a URL that the worker POSTs each status change of the job to (JSON, signed with
 * HMAC-SHA256 under the worker's secret). Only http(s), and no credentials in the URL: the spec is workflow input,
 * so anything in it is visible in history (use the signature to authenticate the sender, not the URL).
 */
export const StatusWebhook = z
  .object({
    Url: z
      .string()
      .max(2048)
      .superRefine((url, ctx) => {
        const problem = webhookUrlProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    /**
     * Once the job has ended, how long it may wait for the receiver to accept the changes still queued; after that
     * the workflow ends anyway and describeJob counts the changes left undelivered (S3Batch.StatusWebhook).
     */
    GiveUpAfterHours: z.number().min(0.0001).max(24 * 30).default(24),
    /** Retries of a delivery back off from 1 s, doubling, up to this interval. */
    MaxRetryIntervalSeconds: z.number().int().min(1).max(3600).default(60),
  })
  .strict();

/** Why a webhook URL is refused, or undefined when it is acceptable. */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `expected an http(s) URL such as https://hooks.example.com/s3-batch, got ${JSON.stringify(url)}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `expected an http(s) URL, got the scheme ${parsed.protocol.replace(/:$/, '')}`;
  }
  if (parsed.username || parsed.password) {
    return 'must not carry credentials (user:password@): the URL is recorded in workflow history; receivers check the X-S3Batch-Signature header instead';
  }
  return undefined;
}

/** The columns of a redrive job's built manifest (`Bucket,Key,VersionId`, the old report's first three columns). */
export const REDRIVE_MANIFEST_FIELDS = ['Bucket', 'Key', 'VersionId'] as const;
/** The CSV an S3 Inventory job's rows are gathered into, in its report folder (columns as REDRIVE_MANIFEST_FIELDS). */
export const INVENTORY_MANIFEST_NAME = 'inventory-manifest.csv';
/** The built manifest's name, in the new job's report folder. */
export const REDRIVE_MANIFEST_NAME = 'redrive-manifest.csv';

/**
 * Extensions.RedriveOf (beyond AWS, like Step Functions' redrive): run only the tasks that failed in an earlier job.
 * The job's manifest is built in Preparing from the failed rows of that job's completion report, read through the
 * job's report connection; so the job gives no Manifest, and must write a report (the built manifest goes there).
 */
export const RedriveOf = z
  .object({
    /** The earlier job. */
    JobId: z.string().min(1).max(64),
    /** Its report's manifest.json, e.g. arn:aws:s3:::reports/batch/job-<JobId>/manifest.json. */
    ReportManifest: z.string().refine((arn) => objectFromArn(arn) !== undefined, {
      message: 'expected the S3 object ARN of the earlier job\'s report manifest, such as arn:aws:s3:::reports/prefix/job-<JobId>/manifest.json',
    }),
  })
  .strict()
  .superRefine((redrive, ctx) => {
    const key = objectFromArn(redrive.ReportManifest)?.key;
    if (key !== undefined && !key.endsWith(`job-${redrive.JobId}/manifest.json`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ReportManifest'],
        message: `must be the report manifest of job ${redrive.JobId} (a key ending in job-${redrive.JobId}/manifest.json), got ${key}`,
      });
    }
  });
export type RedriveOf = z.infer<typeof RedriveOf>;

/** Extensions.MaxTasksPerSecond and UpdateJobRate: a positive rate, fractions allowed (0.5 = one task every 2 s). */
export const MAX_TASKS_PER_SECOND_LIMIT = 100_000;
export const MaxTasksPerSecond = z.number().min(0.001).max(MAX_TASKS_PER_SECOND_LIMIT);

/** AWS fails a job left in Suspended for 30 days: the default, and the longest Extensions.SuspendedExpirySeconds. */
export const SUSPENDED_EXPIRY_SECONDS = 30 * 24 * 3600;

/** "30 days", "90 seconds": how long a Suspended job may wait, for failure reasons. */
export function suspendedExpiryText(seconds: number): string {
  const [unit, size] = seconds % 86_400 === 0 ? ['day', 86_400] : seconds % 3600 === 0 ? ['hour', 3600] : ['second', 1];
  const count = seconds / (size as number);
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** Our additions to CreateJob. Every field is optional; defaults are chosen for a small worker. */
export const JobExtensions = z
  .object({
    /** Worker-config name of the S3 connection the tasks use. */
    Connection: ConnectionName.default('default'),
    /** Connection for reading the manifest; defaults to Connection. */
    ManifestConnection: ConnectionName.optional(),
    /** Connection for writing the report; defaults to Connection. */
    ReportConnection: ConnectionName.optional(),
    /**
     * Worker-config name of the Lambda connection for LambdaInvoke. Absent: a connection named after the function
     * (the part of FunctionArn after `function:`, without qualifier) if the worker defines one, else "default".
     */
    LambdaConnection: ConnectionName.optional(),
    /**
     * S3InitiateRestoreObject only (beyond AWS, whose restore tasks end when the restore is requested): keep each
     * task open until HeadObject shows its restored copy is readable, polling on a durable timer with backoff, so
     * that the job's Complete means the objects can be read. No worker slot is held while waiting.
     */
    WaitForRestore: z
      .object({
        /** First check this long after the restore was requested; doubled after each check up to MaxPollSeconds. */
        InitialPollSeconds: z.number().int().min(1).max(86_400).default(60),
        MaxPollSeconds: z.number().int().min(1).max(86_400).default(3600),
        /** A restore still running after this long fails its task with RestoreTimedOut. */
        TimeoutHours: z.number().min(0.001).max(24 * 30).default(72),
      })
      .strict()
      .optional(),
    /** Run the failed tasks of an earlier job (see RedriveOf); the job then has no Manifest. */
    RedriveOf: RedriveOf.optional(),
    /** POST every status change of the job to this URL (see StatusWebhook). Needs a webhook secret in the worker config. */
    StatusWebhook: StatusWebhook.optional(),
    /**
     * The CSV manifest's first line is a header (as Athena and spreadsheets write them): skip it. It is not a task,
     * not counted in TotalNumberOfTasks, and not in the report; line numbers in row messages still count it. AWS has
     * no such option (a header is read as data and fails); without it, a first line that looks like a header fails
     * its task with a message naming this option.
     */
    ManifestHeaderRow: z.boolean().default(false),
    /**
     * ManifestGenerator only: 'Current' lists the current version of each object (ListObjectsV2); 'All' lists every
     * version (ListObjectVersions), and tasks target each version. Delete markers are not objects: never listed.
     */
    ManifestGeneratorVersions: z.enum(['Current', 'All']).default('Current'),
    /**
     * ConfirmationRequired jobs: a job still Suspended this long after it was suspended fails (FailureCode
     * SuspendedJobExpired), as AWS fails a job left suspended for 30 days. Shorter values suit tests and
     * pipelines that would rather fail fast than leave an unconfirmed job waiting.
     */
    SuspendedExpirySeconds: z.number().int().min(1).max(SUSPENDED_EXPIRY_SECONDS).default(SUSPENDED_EXPIRY_SECONDS),
    /** Target number of manifest rows per page (one child workflow each). */
    PageSize: z.number().int().min(1).max(1000).default(250),
    /** Pages (child workflows) in flight at once. */
    MaxConcurrentPages: z.number().int().min(1).max(100).default(4),
    /** Tasks in flight at once within one page. */
    MaxConcurrentTasksPerPage: z.number().int().min(1).max(500).default(16),
    /**
     * How a task runs: as a local activity (run by the worker that runs the page: a third of the history events, no
     * task-queue round trip; the measured fastest, see bench/) or as a normal activity (dispatched through the
     * server's task queue to any worker, ordered there by job priority). Absent: the worker config's default.
     */
    TaskExecution: TaskExecution.optional(),
    /**
     * The most tasks the whole job starts per second, across its pages, workers and continue-as-new (absent: no
     * limit; concurrency is still bounded by MaxConcurrentPages × MaxConcurrentTasksPerPage). Changeable while the
     * job runs (UpdateJobRate). S3 throttles at about 3,500 writes/s per prefix.
     */
    MaxTasksPerSecond: MaxTasksPerSecond.optional(),
    /**
     * Batch mode only: manifest rows per batch activity, each still its own task (own retries, count and report
     * row). Absent: the worker config's default (50). The activity's input, heartbeat and result carry its rows.
     */
    BatchSize: BatchSize.optional(),
    /** How long one attempt of a task may take. */
    TaskTimeoutSeconds: z.number().int().min(1).max(12 * 3600).default(300),
    /** Attempts per task for retryable errors (throttling, 5xx, timeouts), with exponential backoff. */
    MaxAttemptsPerTask: z.number().int().min(1).max(100).default(8),
    /** The job fails when more than FailedRatio of the tasks failed, once at least MinTasks have run (AWS: 1000, 0.5). */
    FailureThreshold: z
      .object({
        MinTasks: z.number().int().min(1).default(1000),
        FailedRatio: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .default({ MinTasks: 1000, FailedRatio: 0.5 }),
    /**
     * History budgets: a job run continues as new after this many page starts, a page run after this many tasks
     * (sooner when Temporal suggests it). Small values exercise continue-as-new in tests.
     */
    PagesPerRun: z.number().int().min(1).max(1000).default(200),
    TasksPerPageRun: z.number().int().min(1).max(1000).default(500),
    /**
     * How often the job asks Temporal whether its pages in flight are still alive. A page run that was terminated,
     * timed out or failed without telling the job is found by this check and restarted from where it began.
     */
    PageHealthCheckSeconds: z.number().int().min(1).max(3600).default(60),
    /**
     * Restarts of one page after its runs died (transient causes: S3 unreachable for minutes, an operator's
     * terminate); past this the job fails with the last reason. Permanent causes fail the job at once.
     */
    MaxPageRestarts: z.number().int().min(0).max(100).default(3),
  })
  .strict();

export const CreateJobRequest = z
  .object({
    AccountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id').optional(),
    ConfirmationRequired: z.boolean().default(false),
    Operation: JobOperation,
    Report: JobReport,
    ClientRequestToken: z.string().min(1).max(64).optional(),
    Manifest: JobManifest.optional(),
    ManifestGenerator: JobManifestGenerator.optional(),
    Description: z.string().min(1).max(256).optional(),
    Priority: z.number().int().min(0).max(2_147_483_647).default(10),
    RoleArn: z.string().max(2048).optional(),
    Tags: z.array(S3Tag).max(50).optional(),
    Extensions: JobExtensions.default(() => JobExtensions.parse({})),
  })
  .strict()
  .superRefine((job, ctx) => {
    if (job.ManifestGenerator !== undefined) {
      if (job.Manifest) {
        ctx.addIssue({ code: 'custom', path: ['ManifestGenerator'], message: 'give either Manifest or ManifestGenerator, not both' });
      }
      if (job.Extensions.RedriveOf) {
        ctx.addIssue({ code: 'custom', path: ['Extensions', 'RedriveOf'], message: 'a redrive job builds its manifest: give no ManifestGenerator' });
      }
      if (!job.ManifestGenerator.S3JobManifestGenerator.EnableManifestOutput && !job.Report.Enabled) {
        ctx.addIssue({
          code: 'custom',
          path: ['ManifestGenerator', 'S3JobManifestGenerator', 'EnableManifestOutput'],
          message:
            'the generated listing is written to S3 and read from there by the job\'s pages: set EnableManifestOutput with a ManifestOutputLocation, or enable the Report (the listing then goes into the report folder)',
        });
      }
      if (job.Extensions.ManifestHeaderRow) {
        ctx.addIssue({ code: 'custom', path: ['Extensions', 'ManifestHeaderRow'], message: 'applies only to CSV manifests' });
      }
      const output = job.ManifestGenerator.S3JobManifestGenerator.ManifestOutputLocation;
      const folder = (prefix: string | undefined) => (prefix ?? '').replace(/\/+$/, '');
      if (
        job.ManifestGenerator.S3JobManifestGenerator.EnableManifestOutput &&
        output &&
        job.Report.Enabled &&
        output.Bucket === job.Report.Bucket &&
        folder(output.ManifestPrefix) === folder(job.Report.Prefix)
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['ManifestGenerator', 'S3JobManifestGenerator', 'ManifestOutputLocation', 'ManifestPrefix'],
          message: "must differ from the report's Bucket and Prefix: both write job-<id>/manifest.json",
        });
      }
    } else if (job.Extensions.RedriveOf) {
      if (job.Manifest) {
        ctx.addIssue({
          code: 'custom',
          path: ['Manifest'],
          message: 'must be absent with Extensions.RedriveOf: the manifest is built from the failed rows of that job\'s report',
        });
      }
      if (!job.Report.Enabled) {
        ctx.addIssue({
          code: 'custom',
          path: ['Report', 'Enabled'],
          message: `must be true with Extensions.RedriveOf: the built manifest is written into the job's report folder (job-<id>/${REDRIVE_MANIFEST_NAME})`,
        });
      }
      if (job.Extensions.ManifestConnection) {
        ctx.addIssue({
          code: 'custom',
          path: ['Extensions', 'ManifestConnection'],
          message: 'does not apply with Extensions.RedriveOf: the old report is read, and the built manifest written, with the report connection',
        });
      }
    } else if (!job.Manifest) {
      ctx.addIssue({ code: 'custom', path: ['Manifest'], message: 'required (or ManifestGenerator, or Extensions.RedriveOf)' });
    }
    if (job.Extensions.WaitForRestore && !job.Operation.S3InitiateRestoreObject) {
      ctx.addIssue({
        code: 'custom',
        path: ['Extensions', 'WaitForRestore'],
        message: 'applies only to S3InitiateRestoreObject jobs',
      });
    }
    if (job.Extensions.LambdaConnection && !job.Operation.LambdaInvoke) {
      ctx.addIssue({ code: 'custom', path: ['Extensions', 'LambdaConnection'], message: 'applies only to LambdaInvoke jobs' });
    }
    if (job.Manifest?.Spec.Format === 'S3InventoryReport_CSV_20161130') {
      if (!job.Report.Enabled) {
        ctx.addIssue({
          code: 'custom',
          path: ['Report', 'Enabled'],
          message: `must be true for an S3 Inventory manifest: its rows are gathered into one CSV in the job's report folder (job-<id>/${INVENTORY_MANIFEST_NAME}), which the pages read`,
        });
      }
      if (job.Manifest.Spec.Fields) {
        ctx.addIssue({ code: 'custom', path: ['Manifest', 'Spec', 'Fields'], message: 'applies only to CSV manifests: an inventory names its columns in its fileSchema' });
      }
      if (job.Extensions.ManifestHeaderRow) {
        ctx.addIssue({ code: 'custom', path: ['Extensions', 'ManifestHeaderRow'], message: 'applies only to CSV manifests' });
      }
    }
  });

export type CreateJobInput = z.input<typeof CreateJobRequest>;
export type CreateJob = z.infer<typeof CreateJobRequest>;
export type Extensions = z.infer<typeof JobExtensions>;

/** The job as the engine runs it: ARNs split, defaults applied. JSON-safe, so it can be workflow state. */
export interface ResolvedJob {
  /** The request as validated (with defaults), echoed by describeJob. */
  request: CreateJob;
  operation: ResolvedOperation;
  /**
   * The job's manifest. For a redrive job (`redrive` set) the object is built in Preparing: until then `key` and
   * `etag` are unknown (key empty), and the workflow replaces this with the built object's location.
   */
  manifest: {
    bucket: string;
    key: string;
    versionId?: string;
    etag?: string;
    /** Column positions; -1 when the column is absent. */
    columns: { bucket: number; key: number; versionId: number; count: number };
    connection: string;
    /** Extensions.ManifestHeaderRow; present only when true (jobs validated before it have none). */
    headerRow?: boolean;
    /** The expected owner of a manifest the engine writes (generated, or built in the report folder), sent on reads. */
    expectedOwner?: string;
  };
  report?: {
    bucket: string;
    prefix?: string;
    scope: 'AllTasks' | 'FailedTasksOnly';
    connection: string;
    /** Report.ExpectedBucketOwner, sent on every call to the report bucket. */
    expectedOwner?: string;
  };
  connection: string;
  extensions: Extensions;
  /** Extensions.TaskExecution, else the default of the worker that validated the job. */
  taskExecution: TaskExecution;
  /** Batch mode: Extensions.BatchSize, else the default of the worker that validated the job. */
  batchSize?: number;
  /** Extensions.RedriveOf: the earlier job and its report manifest, split. */
  redrive?: { jobId: string; bucket: string; key: string };
  /**
   * An S3 Inventory manifest: `manifest` names its manifest.json until Preparing gathers the rows into a CSV in the
   * report folder; the workflow then points `manifest` at that CSV.
   */
  inventory?: { bucket: string; key: string; versionId?: string; etag?: string; connection: string };
  /** ManifestGenerator: what to list; the workflow lists it in chunks, one page per chunk. */
  generator?: ResolvedGenerator;
  /** LambdaInvoke: the Lambda connection the tasks use (resolved against the worker config in validateJob). */
  lambdaConnection?: string;
  /** The Temporal server's priority levels, from the config of the worker that validated the job. */
  priorityLevels: number;
  /** RoleArn, when the worker that validated the job enforces roles: every task is checked against it. */
  role?: string;
}

/** A bucket the job names an expected owner for, checked in Preparing (HeadBucket with ExpectedBucketOwner). */
export interface BucketOwnerCheck {
  /** The request field that names the owner, for the failure reason. */
  field: string;
  connection: string;
  bucket: string;
  expectedOwner: string;
}

/** Every bucket of the job with an expected owner: the report's, the generator's source and its output. */
export function bucketOwnerChecks(job: ResolvedJob): BucketOwnerCheck[] {
  const checks: BucketOwnerCheck[] = [];
  const generatorField = 'ManifestGenerator.S3JobManifestGenerator';
  if (job.generator?.expectedOwner) {
    const { connection, sourceBucket: bucket, expectedOwner } = job.generator;
    checks.push({ field: `${generatorField}.ExpectedBucketOwner`, connection, bucket, expectedOwner });
  }
  const output = job.generator?.output;
  if (output?.kept && output.expectedOwner) {
    const field = `${generatorField}.ManifestOutputLocation.ExpectedManifestBucketOwner`;
    checks.push({ field, connection: output.connection, bucket: output.bucket, expectedOwner: output.expectedOwner });
  }
  if (job.report?.expectedOwner) {
    const { connection, bucket, expectedOwner } = job.report;
    checks.push({ field: 'Report.ExpectedBucketOwner', connection, bucket, expectedOwner });
  }
  return checks;
}

export type SpecValidation = { ok: true; job: ResolvedJob } | { ok: false; problems: SpecProblem[] };

/** Validates a CreateJob request (any JSON) and resolves it. Never throws for bad input. */
export function validateJobSpec(input: unknown): SpecValidation {
  const parsed = CreateJobRequest.safeParse(input);
  if (!parsed.success) {
    return { ok: false, problems: zodProblems(parsed.error.issues) };
  }
  return { ok: true, job: resolveJob(parsed.data) };
}

function manifestColumns(fields: z.infer<typeof ManifestField>[] | undefined): ResolvedJob['manifest']['columns'] {
  const order = fields ?? ['Bucket', 'Key', 'VersionId'];
  return {
    bucket: order.indexOf('Bucket'),
    key: order.indexOf('Key'),
    versionId: order.indexOf('VersionId'),
    // Without Fields, rows have two or three columns (AWS: bucket,key[,versionId]).
    count: fields ? fields.length : -1,
  };
}

function resolveReport(request: CreateJob): ResolvedJob['report'] {
  const ext = request.Extensions;
  return request.Report.Enabled
    ? {
        bucket: bucketFromArn(request.Report.Bucket!)!,
        prefix: request.Report.Prefix?.replace(/\/+$/, ''),
        scope: request.Report.ReportScope ?? 'AllTasks',
        connection: ext.ReportConnection ?? ext.Connection,
        ...(request.Report.ExpectedBucketOwner ? { expectedOwner: request.Report.ExpectedBucketOwner } : {}),
      }
    : undefined;
}

function resolveJob(request: CreateJob): ResolvedJob {
  if (request.Extensions.RedriveOf) return resolveRedriveJob(request, request.Extensions.RedriveOf);
  if (request.ManifestGenerator) return resolveGeneratedJob(request, request.ManifestGenerator);
  const ext = request.Extensions;
  // Both validated by the schema above.
  const manifest = request.Manifest!;
  const manifestObject = objectFromArn(manifest.Location.ObjectArn)!;
  const report = resolveReport(request);
  if (manifest.Spec.Format === 'S3InventoryReport_CSV_20161130') {
    // Validated above: the report is enabled; the gathered CSV goes there and is read with its connection.
    return {
      ...builtManifestJob(request, report!),
      inventory: {
        bucket: manifestObject.bucket,
        key: manifestObject.key,
        versionId: manifest.Location.ObjectVersionId,
        etag: manifest.Location.ETag,
        connection: ext.ManifestConnection ?? ext.Connection,
      },
    };
  }
  return {
    request,
    operation: resolveOperation(request.Operation),
    manifest: {
      bucket: manifestObject.bucket,
      key: manifestObject.key,
      versionId: manifest.Location.ObjectVersionId,
      etag: manifest.Location.ETag,
      columns: manifestColumns(manifest.Spec.Fields),
      connection: ext.ManifestConnection ?? ext.Connection,
      ...(ext.ManifestHeaderRow ? { headerRow: true } : {}),
    },
    report,
    connection: ext.Connection,
    extensions: ext,
    taskExecution: ext.TaskExecution ?? DEFAULT_TASK_EXECUTION,
    priorityLevels: 5,
  };
}

/**
 * A job whose manifest the engine builds in Preparing (redrive, S3 Inventory): a `Bucket,Key,VersionId` CSV in the
 * report folder, read with the report connection. Until it is built, `key` is empty.
 */
function builtManifestJob(request: CreateJob, report: NonNullable<ResolvedJob['report']>): ResolvedJob {
  const ext = request.Extensions;
  return {
    request,
    operation: resolveOperation(request.Operation),
    manifest: {
      bucket: report.bucket,
      key: '',
      columns: manifestColumns([...REDRIVE_MANIFEST_FIELDS]),
      connection: report.connection,
      ...(report.expectedOwner ? { expectedOwner: report.expectedOwner } : {}),
    },
    report,
    connection: ext.Connection,
    extensions: ext,
    taskExecution: ext.TaskExecution ?? DEFAULT_TASK_EXECUTION,
    priorityLevels: 5,
  };
}

/** A redrive job: its manifest will be built in its report folder, and read with the report connection. */
function resolveRedriveJob(request: CreateJob, redriveOf: RedriveOf): ResolvedJob {
  // Validated by the schema above: Report is enabled, with a bucket ARN; ReportManifest is an object ARN.
  const source = objectFromArn(redriveOf.ReportManifest)!;
  return { ...builtManifestJob(request, resolveReport(request)!), redrive: { jobId: redriveOf.JobId, bucket: source.bucket, key: source.key } };
}

/**
 * A generated-manifest job: the workflow lists the source bucket in chunks, each a gzipped CSV data file in AWS's
 * S3InventoryReport_CSV_20211130 style (columns GENERATED_COLUMNS), and runs one page per file. The files go to
 * ManifestOutputLocation with EnableManifestOutput, else into the report folder.
 */
function resolveGeneratedJob(request: CreateJob, spec: JobManifestGenerator): ResolvedJob {
  const ext = request.Extensions;
  const gen = spec.S3JobManifestGenerator;
  const report = resolveReport(request);
  const location = gen.EnableManifestOutput ? gen.ManifestOutputLocation : undefined;
  // Validated above: with no output location the report is enabled.
  const output: ResolvedGenerator['output'] = location
    ? {
        connection: ext.ReportConnection ?? ext.Connection,
        bucket: bucketFromArn(location.Bucket)!,
        prefix: location.ManifestPrefix?.replace(/\/+$/, ''),
        ...(location.ManifestEncryption?.SSEKMS
          ? { sse: 'aws:kms' as const, kmsKeyId: location.ManifestEncryption.SSEKMS.KeyId }
          : location.ManifestEncryption?.SSES3
            ? { sse: 'AES256' as const }
            : {}),
        kept: true,
        ...(location.ExpectedManifestBucketOwner ? { expectedOwner: location.ExpectedManifestBucketOwner } : {}),
      }
    : {
        connection: report!.connection,
        bucket: report!.bucket,
        prefix: report!.prefix,
        kept: false,
        // The listing goes into the report folder: the report bucket's expected owner applies.
        ...(report!.expectedOwner ? { expectedOwner: report!.expectedOwner } : {}),
      };
  const generator: ResolvedGenerator = {
    sourceBucket: bucketFromArn(gen.SourceBucket)!,
    connection: ext.ManifestConnection ?? ext.Connection,
    versions: ext.ManifestGeneratorVersions,
    filter: resolveFilter(gen.Filter),
    output,
    ...(gen.ExpectedBucketOwner ? { expectedOwner: gen.ExpectedBucketOwner } : {}),
  };
  return {
    request,
    operation: resolveOperation(request.Operation),
    // Each page reads one data file: bucket and key are set per page; the columns are the data files' own.
    manifest: {
      bucket: output.bucket,
      key: '',
      columns: { ...GENERATED_COLUMNS },
      connection: output.connection,
      ...(output.expectedOwner ? { expectedOwner: output.expectedOwner } : {}),
    },
    report,
    generator,
    connection: ext.Connection,
    extensions: ext,
    taskExecution: ext.TaskExecution ?? DEFAULT_TASK_EXECUTION,
    priorityLevels: 5,
  };
}

/** Columns of a generated data file (GENERATED_FILE_SCHEMA in src/shared/generated-manifest.ts). */
export const GENERATED_COLUMNS = { bucket: 0, key: 1, versionId: 2, count: 7 } as const;
