/**
 * Passive TCP reassembly (RFC 9293 sequence numbers): per connection and per direction, the
 * payload bytes are handed on once, in order, without overlap, whatever order the captured
 * segments came in. Pure: segments in, calls to a sink out; capture time comes with the data.
 *
 * - Sequence numbers are 32-bit and wrap: every comparison is a signed 32-bit distance from
 *   the next expected byte, so a stream may cross 2^32 any number of times.
 * - A direction starts at its SYN (the data starts at ISN + 1), or, for a connection already
 *   under way when the probe saw it, at the first segment carrying data or FIN.
 * - Retransmissions and overlaps: the **first copy wins**. Bytes already handed on, or already
 *   held out of order, are never replaced by a later copy; the later copy's other bytes are
 *   used. (Real stacks differ on overlaps; a passive observer cannot know which copy the
 *   receiver kept. First-copy-wins is what the receiver of an in-order stream keeps, and it
 *   means a late, different copy cannot rewrite what an analyser already reported.)
 * - Out of order: a segment beyond the next expected byte is copied and held. A hole is waited
 *   for only so long: when a direction holds more than `gapWaitBytes` or `gapWaitSegments`,
 *   the hole is declared lost (`gap(side, bytes)`) and delivery goes on after it.
 * - Memory: what all connections of a table hold out of order is bounded by a shared
 *   `ReassemblyBudget`; a direction that would go over it gives up on its holes at once
 *   (counted as `forcedGaps`) instead of dropping data it already has.
 * - FIN ends a direction once every byte before it was handed on (or declared lost); RST
 *   ends both at once, handing on what was held (after gaps).
 *
 * Known limit: a forged or corrupt segment far ahead is held like any other; if more arrive,
 * the wait limit declares a gap up to them and the genuine bytes before them are then "old".
 * The analysers see a gap, which they survive.
 */
import type { FlowSide } from './types';

/** Most payload octets a direction holds out of order before declaring its first hole lost. */
export const GAP_WAIT_BYTES = 256 * 1024;
/** Most segments a direction holds out of order before declaring its first hole lost. */
export const GAP_WAIT_SEGMENTS = 64;
/** Default bound on out-of-order octets held by all connections of one flow table. */
export const MAX_TABLE_BUFFERED_BYTES = 64 * 1024 * 1024;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** One TCP segment as captured: its sequence number, flags and payload. */
export interface TcpSegment {
  seq: number;
  flags: number;
  payload: Uint8Array;
  /** Octets of the segment after `payload` that the capture cut off (snap length): a known hole. */
  lost?: number;
}

/** Where reassembled bytes go (a flow's analysers). */
export interface ReassemblySink {
  /** The next in-order bytes of `side`; a view that may be of the captured frame, not to be kept. */
  data(side: FlowSide, bytes: Uint8Array, timeUs: bigint): void;
  /** `bytes` octets of `side` were lost (never captured, or given up on). */
  gap(side: FlowSide, bytes: number): void;
}

/** Out-of-order octets held by every connection of a table, against a limit. */
export interface ReassemblyBudget {
  used: number;
  readonly limit: number;
}

/** Counts of what reassembly did, shared by the connections of a table. No addresses. */
export interface ReassemblyCounters {
  /** Segments given to the reassembler. */
  segments: number;
  /** Payload octets handed on in order. */
  bytes: number;
  /** Segments that arrived ahead of a hole and were held. */
  outOfOrder: number;
  /** Octets dropped because a copy of them was already handed on or held (retransmissions, overlaps). */
  duplicateBytes: number;
  /** Holes declared lost, and their octets. */
  gaps: number;
  gapBytes: number;
  /** Holes declared lost early because the table's budget was spent. */
  forcedGaps: number;
  /** Segments ignored: no SYN or data seen yet to start the direction, data after FIN, a second ISN. */
  ignored: number;
}

export function newReassemblyCounters(): ReassemblyCounters {
  return { segments: 0, bytes: 0, outOfOrder: 0, duplicateBytes: 0, gaps: 0, gapBytes: 0, forcedGaps: 0, ignored: 0 };
}

export interface ReassemblyLimits {
  gapWaitBytes: number;
  gapWaitSegments: number;
}

/** A held out-of-order piece: its first sequence number and its (copied) bytes. */
interface Piece {
  seq: number;
  data: Uint8Array;
}

/** Signed distance from `b` to `a` in sequence space (a - b, in -2^31..2^31-1). */
const dist = (a: number, b: number): number => (a - b) | 0;

