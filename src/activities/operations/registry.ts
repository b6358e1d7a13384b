/** Operation name → handler. The one place that knows every operation. */
import type { ResolvedOperation } from '../../spec/operations';
import { deleteObjectTagging } from './delete-object-tagging';
import type { OperationContext, OperationOutcome, TaskObject } from './operation';
import { putObjectCopy } from './put-object-copy';
import { putObjectTagging } from './put-object-tagging';

export function runOperation(ctx: OperationContext, object: TaskObject, operation: ResolvedOperation): Promise<OperationOutcome> {
  switch (operation.name) {
    case 'S3PutObjectCopy':
      return putObjectCopy(ctx, object, operation.params);
    case 'S3PutObjectTagging':
      return putObjectTagging(ctx, object, operation.params);
    case 'S3DeleteObjectTagging':
      return deleteObjectTagging(ctx, object, operation.params);
  }
}
