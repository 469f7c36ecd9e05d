/**
 * Flow summaries for IRI-only tasks in a summary reporting mode (ingest.proto FlowSummary,
 * TS 102 232-3 IPIRIPacketReport summary): per task and flow of its target, the packets and
 * bytes counted since the flow's previous summary, and the IP and transport headers of its
 * first packet (headerLength: never a byte of payload). No I/O, no clock: capture time comes
 * with the packets.
 *
 * A flow is a task's 5-tuple (protocol, both addresses, both ports; either direction finds it;
 * 0 for the ports of a protocol without them or of a later fragment) under one access session
 * (Match.session_key), so an address that passes to another session starts another flow. A
 * flow is summarised:
 * - at its start (TRIGGER_FLOW_START), counting its first packet, so the agency learns of a
 *   flow when it begins, not an interval later;
 * - when the task's interval has passed (capture time) since its previous summary and it has
 *   packets not yet reported (TRIGGER_TIMER); a flow with nothing new is not summarised;
 * - at its end (TRIGGER_FLOW_END): TCP RST, or a FIN each way; packets that follow within
 *   CLOSED_LINGER_US (the last ACK, retransmissions) are still counted, and the summary is
 *   made when that time has passed, or at once when a SYN opens the 5-tuple again;
 * - when idle for its idle time (TRIGGER_FLOW_TIMEOUT), or ended to make room for a new flow
 *   when MAX_SUMMARY_FLOWS are followed (the least recently active; counted as evicted);
 * - when its task is no longer in summary mode (removed, stopped or changed) or the probe stops
 *   following flows (TRIGGER_REPORT_END).
 * Every summary after the start counts the packets since the one before, so a flow's summaries
 * add up to all its packets. A summary's capture time (Event.time_us) is the time of the last
 * packet it counts (of the flow's last packet when it counts none), so it lies inside the
 * warrant's time, whenever it is made. Bytes are IP lengths as declared (on the wire).
 */
import type { DecodedPacket } from '../capture/decode';
import { headerLength } from '../capture/packet-headers';
import { type Event, FlowSummary_Trigger, type Match } from '../gen/lig/v1/ingest';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './app/tcp-reassembly';

/** Flows (task × 5-tuple × session) followed at once, unless told. */
export const MAX_SUMMARY_FLOWS = 16384;
/** The summary interval of a task that does not say (Task.summary_interval_seconds 0). */
export const DEFAULT_SUMMARY_INTERVAL_US = 60_000_000;
/** A TCP flow without packets for this long (capture time) has timed out. */
export const SUMMARY_TCP_IDLE_US = 300_000_000;
/** A flow of any other protocol without packets for this long has timed out. */
export const SUMMARY_IDLE_US = 60_000_000;
/** After a TCP flow's end (RST, or FIN both ways), its late packets are still counted for this long. */
export const SUMMARY_CLOSED_LINGER_US = 2_000_000;
/** How far capture time moves between two looks for due summaries. */
export const SUMMARY_SWEEP_US = 1_000_000;

const IPPROTO_TCP = 6;

export interface FlowSummaryOptions {
  maxFlows: number;
  tcpIdleUs: number;
  idleUs: number;
  closedLingerUs: number;
}

export const DEFAULT_FLOW_SUMMARY_OPTIONS: Readonly<FlowSummaryOptions> = Object.freeze({
  maxFlows: MAX_SUMMARY_FLOWS,
  tcpIdleUs: SUMMARY_TCP_IDLE_US,
  idleUs: SUMMARY_IDLE_US,
  closedLingerUs: SUMMARY_CLOSED_LINGER_US,
});

/** What the summaries did. Counts only: no addresses, no task ids. */
export interface FlowSummaryCounters {
  /** Flows followed now. */
  flows: number;
  /** Packets counted (once per summary task they matched). */
  packets: number;
  /** Summaries made, by trigger. */
  start: number;
  timer: number;
  end: number;
  timeout: number;
  reportEnd: number;
  /** Flows ended to make room (each gave a TIMEOUT summary). */
  evicted: number;
}

