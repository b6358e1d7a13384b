#!/usr/bin/env bash
# `npm test`: the type check, then the main suite, then the cluster suite (jest.cluster.config.js); the exit status is
# the first failure's. `npm test -- <jest arguments>` (a file, -t <name>, ...) runs the type check and only the main
# suite with them, so one file can be run the usual way; `npm run test:cluster -- <file>` does the same on the cluster.
set -u
tsc -p tsconfig.json --noEmit || exit $?
if [ $# -gt 0 ]; then
  exec jest "$@"
fi
npm run test:main
main=$?
npm run test:cluster || exit $?
exit $main
