/**
 * The probe's flow table for application analysis: flows keyed by their 5-tuple (either
 * direction finds the same flow), each with its TCP reassembly and the analyser its port and
 * first bytes chose (flow.ts). Bounded: at most `maxFlows` flows (the least recently active
 * is ended to make room), out-of-order octets bounded across all flows, flows idle for longer
 * than their timeout (by capture time) ended. Events go to the sink with the flow's endpoints
 * and the caller's tag. Pure: no timers, no clock; capture time comes with the packets.
 *
 * Which end is the client: the sender of a SYN without ACK; for a flow seen mid-way (or
 * UDP), the end whose port is not a known server port, else the one with the higher port,
 * else the first sender.
 */
import { type EventSink, Flow, type FlowContext } from './flow';
import { type AnalyserOptions, APP_PROTOCOLS, DEFAULT_ANALYSER_OPTIONS, SERVER_PORTS } from './index';
import type { ContentBudget } from './mail';
import type { FlowPacket } from './packet';
import { MAX_TABLE_BUFFERED_BYTES, type ReassemblyBudget, type ReassemblyCounters, TCP_FIN, TCP_RST, TCP_SYN, newReassemblyCounters } from './tcp-reassembly';
import { newCounters } from './text';
import type { AppCounters, FlowSide } from './types';

export type { EventSink, FlowEndpoint, FlowInfo } from './flow';

/** Default bound on flows in a table. */
export const MAX_FLOWS = 16384;
/** A TCP flow without packets for this long (capture time) is ended. */
export const TCP_IDLE_TIMEOUT_US = 300_000_000n;
/** A UDP flow without datagrams for this long is ended. */
export const UDP_IDLE_TIMEOUT_US = 60_000_000n;
/** A closed TCP flow is remembered this long, so late retransmissions do not look like a new flow. */
export const CLOSED_LINGER_US = 10_000_000n;
/** Default bound on message octets (mail content) held by all analysers of one table. */
export const MAX_TABLE_CONTENT_BYTES = 64 * 1024 * 1024;
/** How far capture time moves between sweeps for idle flows. */
export const SWEEP_INTERVAL_US = 1_000_000n;

export interface FlowTableOptions {
  maxFlows: number;
  tcpIdleUs: bigint;
  udpIdleUs: bigint;
  closedLingerUs: bigint;
  /** Out-of-order octets all flows together may hold (reassembly). */
  maxBufferedBytes: number;
  /** Message octets all mail analysers together may hold as content (beyond, content is cut). */
  maxContentBytes: number;
  /** Protocols analysed (default: all of APP_PROTOCOLS). */
  protocols: readonly string[] | undefined;
  analyser: AnalyserOptions;
}

export const DEFAULT_FLOW_TABLE_OPTIONS: Readonly<FlowTableOptions> = Object.freeze({
  maxFlows: MAX_FLOWS,
  tcpIdleUs: TCP_IDLE_TIMEOUT_US,
  udpIdleUs: UDP_IDLE_TIMEOUT_US,
  closedLingerUs: CLOSED_LINGER_US,
  maxBufferedBytes: MAX_TABLE_BUFFERED_BYTES,
  maxContentBytes: MAX_TABLE_CONTENT_BYTES,
  protocols: undefined,
  analyser: DEFAULT_ANALYSER_OPTIONS,
});

/** What the table did. Counts only: no addresses. */
export interface FlowTableCounters {
  packets: number;
  /** Flows in the table now. */
  flows: number;
  created: number;
  /** Ended by FIN/RST, by idle time, to make room, or by endAll. */
  ended: number;
  expired: number;
  evicted: number;
  /** Packets that start no flow (a bare ACK, FIN or RST of a connection not in the table). */
  ignored: number;
  /** Flows no analyser recognised. */
  unrecognised: number;
  /** Out-of-order octets held now. */
  bufferedBytes: number;
  /** Message octets held now by mail analysers. */
  contentBytes: number;
  reassembly: ReassemblyCounters;
  /** Per protocol: events, malformed, truncated. */
  protocols: Record<string, AppCounters>;
}

export class FlowTable<T = undefined> {
  private readonly flows = new Map<string, Flow<T>>();
  private readonly options: FlowTableOptions;
  private readonly ctx: FlowContext<T>;
  private readonly budget: ReassemblyBudget;
  private readonly contentBudget: ContentBudget;
  private readonly reassembly = newReassemblyCounters();
  private readonly protocolCounters: Record<string, AppCounters> = {};
  private readonly minIdleUs: bigint;
  private lastSweepUs: bigint | undefined;
  private readonly c = { packets: 0, created: 0, ended: 0, expired: 0, evicted: 0, ignored: 0, unrecognised: 0 };

  constructor(sink: EventSink<T>, options: Partial<FlowTableOptions> = {}) {
    this.options = { ...DEFAULT_FLOW_TABLE_OPTIONS, ...options };
    for (const p of APP_PROTOCOLS) this.protocolCounters[p] = newCounters();
    this.budget = { used: 0, limit: this.options.maxBufferedBytes };
    this.contentBudget = { used: 0, limit: this.options.maxContentBytes };
    const o = this.options;
    this.minIdleUs = [o.tcpIdleUs, o.udpIdleUs, o.closedLingerUs].reduce((a, b) => (b < a ? b : a));
    this.ctx = {
      sink,
      budget: this.budget,
      reassembly: this.reassembly,
      counters: (p) => (this.protocolCounters[p] ??= newCounters()),
      options: { ...o.analyser, contentBudget: this.contentBudget },
      enabled: o.protocols ? new Set(o.protocols) : undefined,
      unrecognised: () => this.c.unrecognised++,
    };
  }

