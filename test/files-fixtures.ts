/**
 * Shared by the file-delivery tests (unit and crash): journal records whose kind, LIID,
 * sequence number, time and packet are all a function of their interface and journal index,
 * so any output read back can be traced to exactly one record; and a reader of a whole files
 * directory (pcap through lig's reader, JSON lines, rejects, manifests).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCaptureFile } from '../src/capture/pcap-reader';
import { liidDirName } from '../src/delivery/files/names';
import { RecordContext, emailCcPdu, ipAddress, ipccPdu, ipiriPdu, keepAlivePdu, packetHeaderReportPdu } from '../src/etsi';

/** Three LIIDs; the second and third need escaping in a directory name. */
export const LIIDS = ['LIID-A', 'liid b/2', '.hid%den'] as const;
export const T0 = 1_700_000_000;

export type Expected =
  | { kind: 'cc'; liid: string; seq: number; sec: number; usec: number; packet: Buffer }
  | { kind: 'iri'; liid: string; seq: number; what: string }
  | { kind: 'skip' }
  | { kind: 'reject'; bytes: Buffer };

const ctx = (liid: string, cin: number): RecordContext => ({ liid, operatorId: 'OPERATOR', networkElementId: 'NAS-1', cin, deliveryCountryCode: 'DE' });

/** An IPv4/UDP packet that carries its interface and index; 44..643 bytes. */
export function packetFor(hi: string, index: bigint): Buffer {
  const extra = Number((index * 37n) % 600n);
  const p = Buffer.alloc(44 + extra, 0x5a);
  Buffer.from('4500000000004000401100000a0000010a000002', 'hex').copy(p, 0);
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(Number(index % 65536n), 4);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(9, 22);
  p.writeUInt16BE(p.length - 20, 24);
  p.write(hi, 28, 'latin1');
  p.writeBigUInt64BE(index, 32);
  return p;
}

/** What record `index` of interface `hi` is, and its bytes. `seq` is the index (< 2^32 in tests). */
export function recordFor(hi: 'hi2' | 'hi3', index: bigint): { bytes: Buffer; expected: Expected } {
  const i = Number(index);
  const liid = LIIDS[i % LIIDS.length]!;
  const c = ctx(liid, 100 + (i % 4));
  const t = { seconds: T0 + i, micros: (i * 7919) % 1_000_000 };
  if (i % 29 === 0) {
    // A SEQUENCE holding an OCTET STRING: well-formed BER, but no PS-PDU.
    const bytes = Buffer.alloc(15);
    bytes.set([0x30, 0x0d, 0x04, 0x0b]);
    bytes.write(hi, 4, 'latin1');
    bytes.writeBigUInt64BE(index, 7);
    return { bytes, expected: { kind: 'reject', bytes } };
  }
  if (hi === 'hi3') {
    if (i % 7 === 0) {
      return { bytes: emailCcPdu(c, i, t, 'toTarget', 'application', Buffer.from(`mail ${i}`)), expected: { kind: 'iri', liid, seq: i, what: 'emailCC' } };
    }
    const packet = packetFor(hi, index);
    return { bytes: ipccPdu(c, i, t, packet, i % 2 ? 'fromTarget' : 'toTarget'), expected: { kind: 'cc', liid, seq: i, sec: t.seconds, usec: t.micros, packet } };
  }
  if (i % 5 === 0) return { bytes: keepAlivePdu({ ...c, cin: undefined }, i, t), expected: { kind: 'skip' } };
  if (i % 11 === 0) {
    return { bytes: packetHeaderReportPdu(c, i, t, packetFor(hi, index).subarray(0, 28)), expected: { kind: 'iri', liid, seq: i, what: 'iPIRIPacketReport' } };
  }
  const bytes = ipiriPdu(c, i, t, 'iRI-Report', {
    accessEventType: 'interimUpdate', targetUsername: `user-${i}`, internetAccessType: 'wirelessLAN', iPVersion: 'iPV4',
    targetIPAddress: ipAddress('100.64.0.9', 'dynamic', 32),
  });
  return { bytes, expected: { kind: 'iri', liid, seq: i, what: 'iPIRI' } };
}

export function recordsFor(hi: 'hi2' | 'hi3', first: bigint, last: bigint): Buffer[] {
  const out: Buffer[] = [];
  for (let i = first; i <= last; i++) out.push(recordFor(hi, i).bytes);
  return out;
}

/** Everything in a files directory, by what it holds. */
export interface Output {
  /** Per LIID directory: closed pcap files in name order, each its packets. */
  pcap: Map<string, { file: string; packets: { sec: number; usec: number; data: Buffer; origLen: number }[] }[]>;
  /** Per LIID directory: closed JSON-lines files in name order, each its lines parsed. */
  jsonl: Map<string, { file: string; lines: Record<string, unknown>[] }[]>;
  rejects: { file: string; bytes: Buffer }[];
  /** Files still named `.part`. */
  parts: string[];
  /** Directories holding closed files (and so a manifest). */
  dirs: string[];
}

