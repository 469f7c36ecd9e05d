/**
 * Shared by the identity end-to-end tests (issue 5's must-show): the scapy-built capture of
 * test/fixtures/identity_capture.py (alice's two sessions, bob taking her old address) with
 * what it says of every frame, and a reading of what the reference LEMF stored in its output
 * directory: records.jsonl checked PDU by PDU against the etsi-oracle's decoding of hi2.ber
 * and hi3.ber, the intercept records of one LIID with their CIN and number, and the packets of
 * cc/<LIID>.pcap. Each data packet of the capture names its owner in its payload
 * ("LIG|OWNER|N|"), so what was intercepted is compared by those markers.
 *
 * The pcap files are read here with a few lines of their own (classic pcap, microseconds),
 * not with lig's reader: the tests check lig's output, not lig against itself.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PS_PDU, decodeStream } from '../../src/etsi';
import { RAW_FILES, RECORDS_FILE } from '../../src/lemf';
import { diffWithXer, oracleDecode, parseXer } from './oracle';
import { SYSTEM_PYTHON } from './scapy';
import { REPO_ROOT } from './shared';

export const IDENTITY_CAPTURE_SCRIPT = path.join(REPO_ROOT, 'test', 'fixtures', 'identity_capture.py');

/** One frame as the capture's JSON lists it, with its bytes and time from the pcap. */
export interface CaptureFrame {
  index: number;
  /** Microseconds from the capture's start. */
  t_us: number;
  kind: 'data' | 'radius' | 'radius-response' | 'dhcp';
  /** Data frames: alice-s1, alice-s2, bob, stray. */
  owner: string | null;
  /** Data frames: the subscriber's address; DHCP: the address bound. */
  address?: string;
  /** Data frames: sent by the subscriber (else to it). */
  outbound?: boolean;
  /** DHCP: the client's MAC and the lease granted (seconds). */
  mac?: string;
  lease?: number;
  /** RADIUS: Acct-Status-Type, User-Name, Acct-Session-Id. */
  status?: number;
  user?: string;
  session?: string;
  /** The Ethernet frame. */
  bytes: Buffer;
  /** Capture time, microseconds since the epoch. */
  timeUs: bigint;
  /** Data frames: "OWNER|N" from the payload. */
  marker?: string;
}

/** One of alice's accounting sessions (times in seconds from the start; octetsIn = Acct-Input-Octets with gigawords). */
export interface CaptureSession {
  owner: string;
  session: string;
  address: string;
  start: number;
  interim: { t: number; octetsIn: number; octetsOut: number }[];
  stop: number;
  octetsIn: number;
  octetsOut: number;
  cause: number;
}

export interface IdentityCapture {
  pcap: string;
  startSeconds: number;
  frames: CaptureFrame[];
  sessions: CaptureSession[];
  network: { nas: string; nasIdentifier: string; router: string; alice: string; bob: string };
}

/** A classic pcap (microsecond stamps, either byte order) read record by record. */
export function readClassicPcap(file: string): { timeUs: bigint; data: Buffer }[] {
  const b = fs.readFileSync(file);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4;
  if (!le && magic !== 0xd4c3b2a1) throw new Error(`${file} is not a classic microsecond pcap`);
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const out: { timeUs: bigint; data: Buffer }[] = [];
  for (let at = 24; at < b.length; ) {
    const incl = u32(at + 8);
    out.push({ timeUs: BigInt(u32(at)) * 1_000_000n + BigInt(u32(at + 4)), data: b.subarray(at + 16, at + 16 + incl) });
    at += 16 + incl;
  }
  return out;
}

/** The "OWNER|N" a data packet's payload starts with (searched for in the bytes), or undefined. */
export function markerOf(bytes: Uint8Array): string | undefined {
  const m = /LIG\|([a-z0-9-]+)\|(\d{3})\|/.exec(Buffer.from(bytes).toString('latin1'));
  return m ? `${m[1]}|${m[2]}` : undefined;
}

