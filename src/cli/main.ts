/**
 * `lig` entry point: dispatches to one module per subcommand (src/cli/<name>.ts, each
 * exporting `command`, see command.ts). The only place that calls process.exit.
 */
import { isLigError } from '../errors';
import type { Command, Io } from './command';

export type { Command, Io };

/** Subcommands, loaded on use so `lig decode` does not pay for gRPC or TLS modules. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  // require, not import(): compiled to CommonJS either way, and under mocha's tsx/cjs hook a
  // dynamic import() would bypass the TypeScript loader
  decode: { summary: 'decode a handover stream (back-to-back PS-PDUs)', load: async () => (require('./decode') as typeof import('./decode')).command },
  certs: { summary: 'make a CA and certificates (init), or add one (issue)', load: async () => (require('./certs') as typeof import('./certs')).command },
  lemf: { summary: 'reference agency collector (LEMF): receive, store, check and answer HI2/HI3', load: async () => (require('./lemf') as typeof import('./lemf')).command },
  mediator: { summary: 'mediation server: probe ingest, journals, delivery to agencies', load: async () => (require('./mediator') as typeof import('./mediator')).command },
  probe: { summary: 'capture probe: match targets in a capture or live traffic, stream them to the mediator; list: the probes the mediator knows', load: async () => (require('./probe') as typeof import('./probe')).command },
  demo: { summary: 'the whole chain on loopback (probe, mediator, LEMF) on a bundled capture', load: async () => (require('./demo') as typeof import('./demo')).command },
  warrant: { summary: 'warrants through the admin API: add, activate, modify, stop, list, show', load: async () => (require('./warrant') as typeof import('./warrant')).command },
  agency: { summary: 'agencies and their delivery state, through the admin API (list)', load: async () => (require('./agency') as typeof import('./agency')).command },
  audit: { summary: 'verify the audit log\'s hash chain, offline (--file) or through the admin API (verify)', load: async () => (require('./audit') as typeof import('./audit')).command },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  lig ${k.padEnd(10)} ${c.summary}`);
  return ['usage: lig <command> [options]', '', ...lines, '', 'Run `lig <command> --help` for its options.'].join('\n');
}

export async function main(argv: string[], io: Io = defaultIo): Promise<void> {
  // `lig decode big.ber | head`: the reader went away. Stop quietly, as `cat` would.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  quietIpServernameWarning();
  const code = await runCli(argv, io);
  process.exitCode = code;
}

export async function runCli(argv: string[], io: Io = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`lig: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    const cmd = await entry.load();
    return await cmd.run(rest, io);
  } catch (e) {
    if (isLigError(e)) {
      io.err(`lig ${name}: ${e.message} [${e.code}]`);
      return e.code === 'LIG_ERR_USAGE' ? 2 : 1;
    }
    io.err(`lig ${name}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 1;
  }
}

/**
 * grpc-js sets the TLS server name (SNI) to the target's host even when that is an IP address,
 * which RFC 6066 forbids: Node leaves SNI out and warns (DEP0123) on every `lig warrant` or
 * `lig probe` aimed at an address. Harmless (the mediator's certificate is still checked
 * against the address), so that one warning is dropped; every other is printed as Node would.
 */
function quietIpServernameWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.code === 'DEP0123') return;
    process.stderr.write(`(node:${process.pid}) ${w.code ? `[${w.code}] ` : ''}${w.name}: ${w.message}\n`);
  });
}

const defaultIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};
