/**
 * Time-boxed mutation fuzzing of PS-PDU streams (outside `npm test`):
 *
 *   npx tsx scripts/fuzz-etsi.ts [--seconds 30] [--seed N] [--out DIR] [--replay FILE]
 *
 * Seeds are one PDU of every record kind lig emits (test/helpers/etsi-records.ts), with
 * version-40 and version-17 headers (and, when ../shared is beside the repository, OpenLI's
 * recorded streams). Each round mutates a stream (bit flips, interesting
 * bytes, length fields, cuts, insertions, splices, deep wrapping) and checks what must hold for
 * any input:
 *  - decodeStream never throws; its entries tile the input; each is a PDU or a LigError with a
 *    catalogued code, and a BerError's offset lies inside the input;
 *  - PduFramer, fed the input in random chunks, yields exactly the PDUs decodeStream framed
 *    (or a typed error where decodeStream's framing failed), and decodePsPdu agrees on each;
 *  - a decoded PDU re-encodes (or is refused with a typed error), and decodes again to the
 *    same value.
 * The first input that breaks one is written to DIR (default: the temp dir) and the script
 * exits 1; `--replay FILE` runs the checks on that file alone (scripts/fuzz-driver.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Element, readElement } from '../src/ber/reader';
import { UNKNOWN } from '../src/ber/decode';
import { BerError, ERROR_CODES, LigError } from '../src/errors';
import { PduFramer, RecordContext, decodePsPdu, decodeStream, encodePsPdu, ipccPdu } from '../src/etsi';
import { RECORD_CONTEXT, RECORD_STAMP, everyKind } from '../test/helpers/etsi-records';
import {
  type FuzzScript, type Mutation, type Rng, Tally, appendInput, deleteOctets, flipBits, fuzzMain, insertOctets, mutate, setOctet, spliceTail, truncate,
} from './fuzz-driver';

// --- the generator (the run's, set by make) -----------------------------------------------------

let rng: Rng;
const rnd = (): number => rng.float();
const below = (n: number): number => rng.below(n);
const pick = <T>(xs: readonly T[]): T => rng.pick(xs);

// --- seeds --------------------------------------------------------------------------------------

/** An older peer's header: genHeader version 17, GeneralizedTime stamps. */
const V17: RecordContext = { ...RECORD_CONTEXT, domainIdVersion: 17, timestampFormat: 'generalized', timeStampQualifier: 'timeOfMediation' };

function seeds(): Buffer[] {
  const out = [...everyKind(), ...everyKind(V17)].map(([, b]) => b);
  out.push(ipccPdu(RECORD_CONTEXT, 14, RECORD_STAMP, Buffer.alloc(300, 0xab), 'toTarget')); // a two-octet length
  const samples = path.resolve(__dirname, '..', '..', 'shared', 'reference', 'samples');
  for (const f of ['libtrace-etsi_10_pings_HI2.raw_tcp', 'libtrace-etsi_10_pings_HI3.raw_tcp', 'libtrace-etsi_file_iri.test']) {
    const p = path.join(samples, f);
    if (fs.existsSync(p)) for (const e of decodeStream(fs.readFileSync(p))) if (e.pdu) out.push(Buffer.from(e.bytes));
  }
  return out;
}

// --- mutations ----------------------------------------------------------------------------------

const INTERESTING = [0x00, 0x01, 0x05, 0x1f, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x88, 0xa0, 0xa2, 0xbf, 0xff];

/** Every element header in a well-formed stream, to aim mutations at tags and lengths. */
function headers(buf: Buffer): Element[] {
  const out: Element[] = [];
  const walk = (e: Element): void => {
    out.push(e);
    e.children.forEach(walk);
  };
  for (let at = 0; at < buf.length;) {
    try {
      const e = readElement(buf, at);
      walk(e);
      at = e.end;
    } catch {
      break;
    }
  }
  return out;
}

/** A length field: ±1, zero, long form, huge. */
const lengthField: Mutation = (b) => {
  const hs = headers(b);
  if (hs.length === 0) return b;
  const h = pick(hs);
  const lenAt = h.start + 1 + ((b[h.start]! & 0x1f) === 0x1f ? 1 : 0);
  const v = pick([b[lenAt]! + 1, b[lenAt]! - 1, 0, 0x80, 0x81, 0x84, 0xff, 0x7f]);
  b[lenAt] = v & 0xff;
  return b;
};

/** A tag: another class, number or form. */
const tagField: Mutation = (b) => {
  const hs = headers(b);
  if (hs.length) b[pick(hs).start]! ^= pick([0x20, 0x40, 0x80, 0x01, 0x02, 0x04, 0x1f]);
  return b;
};

/** An element wrapped in up to 100 constructed ones. */
const wrapDeep: Mutation = (b) => {
  const hs = headers(b);
  if (hs.length === 0) return b;
  const h = pick(hs);
  let inner: Buffer = b.subarray(h.start, h.end);
  for (let n = 1 + below(100); n > 0; n--) inner = wrap(pick([0x30, 0xa0, 0xa1, 0xa2]), inner);
  return Buffer.concat([b.subarray(0, h.start), inner, b.subarray(h.end)]);
};

function wrap(id: number, content: Buffer): Buffer {
  const len = content.length;
  const lo: number[] = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) lo.unshift(v & 0xff);
  return Buffer.concat([Buffer.from(len < 0x80 ? [id, len] : [id, 0x80 | lo.length, ...lo]), content]);
}

const MUTATIONS = [flipBits(8), setOctet(INTERESTING), lengthField, tagField, truncate, insertOctets(8), deleteOctets(16), spliceTail, appendInput, wrapDeep];

// --- the checks ---------------------------------------------------------------------------------

class Finding extends Error {}

