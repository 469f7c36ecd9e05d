/**
 * Time-boxed mutation fuzzer for the pcap/pcapng reader (not part of `npm test`):
 *
 *   npx tsx scripts/fuzz-pcap.ts [--seconds 10] [--seed N]
 *
 * Mutates valid captures (the golden ones and freshly written ones: bit flips, interesting
 * bytes and 32-bit words, cuts, repeated and deleted slices, splices) and checks that
 * 1. reading either succeeds or throws a CaptureFileError with a LIG_ERR_CAPTURE_* code and
 *    an offset inside the input: never another exception;
 * 2. packets obey the format's promises (data within limits, nanoseconds below 1e9, offsets
 *    increasing);
 * 3. reading in random chunks gives exactly what reading whole gives (packets, or the same
 *    error code at the same offset).
 * A failing input is written to the temp directory and the script exits 1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CaptureFileError } from '../src/errors';
import { CapturedPacket, DEFAULT_MAX_RECORD_BYTES } from '../src/capture/pcap-format';
import { PcapReader, parseCaptureFile } from '../src/capture/pcap-reader';
import { encodePcapHeader, encodePcapRecord } from '../src/capture/pcap-write';
import { GOLDEN, prng } from '../test/fixtures/capture-golden';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

const seconds = flag('seconds', 10);
const seed = flag('seed', Date.now() % 2 ** 31);
const rnd = prng(seed);
const int = (n: number) => Math.floor(rnd() * n);

/** Seeds: the golden captures and a few written ones with varied sizes. */
function seeds(): Uint8Array[] {
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

function mutate(input: Uint8Array, pool: Uint8Array[]): Uint8Array {
  let b = Uint8Array.from(input);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    if (b.length === 0) return b;
    const at = int(b.length);
    switch (int(7)) {
      case 0:
        b[at] = b[at]! ^ (1 << int(8));
        break;
      case 1:
        b[at] = BYTES[int(BYTES.length)]!;
        break;
      case 2: {
        const w = at & ~3;
        if (w + 4 <= b.length) new DataView(b.buffer).setUint32(w, WORDS[int(WORDS.length)]!, rnd() < 0.5);
        break;
      }
      case 3:
        b = b.subarray(0, at);
        break;
      case 4: {
        const len = int(Math.min(64, b.length - at));
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 5:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(16))]);
        break;
      default: {
        const other = pool[int(pool.length)]!;
        b = Buffer.concat([b.subarray(0, at), other.subarray(int(other.length))]);
      }
    }
  }
  return Uint8Array.from(b);
}

type Outcome = { packets: CapturedPacket[] } | { error: CaptureFileError };

function whole(bytes: Uint8Array): Outcome {
  try {
    return { packets: parseCaptureFile(bytes).packets };
  } catch (e) {
    if (e instanceof CaptureFileError) return { error: e };
    throw e;
  }
}

function chunked(bytes: Uint8Array): Outcome {
  const r = new PcapReader();
  const packets: CapturedPacket[] = [];
  try {
    let at = 0;
    while (at < bytes.length) {
      const n = 1 + int(Math.max(1, Math.min(bytes.length - at, rnd() < 0.3 ? 4 : 64)));
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

function check(bytes: Uint8Array): string | undefined {
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
    c = chunked(bytes);
  } catch (e) {
    return `chunked read threw a non-CaptureFileError: ${e instanceof Error ? e.stack : String(e)}`;
  }
  if (summary(c) !== summary(w)) return `chunked read differs:\n  whole:   ${summary(w).slice(0, 300)}\n  chunked: ${summary(c).slice(0, 300)}`;
  return undefined;
}

function main(): number {
  const pool = seeds();
  for (const s of pool) {
    const problem = check(s);
    if (problem) throw new Error(`a seed fails: ${problem}`);
  }
  const stop = Date.now() + seconds * 1000;
  const codes = new Map<string, number>();
  let runs = 0;
  while (Date.now() < stop) {
    for (let i = 0; i < 200; i++, runs++) {
      const input = mutate(pool[int(pool.length)]!, pool);
      const problem = check(input);
      if (problem) {
        const file = path.join(os.tmpdir(), `fuzz-pcap-${seed}-${runs}.bin`);
        fs.writeFileSync(file, input);
        console.error(`FAIL (seed ${seed}, run ${runs}): ${problem}\ninput saved to ${file}`);
        return 1;
      }
      const w = whole(input);
      const key = 'error' in w ? w.error.code : 'ok';
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
  }
  const dist = [...codes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`fuzz-pcap: ${runs} inputs in ${seconds}s (seed ${seed}), no failure; outcomes: ${dist}`);
  return 0;
}

process.exitCode = main();
