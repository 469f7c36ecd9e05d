/**
 * Measuring and printing for `npm run bench` sections: warm up, run each measurement long
 * enough to be stable, report the median of several runs, and print tables whose ratios are
 * against a baseline measured in the same run (never against stored numbers; nothing here
 * asserts anything).
 */

export interface MeasureOptions {
  /** Minimum length of one timed run, in seconds. */
  seconds: number;
  /** Timed runs per measurement; the median is reported. */
  runs: number;
  /** Untimed running before the timed runs, in seconds (lets the JIT settle). */
  warmupSeconds: number;
  /**
   * `wall`: elapsed time. `cpu`: this process's CPU time (user + system, all its threads),
   * for a machine shared with other work, where elapsed time also counts waiting for a core.
   */
  clock: 'wall' | 'cpu';
}

export const DEFAULT_MEASURE: Readonly<MeasureOptions> = Object.freeze({ seconds: 1, runs: 3, warmupSeconds: 0.5, clock: 'wall' as const });

let current: MeasureOptions = { ...DEFAULT_MEASURE };

/** Sets the options every later `measure` uses (the harness does, from its command line). */
export function configureMeasure(options: Partial<MeasureOptions>): void {
  current = { ...current, ...options };
}

export function measureOptions(): Readonly<MeasureOptions> {
  return current;
}

/** A measured rate: median of the runs, with the slowest and fastest run for the spread. */
export interface Rate {
  nsPerOp: number;
  opsPerSec: number;
  /** Fastest and slowest run, ns per op. */
  minNs: number;
  maxNs: number;
}

/** Checksums of every batch, kept so the work cannot be optimised away. */
export let sink = 0;

/**
 * Measures `batch`, which does `n` operations and returns a checksum of their results.
 * Putting the loop inside `batch` keeps the measured call site monomorphic, so the figure is
 * the operation's cost and not the harness's.
 */
export function measure(batch: (n: number) => number, options: MeasureOptions = current): Rate {
  // calibrate: grow n until one batch takes a measurable time, then size a run from it
  let n = 8;
  let ns = time(batch, n);
  while (ns < 20e6) {
    n *= 4;
    ns = time(batch, n);
  }
  const perOp = ns / n;
  const warmEnd = process.hrtime.bigint() + BigInt(Math.round(options.warmupSeconds * 1e9));
  while (process.hrtime.bigint() < warmEnd) time(batch, n);
  const runN = Math.max(n, Math.ceil((options.seconds * 1e9) / perOp));
  const clock = options.clock === 'cpu' ? cpuTime : time;
  const samples: number[] = [];
  for (let r = 0; r < options.runs; r++) samples.push(clock(batch, runN) / runN);
  samples.sort((a, b) => a - b);
  const median = samples[samples.length >> 1]!;
  return { nsPerOp: median, opsPerSec: 1e9 / median, minNs: samples[0]!, maxNs: samples[samples.length - 1]! };
}

function time(batch: (n: number) => number, n: number): number {
  const t0 = process.hrtime.bigint();
  sink = (sink + batch(n)) | 0;
  return Number(process.hrtime.bigint() - t0);
}

function cpuTime(batch: (n: number) => number, n: number): number {
  const t0 = process.cpuUsage();
  sink = (sink + batch(n)) | 0;
  const t = process.cpuUsage(t0);
  return (t.user + t.system) * 1000;
}

/** A number with thousands separators and no decimals (e.g. "1,234,567"). */
export const whole = (x: number): string => Math.round(x).toLocaleString('en-US');

/** A number to `digits` decimals. */
export const fixed = (x: number, digits = 1): string => x.toFixed(digits);

/** Left-aligned first column, right-aligned others, a rule under the header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}
