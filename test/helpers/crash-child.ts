/**
 * Both sides of the crash tests (test/integration/*-crash.test.ts): the parent starts a child
 * script through tsx, reads what it reports (acknowledged indices, one line each) from its
 * stdout and SIGKILLs it mid-stream; the child runs its main() under runChild and draws its
 * workload from a small replayable generator.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { onLines, spawnTsx } from './tsx-process';

/** A running child; a test extends it with what it reads from the child's lines. */
export interface ChildRun {
  child: ChildProcess;
  /** How it ended, once its output is closed. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its stderr so far, when started with `stderr: 'pipe'` (else stderr goes to the test's). */
  stderr: string;
}

/**
 * Starts `script` (a TypeScript file, through tsx) with `args`, as `state` extended with the
 * ChildRun fields, and hands each complete stdout line to `onLine` with that object. What
 * `onLine` throws is thrown from the stream's event, failing the running test.
 */
export function startChild<S extends object>(
  script: string, args: string[], state: S, onLine: (line: string, run: ChildRun & S) => void, o: { stderr: 'inherit' | 'pipe' } = { stderr: 'inherit' },
): ChildRun & S {
  const child = spawnTsx([script, ...args], ['ignore', 'pipe', o.stderr]);
  const exit = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const run: ChildRun & S = Object.assign(state, { child, exit, stderr: '' });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (run.stderr += d));
  onLines(child.stdout!, (line) => onLine(line, run));
  return run;
}

/**
 * Starts the child as startChild does and resolves once `onLine` returns true for a line; the
 * lines after it still reach `onLine`. Rejects if the child cannot start, ends by itself (any
 * way but SIGKILL) first, or `onLine` throws first (and then kills the child).
 */
export function childUntil<S extends object>(script: string, args: string[], state: S, onLine: (line: string, run: ChildRun & S) => boolean): Promise<ChildRun & S> {
  return new Promise((resolve, reject) => {
    const run = startChild(script, args, state, (line, r) => {
      try {
        if (onLine(line, r)) resolve(r);
      } catch (e) {
        r.child.kill('SIGKILL');
        reject(e);
      }
    });
    run.child.on('error', reject);
    void run.exit.then(({ code, signal }) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself (code ${code}, signal ${signal})`));
    }, reject);
  });
}

/** SIGKILLs the child and resolves once it has ended. */
export async function killChild(run: ChildRun): Promise<void> {
  run.child.kill('SIGKILL');
  await run.exit;
}

/** The larger of two indices, to keep the highest one a child reported. */
export const maxIndex = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/**
 * Runs a child's main(): a failure is written to stderr as `name: stack` and the child exits
 * 1, so that the parent sees it end by itself rather than by its SIGKILL.
 */
export function runChild(name: string, main: () => Promise<void>): void {
  main().catch((e) => {
    process.stderr.write(`${name}: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}

/**
 * A small linear congruential generator: `random(n)` gives 0..n-1. Seeded from where the
 * journal resumed, so every child after a crash draws another sequence.
 */
export function lcg(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
}