/** Runs the fixture script into `dir` and reads what it wrote. The caller checks requireScapy first. */
export function buildIdentityCapture(dir: string): IdentityCapture {
  fs.mkdirSync(dir, { recursive: true });
  const pcap = path.join(dir, 'identity.pcap');
  const json = path.join(dir, 'identity.json');
  const r = spawnSync(SYSTEM_PYTHON, [IDENTITY_CAPTURE_SCRIPT, pcap, json], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`identity_capture.py failed (${r.status}): ${r.stderr}`);
  const meta = JSON.parse(fs.readFileSync(json, 'utf8')) as Omit<IdentityCapture, 'pcap' | 'frames'> & { frames: Omit<CaptureFrame, 'bytes' | 'timeUs' | 'marker'>[] };
  const records = readClassicPcap(pcap);
  assert.equal(records.length, meta.frames.length, 'one JSON entry per pcap record');
  const frames = meta.frames.map((f, i): CaptureFrame => {
    const rec = records[i]!;
    assert.equal(rec.timeUs, BigInt(meta.startSeconds) * 1_000_000n + BigInt(f.t_us), `frame ${i}: time`);
    const marker = markerOf(rec.data);
    if (f.kind === 'data') assert.equal(marker?.split('|')[0], f.owner, `frame ${i}: marker`);
    return { ...f, bytes: rec.data, timeUs: rec.timeUs, marker };
  });
  return { pcap, startSeconds: meta.startSeconds, frames, sessions: meta.sessions, network: meta.network };
}

/** Capture time (µs since the epoch) of `seconds` from the capture's start. */
export const captureUs = (cap: IdentityCapture, seconds: number): bigint => BigInt(cap.startSeconds) * 1_000_000n + BigInt(Math.round(seconds * 1_000_000));

/** The IP packet of an Ethernet frame (no VLAN tags in this capture). */
export const ipOf = (frame: Buffer): Buffer => frame.subarray(14);

/** Dotted IPv4 as the lower-case hex of its four octets. */
export const ipHex = (dotted: string): string => Buffer.from(dotted.split('.').map(Number)).toString('hex');

