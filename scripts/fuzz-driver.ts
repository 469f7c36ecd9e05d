/**
 * What the time-boxed fuzzers in scripts/ share (none of them runs in `npm test`): the
 * command line, a seeded generator, byte-level mutations, the loop and the report.
 *
 *   npx tsx scripts/fuzz-NAME.ts [--seconds N] [--seed N] [--out DIR] [--replay FILE] [--only TARGET]
 *
 * A fuzzer brings its seeds (valid inputs, each of which must pass its checks), a way to make
 * the next input and the checks, which return a problem or throw one. The loop runs until the
 * time is up; the first input with a problem is written to DIR (default: the temp dir), the
 * way to replay it is printed and the run exits 1. The same seed makes the same inputs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prng } from '../test/fixtures/capture-golden';

// --- the command line ---------------------------------------------------------------------------

export interface FuzzArgs {
  /** How long the whole script runs; its fuzzers share it. */
  seconds: number;
  seed: number;
  /** Where a failing input is written. */
  out: string;
  /** Run the checks on this file alone. */
  replay?: string;
  /** Run only the fuzzer of this name (a script with several). */
  only?: string;
}

const USAGE = '[--seconds N] [--seed N] [--out DIR] [--replay FILE] [--only TARGET]';

/** Reads the command line (`argv` without node and the script); a bad one is an error with the usage. */
export function parseFuzzArgs(argv: string[], defaultSeconds = 30): FuzzArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : (argv[i + 1] ?? '');
  };
  const known = new Set(['--seconds', '--seed', '--out', '--replay', '--only']);
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.has(a) && !known.has(argv[i - 1] ?? ''));
  const seconds = Number(value('seconds') ?? defaultSeconds);
  const seed = Number(value('seed') ?? Date.now() % 2 ** 31);
  const problems = [
    ...unknown.map((a) => `unknown option ${a}`),
    ...(Number.isFinite(seconds) && seconds > 0 ? [] : ['--seconds takes a positive number']),
    ...(Number.isSafeInteger(seed) ? [] : ['--seed takes an integer']),
  ];
  if (problems.length > 0) throw new UsageError(`${problems.join('; ')}. usage: ${USAGE}`);
  return { seconds, seed, out: value('out') ?? os.tmpdir(), replay: value('replay'), only: value('only') };
}

export class UsageError extends Error {}

// --- the generator ------------------------------------------------------------------------------

/** A replayable generator (mulberry32 from --seed) with the draws the fuzzers make. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  /** A number in [0, 1). */
  float(): number {
    return this.next();
  }
  /** An integer in 0..n-1 (0 when n is 0). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// --- byte-level mutations -----------------------------------------------------------------------

/** Changes `b` (in place or into a new buffer, returned); `pool` holds other inputs to splice from. */
export type Mutation = (b: Buffer, rng: Rng, pool: readonly Uint8Array[]) => Buffer;

/** One of `values`, or any octet with probability `anyOctet`. */
const octet = (rng: Rng, values: readonly number[], anyOctet: number): number => (values.length === 0 || rng.chance(anyOctet) ? rng.below(256) : rng.pick(values));

/** Flips 1..max bits. */
export const flipBits = (max = 1): Mutation => (b, rng) => {
  for (let n = 1 + rng.below(max); n > 0 && b.length > 0; n--) b[rng.below(b.length)]! ^= 1 << rng.below(8);
  return b;
};

/** Sets an octet to one of `values` (to any octet, with probability `anyOctet`). */
export const setOctet = (values: readonly number[], anyOctet = 0): Mutation => (b, rng) => {
  if (b.length > 0) b[rng.below(b.length)] = octet(rng, values, anyOctet);
  return b;
};

/** Writes one of `values` as a 16- or 32-bit word: big-endian, or either way with `bothEndians`; at a multiple of its size with `aligned`. */
export const setWord = (values: readonly number[], size: 2 | 4, o: { aligned?: boolean; bothEndians?: boolean } = {}): Mutation => (b, rng) => {
  const at = o.aligned ? rng.below(b.length) & ~(size - 1) : rng.below(b.length);
  if (at + size > b.length) return b;
  const v = rng.pick(values);
  const le = o.bothEndians === true && rng.chance(0.5);
  if (size === 2) le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at);
  else le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at);
  return b;
};

/** Cuts the input short. */
export const truncate: Mutation = (b, rng) => b.subarray(0, rng.below(b.length + 1));

/** Inserts 1..max octets of `values` (any octets when empty). */
export const insertOctets = (max: number, values: readonly number[] = [], anyOctet = 0): Mutation => (b, rng) => {
  const at = rng.below(b.length + 1);
  const ins = Buffer.from(Array.from({ length: 1 + rng.below(max) }, () => octet(rng, values, anyOctet)));
  return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
};

/** Deletes 1..max octets. */
export const deleteOctets = (max: number): Mutation => (b, rng) => {
  const at = rng.below(b.length);
  return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.below(max))]);
};

/** Repeats a slice of 1..max octets right after itself. */
export const repeatSlice = (max: number): Mutation => (b, rng) => {
  const at = rng.below(b.length);
  const n = 1 + rng.below(Math.min(max, b.length - at));
  return Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
};

/** Replaces the tail, from a random point, with the tail of another input. */
export const spliceTail: Mutation = (b, rng, pool) => {
  const o = rng.pick(pool);
  return Buffer.concat([b.subarray(0, rng.below(b.length + 1)), o.subarray(rng.below(o.length + 1))]);
};

