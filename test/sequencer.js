/**
 * Test order: files by path, except the history secret scan, which runs last so that it reads the workflows every
 * other file of the run started (test/integration/secrets-in-history.test.ts). Jest's default order (slowest
 * first, from a cache) matters little here: files run one at a time.
 */
const LAST = 'secrets-in-history.test.ts';

class Sequencer {
  sort(tests) {
    const rank = (t) => (t.path.endsWith(LAST) ? 1 : 0);
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
  cacheResults() {}
  allFailedTests(tests) {
    return tests;
  }
  shard(tests) {
    return tests;
  }
}

module.exports = Sequencer;
