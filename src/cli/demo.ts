/**
 * `lig demo [--out DIR] [--verbose]`: the whole chain on loopback (probe, mediator, LEMF in
 * this process, each on its own sockets) on the bundled capture, then what the agency
 * received. Warnings and errors of the components go to stderr (all their lines with
 * --verbose). Exits 0 when every record reached the agency once and in order, 1 otherwise.
 * The demo itself lives in src/demo; this file is flags.
 */
import * as path from 'node:path';
import { DEFAULT_DEMO_OUT, demoLines, demoProblems, runDemo } from '../demo';
import { FlagSpec, parseCommandFlags, str } from './args';
import type { Command } from './command';

const FLAGS: Record<string, FlagSpec> = {
  out: { value: true, help: `where the LEMF writes hi2.ber, hi3.ber, records.jsonl, cc/<LIID>.pcap (default ./${DEFAULT_DEMO_OUT}; a previous demo's files there are replaced)` },
  verbose: { help: 'show every line the probe, mediator and LEMF log (default: warnings and errors)' },
  help: { help: 'show this help' },
};

const SYNOPSIS = 'lig demo [--out DIR] [--verbose]';

export const command: Command = {
  summary: 'the whole chain on loopback (probe, mediator, LEMF) on a bundled capture',
  run: async (argv, io) => {
    const p = parseCommandFlags(argv, FLAGS, SYNOPSIS, io.out);
    if (!p) return 0;
    const verbose = p.flags.verbose === true;
    const result = await runDemo({
      out: path.resolve(str(p, 'out') ?? DEFAULT_DEMO_OUT),
      log: (component, level, message) => {
        if (verbose || level === 'error' || level === 'warn') io.err(`lig demo: ${component}: ${level}: ${message}`);
      },
    });
    for (const line of demoLines(result)) io.out(line);
    return demoProblems(result).length === 0 ? 0 : 1;
  },
};
