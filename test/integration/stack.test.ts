/** The shared stack's Temporal dev server, checked with the real Temporal CLI. */
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { runCommand } from '../../scripts/lib/exec';
import { stackConfigFromEnv } from '../../scripts/stack/index';
import { ensureTemporalCli } from '../../scripts/tools';
import { getStack } from '../helpers/stack';

describe('shared stack: Temporal', () => {
  const stack = getStack();
  let temporal: string;

  beforeAll(async () => {
    temporal = await ensureTemporalCli();
  });

  it('reports SERVING from `temporal operator cluster health`', async () => {
    const result = await runCommand(temporal, ['operator', 'cluster', 'health', '--address', stack.temporal.address], { timeoutMs: 15_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SERVING');
  });

  it('keeps closed workflows for the configured retention (90 days by default)', async () => {
    const result = await runCommand(
      temporal,
      ['operator', 'namespace', 'describe', '--address', stack.temporal.address, '-n', stack.temporal.namespace, '-o', 'json'],
      { timeoutMs: 15_000 },
    );
    expect(result.code).toBe(0);
    const described = JSON.parse(result.stdout) as { config: { workflowExecutionRetentionTtl: string } };
    const expectedHours = stackConfigFromEnv().temporal.retentionHours;
    expect(described.config.workflowExecutionRetentionTtl).toBe(`${expectedHours * 3600}s`);
    if (!process.env.S3BATCH_NAMESPACE_RETENTION) expect(described.config.workflowExecutionRetentionTtl).toBe(`${90 * 24 * 3600}s`);
  });

  it('has every job search attribute registered with its type', async () => {
    const result = await runCommand(
      temporal,
      ['operator', 'search-attribute', 'list', '--address', stack.temporal.address, '-n', stack.temporal.namespace, '-o', 'json'],
      { timeoutMs: 15_000 },
    );
    expect(result.code).toBe(0);
    const custom = (JSON.parse(result.stdout) as { customAttributes: Record<string, string> }).customAttributes;
    for (const attribute of JOB_SEARCH_ATTRIBUTES) {
      expect(custom[attribute.name]).toBe(`INDEXED_VALUE_TYPE_${attribute.type.toUpperCase()}`);
    }
  });
});
