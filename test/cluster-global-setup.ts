/**
 * Jest global setup of `npm run test:cluster` (jest.cluster.config.js): the main suite's setup (test/global-setup.ts)
 * on the cluster profile of the local stack. `S3BATCH_CLUSTER_STACK_STATE` names a running cluster-profile stack to
 * use as is; otherwise one is found or started in the configured data dir (S3BATCH_STACK_STATE, which names the main
 * suite's stack, is ignored here). The default-profile stack must be stopped first: both use the same ports.
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../src/node-version-guard';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readStackState } from '../scripts/stack/index';
import { prepareStack } from './global-setup';

export default async function clusterGlobalSetup(): Promise<void> {
  // `npm run test:cluster` writes jest's JSON summary into .cache/ (read by .ci/run); jest does not create the folder.
  mkdirSync(join(__dirname, '..', '.cache'), { recursive: true });
  process.env.S3BATCH_STACK_PROFILE = 'cluster';
  const named = process.env.S3BATCH_CLUSTER_STACK_STATE;
  if (named) process.env.S3BATCH_STACK_STATE = named;
  else delete process.env.S3BATCH_STACK_STATE;
  await prepareStack();
  const state = readStackState(process.env.S3BATCH_STACK_STATE);
  if (state?.profile !== 'cluster') {
    throw new Error(`the cluster suite needs a cluster-profile stack, but ${process.env.S3BATCH_STACK_STATE} describes a ${state?.profile ?? 'stopped'} one`);
  }
}
