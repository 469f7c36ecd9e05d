/**
 * One flow of the flow table: a TCP connection (reassembled) or a UDP exchange, the
 * analyser it was given, and, until one is chosen, the first bytes it sent, which are sniffed
 * and then replayed to the analyser. Pure: the table drives it with captured packets.
 */
import { type AnalyserOptions, DATAGRAM_ANALYSERS, type DatagramSpec, STREAM_ANALYSERS, type StreamSpec, candidates } from './index';
import type { FlowPacket } from './packet';
import { type ReassemblyBudget, type ReassemblyCounters, type ReassemblySink, TCP_ACK, TCP_SYN, TcpReassembler } from './tcp-reassembly';
import type { AppCounters, AppEvent, DatagramAnalyser, FlowSide, StreamAnalyser } from './types';

/** Octets of each side's first bytes kept for sniffing; past them, a flow nothing recognised is left alone. */
export const SNIFF_BYTES = 1024;
/** Segments (per side) or datagrams sniffed before a flow nothing recognised is left alone. */
export const SNIFF_PIECES = 8;

export interface FlowEndpoint {
  /** 4 or 16 octets (a copy). */
  address: Uint8Array;
  port: number;
}

/** What the event sink learns about a flow. */
export interface FlowInfo<T> {
  transport: 'tcp' | 'udp';
  client: FlowEndpoint;
  server: FlowEndpoint;
  /** The analyser's protocol, once one recognised the flow. */
  protocol: string | undefined;
  /** The caller's tag from the flow's latest packet (e.g. the tasks it matched). */
  tag: T;
  /** Which side sent the packet the tag came from (a match's direction is relative to it). */
  tagSide: FlowSide;
}

export type EventSink<T> = (flow: FlowInfo<T>, event: AppEvent) => void;

/** What a flow shares with its table. */
export interface FlowContext<T> {
  sink: EventSink<T>;
  budget: ReassemblyBudget;
  reassembly: ReassemblyCounters;
  /** Per-protocol counters, handed to every analyser of that protocol. */
  counters(protocol: string): AppCounters;
  options: AnalyserOptions;
  enabled: ReadonlySet<string> | undefined;
  /** A flow nothing recognised. */
  unrecognised(): void;
}

type State = 'sniffing' | 'analysing' | 'none' | 'closed';

interface Held {
  side: FlowSide;
  bytes: Uint8Array;
  timeUs: bigint;
}

const copy = (a: Uint8Array): Uint8Array => Uint8Array.from(a);

export class Flow<T> implements ReassemblySink {
  readonly info: FlowInfo<T>;
  /** Whether the packets' source address is the flow's first endpoint in key order ("A"). */
  readonly clientIsA: boolean;
  state: State = 'sniffing';
  lastUs: bigint;
  private readonly tcp: TcpReassembler | undefined;
  private stream: StreamAnalyser | undefined;
  private datagram: DatagramAnalyser | undefined;
  /** The first bytes, in arrival order, until an analyser is chosen. */
  private held: Held[] = [];
  private readonly heldBytes: Record<FlowSide, number> = { client: 0, server: 0 };
  private readonly pieces: Record<FlowSide, number> = { client: 0, server: 0 };
  private candidates: (StreamSpec | DatagramSpec)[];

  constructor(
    private readonly ctx: FlowContext<T>,
    p: FlowPacket,
    clientIsSource: boolean,
    srcIsA: boolean,
    tag: T,
  ) {
    const src = { address: copy(p.src), port: p.srcPort };
    const dst = { address: copy(p.dst), port: p.dstPort };
    this.info = { transport: p.transport, client: clientIsSource ? src : dst, server: clientIsSource ? dst : src, protocol: undefined, tag, tagSide: clientIsSource ? 'client' : 'server' };
    this.clientIsA = clientIsSource === srcIsA;
    this.lastUs = p.timeUs;
    const specs = p.transport === 'tcp' ? STREAM_ANALYSERS : DATAGRAM_ANALYSERS;
    this.candidates = candidates<StreamSpec | DatagramSpec>(specs, this.info.server.port, ctx.enabled);
    if (p.transport === 'tcp') this.tcp = new TcpReassembler(this, ctx.budget, ctx.reassembly);
  }

  /** The client's initial sequence number, when its SYN was seen. */
  clientIsn(): number | undefined {
    return this.tcp?.isn('client');
  }

