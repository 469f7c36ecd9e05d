/**
 * Child processes that run TypeScript from the repository through tsx (so a test never runs
 * a stale dist/), and their stdout read line by line. Shared by the CLI harness
 * (lig-process.ts) and the crash tests' parent side (crash-child.ts).
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { REPO_ROOT } from './shared';

/** Starts `node --require tsx/cjs ARGS…` in the repository root. */
export function spawnTsx(args: string[], stdio: StdioOptions): ChildProcess {
  return spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), ...args], { cwd: REPO_ROOT, stdio });
}

/**
 * Calls `onLine` with each complete line `stream` gives (without its newline), in order. A
 * last piece without a newline is not a line: a child killed while writing it never finished it.
 */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
  });
}
