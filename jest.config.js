/** Jest runs unit tests and integration tests against the real local stack (see test/global-setup.ts). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120_000,
  // Two cores: one test file at a time keeps the shared dev server and MinIO from being the bottleneck.
  maxWorkers: 1,
  // The history secret scan runs last (see test/sequencer.js).
  testSequencer: '<rootDir>/test/sequencer.js',
};