export function readOutput(root: string): Output {
  const out: Output = { pcap: new Map(), jsonl: new Map(), rejects: [], parts: [], dirs: [] };
  for (const d of fs.readdirSync(root).sort()) {
    const dir = path.join(root, d);
    if (d.startsWith('.') || !fs.statSync(dir).isDirectory()) continue;
    let closed = 0;
    for (const f of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, f);
      if (f.endsWith('.part')) out.parts.push(path.join(d, f));
      else if (f.endsWith('.pcap')) {
        const cap = parseCaptureFile(fs.readFileSync(file));
        assert.equal(cap.format, 'pcap');
        const packets = cap.packets.map((p) => {
          assert.equal(p.linktype, 101, `${f}: LINKTYPE_RAW`);
          return { sec: p.ts!.sec, usec: p.ts!.nsec / 1000, data: Buffer.from(p.data), origLen: p.origLen };
        });
        if (!out.pcap.has(d)) out.pcap.set(d, []);
        out.pcap.get(d)!.push({ file: f, packets });
        closed++;
      } else if (f.endsWith('.jsonl')) {
        const text = fs.readFileSync(file, 'utf8');
        assert.ok(text.endsWith('\n'), `${f} ends with a newline`);
        const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        if (!out.jsonl.has(d)) out.jsonl.set(d, []);
        out.jsonl.get(d)!.push({ file: f, lines });
        closed++;
      } else if (f.endsWith('.ber')) {
        out.rejects.push({ file: f, bytes: fs.readFileSync(file) });
        closed++;
      } else assert.equal(f, 'MANIFEST.sha256', `unexpected file ${d}/${f}`);
    }
    if (closed > 0) out.dirs.push(d);
  }
  return out;
}

/** Runs `sha256sum -c MANIFEST.sha256` in `dir`; returns its exit status and output. */
export function sha256Check(dir: string): { status: number | null; out: string } {
  const r = spawnSync('sha256sum', ['-c', 'MANIFEST.sha256'], { cwd: dir, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout + r.stderr };
}

/** The manifest of `dir` as name → hash, checking there is one line per closed file and no other. */
export function manifestOf(dir: string): Map<string, string> {
  const lines = fs.readFileSync(path.join(dir, 'MANIFEST.sha256'), 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the manifest ends with a newline');
  const m = new Map<string, string>();
  for (const l of lines) {
    const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(l);
    assert.ok(match, `manifest line: ${l}`);
    assert.ok(!m.has(match[2]!), `${match[2]} listed twice`);
    m.set(match[2]!, match[1]!);
  }
  const closed = fs.readdirSync(dir).filter((f) => !f.endsWith('.part') && f !== 'MANIFEST.sha256');
  assert.deepEqual([...m.keys()].sort(), closed.sort(), 'the manifest lists exactly the closed files');
  return m;
}

/**
 * Checks that the output holds the output of every record of `hi` in first..last exactly
 * once, and nothing else from `hi`: packets by their embedded index, lines and rejects by
 * sequence number. Returns counts per kind.
 */
export function assertExactlyOnce(out: Output, ranges: { hi: 'hi2' | 'hi3'; last: bigint }[]): Record<Expected['kind'], number> {
  const seen = new Map<string, number>();
  const note = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
  const packets = new Map<string, { sec: number; usec: number; data: Buffer; origLen: number }>();
  for (const [d, files] of out.pcap) {
    for (const f of files) {
      for (const p of f.packets) {
        const key = `cc ${d} ${p.data.toString('latin1', 28, 31)} ${p.data.readBigUInt64BE(32)}`;
        note(key);
        packets.set(key, p);
      }
    }
  }
  for (const [d, files] of out.jsonl) for (const f of files) for (const l of f.lines) note(`iri ${d} ${String(l.interface)} ${String(l.sequenceNumber)}`);
  for (const r of out.rejects) note(`reject ${r.bytes.toString('hex')}`);
  const counts = { cc: 0, iri: 0, skip: 0, reject: 0 };
  const want = new Set<string>();
  for (const { hi, last } of ranges) {
    for (let i = 1n; i <= last; i++) {
      const { expected: e } = recordFor(hi, i);
      counts[e.kind]++;
      if (e.kind === 'skip') continue;
      const key =
        e.kind === 'cc' ? `cc ${liidDirName(e.liid)} ${hi} ${i}` : e.kind === 'iri' ? `iri ${liidDirName(e.liid)} ${hi} ${e.seq}` : `reject ${e.bytes.toString('hex')}`;
      want.add(key);
      assert.equal(seen.get(key) ?? 0, 1, `${key}: written ${seen.get(key) ?? 0} times, expected once`);
      if (e.kind === 'cc') {
        const p = packets.get(key)!;
        assert.ok(p.data.equals(e.packet), `${key}: packet bytes`);
        assert.deepEqual([p.sec, p.usec, p.origLen], [e.sec, e.usec, e.packet.length], `${key}: time and length`);
      }
    }
  }
  for (const key of seen.keys()) assert.ok(want.has(key), `${key} was written but no record asked for it`);
  return counts;
}