function typed(e: unknown, len: number, what: string): LigError {
  if (!(e instanceof LigError)) throw new Finding(`${what}: untyped ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  if (!(e.code in ERROR_CODES)) throw new Finding(`${what}: code ${e.code} is not catalogued`);
  if (e instanceof BerError && e.offset !== undefined && (e.offset < 0 || e.offset > len)) {
    throw new Finding(`${what}: offset ${e.offset} outside 0..${len}`);
  }
  return e;
}

const stats = { decoded: 0, reencoded: 0, codes: new Tally() };

function check(input: Buffer): boolean {
  let entries;
  try {
    entries = [...decodeStream(input)];
  } catch (e) {
    throw new Finding(`decodeStream threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  let at = 0;
  let anyDecoded = false;
  for (const en of entries) {
    if (en.offset !== at) throw new Finding(`decodeStream: entry at ${en.offset}, expected ${at}`);
    at += en.length;
    if (en.error) {
      const e = typed(en.error, input.length, 'decodeStream');
      stats.codes.add(e.code);
    } else if (en.pdu) {
      anyDecoded = true;
      stats.decoded++;
      roundTrip(en.pdu);
    } else {
      throw new Finding('decodeStream: an entry with neither PDU nor error');
    }
  }
  if (at !== input.length) throw new Finding(`decodeStream covered ${at} of ${input.length} bytes`);

  // PduFramer in random chunks: the same PDU boundaries as decodeStream, and the same framing failure
  const fr = new PduFramer();
  const frames: Buffer[] = [];
  let framingError: LigError | undefined;
  try {
    for (let p = 0; p < input.length;) {
      const n = 1 + below(64);
      frames.push(...fr.push(input.subarray(p, p + n)));
      p += n;
    }
    if (fr.pending > 0) frames.push(...fr.push(Buffer.alloc(0))); // the end: a bad header held back throws now
  } catch (e) {
    framingError = typed(e, input.length, 'PduFramer');
  }
  const n = frames.length;
  let p = 0;
  frames.forEach((f, i) => {
    const en = entries[i];
    if (!en || en.offset !== p || !Buffer.from(en.bytes).equals(f)) throw new Finding(`PduFramer frame ${i} at ${p} differs from decodeStream's`);
    p += f.length;
    let code: string | undefined;
    try {
      decodePsPdu(f);
    } catch (e) {
      code = typed(e, f.length, 'decodePsPdu').code;
    }
    if ((code === undefined) !== (en.pdu !== undefined) || (code !== undefined && code !== en.error?.code)) {
      throw new Finding(`decodePsPdu (${code ?? 'ok'}) and decodeStream (${en.error?.code ?? 'ok'}) disagree on frame ${i}`);
    }
  });
  if (n === entries.length) {
    if (framingError) throw new Finding(`PduFramer failed (${framingError.code}) where decodeStream framed everything`);
    if (fr.pending !== 0) throw new Finding(`PduFramer holds ${fr.pending} bytes decodeStream framed`);
  } else if (n === entries.length - 1) {
    const last = entries[n]!;
    if (!last.error) throw new Finding('decodeStream decoded a PDU PduFramer did not frame');
    if (framingError ? framingError.code !== last.error.code : last.error.code !== 'LIG_ERR_BER_TRUNCATED') {
      throw new Finding(`framing: PduFramer ${framingError?.code ?? 'waits for more'}, decodeStream ${last.error.code}`);
    }
  } else {
    throw new Finding(`PduFramer framed ${n} PDUs, decodeStream ${entries.length}`);
  }
  return anyDecoded;
}

/** A decoded PDU re-encodes (or is refused, typed) and decodes again to the same value. */
function roundTrip(pdu: unknown): void {
  if (JSON.stringify(pdu, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).includes(`"${UNKNOWN}"`)) return; // not re-encodable by design
  let bytes: Buffer;
  try {
    bytes = encodePsPdu(pdu as never);
  } catch (e) {
    typed(e, 0, 'encodePsPdu of a decoded PDU'); // a value the decoder accepts but the ASN.1 forbids
    return;
  }
  stats.reencoded++;
  let again: unknown;
  try {
    again = decodePsPdu(bytes);
  } catch (e) {
    throw new Finding(`lig cannot decode its own re-encoding: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isDeepStrictEqual(norm(again), norm(pdu))) throw new Finding('decode(encode(decode(x))) differs from decode(x)');
}

function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

// --- the fuzzer ---------------------------------------------------------------------------------

export const etsiFuzz: FuzzScript = {
  script: __filename,
  make: (r) => {
    rng = r;
    const base = seeds();
    const pool = [...base, Buffer.concat(base)];
    for (const s of pool) if (![...decodeStream(s)].some((e) => e.pdu)) throw new Error('a seed does not decode: the fuzzer itself is broken');
    /** Mutants that still decode: mutating them again reaches deeper states. */
    const grown: Buffer[] = [];
    return [{
      name: 'etsi',
      seeds: pool,
      next: () => mutate(grown.length > 0 && rnd() < 0.3 ? pick(grown) : pick(pool), rng, pool, MUTATIONS),
      check: (bytes) => {
        const input = Buffer.from(bytes);
        try {
          if (check(input) && input.length < 1 << 16 && rnd() < 0.05) {
            if (grown.length < 500) grown.push(input);
            else grown[below(grown.length)] = input;
          }
          return undefined;
        } catch (e) {
          if (e instanceof Finding) return e.message;
          throw e;
        }
      },
      progress: () => `${stats.decoded} PDUs decoded, ${stats.reencoded} re-encoded`,
      report: () => [`errors: ${stats.codes}`],
    }];
  },
};

if (require.main === module) fuzzMain(etsiFuzz);
