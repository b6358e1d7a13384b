/** A real worker on the shared stack runs a workflow and its activity to completion. */
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from '../fixtures/activities/greet';
import { greetWorkflow } from '../fixtures/workflows/greet';
import { getStack, temporalClient, uniqueName } from '../helpers/stack';
import { bundleFixtureWorkflows } from '../helpers/workflow-fixtures';

describe('shared stack: a workflow end to end', () => {
  it('completes a workflow with one activity', async () => {
    const stack = getStack();
    const taskQueue = uniqueName('greet');
    const workflowBundle = await bundleFixtureWorkflows('greet');
    const connection = await NativeConnection.connect({ address: stack.temporal.address });
    const { client, connection: clientConnection } = await temporalClient(stack);
    try {
      const worker = await Worker.create({ connection, namespace: stack.temporal.namespace, taskQueue, workflowBundle, activities });
      const result = await worker.runUntil(
        client.workflow.execute(greetWorkflow, { taskQueue, workflowId: uniqueName('greet-wf'), args: ['s3-batch'] }),
      );
      expect(result).toBe('Hello, s3-batch!');
    } finally {
      await clientConnection.close();
      await connection.close();
    }
  });
});
