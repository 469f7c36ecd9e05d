/**
 * The packet source a probe agent captures from, made from its `source` setting.
 *
 * PacketCable CCC (`ccc:ADDR:PORT`): a CCC datagram names its intercept by a CCCID, which
 * the network element (e.g. RouterOS `sniff-pc`, its `sniff-id`) chooses. The probe only
 * knows opaque task ids from the mediator, with their targets; nothing maps a CCCID to a
 * task, and a mapping in the probe's config would be a second, unaudited place where
 * warrants are defined. So the agent does not attribute CCC packets by CCCID: every
 * datagram's inner IP packet goes through the same decoder and matcher as any other
 * source's, and is intercepted only when its addresses are a task's target. The guarantee
 * that only the target's traffic is intercepted therefore holds even when the element sends
 * more than it should. The CCCIDs seen are counted (how many distinct, how many datagrams),
 * never logged.
 */
import type { ProbeSource } from '../config/probe';
import type { CccHeaderForm } from '../capture/ccc';
import { parseCcc } from '../capture/ccc';
import type { Frame, FrameTime } from '../capture/frame';
import type { QueueLimits } from '../capture/frame-queue';
import type { ReplayRate } from '../capture/file-source';
import { createPacketSource } from '../capture/open-source';
import { LINKTYPE } from '../capture/pcap-format';
import type { PacketSource, SourceKind } from '../capture/source';
import { CccSource, type CccSourceOptions } from '../capture/udp-sources';
import type { Endpoint } from '../config/values';
import type { Task } from '../gen/lig/v1/ingest';

/** Distinct CCCIDs counted one by one; datagrams with further CCCIDs are counted together. */
export const MAX_COUNTED_CCCIDS = 1024;

export interface AgentSourceOptions {
  queue?: Partial<QueueLimits>;
  /** pcap: replay pace ('max' by default). */
  rate?: ReplayRate;
  /** if: the task list the capture filter is built from. */
  tasks?: readonly Task[];
  /** if: UDP ports the capture filter always lets through, for identity tracking (RADIUS accounting, DHCP). */
  identityUdpPorts?: readonly number[];
  /** if: libpcap buffer; tzsp/ccc: socket receive buffer. */
  bufferBytes?: number;
  /** tzsp/ccc: accepted sender addresses (all when absent). */
  allowFrom?: readonly string[];
  /** ccc: header form (default 'auto'). */
  cccHeader?: CccHeaderForm | 'auto';
  /** ccc: time-stamp source (default 'arrival'). */
  cccTime?: 'arrival' | 'header';
}

/** The kind a source setting names, as Hello.source_kind carries it. */
export function sourceKindOf(source: ProbeSource): SourceKind {
  return source.kind === 'interface' ? 'if' : source.kind;
}

/** Makes (does not start) the source for `source`. */
export function makeAgentSource(source: ProbeSource, opts: AgentSourceOptions = {}): PacketSource {
  if (source.kind === 'ccc') {
    return new MatchedCccSource(source.listen, { queue: opts.queue, receiveBufferBytes: opts.bufferBytes, allowFrom: opts.allowFrom, header: opts.cccHeader, time: opts.cccTime });
  }
  return createPacketSource(source, { queue: opts.queue, rate: opts.rate, tasks: opts.tasks, identityUdpPorts: opts.identityUdpPorts, bufferBytes: opts.bufferBytes, allowFrom: opts.allowFrom });
}

/** CCCIDs seen by a MatchedCccSource. */
export interface CccidCounts {
  /** Distinct CCCIDs seen (at most MAX_COUNTED_CCCIDS are told apart). */
  cccids: number;
  /** Datagrams that carried a packet. */
  datagrams: number;
}

/**
 * A CCC receiver that yields every datagram's IP packet whatever its CCCID, leaving the
 * attribution to the matcher (see the file comment). Frames carry no task id.
 */
export class MatchedCccSource extends CccSource {
  private readonly headerTime: boolean;
  private readonly seen = new Set<number>();
  private datagrams = 0;

  constructor(listen: Endpoint, opts: Omit<CccSourceOptions, 'intercepts'> = {}) {
    super(listen, opts);
    this.headerTime = opts.time === 'header';
  }

  cccidCounts(): CccidCounts {
    return { cccids: this.seen.size, datagrams: this.datagrams };
  }

  protected override toFrame(msg: Buffer, arrival: FrameTime): Frame | undefined {
    const d = parseCcc(msg, this.header);
    this.datagrams++;
    if (this.seen.size < MAX_COUNTED_CCCIDS) this.seen.add(d.cccid);
    const ts = this.headerTime && d.time ? d.time : arrival;
    return { ts, linktype: LINKTYPE.RAW, data: d.packet, origLen: d.packet.length };
  }
}
