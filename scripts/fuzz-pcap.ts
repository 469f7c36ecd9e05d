/**
 * Time-boxed mutation fuzzer for the pcap/pcapng reader (not part of `npm test`; the command
 * line is scripts/fuzz-driver.ts's):
 *
 *   npx tsx scripts/fuzz-pcap.ts [--seconds 30] [--seed N] [--out DIR] [--replay FILE]
 *
 * Mutates valid captures (the golden ones and freshly written ones: bit flips, interesting
 * bytes and 32-bit words, cuts, repeated and deleted slices, splices) and checks that
 * 1. reading either succeeds or throws a CaptureFileError with a LIG_ERR_CAPTURE_* code and
 *    an offset inside the input: never another exception;
 * 2. packets obey the format's promises (data within limits, nanoseconds below 1e9, offsets
 *    increasing);
 * 3. reading in random chunks gives exactly what reading whole gives (packets, or the same
 *    error code at the same offset).
 */
import { CaptureFileError } from '../src/errors';
import { CapturedPacket, DEFAULT_MAX_RECORD_BYTES } from '../src/capture/pcap-format';
import { PcapReader, parseCaptureFile } from '../src/capture/pcap-reader';
import { encodePcapHeader, encodePcapRecord } from '../src/capture/pcap-write';
import { GOLDEN } from '../test/fixtures/capture-golden';
import {
  type FuzzScript, type Rng, Tally, deleteOctets, flipBits, fuzzMain, mutate, repeatSlice, setOctet, setWord, spliceTail, truncate,
} from './fuzz-driver';

/** Seeds: the golden captures and a few written ones with varied sizes. */
function seeds(rng: Rng): Uint8Array[] {
  const int = (n: number) => rng.below(n);
  const out = GOLDEN.map(([, bytes]) => bytes);
  for (let s = 0; s < 4; s++) {
    const parts = [encodePcapHeader(1, 1500)];
    for (let i = 0; i < 1 + int(8); i++) {
      const data = Uint8Array.from({ length: int(200) }, () => int(256));
      parts.push(encodePcapRecord(int(2 ** 31), int(1_000_000), data, data.length + int(3)));
    }
    out.push(Buffer.concat(parts));
  }
  return out;
}

const WORDS = [0, 1, 3, 4, 8, 12, 16, 20, 28, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffc, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORD_BYTES + 1, 0x0a0d0d0a, 0x1a2b3c4d, 0x4d3c2b1a];
const BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x09, 0x0e, 0x8a];
const MUTATIONS = [flipBits(), setOctet(BYTES), setWord(WORDS, 4, { aligned: true, bothEndians: true }), truncate, repeatSlice(64), deleteOctets(16), spliceTail];

type Outcome = { packets: CapturedPacket[] } | { error: CaptureFileError };

function whole(bytes: Uint8Array): Outcome {
  try {
    return { packets: parseCaptureFile(bytes).packets };
  } catch (e) {
    if (e instanceof CaptureFileError) return { error: e };
    throw e;
  }
}

function chunked(bytes: Uint8Array, rng: Rng): Outcome {
  const r = new PcapReader();
  const packets: CapturedPacket[] = [];
  try {
    let at = 0;
    while (at < bytes.length) {
      const n = 1 + rng.below(Math.max(1, Math.min(bytes.length - at, rng.chance(0.3) ? 4 : 64)));
      packets.push(...r.push(bytes.subarray(at, at + n)));
      at += n;
    }
    r.end();
    return { packets };
  } catch (e) {
    if (e instanceof CaptureFileError) return { error: e };
    throw e;
  }
}

function summary(o: Outcome): string {
  if ('error' in o) return `${o.error.code}@${o.error.offset}`;
  return JSON.stringify(o.packets.map((p) => [p.ts, p.linktype, Buffer.from(p.data).toString('hex'), p.origLen, p.interfaceId, p.offset]));
}

function check(bytes: Uint8Array, rng: Rng): string | undefined {
  let w: Outcome;
  try {
    w = whole(bytes);
  } catch (e) {
    return `whole read threw a non-CaptureFileError: ${e instanceof Error ? e.stack : String(e)}`;
  }
  if ('error' in w) {
    const { code, offset } = w.error;
    if (!code.startsWith('LIG_ERR_CAPTURE_')) return `unexpected code ${code}`;
    if (offset === undefined || !Number.isInteger(offset) || offset < 0 || offset > bytes.length) return `bad offset ${offset} for ${bytes.length} bytes`;
  } else {
    let last = -1;
    for (const p of w.packets) {
      if (p.data.length > DEFAULT_MAX_RECORD_BYTES) return `packet of ${p.data.length} bytes passed the limit`;
      if (p.ts && !(Number.isSafeInteger(p.ts.sec) && Number.isInteger(p.ts.nsec) && p.ts.nsec >= 0 && p.ts.nsec < 1e9)) return `bad timestamp ${JSON.stringify(p.ts)}`;
      if (p.offset <= last) return `offsets not increasing: ${p.offset} after ${last}`;
      last = p.offset;
    }
  }
  let c: Outcome;
  try {
    c = chunked(bytes, rng);
  } catch (e) {
    return `chunked read threw a non-CaptureFileError: ${e instanceof Error ? e.stack : String(e)}`;
  }
  if (summary(c) !== summary(w)) return `chunked read differs:\n  whole:   ${summary(w).slice(0, 300)}\n  chunked: ${summary(c).slice(0, 300)}`;
  return undefined;
}

export const pcapFuzz: FuzzScript = {
  script: __filename,
  make: (rng) => {
    const pool = seeds(rng);
    const outcomes = new Tally();
    return [{
      name: 'pcap',
      seeds: pool,
      next: () => mutate(rng.pick(pool), rng, pool, MUTATIONS),
      check: (input) => {
        const problem = check(input, rng);
        if (problem) return problem;
        const w = whole(input);
        outcomes.add('error' in w ? w.error.code : 'ok');
        return undefined;
      },
      report: () => [`outcomes: ${outcomes}`],
    }];
  },
};

if (require.main === module) fuzzMain(pcapFuzz);
