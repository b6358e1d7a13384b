/** Waiting for a line from a child process the test started (a server saying it listens). */
import type { ChildProcess } from 'node:child_process';

/** The child's stdout and stderr until they match (or the child exits, which fails the test with its output). */
export function linesUntil(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) resolvePromise(text);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the process exited (${code}) before ${pattern}:\n${text}`)));
  });
}