interface Rec {
  match: Match;
  /** The first packet's IP and transport headers (a copy). */
  header: Buffer;
  protocol: number;
  /** Whether the first packet's source is the key's first endpoint: tells the FINs' sides apart. */
  firstSrcIsA: boolean;
  intervalUs: number;
  packets: number;
  bytes: number;
  /** Capture times of the first and last packet not yet summarised (-1: none). */
  firstUs: number;
  lastUs: number;
  /** The flow's last packet, and its previous summary. */
  seenUs: number;
  reportedUs: number;
  /** FINs seen: 1 from the first packet's source, 2 from the other end. */
  fins: number;
  /** When the flow ended (RST, FIN both ways); -1 while open. */
  closedUs: number;
}

export class FlowSummaries {
  private readonly flows = new Map<string, Rec>();
  private readonly options: FlowSummaryOptions;
  private nextSweepUs = 0;
  private readonly c = { packets: 0, start: 0, timer: 0, end: 0, timeout: 0, reportEnd: 0, evicted: 0 };

  constructor(options: Partial<FlowSummaryOptions> = {}) {
    this.options = { ...DEFAULT_FLOW_SUMMARY_OPTIONS, ...options };
  }

  get size(): number {
    return this.flows.size;
  }

  /**
   * Counts `p` (captured at `timeUs`) for the summary task of `match`, whose interval is
   * `intervalUs`; summaries it causes (a start, the end of the flow a SYN reopens, an
   * eviction) are appended to `out`.
   */
  packet(p: DecodedPacket, timeUs: number, match: Match, intervalUs: number, out: Event[]): void {
    const srcIsA = sourceIsA(p);
    const key = `${match.taskId}/${match.sessionKey}/${flowKey(p, srcIsA)}`;
    const flags = tcpFlags(p);
    let rec = this.flows.get(key);
    let created = false;
    if (rec && rec.closedUs >= 0 && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      this.finish(key, rec, FlowSummary_Trigger.TRIGGER_FLOW_END, out);
      rec = undefined;
    }
    if (rec) {
      this.flows.delete(key); // set again below: the map stays in order of last activity
      rec.intervalUs = intervalUs;
    } else {
      if (this.flows.size >= this.options.maxFlows) this.evictOldest(out);
      created = true;
      const ip = p.ip;
      rec = {
        match: { taskId: match.taskId, direction: match.direction, sessionKey: match.sessionKey },
        header: Buffer.from(ip.subarray(0, headerLength(ip))),
        protocol: p.protocol,
        firstSrcIsA: srcIsA,
        intervalUs,
        packets: 0,
        bytes: 0,
        firstUs: -1,
        lastUs: -1,
        seenUs: timeUs,
        reportedUs: timeUs,
        fins: 0,
        closedUs: -1,
      };
    }
    this.flows.set(key, rec);
    this.c.packets++;
    rec.packets++;
    rec.bytes += p.ipLength;
    if (rec.firstUs < 0) rec.firstUs = timeUs;
    rec.lastUs = timeUs;
    rec.seenUs = timeUs;
    if (rec.closedUs < 0 && p.protocol === IPPROTO_TCP) {
      if (flags & TCP_FIN) rec.fins |= srcIsA === rec.firstSrcIsA ? 1 : 2;
      if (flags & TCP_RST || rec.fins === 3) rec.closedUs = timeUs;
    }
    if (created) {
      this.emit(rec, FlowSummary_Trigger.TRIGGER_FLOW_START, out);
      this.c.start++;
    }
  }

  /** Makes the summaries capture time `nowUs` made due (looked for once per SUMMARY_SWEEP_US). */
  tick(nowUs: number, out: Event[]): void {
    if (nowUs < this.nextSweepUs) return;
    this.nextSweepUs = nowUs + SUMMARY_SWEEP_US;
    for (const [key, rec] of this.flows) {
      if (rec.closedUs >= 0) {
        if (nowUs - rec.closedUs >= this.options.closedLingerUs) this.finish(key, rec, FlowSummary_Trigger.TRIGGER_FLOW_END, out);
        continue;
      }
      const idle = rec.protocol === IPPROTO_TCP ? this.options.tcpIdleUs : this.options.idleUs;
      if (nowUs - rec.seenUs >= idle) this.finish(key, rec, FlowSummary_Trigger.TRIGGER_FLOW_TIMEOUT, out);
      else if (rec.packets > 0 && nowUs - rec.reportedUs >= rec.intervalUs) {
        this.emit(rec, FlowSummary_Trigger.TRIGGER_TIMER, out);
        rec.reportedUs = nowUs;
        this.c.timer++;
      }
    }
  }

