#!/usr/bin/env node
/**
 * The s3batch command line: create, describe, list, watch and steer jobs, and summarise their reports. The program
 * is in src/cli/ (one module per command); this file is only the entry point: package.json's `bin.s3batch`
 * (lib/src/cli/main.js, built by `npm run build`) and `npm run s3batch` (tsx) name it.
 *
 *   s3batch --help            every command, the exit codes and the environment
 *   s3batch <command> --help  one command's options
 */
// First: on a Node older than 24 this says so and exits before anything else loads.
import '../node-version-guard';
import { runCli } from './index';

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Normally the process ends by itself here; an SDK handle left open must not keep a script waiting forever.
  setTimeout(() => process.exit(code), 2000).unref();
});
