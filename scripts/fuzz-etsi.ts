/**
 * Time-boxed mutation fuzzing of PS-PDU streams (outside `npm test`):
 *
 *   npx tsx scripts/fuzz-etsi.ts [--seconds 30] [--seed N] [--out DIR] [--replay FILE]
 *
 * Seeds are one PDU of every record kind lig emits (and, when ../shared is beside the
 * repository, OpenLI's recorded streams). Each round mutates a stream (bit flips, interesting
 * bytes, length fields, cuts, insertions, splices, deep wrapping) and checks what must hold for
 * any input:
 *  - decodeStream never throws; its entries tile the input; each is a PDU or a LigError with a
 *    catalogued code, and a BerError's offset lies inside the input;
 *  - PduFramer, fed the input in random chunks, yields exactly the PDUs decodeStream framed
 *    (or a typed error where decodeStream's framing failed), and decodePsPdu agrees on each;
 *  - a decoded PDU re-encodes (or is refused with a typed error), and decodes again to the
 *    same value.
 * The first input that breaks one is written to DIR (default: the temp dir) and the script
 * exits 1; `--replay FILE` runs the checks on that file alone.
 */
import { isDeepStrictEqual } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Element, readElement } from '../src/ber/reader';
import { UNKNOWN } from '../src/ber/decode';
import { BerError, ERROR_CODES, LigError } from '../src/errors';
import {
  PduFramer,
  RecordContext,
  Stamp,
  cinResetPdu,
  decodePsPdu,
  decodeStream,
  emailCcPdu,
  emailIriPdu,
  encodePsPdu,
  ipAddress,
  ipccPdu,
  ipiriPdu,
  keepAlivePdu,
  packetHeaderReportPdu,
  packetSummaryReportPdu,
  pduAckRequestPdu,
} from '../src/etsi';

// --- arguments ----------------------------------------------------------------------------------

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const seconds = Number(arg('seconds') ?? 30);
const seed = Number(arg('seed') ?? (Date.now() % 2 ** 31));
const outDir = arg('out') ?? os.tmpdir();
const replay = arg('replay');
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seed)) {
  console.error('usage: tsx scripts/fuzz-etsi.ts [--seconds N] [--seed N] [--out DIR] [--replay FILE]');
  process.exit(2);
}

/** mulberry32: the same seed gives the same run. */
function prng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const rnd = prng(seed);
const below = (n: number): number => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)]!;

// --- seeds --------------------------------------------------------------------------------------

function seeds(): Buffer[] {
  const c: RecordContext = { liid: 'FUZZ-1', operatorId: 'OP', networkElementId: 'NE', cin: 9, deliveryCountryCode: 'DE', interceptionPointId: 'P' };
  const g: RecordContext = { ...c, timestampFormat: 'generalized', domainIdVersion: 17, timeStampQualifier: 'timeOfMediation' };
  const t: Stamp = { seconds: 1_700_000_000, micros: 42 };
  const pkt = Buffer.from('4500002000004000401100000a0000010a000002d431003500000000deadbeef', 'hex');
  const out = [
    keepAlivePdu({ ...c, cin: undefined }, 1, t), cinResetPdu(c, 0, t), pduAckRequestPdu(g, 2, t),
    ipccPdu(c, 3, t, pkt, 'fromTarget'), ipccPdu(g, 4, t, Buffer.alloc(300, 0xab), 'toTarget'),
    ipiriPdu(c, 5, t, 'iRI-Begin', {
      accessEventType: 'accessAccept', targetUsername: 'u', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4andV6',
      targetIPAddress: ipAddress('100.64.0.1', 'dynamic', 32), additionalIPAddress: ipAddress('2001:db8::', 'dynamic', 56),
      startTime: '20231114221320Z', pOPIPAddress: ipAddress('192.0.2.1'), authenticationType: 'radiusAAA',
      location: { wlanLocationAttributes: { wlanAPMACAddress: Buffer.alloc(6, 2) } }, pOPIdentifier: { printableIDType: 'nas' },
    }),
    ipiriPdu(g, 6, t, 'iRI-End', {
      accessEventType: 'accessEnd', targetUsername: 'u', internetAccessType: 'lAN', iPVersion: 'iPV4', endTime: '20231114231320Z',
      endReason: 'regularLogoff', octetsReceived: 2 ** 40, octetsTransmitted: 18446744073709551615n,
    }),
    packetHeaderReportPdu(c, 7, t, pkt.subarray(0, 28), 'fromTarget'),
    packetSummaryReportPdu(g, 8, t, { header: pkt.subarray(0, 28), indications: ['zeroedUDPChecksum'], trigger: 'flowEnd', packetCount: 3, byteCount: 99, first: t, last: t }),
    emailIriPdu(c, 9, t, 'iRI-Report', {
      eventType: 'e-mail-send', 'client-Address': ipAddress('192.0.2.7'), 'server-Octets-Sent': 1, 'client-Octets-Sent': 2, 'protocol-ID': 'smtp',
      'e-mail-Recipients': ['a@example.org'], status: 'operation-succeeded', aAAInformation: { aSMTPAAAInformation: { username: 'u', authMethod: 'cramMD5' } },
    }),
    emailCcPdu(g, 10, t, 'toTarget', 'application', Buffer.from('Subject: x\r\n\r\nhi\r\n')),
  ];
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

function mutate(input: Buffer, pool: Buffer[]): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + below(4);
  for (let r = 0; r < rounds; r++) {
    if (b.length === 0) b = Buffer.from(pick(pool));
    switch (below(10)) {
      case 0: // flip bits
        for (let n = 1 + below(8); n > 0; n--) b[below(b.length)]! ^= 1 << below(8);
        break;
      case 1: // an interesting byte
        b[below(b.length)] = pick(INTERESTING);
        break;
      case 2: { // a length field: ±1, zero, long form, huge
        const hs = headers(b);
        if (hs.length === 0) break;
        const h = pick(hs);
        const lenAt = h.start + 1 + ((b[h.start]! & 0x1f) === 0x1f ? 1 : 0);
        const v = pick([b[lenAt]! + 1, b[lenAt]! - 1, 0, 0x80, 0x81, 0x84, 0xff, 0x7f]);
        b[lenAt] = v & 0xff;
        break;
      }
      case 3: { // a tag: another class, number or form
        const hs = headers(b);
        if (hs.length) b[pick(hs).start]! ^= pick([0x20, 0x40, 0x80, 0x01, 0x02, 0x04, 0x1f]);
        break;
      }
      case 4: // cut
        b = b.subarray(0, below(b.length + 1));
        break;
      case 5: { // insert random bytes
        const at = below(b.length + 1);
        const ins = Buffer.from(Array.from({ length: 1 + below(8) }, () => below(256)));
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 6: { // delete a range
        const at = below(b.length);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + below(16))]);
        break;
      }
      case 7: { // splice with another stream
        const o = pick(pool);
        b = Buffer.concat([b.subarray(0, below(b.length + 1)), o.subarray(below(o.length + 1))]);
        break;
      }
      case 8: // append a whole PDU
        b = Buffer.concat([b, pick(pool)]);
        break;
      case 9: { // wrap an element deep
        const hs = headers(b);
        if (hs.length === 0) break;
        const h = pick(hs);
        let inner: Buffer = b.subarray(h.start, h.end);
        for (let n = 1 + below(100); n > 0; n--) inner = wrap(pick([0x30, 0xa0, 0xa1, 0xa2]), inner);
        b = Buffer.concat([b.subarray(0, h.start), inner, b.subarray(h.end)]);
        break;
      }
    }
  }
  return b;
}

