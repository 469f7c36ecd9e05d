/**
 * `npm run bench [-- SECTION... | --list] [--seconds S] [--runs N] [--warmup S] [--clock wall|cpu]`
 *
 * Runs benchmark sections and prints each one's tables: absolute figures and ratios against
 * a baseline measured in the same run. Never part of `npm test`; nothing is asserted.
 *
 * A section is a module in bench/ exporting `async function benchX(): Promise<string[]>`.
 * Sections are loaded on demand, so one that is missing or broken is reported as
 * unavailable and the others still list and run.
 */
import * as os from 'node:os';
import { DEFAULT_MEASURE, configureMeasure, measureOptions } from './measure';

type Section = () => Promise<string[]>;

/** Name → module (relative to this file) and its exported function. */
const SECTIONS: Record<string, { module: string; fn: string; what: string }> = {
  codec: { module: './codec', fn: 'benchCodec', what: 'IPCC PDUs: general and fast encoders, decoder (ratios to a packet copy)' },
  journal: { module: './journal', fn: 'benchJournal', what: 'the delivery journal' },
  e2e: { module: './e2e', fn: 'benchE2e', what: 'end to end: probe, gRPC, mediator, journal, TLS, LEMF on loopback (ratio to a raw TLS pipe)' },
};

function load(name: string): Section | string {
  const s = SECTIONS[name]!;
  try {
    const mod = require(s.module) as Record<string, unknown>;
    const fn = mod[s.fn];
    return typeof fn === 'function' ? (fn as Section) : `${s.module} does not export ${s.fn}()`;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && err.message.includes(s.module.slice(2))) return `${s.module}.ts is not there (or not built)`;
    return `${s.module} fails to load: ${err.message.split('\n')[0]}`;
  }
}

function usage(): string {
  const names = Object.keys(SECTIONS);
  return [
    'usage: npm run bench [-- SECTION... | --list] [--seconds S] [--runs N] [--warmup S] [--clock wall|cpu]',
    `sections: ${names.join(', ')} (default: all that load)`,
    `defaults: --seconds ${DEFAULT_MEASURE.seconds} --runs ${DEFAULT_MEASURE.runs} --warmup ${DEFAULT_MEASURE.warmupSeconds} --clock ${DEFAULT_MEASURE.clock}`,
  ].join('\n');
}

function parse(argv: string[]): { names: string[]; list: boolean } | string {
  const names: string[] = [];
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--list') list = true;
    else if (a === '--help' || a === '-h') return usage();
    else if (a === '--clock') {
      const v = argv[++i];
      if (v !== 'wall' && v !== 'cpu') return `--clock is wall or cpu\n${usage()}`;
      configureMeasure({ clock: v });
    } else if (a === '--seconds' || a === '--runs' || a === '--warmup') {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0 || (a === '--runs' && !Number.isInteger(v))) return `${a} needs a positive number\n${usage()}`;
      configureMeasure(a === '--seconds' ? { seconds: v } : a === '--runs' ? { runs: v } : { warmupSeconds: v });
    } else if (a in SECTIONS) names.push(a);
    else return `unknown section or option "${a}"\n${usage()}`;
  }
  return { names, list };
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  if (typeof args === 'string') {
    console.error(args);
    return args.startsWith('usage') ? 0 : 2;
  }
  if (args.list) {
    for (const [name, s] of Object.entries(SECTIONS)) {
      const loaded = load(name);
      console.log(`${name.padEnd(10)} ${s.what}${typeof loaded === 'string' ? ` [unavailable: ${loaded}]` : ''}`);
    }
    return 0;
  }
  const chosen = args.names.length > 0 ? args.names : Object.keys(SECTIONS);
  const o = measureOptions();
  console.log(`lig bench: node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ` +
    `${o.runs} runs x >= ${o.seconds} s, warm-up ${o.warmupSeconds} s, ${o.clock} clock, ` +
    `load average ${os.loadavg()[0]!.toFixed(2)}${o.clock === 'wall' && os.loadavg()[0]! >= os.cpus().length ? ' (busy machine: consider --clock cpu)' : ''}`);
  let failed = 0;
  for (const name of chosen) {
    console.log(`\n== ${name} ==`);
    const section = load(name);
    if (typeof section === 'string') {
      console.log(`unavailable: ${section}`);
      if (args.names.length > 0) failed++; // asked for by name: that is an error
      continue;
    }
    try {
      for (const line of await section()) console.log(line);
    } catch (e) {
      failed++;
      console.log(`failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

main().then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
