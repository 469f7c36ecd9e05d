/**
 * A probe's FlowSummary (the packet and byte counts of one flow of an IRI-only target since its
 * previous summary) → a TS 102 232-3 IRI-only packet summary report (IPIRIPacketReport
 * `summary`, clause 6.2.5). Pure: bytes in, a report out.
 *
 * ```asn1
 * PacketReportSummary ::= SEQUENCE
 * {
 *     header          [1] OCTET STRING,                -- the flow's first packet's headers
 *     indications     [2] PacketReportIndications,     -- which header fields were zeroed
 *     trigger         [3] PacketReportTrigger,         -- why this summary now
 *     packetCount     [4] INTEGER OPTIONAL,
 *     byteCount       [5] INTEGER OPTIONAL,
 *     firstTimestamp  [6] GeneralizedTime OPTIONAL,
 *     lastTimestamp   [7] GeneralizedTime OPTIONAL,
 *     ...
 * }
 * ```
 * The header is cut again to the IP and transport headers (src/capture/packet-headers.ts headerLength),
 * whatever the probe sent: a summary never carries a byte of payload. A summary stands for
 * every packet of the flow, so the header fields that differ from packet to packet are
 * zeroed and named in `indications`: the IPv4 total length and header checksum, the IPv6
 * payload length, and the TCP sequence and acknowledgement numbers, window and checksum, or
 * the UDP length and checksum (transport fields only where the transport header directly
 * follows the IP header; behind IPv6 extension headers they are left as they are, and not
 * named). The addresses, ports, protocol, TTL and the first packet's TCP flags are kept.
 *
 * Triggers: FLOW_START flowStart, FLOW_END flowEnd, FLOW_TIMEOUT flowTimeout, TIMER
 * flowTimerExpiration, PACKET_COUNT flowPacketCount, BYTE_COUNT flowByteCount, REPORT_END
 * reportEnd; an unspecified or unknown trigger makes no report (the caller counts it).
 */
import type { SummaryReport } from '../etsi/build';
import type { PacketReportIndication, PacketReportTrigger } from '../etsi/ip-access';
import { type FlowSummary, FlowSummary_Trigger } from '../gen/lig/v1/ingest';
import { stampOfMicros } from './stamp';
import { headerLength } from '../capture/packet-headers';

const TRIGGERS: ReadonlyMap<FlowSummary_Trigger, PacketReportTrigger> = new Map([
  [FlowSummary_Trigger.TRIGGER_FLOW_START, 'flowStart'],
  [FlowSummary_Trigger.TRIGGER_FLOW_END, 'flowEnd'],
  [FlowSummary_Trigger.TRIGGER_FLOW_TIMEOUT, 'flowTimeout'],
  [FlowSummary_Trigger.TRIGGER_TIMER, 'flowTimerExpiration'],
  [FlowSummary_Trigger.TRIGGER_PACKET_COUNT, 'flowPacketCount'],
  [FlowSummary_Trigger.TRIGGER_BYTE_COUNT, 'flowByteCount'],
  [FlowSummary_Trigger.TRIGGER_REPORT_END, 'reportEnd'],
]);

/** Why a FlowSummary gives no report. */
export type SummaryProblem = 'trigger' | 'notIp';

/**
 * The summary report of `s`, or the reason there is none: an unknown trigger, or a header that
 * is not an IP packet's. Counts above 2^53 stay bigints; a time of 0 is left out.
 */
export function summaryReport(s: FlowSummary): SummaryReport | SummaryProblem {
  const trigger = TRIGGERS.get(s.trigger);
  if (trigger === undefined) return 'trigger';
  const n = headerLength(s.header);
  if (n === 0) return 'notIp';
  const { header, indications } = zeroed(s.header.subarray(0, n));
  const r: SummaryReport = { header, indications, trigger, packetCount: count(s.packets), byteCount: count(s.bytes) };
  if (s.firstUs > 0n) r.first = stampOfMicros(s.firstUs);
  if (s.lastUs > 0n) r.last = stampOfMicros(s.lastUs);
  return r;
}

const count = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

const TCP = 6;
const UDP = 17;

/**
 * A copy of `h` (an IP packet's headers, whole as headerLength cut them) with the fields that
 * vary per packet zeroed, and the indications naming them.
 */
export function zeroed(h: Uint8Array): { header: Uint8Array; indications: PacketReportIndication[] } {
  const out = Uint8Array.from(h);
  const ind: PacketReportIndication[] = [];
  const zero = (at: number, len: number, name: PacketReportIndication): void => {
    if (at + len > out.length) return;
    out.fill(0, at, at + len);
    ind.push(name);
  };
  let proto: number;
  let off: number;
  if (out[0]! >> 4 === 4) {
    zero(2, 2, 'zeroedIPv4TotalLength');
    zero(10, 2, 'zeroedIPv4HeaderChecksum');
    off = (out[0]! & 0x0f) * 4;
    const later = (((out[6]! & 0x1f) << 8) | out[7]!) !== 0;
    proto = later ? -1 : out[9]!;
  } else {
    zero(4, 2, 'zeroedIPv6PayloadLength');
    off = 40;
    proto = out[6]!; // an extension header first: no transport field is touched
  }
  if (proto === TCP && off + 20 <= out.length) {
    zero(off + 4, 4, 'zeroedTCPSequenceNumber');
    zero(off + 8, 4, 'zeroedTCPAcknowledgementNumber');
    zero(off + 14, 2, 'zeroedTCPWindowSize');
    zero(off + 16, 2, 'zeroedTCPChecksum');
  } else if (proto === UDP && off + 8 <= out.length) {
    zero(off + 4, 2, 'zeroedUDPLength');
    zero(off + 6, 2, 'zeroedUDPChecksum');
  }
  return { header: out, indications: ind };
}