/** One direction of a connection. */
class Direction {
  started = false;
  /** The initial sequence number, when the SYN was seen. */
  isn: number | undefined = undefined;
  /** The next sequence number expected (unsigned 32-bit). */
  next = 0;
  /** Sequence number of the FIN, once seen. */
  fin: number | undefined = undefined;
  done = false;
  readonly held: Piece[] = [];
  heldBytes = 0;

  constructor(readonly side: FlowSide) {}
}

export class TcpReassembler {
  private readonly dirs: Record<FlowSide, Direction> = { client: new Direction('client'), server: new Direction('server') };
  private reset = false;

  constructor(
    private readonly sink: ReassemblySink,
    private readonly budget: ReassemblyBudget,
    readonly counters: ReassemblyCounters = newReassemblyCounters(),
    private readonly limits: ReassemblyLimits = { gapWaitBytes: GAP_WAIT_BYTES, gapWaitSegments: GAP_WAIT_SEGMENTS },
  ) {}

  /** True once both directions ended (FIN reached) or the connection was reset. */
  get closed(): boolean {
    return this.reset || (this.dirs.client.done && this.dirs.server.done);
  }

  /** Whether `side` ended (its FIN was reached, or RST). */
  ended(side: FlowSide): boolean {
    return this.reset || this.dirs[side].done;
  }

  /** The initial sequence number of `side`, when its SYN was seen. */
  isn(side: FlowSide): number | undefined {
    return this.dirs[side].isn;
  }

  /** Octets this connection holds out of order. */
  get heldBytes(): number {
    return this.dirs.client.heldBytes + this.dirs.server.heldBytes;
  }

  /** Takes one captured segment sent by `side`. */
  segment(side: FlowSide, seg: TcpSegment, timeUs: bigint): void {
    this.counters.segments++;
    if (this.reset) {
      this.counters.ignored++;
      return;
    }
    const d = this.dirs[side];
    let seq = seg.seq >>> 0;
    if ((seg.flags & TCP_SYN) !== 0) {
      if (!d.started) {
        d.started = true;
        d.isn = seq;
        d.next = (seq + 1) >>> 0;
      } else if (d.isn !== seq) {
        this.counters.ignored++; // another connection's SYN: the flow table starts a new one
        return;
      }
      seq = (seq + 1) >>> 0;
    } else if (!d.started) {
      if (seg.payload.length === 0 && (seg.flags & (TCP_FIN | TCP_RST)) === 0) {
        this.counters.ignored++;
        return;
      }
      d.started = true;
      d.next = seq;
    }
    const lost = seg.lost ?? 0;
    if (seg.payload.length > 0) this.data(d, seq, seg.payload, timeUs);
    if (lost > 0) this.cutOff(d, (seq + seg.payload.length) >>> 0, lost, timeUs);
    if ((seg.flags & TCP_FIN) !== 0) {
      const at = (seq + seg.payload.length + lost) >>> 0;
      if (d.fin === undefined) d.fin = at;
      this.checkFin(d);
    }
    if ((seg.flags & TCP_RST) !== 0) this.abort(timeUs);
  }

  /** Gives up on every hole and hands on what is held (the connection is going away). */
  flush(timeUs: bigint): void {
    for (const d of [this.dirs.client, this.dirs.server]) {
      while (d.held.length > 0) this.skipHole(d, timeUs, false);
      const missing = d.fin === undefined || d.done ? 0 : dist(d.fin, d.next);
      if (missing > 0) {
        // The octets before the FIN never came.
        this.counters.gaps++;
        this.counters.gapBytes += missing;
        d.next = d.fin!;
        this.sink.gap(d.side, missing);
      }
      this.checkFin(d);
    }
  }

  /** RST: hand on what is held, after gaps, and end both directions. */
  private abort(timeUs: bigint): void {
    this.flush(timeUs);
    this.reset = true;
  }

  private data(d: Direction, seq: number, payload: Uint8Array, timeUs: bigint): void {
    if (d.done || (d.fin !== undefined && dist(seq, d.fin) >= 0)) {
      this.counters.ignored++;
      return;
    }
    let bytes = payload;
    if (d.fin !== undefined && dist((seq + bytes.length) >>> 0, d.fin) > 0) bytes = bytes.subarray(0, dist(d.fin, seq));
    const off = dist(seq, d.next);
    if (off > 0) return this.hold(d, seq, bytes, timeUs);
    if (-off >= bytes.length) {
      this.counters.duplicateBytes += bytes.length;
      return;
    }
    this.counters.duplicateBytes += -off;
    bytes = bytes.subarray(-off);
    const first = d.held[0];
    if (first === undefined || dist(first.seq, d.next) >= bytes.length) {
      this.deliver(d, bytes, timeUs); // the common case: in order, nothing held in its way
    } else {
      this.insertNew(d, d.next, bytes); // held pieces came first for the octets they cover
    }
    this.drain(d, timeUs);
  }