/** A GeneralizedTime ("20260101000016.1Z") as microseconds since the epoch. */
export function generalizedUs(text: string): bigint {
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d{1,6}))?Z$/.exec(text);
  assert.ok(m, `not a UTC GeneralizedTime: ${text}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(ms) * 1000n + BigInt(((m[7] ?? '') + '000000').slice(0, 6));
}

// --- the LEMF's output --------------------------------------------------------------------------

/** A PDU as toJsonValue gives it: read by field names the standard fixes, checked by the assertions that read it. */
export type PduJson = any;

/** One line of records.jsonl: where the PDU is in hi2.ber/hi3.ber, and the PDU (toJsonValue form). */
export interface LemfLine {
  hi: 'hi2' | 'hi3';
  conn: number;
  offset: number;
  pdu: PduJson;
}

export function readLemfLines(out: string): LemfLine[] {
  return fs
    .readFileSync(path.join(out, RECORDS_FILE), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LemfLine);
}

/**
 * The etsi-oracle decodes every PDU of hi2.ber and hi3.ber, and every line of records.jsonl
 * says exactly what the oracle read at that line's offset (diffWithXer: component by
 * component). So what the tests then read from records.jsonl is what an independent decoder
 * reads from the bytes the LEMF received.
 *
 * `known` gives the part of a PDU the oracle can know (default: all of it): a test of lig's
 * own extensions (ligApplicationReport, which the oracle skips as X.680 requires of an
 * unknown extension addition) passes a copy without them, so the rest is still compared.
 */
export async function oracleAgrees(ctx: Mocha.Context, out: string, lines: LemfLine[], known: (pdu: PduJson) => PduJson = (pdu) => pdu): Promise<void> {
  for (const hi of ['hi2', 'hi3'] as const) {
    const file = path.join(out, RAW_FILES[hi]);
    const o = await oracleDecode(ctx, file);
    assert.ok(o.ok, `${hi}.ber: the oracle refused it: ${o.stderr}`);
    const xer = parseXer(o.xer);
    const offsets = [...decodeStream(fs.readFileSync(file))].map((e) => {
      assert.equal(e.error, undefined, `${hi}.ber at ${e.offset}: ${e.error?.message}`);
      return e.offset;
    });
    assert.equal(xer.length, offsets.length, `${hi}.ber: the oracle printed one document per PDU`);
    const at = new Map(offsets.map((off, i) => [off, xer[i]!]));
    const mine = lines.filter((l) => l.hi === hi);
    assert.ok(mine.length > 0, `records.jsonl has ${hi} PDUs`);
    for (const l of mine) {
      const x = at.get(l.offset);
      assert.ok(x, `records.jsonl: no PDU at offset ${l.offset} of ${hi}.ber`);
      assert.deepEqual(diffWithXer(PS_PDU, known(l.pdu), x, `${hi}@${l.offset}`), []);
    }
  }
}

/** An IRI record of records.jsonl. */
export interface IriRec {
  cin: number;
  seq: number;
  /** PSHeader time, µs since the epoch. */
  timeUs: bigint;
  iriType: string;
  /** IPIRIContents as toJsonValue gives it (octets as hex). */
  c: PduJson;
}

/** A CC record of records.jsonl carrying one IP packet. */
export interface CcRec {
  cin: number;
  seq: number;
  timeUs: bigint;
  direction: string;
  ip: Buffer;
  marker: string | undefined;
}

const liidHex = (liid: string) => Buffer.from(liid).toString('hex');

/** The IRI and CC records of `liid` in records.jsonl, in the order they arrived. */
export function interceptRecords(lines: LemfLine[], liid: string): { iri: IriRec[]; cc: CcRec[] } {
  const iri: IriRec[] = [];
  const cc: CcRec[] = [];
  for (const { pdu } of lines) {
    const h = pdu.pSHeader;
    if (h.lawfulInterceptionIdentifier !== liidHex(liid)) continue;
    const head = {
      cin: h.communicationIdentifier.communicationIdentityNumber as number,
      seq: h.sequenceNumber as number,
      timeUs: BigInt(h.microSecondTimeStamp.seconds) * 1_000_000n + BigInt(h.microSecondTimeStamp.microSeconds),
    };
    if (pdu.payload.iRIPayloadSequence) {
      assert.equal(pdu.payload.iRIPayloadSequence.length, 1, 'one IRI per PDU');
      const p = pdu.payload.iRIPayloadSequence[0];
      iri.push({ ...head, iriType: p.iRIType, c: p.iRIContents.iPIRI?.iPIRIContents });
    } else if (pdu.payload.cCPayloadSequence) {
      assert.equal(pdu.payload.cCPayloadSequence.length, 1, 'one packet per CC PDU');
      const p = pdu.payload.cCPayloadSequence[0];
      const ip = Buffer.from(p.cCContents.iPCC.iPCCContents.iPPackets as string, 'hex');
      cc.push({ ...head, direction: p.payloadDirection, ip, marker: markerOf(ip) });
    }
  }
  return { iri, cc };
}

/** Asserts the records of each CIN are numbered 0, 1, 2, … in the order they arrived, each number once. */
export function numberedPerCin(recs: { cin: number; seq: number }[], what: string): void {
  const next = new Map<number, number>();
  for (const r of recs) {
    const n = next.get(r.cin) ?? 0;
    assert.equal(r.seq, n, `${what}, CIN ${r.cin}: sequence number ${n} expected, got ${r.seq}`);
    next.set(r.cin, n + 1);
  }
}

/** The packets of DIR/cc/<LIID>.pcap. */
export function ccPcap(out: string, liid: string): { timeUs: bigint; data: Buffer }[] {
  const file = path.join(out, 'cc', `${liid}.pcap`);
  return fs.existsSync(file) ? readClassicPcap(file) : [];
}

/** Sorted copy (marker lists are compared as multisets). */
export const sorted = <T>(xs: T[]): T[] => [...xs].sort();