/** Appends another whole input. */
export const appendInput: Mutation = (b, rng, pool) => Buffer.concat([b, rng.pick(pool)]);

/** A copy of `input` changed by `rounds` mutations drawn from `ops` (fewer when it runs empty). */
export function mutate(input: Uint8Array, rng: Rng, pool: readonly Uint8Array[], ops: readonly Mutation[], rounds = 1 + rng.below(4)): Buffer {
  let b: Buffer = Buffer.from(input);
  for (let r = 0; r < rounds && b.length > 0; r++) b = rng.pick(ops)(b, rng, pool);
  return b;
}

/** `name count, …`, most first: how often each outcome came up. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }
  toString(rename: (name: string) => string = (n) => n): string {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${rename(k)} ${n}`).join(', ');
  }
}

// --- the loop -----------------------------------------------------------------------------------

export interface Fuzzer {
  /** Names the failing input's file and the report lines; `--only` picks it. */
  name: string;
  /** Valid inputs; each must pass the checks, or the fuzzer itself is broken. */
  seeds: readonly Uint8Array[];
  /** The next input to check (the fuzzer keeps its own pool). */
  next(): Uint8Array;
  /** The checks: a problem, or undefined when all hold. What it throws is a problem too. */
  check(input: Uint8Array): string | undefined;
  /** A few words on the run so far, printed every few seconds and at the end. */
  progress?(): string;
  /** Lines printed after a clean run. */
  report?(): string[];
}

const PROGRESS_MS = 5000;
/** Seconds as people read them: 0.7, 30. */
const secondsText = (s: number): string => `${Number(s.toFixed(1))} s`;

/** The problem with `input`, if any: what check returned or threw. */
function problemOf(f: Fuzzer, input: Uint8Array): string | undefined {
  try {
    return f.check(input);
  } catch (e) {
    return `threw ${e instanceof Error ? e.stack : String(e)}`;
  }
}

/** A fuzz script: its file (for the replay hint) and its fuzzers, made from the run's generator. */
export interface FuzzScript {
  script: string;
  make(rng: Rng): readonly Fuzzer[];
}

/**
 * Runs `f` for `seconds` (or replays args.replay). Returns the exit code: 0 when every check
 * held, 1 with the failing input written to args.out. Throws when a seed fails.
 */
export function runFuzzer(f: Fuzzer, args: FuzzArgs, seconds: number, script: string): number {
  const label = `fuzz-${f.name}`;
  if (args.replay) {
    const problem = problemOf(f, fs.readFileSync(args.replay));
    console.log(problem ? `${label}: ${args.replay}: ${problem}` : `${label}: ${args.replay}: every check holds`);
    return problem ? 1 : 0;
  }
  f.seeds.forEach((s, k) => {
    const problem = problemOf(f, s);
    if (problem) throw new Error(`${label}: seed ${k} fails, the fuzzer itself is broken: ${problem}`);
  });
  console.log(`${label}: ${f.seeds.length} seeds, ${secondsText(seconds)}, --seed ${args.seed}`);
  const end = Date.now() + seconds * 1000;
  let report = Date.now() + PROGRESS_MS;
  let runs = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 200; i++, runs++) {
      const input = f.next();
      const problem = problemOf(f, input);
      if (problem) {
        fs.mkdirSync(args.out, { recursive: true });
        const file = path.join(args.out, `${label}-${args.seed}-${runs}.bin`);
        fs.writeFileSync(file, input);
        console.error(`${label}: FOUND after ${runs} inputs (--seed ${args.seed}): ${problem}`);
        console.error(`input written to ${file}; rerun with: npx tsx ${path.relative(process.cwd(), script)} --only ${f.name} --seed ${args.seed} --replay ${file}`);
        return 1;
      }
    }
    if (Date.now() >= report) {
      report += PROGRESS_MS;
      console.log(`  ${runs} inputs${f.progress ? `, ${f.progress()}` : ''}`);
    }
  }
  console.log(`${label}: ${runs} inputs in ${secondsText(seconds)}, no finding${f.progress ? `; ${f.progress()}` : ''}`);
  for (const line of f.report?.() ?? []) console.log(`  ${line}`);
  return 0;
}

/**
 * Runs the fuzzers of one script in turn (the one `--only` names, or all), sharing `seconds`;
 * stops at the first finding. Returns the exit code: 0, 1 for a finding, 2 for a bad --only.
 */
export function runScript(s: FuzzScript, args: FuzzArgs, seconds = args.seconds): number {
  const fuzzers = s.make(new Rng(args.seed));
  const chosen = fuzzers.filter((f) => args.only === undefined || f.name === args.only);
  if (chosen.length === 0) {
    console.error(`--only takes one of: ${fuzzers.map((f) => f.name).join(', ')}`);
    return 2;
  }
  for (const f of chosen) if (runFuzzer(f, args, seconds / chosen.length, s.script) !== 0) return 1;
  return 0;
}

/** Reads the command line, or sets exit code 2 and says what is wrong with it. */
export function commandLine(argv: string[], defaultSeconds = 30): FuzzArgs | undefined {
  try {
    return parseFuzzArgs(argv, defaultSeconds);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${path.basename(process.argv[1] ?? 'fuzz')}: ${e.message}`);
    process.exitCode = 2;
    return undefined;
  }
}

/** The main of a fuzz script run by itself: its command line, then runScript; sets the exit code. */
export function fuzzMain(s: FuzzScript): void {
  const args = commandLine(process.argv.slice(2));
  if (args) process.exitCode = runScript(s, args);
}
