/** Operation name → its module. The one place that knows every operation. */
import type { OperationName, ResolvedOperation } from '../../schemas/operations';
import { computeObjectChecksum } from './compute-object-checksum';
import type { CustomOperations } from './custom';
import { deleteObject } from './delete-object';
import { deleteObjectTagging } from './delete-object-tagging';
import { initiateRestoreObject } from './initiate-restore-object';
import { lambdaInvoke } from './lambda-invoke';
import type { Operation, OperationContext, OperationErrorCodes, OperationOutcome, TaskObject } from './operation';
import { putObjectAcl } from './put-object-acl';
import { putObjectCopy } from './put-object-copy';
import { putObjectLegalHold } from './put-object-legal-hold';
import { putObjectRetention } from './put-object-retention';
import { putObjectTagging } from './put-object-tagging';
import { updateObjectEncryption } from './update-object-encryption';

type BuiltInName = Exclude<OperationName, 'CustomOperation'>;

export const OPERATIONS: { [N in BuiltInName]: Operation<N> } = {
  S3PutObjectCopy: putObjectCopy,
  S3PutObjectTagging: putObjectTagging,
  S3DeleteObjectTagging: deleteObjectTagging,
  S3PutObjectAcl: putObjectAcl,
  S3InitiateRestoreObject: initiateRestoreObject,
  S3PutObjectLegalHold: putObjectLegalHold,
  S3PutObjectRetention: putObjectRetention,
  LambdaInvoke: lambdaInvoke,
  S3ComputeObjectChecksum: computeObjectChecksum,
  S3UpdateObjectEncryption: updateObjectEncryption,
  S3DeleteObject: deleteObject,
};

export function runOperation(
  ctx: OperationContext,
  object: TaskObject,
  operation: ResolvedOperation,
  custom: CustomOperations
): Promise<OperationOutcome> {
  if (operation.name === 'CustomOperation') return custom.run(ctx, object, operation.params);
  // The union is correlated by name; TypeScript cannot see that OPERATIONS[name] takes that name's params.
  const op = OPERATIONS[operation.name] as Operation<BuiltInName>;
  return op.run(ctx, object, operation.params as never);
}

export function operationErrorCodes(operation: ResolvedOperation, custom: CustomOperations): OperationErrorCodes {
  if (operation.name === 'CustomOperation') return custom.errorCodes(operation.params.Name);
  return OPERATIONS[operation.name].errorCodes ?? {};
}
