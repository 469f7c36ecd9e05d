/**
 * Feeding the application analysers (src/probe/app) a conversation in every way the tests
 * need: whole turns, byte by byte, at random split points, and as TCP segments through the
 * reassembler, shuffled, retransmitted and overlapping. A conversation is a list of turns,
 * each the bytes one side sent; turn i is captured at time BASE_US + i, so every way of
 * feeding it must give the same events with the same times.
 */
import { strict as assert } from 'node:assert';
import { APP_CONTENT_FIELDS, APP_FIELDS } from '../../src/probe/app/index';
import { TCP_ACK, TCP_FIN, TCP_SYN, TcpReassembler, type TcpSegment, newReassemblyCounters } from '../../src/probe/app/tcp-reassembly';
import type { AppEvent, FlowSide, StreamAnalyser } from '../../src/probe/app/types';
import { prng } from '../fixtures/capture-golden';

export type Turn = [FlowSide, Uint8Array | string];

export const BASE_US = 1_700_000_000_000_000n;

export const bytes = (b: Uint8Array | string): Uint8Array => (typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
export const crlf = (...lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');
const timeOf = (i: number): bigint => BASE_US + BigInt(i);

/**
 * Events as plain data for deep comparison (content as Latin-1 text). On the way, every event
 * is checked against the registry: only documented keys, and every content key it carries
 * named in its contentFields (what keeps content from a pen-register task).
 */
export function plain(events: AppEvent[]): unknown[] {
  for (const e of events) {
    const keys = APP_FIELDS[e.protocol];
    assert.ok(keys, `undocumented protocol ${e.protocol}`);
    for (const k of Object.keys(e.fields)) {
      assert.ok(keys.includes(k), `${e.protocol} event with undocumented key ${k}`);
      if (APP_CONTENT_FIELDS[e.protocol]!.includes(k)) assert.ok(e.contentFields?.includes(k), `${e.protocol} content key ${k} not in contentFields`);
    }
    if (e.content) assert.ok(['smtp', 'pop3', 'imap'].includes(e.protocol), `${e.protocol} event with content`);
  }
  return events.map((e) => ({ ...e, timeUs: String(e.timeUs), ...(e.content ? { content: Buffer.from(e.content).toString('latin1') } : {}) }));
}

/** Feeds each turn in pieces cut by `cuts` (returns the lengths of successive pieces), then ends. */
function feed(a: StreamAnalyser, conv: Turn[], cuts: (n: number) => number[], end: boolean): AppEvent[] {
  const out: AppEvent[] = [];
  conv.forEach(([side, data], i) => {
    const b = bytes(data);
    let off = 0;
    for (const n of cuts(b.length)) {
      // A fresh copy each time: analysers must not keep views of what they were given.
      const piece = Uint8Array.from(b.subarray(off, off + n));
      out.push(...a.onData(side, piece, timeOf(i)));
      piece.fill(0xee);
      off += n;
    }
  });
  if (end) out.push(...a.onEnd(timeOf(conv.length)));
  return out;
}

export function feedWhole(a: StreamAnalyser, conv: Turn[], end = true): AppEvent[] {
  return feed(a, conv, (n) => (n === 0 ? [] : [n]), end);
}

export function feedBytewise(a: StreamAnalyser, conv: Turn[], end = true): AppEvent[] {
  return feed(a, conv, (n) => Array.from({ length: n }, () => 1), end);
}

/** Random split points (at most `maxPiece` octets a piece). */
export function feedSplit(a: StreamAnalyser, conv: Turn[], rnd: () => number, end = true, maxPiece = 64): AppEvent[] {
  return feed(
    a,
    conv,
    (n) => {
      const out: number[] = [];
      for (let left = n; left > 0; ) {
        const k = Math.min(left, 1 + Math.floor(rnd() * maxPiece));
        out.push(k);
        left -= k;
      }
      return out;
    },
    end,
  );
}

/**
 * The conversation as TCP segments through a TcpReassembler into `a`: random ISNs (some
 * close to 2^32, so sequence numbers wrap), each turn cut into segments that arrive shuffled
 * (within windows of 16),
 * with retransmissions of earlier segments and overlapping copies of the same bytes, then
 * FINs. Returns the events and the reassembler (for its counters).
 */
export function feedReordered(a: StreamAnalyser, conv: Turn[], rnd: () => number): { events: AppEvent[]; tcp: TcpReassembler } {
  const events: AppEvent[] = [];
  const tcp = new TcpReassembler(
    {
      data: (side, b, t) => events.push(...a.onData(side, b, t)),
      gap: (side, n) => a.onGap(side, n),
    },
    { used: 0, limit: 1 << 30 },
    newReassemblyCounters(),
  );
  const isn: Record<FlowSide, number> = { client: rnd() < 0.5 ? 0xffffffff - Math.floor(rnd() * 300) : Math.floor(rnd() * 2 ** 32), server: Math.floor(rnd() * 2 ** 32) };
  const next: Record<FlowSide, number> = { client: 0, server: 0 };
  const sent: Record<FlowSide, { rel: number; data: Uint8Array }[]> = { client: [], server: [] };
  const seg = (side: FlowSide, rel: number, data: Uint8Array, flags = TCP_ACK): TcpSegment => ({ seq: (isn[side] + 1 + rel) >>> 0, flags, payload: data });
  tcp.segment('client', { seq: isn.client, flags: TCP_SYN, payload: new Uint8Array(0) }, timeOf(0));
  tcp.segment('server', { seq: isn.server, flags: TCP_SYN | TCP_ACK, payload: new Uint8Array(0) }, timeOf(0));
  conv.forEach(([side, data], i) => {
    const b = bytes(data);
    const pieces: TcpSegment[] = [];
    for (let off = 0; off < b.length; ) {
      const n = Math.min(b.length - off, 1 + Math.floor(rnd() * 40));
      const rel = next[side] + off;
      pieces.push(seg(side, rel, b.slice(off, off + n)));
      sent[side].push({ rel, data: b.slice(off, off + n) });
      // An overlapping copy: the same bytes, starting inside this segment and running past it.
      if (rnd() < 0.3 && off + n < b.length) {
        const from = off + Math.floor(rnd() * n);
        const to = Math.min(b.length, off + n + 1 + Math.floor(rnd() * 20));
        pieces.push(seg(side, next[side] + from, b.slice(from, to)));
      }
      off += n;
    }
    // Retransmissions of earlier segments of this side (already handed on, or not yet).
    for (let k = 0; k < 3 && sent[side].length > 0; k++) {
      if (rnd() < 0.5) {
        const s = sent[side][Math.floor(rnd() * sent[side].length)]!;
        pieces.push(seg(side, s.rel, s.data));
      }
    }
    // Shuffled within windows of 16 segments: reordering as networks do it, within the wait limits.
    for (let w = 0; w < pieces.length; w += 16) {
      for (let k = Math.min(pieces.length, w + 16) - 1; k > w; k--) {
        const j = w + Math.floor(rnd() * (k - w + 1));
        [pieces[k], pieces[j]] = [pieces[j]!, pieces[k]!];
      }
    }
    for (const p of pieces) tcp.segment(side, p, timeOf(i));
    next[side] += b.length;
  });
  tcp.segment('client', seg('client', next.client, new Uint8Array(0), TCP_FIN | TCP_ACK), timeOf(conv.length));
  tcp.segment('server', seg('server', next.server, new Uint8Array(0), TCP_FIN | TCP_ACK), timeOf(conv.length));
  events.push(...a.onEnd(timeOf(conv.length)));
  return { events, tcp };
}

/** An expected event in plain form: turn `turn` completed it. */
export function ev(protocol: string, turn: number, side: FlowSide, fields: Record<string, string>, more: { contentFields?: readonly string[]; content?: string } = {}): unknown {
  return { protocol, timeUs: String(BASE_US + BigInt(turn)), side, fields, ...(more.contentFields ? { contentFields: more.contentFields } : {}), ...(more.content !== undefined ? { content: more.content } : {}) };
}

/**
 * Every way of feeding `conv` gives `expected`: whole turns, byte by byte, `runs` random
 * split points, and `runs` reordered segment streams through the reassembler.
 */
export function assertEveryFeed(make: () => StreamAnalyser, conv: Turn[], expected: unknown[], runs = 25): void {
  assert.deepEqual(plain(feedWhole(make(), conv)), expected, 'fed whole');
  assert.deepEqual(plain(feedBytewise(make(), conv)), expected, 'fed byte by byte');
  for (let seed = 1; seed <= runs; seed++) {
    assert.deepEqual(plain(feedSplit(make(), conv, prng(seed))), expected, `split, seed ${seed}`);
    const r = feedReordered(make(), conv, prng(1000 + seed));
    assert.deepEqual(plain(r.events), expected, `reordered segments, seed ${seed}`);
    assert.equal(r.tcp.counters.gaps, 0);
  }
}

/**
 * The conversation cut short at every turn boundary and at random points inside turns: never
 * a throw, and what comes out before the end is a prefix of what the whole gives.
 */
export function assertTruncationSafe(make: () => StreamAnalyser, conv: Turn[], runs = 40): void {
  const full = plain(feedWhole(make(), conv, false));
  const rnd = prng(77);
  const total = conv.reduce((n, [, d]) => n + bytes(d).length, 0);
  for (let k = 0; k < runs; k++) {
    let cut = Math.floor(rnd() * total);
    const part: Turn[] = [];
    for (const [side, d] of conv) {
      const b = bytes(d);
      if (cut <= 0) break;
      part.push([side, b.subarray(0, Math.min(cut, b.length))]);
      cut -= b.length;
    }
    const a = make();
    const got = plain(feedWhole(a, part, false));
    assert.deepEqual(got, full.slice(0, got.length), `cut at ${k}`);
    a.onEnd(BASE_US + 999n);
  }
}

/** Random and mutated bytes from both sides, with gaps: never a throw. Returns the analyser for its counters. */
export function assertGarbageSafe(make: () => StreamAnalyser, seeds: Turn[][], runs = 200): StreamAnalyser {
  const rnd = prng(5);
  let a = make();
  for (let k = 0; k < runs; k++) {
    a = make();
    const conv = seeds[k % seeds.length]!;
    conv.forEach(([side, d], i) => {
      const b = Buffer.from(bytes(d));
      for (let m = 0; m < 3; m++) if (b.length > 0) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const noise = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      a.onData(side, rnd() < 0.5 ? b : Buffer.concat([noise, b]), BASE_US + BigInt(i));
      if (rnd() < 0.1) a.onGap(side, 1 + Math.floor(rnd() * 100));
    });
    a.onEnd(BASE_US + 999n);
  }
  return a;
}

// --- TLS ClientHello builder (RFC 8446 §4.1.2, RFC 6066 SNI, RFC 7301 ALPN) -----------------------

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const v8 = (b: Buffer) => Buffer.concat([u8(b.length), b]);
const v16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const ext = (type: number, body: Buffer) => Buffer.concat([u16(type), v16(body)]);
const ascii = (s: string) => Buffer.from(s, 'latin1');

/** What a test ClientHello offers. */
export interface HelloOptions {
  sni?: string;
  alpn?: string[];
  versions?: number[];
  ech?: boolean;
  padding?: number;
}

/** A ClientHello handshake message (header included), field by field per RFC 8446 §4.1.2, with GREASE (RFC 8701). */
export function clientHello(o: HelloOptions): Buffer {
  const exts: Buffer[] = [ext(0x0a0a, Buffer.alloc(0))]; // GREASE
  if (o.sni !== undefined) exts.push(ext(0, v16(Buffer.concat([u8(0), v16(ascii(o.sni))]))));
  exts.push(ext(10, v16(Buffer.concat([u16(0x1a1a), u16(0x001d), u16(0x0017)])))); // supported_groups
  if (o.alpn) exts.push(ext(16, v16(Buffer.concat(o.alpn.map((p) => v8(ascii(p)))))));
  if (o.versions) exts.push(ext(43, v8(Buffer.concat(o.versions.map(u16)))));
  exts.push(ext(51, v16(Buffer.concat([u16(0x001d), v16(Buffer.alloc(32, 0x42))])))); // key_share x25519
  if (o.ech) exts.push(ext(0xfe0d, Buffer.alloc(40, 7)));
  if (o.padding) exts.push(ext(21, Buffer.alloc(o.padding)));
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 0x11), // random
    v8(Buffer.alloc(32, 0x22)), // legacy_session_id
    v16(Buffer.concat([u16(0x0a0a), u16(0x1301), u16(0x1302), u16(0x1303), u16(0xc02b)])),
    v8(Buffer.from([0])),
    v16(Buffer.concat(exts)),
  ]);
  return Buffer.concat([u8(1), u24(body.length), body]);
}

/** `hs` in TLSPlaintext handshake records of at most `max` octets each. */
export function records(hs: Buffer, max = 16384, version = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < hs.length; off += max) {
    const frag = hs.subarray(off, off + max);
    out.push(Buffer.concat([u8(22), u16(version), u16(frag.length), frag]));
  }
  return Buffer.concat(out);
}
