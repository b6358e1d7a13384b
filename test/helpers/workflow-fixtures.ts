/** Bundles a test workflow fixture once per test file (webpack takes seconds), without the bundler's chatter. */
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** `fixture` is a file name under test/fixtures/workflows, without extension, e.g. `greet`. */
export function bundleFixtureWorkflows(fixture: string): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve(`../fixtures/workflows/${fixture}`), logger: quiet });
}