  /** Takes one packet of the flow, sent by `side`. */
  packet(p: FlowPacket, side: FlowSide): void {
    this.lastUs = p.timeUs;
    if (this.state === 'none' || this.state === 'closed') return;
    if (this.tcp) {
      this.tcp.segment(side, p, p.timeUs); // a FlowPacket is a TcpSegment: no object per packet
      if (this.tcp.closed) this.end(p.timeUs);
      else if ((this.state as State) === 'none') this.tcp.flush(p.timeUs); // nothing will read it: release what it held
      return;
    }
    if (p.payload.length > 0) this.udp(side, p.payload, p.timeUs);
  }

  /** Ends the flow (FIN/RST, idle, evicted): held bytes are handed on, and the analyser says what was pending. */
  end(timeUs: bigint): void {
    if (this.state === 'closed') return;
    this.tcp?.flush(timeUs);
    if (this.state === 'sniffing') this.decide(true);
    if (this.stream) this.emit(this.stream.onEnd(timeUs));
    this.state = 'closed';
    this.held = [];
  }

  /** ReassemblySink: in-order bytes of one side. */
  data(side: FlowSide, bytes: Uint8Array, timeUs: bigint): void {
    if (this.state === 'analysing') {
      this.emit(this.stream!.onData(side, bytes, timeUs));
      return;
    }
    if (this.state !== 'sniffing') return;
    this.held.push({ side, bytes: copy(bytes), timeUs });
    this.heldBytes[side] += bytes.length;
    this.pieces[side]++;
    this.decide(false);
  }

  /** ReassemblySink: lost bytes of one side. */
  gap(side: FlowSide, bytes: number): void {
    if (this.state === 'sniffing') this.decide(true);
    if (this.state === 'analysing') this.stream!.onGap(side, bytes);
  }

  /** Sniffs the held bytes; chooses an analyser (and replays them to it), or gives up when `final` or past the limits. */
  private decide(final: boolean): void {
    const client = this.prefix('client');
    const server = this.prefix('server');
    let waiting = false;
    for (const spec of this.candidates as StreamSpec[]) {
      const s = spec.sniff(client, server, this.info.server.port);
      if (s === 'yes') return this.choose(spec);
      if (s === 'more') waiting = true;
    }
    const full = (side: FlowSide) => this.heldBytes[side] >= SNIFF_BYTES || this.pieces[side] >= SNIFF_PIECES;
    if (waiting && !final && !full('client') && !full('server')) return;
    this.state = 'none';
    this.held = [];
    this.ctx.unrecognised();
  }

  private choose(spec: StreamSpec): void {
    this.state = 'analysing';
    this.info.protocol = spec.protocol;
    this.stream = spec.create(this.ctx.counters(spec.protocol), this.ctx.options);
    const held = this.held;
    this.held = [];
    for (const h of held) this.emit(this.stream.onData(h.side, h.bytes, h.timeUs));
  }

  /** The first SNIFF_BYTES octets `side` sent. */
  private prefix(side: FlowSide): Uint8Array {
    const parts = this.held.filter((h) => h.side === side).map((h) => h.bytes);
    if (parts.length === 1) return parts[0]!.subarray(0, SNIFF_BYTES);
    return Buffer.concat(parts).subarray(0, SNIFF_BYTES);
  }

  private udp(side: FlowSide, payload: Uint8Array, timeUs: bigint): void {
    if (this.state === 'sniffing') {
      const spec = (this.candidates as DatagramSpec[]).find((s) => s.sniff(payload, this.info.client.port, this.info.server.port) === 'yes');
      if (spec) {
        this.state = 'analysing';
        this.info.protocol = spec.protocol;
        this.datagram = spec.create(this.ctx.counters(spec.protocol), this.ctx.options);
      } else {
        this.pieces[side]++;
        if (this.pieces.client + this.pieces.server >= SNIFF_PIECES) {
          this.state = 'none';
          this.ctx.unrecognised();
        }
        return;
      }
    }
    this.emit(this.datagram!.onDatagram(side, payload, timeUs));
  }

  private emit(events: AppEvent[]): void {
    for (const e of events) this.ctx.sink(this.info, e);
  }

  /** Whether the segment is a new connection's opening SYN (from the client, without ACK). */
  static isOpening(p: FlowPacket): boolean {
    return p.transport === 'tcp' && (p.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
  }
}
