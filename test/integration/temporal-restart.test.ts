/**
 * Durability of the dev server's SQLite file: a workflow waiting for a signal survives a server crash (SIGKILL, no
 * clean shutdown, then start again on the same file), and a restart applies search attributes the SQLite bootstrap would skip.
 * Runs an isolated server on its own data dir and ports; the shared stack is not touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { runCommand } from '../../scripts/lib/exec';
import { isProcessAlive, killPidNow, startTemporalDevServer, stopPid, type TemporalDevServer } from '../../scripts/stack/index';
import { isPortFree } from '../../scripts/stack/health';
import { ensureTemporalCli } from '../../scripts/tools';
import { proceedSignal, stageQuery, waitForSignalWorkflow } from '../fixtures/workflows/wait-for-signal';
import { freePortBlock } from '../helpers/ports';
import { uniqueName } from '../helpers/stack';
import { bundleFixtureWorkflows } from '../helpers/workflow-fixtures';

const NAMESPACE = 'restart-test';

describe('Temporal dev server restart', () => {
  let dataDir: string;
  let port: number;
  let uiPort: number;
  let temporalBin: string;
  let server: TemporalDevServer | undefined;
  let workflowBundle: WorkflowBundleWithSourceMap;

  const start = async (searchAttributes: Array<{ name: string; type: string }>): Promise<TemporalDevServer> => {
    server = await startTemporalDevServer({ dataDir, port, uiPort, namespace: NAMESPACE, temporalBin, searchAttributes, headless: true });
    return server;
  };

  /** Runs `fn` with a client and a worker connected to the server, then closes both. */
  const withWorker = async <T>(taskQueue: string, fn: (client: Client) => Promise<T>): Promise<T> => {
    const address = `127.0.0.1:${port}`;
    const nativeConnection = await NativeConnection.connect({ address });
    const connection = await Connection.connect({ address });
    try {
      const worker = await Worker.create({ connection: nativeConnection, namespace: NAMESPACE, taskQueue, workflowBundle });
      return await worker.runUntil(fn(new Client({ connection, namespace: NAMESPACE })));
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 's3batch-temporal-'));
    [port = 0, uiPort = 0] = await freePortBlock(2);
    temporalBin = await ensureTemporalCli();
    workflowBundle = await bundleFixtureWorkflows('wait-for-signal');
  });

  afterAll(async () => {
    if (server) await stopPid(server.pid);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a waiting workflow across a crash (SIGKILL) and restart on the same database file', async () => {
    const taskQueue = uniqueName('restart');
    const workflowId = uniqueName('waiting');
    const first = await start([{ name: 'RestartTestFirst', type: 'Keyword' }]);

    await withWorker(taskQueue, async (client) => {
      const handle = await client.workflow.start(waitForSignalWorkflow, { taskQueue, workflowId, args: ['hello'] });
      // The query is answered by the worker once the first workflow task ran: the workflow is durably waiting.
      expect(await handle.query(stageQuery)).toBe('waiting');
    });

    await killPidNow(first.pid);
    expect(isProcessAlive(first.pid)).toBe(false);
    // The kernel may take a moment to release a killed server's listening sockets (seen once on CI).
    for (let i = 0; i < 100 && !((await isPortFree(port)) && (await isPortFree(uiPort))); i++) await new Promise((r) => setTimeout(r, 200));

    const second = await start([{ name: 'RestartTestFirst', type: 'Keyword' }]);
    expect(second.pid).not.toBe(first.pid);
    const result = await withWorker(taskQueue, async (client) => {
      const handle = client.workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.signal(proceedSignal, 'world');
      return handle.result();
    });
    expect(result).toBe('hello world');
    await stopPid(second.pid);
  });

  it('registers search attributes added on a later start of an existing database', async () => {
    await start([{ name: 'RestartTestFirst', type: 'Keyword' }, { name: 'RestartTestAdded', type: 'Int' }]);
    const list = await runCommand(temporalBin, ['operator', 'search-attribute', 'list', '--address', `127.0.0.1:${port}`, '-n', NAMESPACE, '-o', 'json']);
    const custom = (JSON.parse(list.stdout) as { customAttributes: Record<string, string> }).customAttributes;
    expect(custom).toMatchObject({ RestartTestFirst: 'INDEXED_VALUE_TYPE_KEYWORD', RestartTestAdded: 'INDEXED_VALUE_TYPE_INT' });
    const describe = await runCommand(temporalBin, ['operator', 'namespace', 'describe', '--address', `127.0.0.1:${port}`, '-n', NAMESPACE, '-o', 'json']);
    expect((JSON.parse(describe.stdout) as { config: { workflowExecutionRetentionTtl: string } }).config.workflowExecutionRetentionTtl).toBe('7776000s');
  });
});
