/**
 * `lig lemf --hi2 ADDR:PORT --hi3 ADDR:PORT --out DIR --ca CA.pem --cert lemf.pem --key
 * lemf-key.pem [--no-ack-pdus] [--max-pdu-bytes N]`: the reference collector. Prints the
 * bound addresses (one line each: `hi2 listening on 127.0.0.1:40123`), logs to stderr, and
 * on SIGINT or SIGTERM prints the summary and writes DIR/summary.json. The LEMF itself lives
 * in src/lemf; this file is flags and process signals.
 */
import { DEFAULT_MAX_PDU_BYTES } from '../ber/constants';
import { UsageError } from '../errors';
import { Lemf, SUMMARY_FILE, formatAddress, summaryLines } from '../lemf';
import { FlagSpec, need, parseCommandFlags, str } from './args';
import type { Command } from './command';

const FLAGS: Record<string, FlagSpec> = {
  hi2: { value: true, help: 'HI2 (IRI) listen address, ADDR:PORT (port 0: any free port)' },
  hi3: { value: true, help: 'HI3 (CC) listen address, ADDR:PORT' },
  out: { value: true, help: 'output directory: hi2.ber, hi3.ber, records.jsonl, cc/<LIID>.pcap, state.json' },
  ca: { value: true, help: 'CA certificate(s) the mediators\' client certificates must chain to' },
  cert: { value: true, help: 'the LEMF\'s own certificate (PEM)' },
  key: { value: true, help: 'the LEMF\'s private key (PEM)' },
  'no-ack-pdus': { help: 'do not answer PDU acknowledgement requests; decline the option' },
  'max-pdu-bytes': { value: true, help: `largest PDU accepted, in bytes (default ${DEFAULT_MAX_PDU_BYTES})` },
  help: { help: 'show this help' },
};

const SYNOPSIS = 'lig lemf --hi2 ADDR:PORT --hi3 ADDR:PORT --out DIR --ca CA.pem --cert lemf.pem --key lemf-key.pem [--no-ack-pdus]';

export const command: Command = {
  summary: 'reference agency collector (LEMF): receive, store, check and answer HI2/HI3',
  run: async (argv, io) => {
    const p = parseCommandFlags(argv, FLAGS, SYNOPSIS, io.out);
    if (!p) return 0;
    const out = need(p, 'out');
    const lemf = await Lemf.start({
      hi2: need(p, 'hi2'),
      hi3: need(p, 'hi3'),
      out,
      ca: need(p, 'ca'),
      cert: need(p, 'cert'),
      key: need(p, 'key'),
      ackPdus: p.flags['no-ack-pdus'] !== true,
      maxPduBytes: maxPduBytes(str(p, 'max-pdu-bytes')),
      log: (line) => io.err(`lig lemf: ${line}`),
    });
    io.out(`hi2 listening on ${formatAddress(lemf.addresses.hi2)}`);
    io.out(`hi3 listening on ${formatAddress(lemf.addresses.hi3)}`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        lemf.off('error', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      lemf.on('error', stop); // an output failure: close() below rejects with it
    });
    const summary = await lemf.close();
    for (const line of summaryLines(summary, `${out}/${SUMMARY_FILE}`)) io.out(line);
    return 0;
  },
};

function maxPduBytes(v: string | undefined): number {
  if (v === undefined) return DEFAULT_MAX_PDU_BYTES;
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 2) throw new UsageError(`--max-pdu-bytes must be a whole number of bytes, at least 2; got "${v}"`);
  return n;
}
