/**
 * npm run stack:up | stack:down | stack:status
 *
 *   up      start Temporal, MinIO, moto and the test Lambdas on 127.0.0.1 (no-op if already running), print endpoints;
 *           `up --cluster` (or S3BATCH_STACK_PROFILE=cluster) runs Temporal as a cluster on PostgreSQL instead
 *   down    stop every process the stack started and remove its state file
 *   status  a table of components; exit 0 if all healthy, 1 if degraded or starting, 3 if not running
 *
 * Configuration: environment variables, see scripts/stack/config.ts.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { z } from 'zod';
import { type StackState, stackConfigFromEnv, stackDown, stackStatus, stackUp } from './stack/index';

const USAGE = 'usage: tsx scripts/stack.ts up [--cluster] | down | status';
const commandSchema = z.enum(['up', 'down', 'status'], { error: USAGE });
const flagsSchema = z.array(z.literal('--cluster', { error: (issue) => `unknown option ${String(issue.input)}; ${USAGE}` }));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

function describe(state: StackState): string {
  const rows = [
    ['component', 'endpoint', 'pid'],
    [
      state.profile === 'cluster' ? 'temporal (cluster)' : 'temporal',
      `${state.temporal.address} (namespace ${state.temporal.namespace})`,
      String(state.temporal.pid),
    ],
    ...(state.postgres ? [['postgres', `${state.postgres.address} (user ${state.postgres.user})`, String(state.postgres.pid)]] : []),
    ['minio (s3)', `${state.s3.endpoint} (key ${state.s3.accessKeyId}, region ${state.s3.region})`, String(state.s3.pid)],
    ['moto', `${state.moto.endpoint} (any credentials)`, String(state.moto.pid)],
    ...Object.entries(state.lambda.functions).map(([name, fn]) => [
      `lambda ${name}`,
      `${fn.endpoint} (runtime API ${fn.runtimeApi}, ${fn.kind})`,
      String(fn.pid),
    ]),
    ...state.processes.filter((p) => p.component.startsWith('worker:')).map((p) => [p.component, `task queue s3-batch (log ${p.logFile})`, String(p.pid)]),
  ];
  return `${table(rows)}\n\nTemporal Web UI: ${state.temporal.uiUrl}/namespaces/${state.temporal.namespace}/workflows\nState file: ${state.dataDir}/state.json  Logs: ${state.dataDir}/logs/`;
}

async function main(): Promise<number> {
  const command = commandSchema.parse(process.argv[2]);
  const flags = flagsSchema.parse(process.argv.slice(3));
  if (flags.length > 0 && command !== 'up') throw new Error(`--cluster goes with up only; ${USAGE}`);
  const config = stackConfigFromEnv(flags.includes('--cluster') ? { profile: 'cluster' } : {});
  switch (command) {
    case 'up': {
      const state = await stackUp(config);
      console.log(describe(state));
      return 0;
    }
    case 'down':
      await stackDown(config);
      return 0;
    case 'status': {
      const status = await stackStatus(config);
      if (status.phase === 'stopped') {
        console.log(`stack: not running (no ${status.stateFile})`);
        return 3;
      }
      const rows = [
        ['component', 'running', 'pid', 'healthy', 'endpoint'],
        ...status.components.map((c) => [c.component, c.running ? 'yes' : 'no', String(c.pid), c.healthy ? 'yes' : `no (${c.detail ?? '?'})`, c.endpoint]),
      ];
      console.log(`stack: ${status.phase}, profile ${status.profile} (${status.stateFile})\n${table(rows)}`);
      if (status.state) console.log(`\nTemporal Web UI: ${status.state.temporal.uiUrl}`);
      return status.phase === 'running' ? 0 : 1;
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof z.ZodError ? error.issues.map((i) => i.message).join('\n') : error instanceof Error ? error.message : String(error);
    console.error(message);
    process.exit(1);
  },
);