  /**
   * A new task list: flows of tasks no longer in a summary mode (`intervals` has a task's
   * interval while it is) end with REPORT_END (FLOW_END if the flow had ended already); the
   * others take their task's interval.
   */
  retain(intervals: ReadonlyMap<bigint, number>, out: Event[]): void {
    for (const [key, rec] of this.flows) {
      const interval = intervals.get(rec.match.taskId);
      if (interval !== undefined) rec.intervalUs = interval;
      else this.finish(key, rec, rec.closedUs >= 0 ? FlowSummary_Trigger.TRIGGER_FLOW_END : FlowSummary_Trigger.TRIGGER_REPORT_END, out);
    }
  }

  /** The probe stops following flows: every flow gets its final summary (REPORT_END, FLOW_END if it had ended). */
  endAll(out: Event[]): void {
    this.retain(new Map(), out);
  }

  counters(): FlowSummaryCounters {
    return { flows: this.flows.size, ...this.c };
  }

  private finish(key: string, rec: Rec, trigger: FlowSummary_Trigger, out: Event[]): void {
    this.flows.delete(key);
    this.emit(rec, trigger, out);
    if (trigger === FlowSummary_Trigger.TRIGGER_FLOW_END) this.c.end++;
    else if (trigger === FlowSummary_Trigger.TRIGGER_FLOW_TIMEOUT) this.c.timeout++;
    else this.c.reportEnd++;
  }

  private evictOldest(out: Event[]): void {
    const first = this.flows.entries().next();
    if (first.done) return;
    this.c.evicted++;
    this.finish(first.value[0], first.value[1], FlowSummary_Trigger.TRIGGER_FLOW_TIMEOUT, out);
  }

  /** Appends the summary of what `rec` counted since its previous one, and starts counting afresh. */
  private emit(rec: Rec, trigger: FlowSummary_Trigger, out: Event[]): void {
    const counted = rec.packets > 0;
    const time = counted ? rec.lastUs : rec.seenUs;
    out.push({
      timeUs: BigInt(time),
      kind: {
        $case: 'flowSummary',
        flowSummary: {
          matches: [rec.match],
          header: rec.header,
          packets: BigInt(rec.packets),
          bytes: BigInt(rec.bytes),
          firstUs: BigInt(counted ? rec.firstUs : time),
          lastUs: BigInt(time),
          trigger,
        },
      },
    });
    rec.packets = 0;
    rec.bytes = 0;
    rec.firstUs = -1;
    rec.lastUs = -1;
  }
}

/** The TCP flags of `p` (0 when it is not TCP or they were not captured). */
function tcpFlags(p: DecodedPacket): number {
  const at = p.transportOffset;
  if (p.protocol !== IPPROTO_TCP || at === undefined || at + 13 >= p.ip.length) return 0;
  return p.ip[at + 13]!;
}

/** Whether the source endpoint sorts first (address octets, then port): both directions give one key. */
function sourceIsA(p: DecodedPacket): boolean {
  const f = p.frame;
  const n = p.version === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) {
    const d = f[p.srcOffset + i]! - f[p.dstOffset + i]!;
    if (d !== 0) return d < 0;
  }
  return (p.srcPort ?? 0) <= (p.dstPort ?? 0);
}

function endpoint(f: Uint8Array, at: number, n: number, port: number | undefined): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(f[at + i]!);
  return s + String.fromCharCode(port ?? 0);
}

/** The 5-tuple as a string, endpoints in a fixed order. */
function flowKey(p: DecodedPacket, srcIsA: boolean): string {
  const n = p.version === 4 ? 4 : 16;
  const src = endpoint(p.frame, p.srcOffset, n, p.srcPort);
  const dst = endpoint(p.frame, p.dstOffset, n, p.dstPort);
  return `${String.fromCharCode(p.protocol)}${srcIsA ? src + dst : dst + src}`;
}