function wrap(id: number, content: Buffer): Buffer {
  const len = content.length;
  const lo: number[] = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) lo.unshift(v & 0xff);
  return Buffer.concat([Buffer.from(len < 0x80 ? [id, len] : [id, 0x80 | lo.length, ...lo]), content]);
}

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

const stats = { execs: 0, decoded: 0, reencoded: 0, codes: new Map<string, number>() };

function check(input: Buffer): boolean {
  stats.execs++;
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
      stats.codes.set(e.code, (stats.codes.get(e.code) ?? 0) + 1);
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

// --- main ---------------------------------------------------------------------------------------

function fail(input: Buffer, e: Finding): never {
  const file = path.join(outDir, `fuzz-etsi-${seed}-${stats.execs}.ber`);
  fs.writeFileSync(file, input);
  console.error(`FOUND after ${stats.execs} inputs: ${e.message}`);
  console.error(`input written to ${file}; rerun with: npx tsx scripts/fuzz-etsi.ts --replay ${file}`);
  process.exit(1);
}

function run(input: Buffer): boolean {
  try {
    return check(input);
  } catch (e) {
    if (e instanceof Finding) fail(input, e);
    throw e;
  }
}

if (replay) {
  run(fs.readFileSync(replay));
  console.log(`${replay}: every check holds`);
} else {
  const base = seeds();
  const pool = [...base, Buffer.concat(base)];
  for (const s of pool) if (!run(s)) throw new Error('a seed does not decode: the fuzzer itself is broken');
  const grown: Buffer[] = [];
  console.log(`fuzz-etsi: seed ${seed}, ${seconds} s, ${pool.length} seed streams`);
  const end = Date.now() + seconds * 1000;
  let report = Date.now() + 5000;
  while (Date.now() < end) {
    for (let i = 0; i < 200; i++) {
      const parent = grown.length > 0 && rnd() < 0.3 ? pick(grown) : pick(pool);
      const m = mutate(parent, pool);
      // keep some mutants that still decode: mutating them again reaches deeper states
      if (run(m) && m.length < 1 << 16 && rnd() < 0.05) {
        if (grown.length < 500) grown.push(m);
        else grown[below(grown.length)] = m;
      }
    }
    if (Date.now() >= report) {
      report += 5000;
      console.log(`  ${stats.execs} inputs, ${stats.decoded} PDUs decoded, ${stats.reencoded} re-encoded`);
    }
  }
  const codes = [...stats.codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  console.log(`fuzz-etsi: ${stats.execs} inputs, no finding. PDUs decoded ${stats.decoded}, re-encoded ${stats.reencoded}; errors: ${codes}`);
}