  /** `lost` octets from `seq` were cut off by the capture: if they are next, the hole is declared at once. */
  private cutOff(d: Direction, seq: number, lost: number, timeUs: bigint): void {
    const off = dist(seq, d.next);
    if (off > 0 || -off >= lost || d.done) return; // ahead of a hole (the wait limit handles it), or already past
    const n = lost + off;
    this.counters.gaps++;
    this.counters.gapBytes += n;
    d.next = (d.next + n) >>> 0;
    this.sink.gap(d.side, n);
    this.drain(d, timeUs);
  }

  /** Hands on in-order bytes and moves `next`. */
  private deliver(d: Direction, bytes: Uint8Array, timeUs: bigint): void {
    if (bytes.length === 0) return;
    d.next = (d.next + bytes.length) >>> 0;
    this.counters.bytes += bytes.length;
    this.sink.data(d.side, bytes, timeUs);
  }

  /** Hands on every held piece that now starts at or before `next`. */
  private drain(d: Direction, timeUs: bigint): void {
    while (d.held.length > 0) {
      const p = d.held[0]!;
      const off = dist(p.seq, d.next);
      if (off > 0) break;
      d.held.shift();
      d.heldBytes -= p.data.length;
      this.budget.used -= p.data.length;
      if (-off >= p.data.length) this.counters.duplicateBytes += p.data.length;
      else this.deliver(d, p.data.subarray(-off), timeUs);
    }
    this.checkFin(d);
  }

  private checkFin(d: Direction): void {
    if (d.fin !== undefined && !d.done && d.held.length === 0 && dist(d.next, d.fin) >= 0) d.done = true;
  }

  /**
   * Holds `bytes` (starting at `seq`, ahead of `next`) where they are not already held: first
   * copy wins. Then enforces the wait limits and the table budget.
   */
  private hold(d: Direction, seq: number, bytes: Uint8Array, timeUs: bigint): void {
    this.counters.outOfOrder++;
    this.insertNew(d, seq, bytes);
    while (d.held.length > 0 && (d.heldBytes > this.limits.gapWaitBytes || d.held.length > this.limits.gapWaitSegments)) this.skipHole(d, timeUs, false);
    if (this.budget.used > this.budget.limit) {
      while (d.held.length > 0) this.skipHole(d, timeUs, true);
    }
  }

  /** Holds (copies of) the octets of `bytes`, from `seq` (at or after `next`), that no held piece covers. */
  private insertNew(d: Direction, seq: number, bytes: Uint8Array): void {
    const s0 = dist(seq, d.next);
    const e = s0 + bytes.length;
    let s = s0;
    const pieces: Piece[] = [];
    for (const p of d.held) {
      const ps = dist(p.seq, d.next);
      const pe = ps + p.data.length;
      if (pe <= s) continue;
      if (ps >= e) break;
      if (s < ps) pieces.push({ seq: (d.next + s) >>> 0, data: bytes.slice(s - s0, ps - s0) });
      this.counters.duplicateBytes += Math.min(pe, e) - Math.max(ps, s);
      s = Math.max(s, pe);
      if (s >= e) break;
    }
    if (s < e) pieces.push({ seq: (d.next + s) >>> 0, data: bytes.slice(s - s0) });
    for (const piece of pieces) this.insert(d, piece);
  }

  /** Inserts a piece that overlaps no held piece, keeping them in sequence order. */
  private insert(d: Direction, piece: Piece): void {
    const off = dist(piece.seq, d.next);
    let i = d.held.length;
    while (i > 0 && dist(d.held[i - 1]!.seq, d.next) > off) i--;
    d.held.splice(i, 0, piece);
    d.heldBytes += piece.data.length;
    this.budget.used += piece.data.length;
  }

  /** Declares the hole before the first held piece lost, and hands on what follows it. */
  private skipHole(d: Direction, timeUs: bigint, forced: boolean): void {
    const first = d.held[0];
    if (!first) return;
    const lost = dist(first.seq, d.next);
    if (lost > 0) {
      this.counters.gaps++;
      this.counters.gapBytes += lost;
      if (forced) this.counters.forcedGaps++;
      d.next = first.seq;
      this.sink.gap(d.side, lost);
    }
    this.drain(d, timeUs);
  }
}
