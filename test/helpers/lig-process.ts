/**
 * `lig` as a real process, for the CLI tests: main() from src/ through tsx, as bin/lig would
 * run it, with stdout collected line by line and stderr as text. Every wait is on an event (a
 * line, stderr output, the exit), never on time.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { onLines, spawnTsx } from './tsx-process';

export interface LigProcess {
  child: ChildProcess;
  /** The complete lines printed on stdout so far. */
  stdout: string[];
  /** Everything printed on stderr so far. */
  stderr: string;
  /** The exit code (null when a signal ended it), once stdout and stderr are closed. */
  exit: Promise<number | null>;
  /** True once `exit` has resolved. */
  ended: boolean;
  /** Emits 'output' after each stdout line, each piece of stderr and the exit. */
  events: EventEmitter;
}

/** Starts `lig ARGV…`. */
export function lig(argv: string[]): LigProcess {
  const child = spawnTsx(['-e', "require('./src/cli/main').main(process.argv.slice(1))", '--', ...argv], ['ignore', 'pipe', 'pipe']);
  const exit = once(child, 'close').then(([code]) => code as number | null);
  const p: LigProcess = { child, stdout: [], stderr: '', exit, ended: false, events: new EventEmitter() };
  void exit.then(() => {
    p.ended = true;
    p.events.emit('output');
  });
  onLines(child.stdout!, (line) => {
    p.stdout.push(line);
    p.events.emit('output');
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    p.stderr += d;
    p.events.emit('output');
  });
  return p;
}

/** Resolves once `done()` holds, or the process has ended; with `done()`'s last answer. */
async function until<T>(p: LigProcess, done: () => T | undefined): Promise<T | undefined> {
  for (;;) {
    const r = done();
    if (r !== undefined || p.ended) return r;
    await once(p.events, 'output');
  }
}

/** Waits until stdout has `n` lines (or the process ends); returns the first `n`. */
export async function lines(p: LigProcess, n: number): Promise<string[]> {
  await until(p, () => (p.stdout.length >= n ? true : undefined));
  return p.stdout.slice(0, n);
}

/** Resolves with the first stdout line matching `re` (or undefined once the process ended without one). */
export function lineMatching(p: LigProcess, re: RegExp): Promise<RegExpExecArray | undefined> {
  return until(p, () => {
    for (const l of p.stdout) {
      const m = re.exec(l);
      if (m) return m;
    }
    return undefined;
  });
}

/** Resolves once stderr holds `text`; throws if the process ends without printing it. */
export async function stderrIncludes(p: LigProcess, text: string): Promise<void> {
  if (!(await until(p, () => (p.stderr.includes(text) ? true : undefined)))) {
    throw new Error(`lig ended (code ${await p.exit}) without printing ${JSON.stringify(text)} on stderr: ${p.stderr}`);
  }
}

/** Sends `signal` and resolves with the exit code once the process has ended. */
export function stop(p: LigProcess, signal: NodeJS.Signals): Promise<number | null> {
  p.child.kill(signal);
  return p.exit;
}
