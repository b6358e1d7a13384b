/**
 * npm run lockfile:complete — run after `npm install` changes package-lock.json.
 *
 * The npm registry reachable from this project's machines serves only some platforms' builds of packages that ship
 * one optional package per platform (@swc/core-darwin-arm64, @unrs/resolver-binding-win32-x64-msvc, …): the rest
 * answer 404. `npm install` then leaves those optional packages out of the lockfile, and `npm ci` refuses a
 * lockfile that lacks them. This adds each missing one as an optional entry for its own platform, so `npm ci`
 * skips it on other platforms (and installs it, from a registry that has it, on its own).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCKFILE = join(__dirname, '..', 'package-lock.json');

type Entry = { version?: string; optional?: boolean; os?: string[]; cpu?: string[]; libc?: string[]; optionalDependencies?: Record<string, string> };

/** os, cpu and libc read from a platform package's name, e.g. core-linux-arm64-musl. */
export function platformOf(name: string): Pick<Entry, 'os' | 'cpu' | 'libc'> {
  const parts = name.split('/').pop()!.split('-');
  const os = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openharmony'].find((o) => parts.includes(o));
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64'].find((c) => parts.includes(c));
  const libc = parts.includes('musl') || parts.includes('musleabihf') ? ['musl'] : parts.includes('gnu') || parts.includes('gnueabihf') ? ['glibc'] : undefined;
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}), ...(libc ? { libc } : {}) };
}

function main(): void {
  const lock = JSON.parse(readFileSync(LOCKFILE, 'utf8')) as { packages: Record<string, Entry> };
  const added: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
      // npm hoists these next to their parent's top-level node_modules.
      const key = `node_modules/${name}`;
      if (lock.packages[key] || lock.packages[`${path}/node_modules/${name}`]) continue;
      const platform = platformOf(name);
      if (!platform.os && !platform.cpu) continue; // not a per-platform build: leave it to npm
      lock.packages[key] = { version, optional: true, ...platform };
      added.push(`${name}@${version}`);
    }
  }
  lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  writeFileSync(LOCKFILE, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(added.length ? `added ${added.length} platform entries: ${added.join(', ')}` : 'lockfile complete');
}

main();
