/**
 * `lig decode FILE [--json] [--full] [--max-pdu-bytes N]`: decodes a handover stream
 * (back-to-back PS-PDUs, as HI2/HI3 carry them and `lig lemf` stores them) and prints one
 * record per PDU. FILE `-` is stdin. Exit 0 when every PDU decoded, 1 when any did not,
 * 2 for usage errors. Decoding and rendering live in src/etsi; this file is flags and I/O.
 */
import * as fs from 'node:fs';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PDU_BYTES } from '../ber/constants';
import { LigError, UsageError } from '../errors';
import { jsonRecord, renderRecord } from '../etsi/render';
import { StreamDecoder, StreamRecord } from '../etsi/stream-decoder';
import { FlagSpec, flagHelp, parseArgs, str } from './args';
import type { Command } from './command';

/** Bytes read from the input at a time. */
export const READ_CHUNK_BYTES = 64 * 1024;

const FLAGS: Record<string, FlagSpec> = {
  json: { help: 'one JSON object per PDU and line: {index, offset, length, pdu | error}' },
  full: { help: 'print long OCTET STRINGs whole (human output)' },
  'max-pdu-bytes': { value: true, help: `largest PDU accepted, in bytes (default ${DEFAULT_MAX_PDU_BYTES})` },
  help: { help: 'show this help' },
};

const SYNOPSIS = 'lig decode FILE [--json] [--full] [--max-pdu-bytes N]   (FILE - reads stdin)';
const USAGE = `usage: ${SYNOPSIS}\n${flagHelp(FLAGS)}`;

export const command: Command = {
  summary: 'decode a handover stream (back-to-back PS-PDUs)',
  run: async (argv, io) => {
    const p = parseArgs(argv, FLAGS);
    if (p.flags.help) {
      io.out(USAGE);
      return 0;
    }
    if (p.positionals.length !== 1) {
      const what = p.positionals.length === 0 ? 'FILE is missing' : 'give exactly one FILE';
      throw new UsageError(`${what}; usage: ${SYNOPSIS}`);
    }
    const maxPduBytes = maxPduBytesFlag(str(p, 'max-pdu-bytes'));
    const json = p.flags.json === true;
    const full = p.flags.full === true;
    const file = p.positionals[0]!;

    const decoder = new StreamDecoder({ maxDepth: DEFAULT_MAX_DEPTH, maxPduBytes });
    let count = 0;
    let failed = 0;
    const emit = (records: StreamRecord[]): void => {
      for (const r of records) {
        count++;
        if (r.error) failed++;
        io.out(json ? jsonRecord(r) : (count > 1 ? '\n' : '') + renderRecord(r, { full }));
      }
    };
    for await (const chunk of readInput(file)) emit(decoder.push(chunk));
    emit(decoder.end());

    if (count === 0) io.err(`lig decode: ${file === '-' ? 'stdin' : file} holds no PDU (it is empty)`);
    if (failed > 0) io.err(`lig decode: ${failed} of ${count} PDUs did not decode`);
    return failed > 0 ? 1 : 0;
  },
};

function maxPduBytesFlag(v: string | undefined): number {
  if (v === undefined) return DEFAULT_MAX_PDU_BYTES;
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 2) throw new UsageError(`--max-pdu-bytes must be a whole number of bytes, at least 2; got "${v}"`);
  return n;
}

/** The input's bytes, chunk by chunk: a file, or stdin for `-`. */
async function* readInput(file: string): AsyncGenerator<Uint8Array> {
  if (file === '-') {
    for await (const chunk of process.stdin) yield chunk as Buffer;
    return;
  }
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    throw new UsageError(`cannot open ${file}: ${reason(e)}`);
  }
  try {
    if ((await fh.stat()).isDirectory()) throw new UsageError(`${file} is a directory, not a stream file`);
    const buf = Buffer.alloc(READ_CHUNK_BYTES);
    for (;;) {
      let n: number;
      try {
        n = (await fh.read(buf, 0, buf.length, null)).bytesRead;
      } catch (e) {
        throw new LigError('LIG_ERR_INPUT_READ', `reading ${file} failed: ${reason(e)}`);
      }
      if (n === 0) return;
      yield buf.subarray(0, n); // the decoder copies what it keeps before the next read
    }
  } finally {
    await fh.close();
  }
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const known: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };
  return (code && known[code]) ?? (e instanceof Error ? e.message : String(e));
}
