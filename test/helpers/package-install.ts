/**
 * s3-batch as another service gets it: `npm pack` of this project (its prepack builds lib/), and a fresh project
 * elsewhere that installs the tarball offline and builds its own code (test/fixtures/package-consumer/) against it.
 *
 * Offline: `npm ci` filled the npm cache with the tarballs of every locked package, but not with the registry's
 * package documents that `npm install` needs to resolve version ranges. So the consumer gets a lockfile of its own,
 * as any service has: this project's lockfile less its dev packages (the tarball's dependency tree is exactly the
 * project's production tree, hoisted the same way), plus the tarball itself. `npm ci --offline` then installs from
 * the cache alone, and `--ignore-scripts` shows the install needs no install script.
 */
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { runCommand, type CommandResult } from '../../scripts/lib/exec';

const ROOT = resolve(__dirname, '../..');
const CONSUMER_FIXTURE = join(ROOT, 'test/fixtures/package-consumer');

/** The packages the consumer's own code imports besides s3-batch, at this project's versions. */
const CONSUMER_DEPENDENCIES = ['@temporalio/client', 'zod'];

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  dependencies: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

interface LockEntry {
  version?: string;
  dev?: boolean;
  [field: string]: unknown;
}

interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/**
 * The environment for npm, tsc and node in the consumer: this Node 24 first on PATH, so npm's scripts (the prepack
 * build) and npm itself run on it, not on an older system node.
 */
export function toolEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, ...extra };
}

/** Runs a command and throws with its output when it fails. */
export async function mustRun(command: string, args: string[], cwd: string, timeoutMs: number, env = toolEnv()): Promise<CommandResult> {
  const result = await runCommand(command, args, { cwd, env, timeoutMs });
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) ended with ${result.code ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** `npm pack` of this project into `dest`; returns the tarball's path. */
export async function packProject(dest: string): Promise<string> {
  const { stdout } = await mustRun('npm', ['pack', '--json', '--pack-destination', dest], ROOT, 240_000);
  // npm prints the prepack build's output before the JSON on stdout.
  const packed = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as { filename: string; files: { path: string }[] }[];
  return join(dest, packed[0]!.filename);
}

/** The files a tarball holds, as paths inside the package (without the leading `package/`). */
export async function tarballFiles(tarball: string): Promise<string[]> {
  const { stdout } = await mustRun('tar', ['-tzf', tarball], dirname(tarball), 30_000);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
}

/** The consumer's lockfile: this project's production packages plus the tarball (see the top of this file). */
export function consumerLockfile(project: PackageJson, projectLock: Lockfile, consumer: PackageJson, tarball: string): Lockfile {
  const tarballName = basename(tarball);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const packages: Record<string, LockEntry> = {
    '': { name: consumer.name, version: consumer.version, dependencies: consumer.dependencies },
    [`node_modules/${project.name}`]: {
      version: project.version,
      resolved: `file:${tarballName}`,
      integrity,
      license: project.license,
      dependencies: project.dependencies,
      bin: project.bin,
      engines: project.engines,
    },
  };
  for (const [path, entry] of Object.entries(projectLock.packages)) {
    if (path !== '' && !entry.dev) packages[path] = entry;
  }
  return { name: consumer.name, version: consumer.version, lockfileVersion: projectLock.lockfileVersion, requires: true, packages } as Lockfile;
}

/**
 * A fresh project in `dir` (which holds nothing yet) with the tarball installed offline and the consumer's sources
 * copied in, not yet compiled.
 */
export async function installConsumer(dir: string, tarball: string): Promise<void> {
  const project = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  const projectLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const local = join(dir, basename(tarball));
  cpSync(tarball, local);
  const dependencies: Record<string, string> = { [project.name]: `file:${basename(tarball)}` };
  for (const name of CONSUMER_DEPENDENCIES) {
    const version = project.dependencies[name];
    if (!version) throw new Error(`package.json has no dependency ${name} for the consumer to use`);
    dependencies[name] = version;
  }
  const consumer: PackageJson = { name: 's3-batch-consumer', version: '1.0.0', dependencies };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ ...consumer, private: true }, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(consumerLockfile(project, projectLock, consumer, local), null, 2)}\n`);
  cpSync(CONSUMER_FIXTURE, dir, { recursive: true });
  await mustRun('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], dir, 240_000);
}

/** This project's TypeScript compiler, for the consumer (which has none of its own). */
export const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