  get size(): number {
    return this.flows.size;
  }

  /** Takes one captured TCP segment or UDP datagram; `tag` becomes the flow's tag. */
  packet(p: FlowPacket, tag: T): void {
    this.c.packets++;
    if (this.lastSweepUs === undefined || p.timeUs - this.lastSweepUs >= SWEEP_INTERVAL_US) this.expire(p.timeUs);
    const srcIsA = endpointOrder(p) <= 0;
    const key = flowKey(p, srcIsA);
    let flow = this.flows.get(key);
    if (flow && flow.info.transport === 'tcp' && Flow.isOpening(p)) {
      // A SYN of another connection on the same 5-tuple: the old one is over.
      const fromClient = flow.clientIsA === srcIsA;
      if (!fromClient || flow.state === 'closed' || flow.clientIsn() !== p.seq) {
        this.remove(key, flow, p.timeUs);
        flow = undefined;
      }
    }
    if (!flow) {
      if (p.transport === 'tcp' && p.payload.length === 0 && ((p.flags & TCP_SYN) === 0 || (p.flags & (TCP_FIN | TCP_RST)) !== 0)) {
        this.c.ignored++;
        return;
      }
      if (this.flows.size >= this.options.maxFlows) this.evictOldest(p.timeUs);
      flow = new Flow(this.ctx, p, clientIsSource(p), srcIsA, tag);
      this.c.created++;
    } else this.flows.delete(key); // re-inserted below: the map stays in order of last activity
    this.flows.set(key, flow);
    const side: FlowSide = flow.clientIsA === srcIsA ? 'client' : 'server';
    flow.info.tag = tag;
    flow.info.tagSide = side;
    const wasClosed = flow.state === 'closed';
    flow.packet(p, side);
    if (!wasClosed && flow.state === 'closed') this.c.ended++;
  }

  /** Ends the flows idle since before `nowUs` less their timeout (capture time). */
  expire(nowUs: bigint): void {
    this.lastSweepUs = nowUs;
    for (const [key, flow] of this.flows) {
      const idle = nowUs - flow.lastUs;
      if (idle < this.minIdleUs) break; // the map is in order of activity: the rest are younger
      const limit = flow.state === 'closed' ? this.options.closedLingerUs : flow.info.transport === 'tcp' ? this.options.tcpIdleUs : this.options.udpIdleUs;
      if (idle < limit) continue;
      if (flow.state !== 'closed') this.c.expired++;
      this.remove(key, flow, nowUs);
    }
  }

  /** Ends every flow (the probe is stopping): pending events are reported. */
  endAll(nowUs: bigint): void {
    for (const [key, flow] of this.flows) this.remove(key, flow, nowUs);
  }

  counters(): FlowTableCounters {
    const protocols: Record<string, AppCounters> = {};
    for (const [k, v] of Object.entries(this.protocolCounters)) protocols[k] = { ...v };
    return { ...this.c, flows: this.flows.size, bufferedBytes: this.budget.used, contentBytes: this.contentBudget.used, reassembly: { ...this.reassembly }, protocols };
  }

  private remove(key: string, flow: Flow<T>, nowUs: bigint): void {
    this.flows.delete(key);
    if (flow.state !== 'closed') {
      flow.end(nowUs);
      this.c.ended++;
    }
  }

  private evictOldest(nowUs: bigint): void {
    const first = this.flows.entries().next();
    if (first.done) return;
    const [key, flow] = first.value;
    if (flow.state !== 'closed') this.c.evicted++;
    this.remove(key, flow, nowUs);
  }
}

/** Compares the packet's source endpoint with its destination (address octets, then port). */
function endpointOrder(p: FlowPacket): number {
  const a = p.src;
  const b = p.dst;
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return p.srcPort - p.dstPort;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** The flow's key: transport, then its two endpoints in a fixed order, so both directions agree. */
function flowKey(p: FlowPacket, srcIsA: boolean): string {
  const [a, ap, b, bp] = srcIsA ? [p.src, p.srcPort, p.dst, p.dstPort] : [p.dst, p.dstPort, p.src, p.srcPort];
  return `${p.transport === 'tcp' ? 'T' : 'U'}${latin1(a)}${String.fromCharCode(ap)}${latin1(b)}${String.fromCharCode(bp)}`;
}

/** Whether the packet's sender is the flow's client (see the module comment). */
function clientIsSource(p: FlowPacket): boolean {
  if (p.transport === 'tcp' && (p.flags & TCP_SYN) !== 0) return (p.flags & 0x10) === 0;
  const srcKnown = SERVER_PORTS.has(p.srcPort);
  const dstKnown = SERVER_PORTS.has(p.dstPort);
  if (srcKnown !== dstKnown) return dstKnown;
  if (p.srcPort !== p.dstPort) return p.srcPort > p.dstPort;
  return true;
}
