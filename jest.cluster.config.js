/**
 * `npm run test:cluster`: the engine's core integration tests again, on the cluster profile of the local stack
 * (PostgreSQL, one process per Temporal service: see docs/local-stack.md). The same test files as in the main suite,
 * not copies: a test does not know which profile it runs on. Kept small (CI time): lifecycle with pause/resume/cancel,
 * priority, listing, the HTTP API, worker-crash durability, a rolling worker upgrade and the short cluster chaos run.
 */
const base = require('./jest.config.js');

const CLUSTER_TEST_FILES = [
  'job-lifecycle.test.ts',
  'job-priority.test.ts',
  'job-listing.test.ts',
  'http-api.test.ts',
  'job-durability.test.ts',
  // Users deploy new workers onto a cluster while jobs run: the rolling upgrade, there too.
  'rolling-upgrade.test.ts',
  // History service, matching service and PostgreSQL crashes (on a cluster of its own), with worker kills and S3 faults.
  'cluster-chaos.test.ts',
];

module.exports = {
  ...base,
  roots: ['<rootDir>/test/integration'],
  testMatch: CLUSTER_TEST_FILES.map((file) => `**/${file}`),
  globalSetup: '<rootDir>/test/cluster-global-setup.ts',
};
