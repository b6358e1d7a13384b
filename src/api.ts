/**
 * The S3 Control-compatible HTTP API: `npm run api` (or `node lib/src/api.js`). Configured by S3BATCH_API_CONFIG and
 * environment variables (see src/http-api/config.ts); serves the jobs of its Temporal namespace and task queue, which
 * a worker (`npm run worker`) must serve too. With nothing configured, it serves the running local stack (see
 * withLocalStackDefaults). Stops on SIGINT/SIGTERM.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import './node-version-guard';
import { clientDataConverter } from './codec/data-converter';
import { connectTemporalClient, describeTemporalSecurity, TemporalConnectionError } from './temporal-connection';
import { JobClient } from './job-client';
import { ApiConfigError, loadApiConfig, withLocalStackDefaults } from './http-api/config';
import { findLocalStack } from './local-stack';
import { startApiServer } from './http-api/server';

async function main(): Promise<void> {
  // Nothing configured and the local stack running (after `npm run demo`): serve it, as `worker:stack` does.
  const { env, note } = withLocalStackDefaults(process.env, findLocalStack());
  if (note) console.log(note);
  const config = loadApiConfig(env);
  if (config.mode === 'single-tenant') {
    console.log(
      'API keys name no accounts: single-tenant mode, every key acts for every account (or accountId), may create and change jobs and pass any role. ' +
        'Give each key "accounts", "access" and "roles" to scope them (README, HTTP API).'
    );
  }
  const client = await connectTemporalClient(config.temporal, { dataConverter: clientDataConverter() });
  const connection = client.connection;
  const api = await startApiServer({
    config,
    jobs: new JobClient(client, { taskQueue: config.temporal.taskQueue }),
    log: (line) => console.log(line),
  });
  console.log(
    `s3-batch API on ${api.url} (Temporal ${config.temporal.address}, ${describeTemporalSecurity(config.temporal)}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}); ${config.secrets.size} access key(s)${config.mode === 'scoped' ? ' scoped to their accounts' : ''}${config.accountId ? `, account ${config.accountId}` : ''}`
  );
  const stop = async () => {
    await api.close();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err instanceof ApiConfigError || err instanceof TemporalConnectionError ? err.message : err);
  process.exit(1);
});
