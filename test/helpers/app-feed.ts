/**
 * Feeding the application analysers (src/probe/app) a conversation in every way the tests
 * need: whole turns, byte by byte, at random split points, and as TCP segments through the
 * reassembler, shuffled, retransmitted and overlapping. A conversation is a list of turns,
 * each the bytes one side sent; turn i is captured at time BASE_US + i, so every way of
 * feeding it must give the same events with the same times.
 */
import { TCP_ACK, TCP_FIN, TCP_SYN, TcpReassembler, type TcpSegment, newReassemblyCounters } from '../../src/probe/app/tcp-reassembly';
import type { AppEvent, FlowSide, StreamAnalyser } from '../../src/probe/app/types';

export type Turn = [FlowSide, Uint8Array | string];

export const BASE_US = 1_700_000_000_000_000n;

export const bytes = (b: Uint8Array | string): Uint8Array => (typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
export const crlf = (...lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');
const timeOf = (i: number): bigint => BASE_US + BigInt(i);

/** Events as plain data for deep comparison (content as Latin-1 text). */
export function plain(events: AppEvent[]): unknown[] {
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
 * close to 2^32, so sequence numbers wrap), each turn cut into segments that arrive shuffled,
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
    for (let k = pieces.length - 1; k > 0; k--) {
      const j = Math.floor(rnd() * (k + 1));
      [pieces[k], pieces[j]] = [pieces[j]!, pieces[k]!];
    }
    for (const p of pieces) tcp.segment(side, p, timeOf(i));
    next[side] += b.length;
  });
  tcp.segment('client', seg('client', next.client, new Uint8Array(0), TCP_FIN | TCP_ACK), timeOf(conv.length));
  tcp.segment('server', seg('server', next.server, new Uint8Array(0), TCP_FIN | TCP_ACK), timeOf(conv.length));
  events.push(...a.onEnd(timeOf(conv.length)));
  return { events, tcp };
}
