/**
 * LambdaInvoke: call the job's function synchronously with one task, in AWS's Batch Operations event format (schema
 * 1.0 or 2.0), and turn its answer into the task's outcome: Succeeded, TemporaryFailure (retried within the job's
 * MaxAttemptsPerTask) or PermanentFailure. A function error and an answer we cannot read fail the task permanently.
 */
import { InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { z } from 'zod';
// Its parse errors reach the report: in the house's words, not zod's defaults.
import '../../shared/zod-messages';
import type { OperationParams } from '../../schemas/operations';
import { SUCCESS_MESSAGE, TaskFailure, type Operation, type OperationOutcome, type TaskObject } from './operation';

// ---------------------------------------------------------------------------------------------------------------
// Types

export const ResultCode = z.enum(['Succeeded', 'TemporaryFailure', 'PermanentFailure']);
export type ResultCode = z.infer<typeof ResultCode>;

interface EventTaskBase {
  taskId: string;
  /** URL-encoded, as AWS sends it. */
  s3Key: string;
  s3VersionId: string | null;
}

export type LambdaInvokeEvent =
  | {
      invocationSchemaVersion: '1.0';
      invocationId: string;
      job: { id: string };
      tasks: [EventTaskBase & { s3BucketArn: string }];
    }
  | {
      invocationSchemaVersion: '2.0';
      invocationId: string;
      job: { id: string; userArguments?: Record<string, string> };
      tasks: [EventTaskBase & { s3Bucket: string }];
    };

/**
 * The function's answer. Lenient where AWS's examples vary (the echoed version and id are not checked, extra fields
 * are ignored), strict on what decides the outcome: a results array of {taskId, resultCode}.
 */
export const LambdaInvokeResponse = z.object({
  invocationSchemaVersion: z.string().optional(),
  invocationId: z.string().optional(),
  treatMissingKeysAs: ResultCode.optional(),
  results: z.array(
    z.object({
      taskId: z.string(),
      resultCode: ResultCode,
      resultString: z.string().nullish(),
    })
  ),
});
export type LambdaInvokeResponse = z.infer<typeof LambdaInvokeResponse>;

/** What we know of the invocation when reading its answer. */
export interface InvokeAnswer {
  /** The Invoke response's FunctionError ("Unhandled" for a throw or a timeout), if any. */
  functionError?: string;
  /** The response payload as text. */
  payload: string;
}

/**
 * Applied to our task when the response leaves it out of `results` and says nothing itself. AWS's default is
 * unconfirmed (Powertools' response builder defaults the field to Succeeded, so functions built with it always send
 * it); we fail the task rather than count an unanswered task as done, which would hide a function's bug.
 */
export const DEFAULT_TREAT_MISSING_KEYS_AS: ResultCode = 'PermanentFailure';

/** The HTTP status written for every outcome Lambda answered: AWS shows 200 even for a function error. */
const LAMBDA_HTTP_STATUS = 200;

// ---------------------------------------------------------------------------------------------------------------
// The event

/** A decoded key, URL-encoded per path segment (slashes kept), the way the manifest carries it. */
export function encodeS3Key(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** The event for one task, exactly as Batch Operations sends it (spec §5). Pure. */
export function buildLambdaEvent(
  ids: { jobId: string; taskId: string; invocationId: string },
  object: TaskObject,
  params: Pick<OperationParams<'LambdaInvoke'>, 'InvocationSchemaVersion' | 'UserArguments'>
): LambdaInvokeEvent {
  const task = { taskId: ids.taskId, s3Key: encodeS3Key(object.key), s3VersionId: object.versionId ?? null };
  if (params.InvocationSchemaVersion === '2.0') {
    return {
      invocationSchemaVersion: '2.0',
      invocationId: ids.invocationId,
      job: params.UserArguments ? { id: ids.jobId, userArguments: params.UserArguments } : { id: ids.jobId },
      tasks: [{ ...task, s3Bucket: object.bucket }],
    };
  }
  return {
    invocationSchemaVersion: '1.0',
    invocationId: ids.invocationId,
    job: { id: ids.jobId },
    tasks: [{ ...task, s3BucketArn: `arn:aws:s3:::${object.bucket}` }],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The answer

const permanent = (message: string) => new TaskFailure('PermanentFailure', message, false, LAMBDA_HTTP_STATUS);
const invalid = (why: string) => permanent(`Invalid JSON returned in Lambda payload: ${why}`);

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/** Applies a result code: returns the success outcome, or throws the TaskFailure for a failure. */
function outcomeOf(code: ResultCode, resultString: string | null | undefined, fallback: string): OperationOutcome {
  const message = resultString || fallback;
  switch (code) {
    case 'Succeeded':
      return { message: resultString || SUCCESS_MESSAGE, httpStatus: LAMBDA_HTTP_STATUS };
    case 'TemporaryFailure':
      throw new TaskFailure('TemporaryFailure', message, true, LAMBDA_HTTP_STATUS);
    case 'PermanentFailure':
      throw new TaskFailure('PermanentFailure', message, false, LAMBDA_HTTP_STATUS);
  }
}

/**
 * Reads the function's answer for task `taskId`: returns the success outcome (resultString as the report's
 * ResultMessage) or throws a TaskFailure (retryable for TemporaryFailure). Pure.
 */
export function interpretLambdaResponse(taskId: string, answer: InvokeAnswer): OperationOutcome {
  if (answer.functionError) throw permanent(`Lambda returned function error: ${answer.payload}`);
  let json: unknown;
  try {
    json = JSON.parse(answer.payload);
  } catch {
    throw invalid(`not JSON: ${JSON.stringify(answer.payload.slice(0, 200))}`);
  }
  const parsed = LambdaInvokeResponse.safeParse(json);
  if (!parsed.success) throw invalid(describeIssues(parsed.error));
  const { results, treatMissingKeysAs } = parsed.data;
  // We send one task per invocation: a result naming another task means the function answered something else.
  const strangers = results.filter((r) => r.taskId !== taskId).map((r) => r.taskId);
  if (strangers.length > 0) {
    throw invalid(`results name tasks that were not sent: ${JSON.stringify(strangers.slice(0, 5))}`);
  }
  if (results.length > 1) throw invalid(`${results.length} results for task ${taskId}, expected 1`);
  const result = results[0];
  if (result) return outcomeOf(result.resultCode, result.resultString, `Lambda returned ${result.resultCode}`);
  const code = treatMissingKeysAs ?? DEFAULT_TREAT_MISSING_KEYS_AS;
  const how = treatMissingKeysAs ? `treatMissingKeysAs: ${code}` : `treatMissingKeysAs absent, default ${code}`;
  const missing = `Lambda response has no result for task ${taskId} (${how})`;
  return outcomeOf(code, code === 'Succeeded' ? missing : undefined, missing);
}

// ---------------------------------------------------------------------------------------------------------------
// The operation

/** Lambda Invoke API errors worth another attempt: throttling, Lambda's own trouble, a function being updated. */
export const LAMBDA_RETRYABLE_CODES = [
  'TooManyRequestsException',
  'ServiceException',
  'EC2ThrottledException',
  'EC2UnexpectedException',
  'ResourceConflictException',
  'ResourceNotReadyException',
  'ENILimitReachedException',
  'ENINotReadyException',
  'SubnetIPAddressLimitReachedException',
  'EFSMountConnectivityException',
  'EFSMountTimeoutException',
  'EFSIOException',
  'S3FilesMountConnectivityException',
  'S3FilesMountTimeoutException',
  'SnapStartNotReadyException',
  'SnapStartTimeoutException',
  'CodeArtifactUserPendingException',
] as const;

/** Lambda Invoke API errors that another attempt cannot fix: the function, the request or the permissions are wrong. */
export const LAMBDA_PERMANENT_CODES = [
  'ResourceNotFoundException',
  'InvalidRequestContentException',
  'RequestTooLargeException',
  'SerializedRequestEntityTooLargeException',
  'InvalidParameterValueException',
  'UnsupportedMediaTypeException',
  'AccessDeniedException',
  'EC2AccessDeniedException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'InvalidRuntimeException',
  'InvalidZipFileException',
  'InvalidSecurityGroupIDException',
  'InvalidSubnetIDException',
  'EFSMountFailureException',
  'S3FilesMountFailureException',
  'RecursiveInvocationException',
  'SnapStartException',
  'SnapStartRegenerationFailureException',
  'ModeNotSupportedException',
  'NoPublishedVersionException',
  'CodeArtifactUserDeletedException',
  'CodeArtifactUserFailedException',
] as const;

function payloadText(out: InvokeCommandOutput): string {
  return out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
}

export const lambdaInvoke: Operation<'LambdaInvoke'> = {
  run: async (ctx, object, params) => {
    const ids = { jobId: ctx.jobId, taskId: ctx.taskId, invocationId: ctx.attemptId };
    const event = buildLambdaEvent(ids, object, params);
    const out = await ctx.connections.lambda(ctx.lambdaConnection ?? 'default').send(
      new InvokeCommand({
        // A name, an ARN or name:qualifier: Lambda resolves aliases and $LATEST on every call, as AWS does mid-job.
        FunctionName: params.FunctionArn,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
      { abortSignal: ctx.signal }
    );
    return interpretLambdaResponse(ctx.taskId, { functionError: out.FunctionError, payload: payloadText(out) });
  },
  errorCodes: { retryable: LAMBDA_RETRYABLE_CODES, permanent: LAMBDA_PERMANENT_CODES },
};
