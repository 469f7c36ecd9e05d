/**
 * What the flow table needs from a decoded IP packet: the transport (TCP or UDP), the two
 * endpoints, and for TCP the sequence number and flags (RFC 9293 §3.1), for UDP the length
 * (RFC 768), and the payload. Pure: views into the frame, no copy.
 */
import type { DecodedPacket } from '../../capture/decode-ip';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** One TCP segment or UDP datagram of a flow, as captured. */
export interface FlowPacket {
  timeUs: bigint;
  transport: 'tcp' | 'udp';
  /** 4 (IPv4) or 16 (IPv6) octets each. */
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** TCP only (0 for UDP). */
  seq: number;
  flags: number;
  payload: Uint8Array;
  /** Octets of the payload the capture cut off (snap length); TCP reassembly treats them as lost. */
  lost: number;
}

/** Why a packet gave the flow table nothing. */
export type PacketSkip = 'not-tcp-udp' | 'fragment' | 'transport-truncated' | 'transport-malformed';

/** The TCP segment or UDP datagram in `p`, or why there is none. */
export function flowPacket(p: DecodedPacket, timeUs: bigint): FlowPacket | PacketSkip {
  if (p.protocol !== IPPROTO_TCP && p.protocol !== IPPROTO_UDP) return 'not-tcp-udp';
  if (p.fragment) return 'fragment';
  const at = p.transportOffset;
  const ip = p.ip;
  if (at === undefined || p.srcPort === undefined || p.dstPort === undefined) return 'transport-truncated';
  if (p.protocol === IPPROTO_TCP) {
    if (at + 20 > ip.length) return 'transport-truncated';
    const hlen = (ip[at + 12]! >> 4) * 4;
    if (hlen < 20) return 'transport-malformed';
    if (at + hlen > ip.length) return p.truncated ? 'transport-truncated' : 'transport-malformed';
    const seq = ((ip[at + 4]! << 24) | (ip[at + 5]! << 16) | (ip[at + 6]! << 8) | ip[at + 7]!) >>> 0;
    return {
      timeUs,
      transport: 'tcp',
      src: p.src,
      dst: p.dst,
      srcPort: p.srcPort,
      dstPort: p.dstPort,
      seq,
      flags: ip[at + 13]!,
      payload: ip.subarray(at + hlen),
      lost: p.ipLength - p.ipBytes,
    };
  }
  if (at + 8 > ip.length) return 'transport-truncated';
  const ulen = (ip[at + 4]! << 8) | ip[at + 5]!;
  // A UDP length of 0 is a jumbogram's (RFC 2675): the IP length rules.
  const end = ulen === 0 ? p.ipLength : at + ulen;
  if (ulen !== 0 && (ulen < 8 || end > p.ipLength)) return 'transport-malformed';
  if (end > ip.length) return 'transport-truncated';
  return { timeUs, transport: 'udp', src: p.src, dst: p.dst, srcPort: p.srcPort, dstPort: p.dstPort, seq: 0, flags: 0, payload: ip.subarray(at + 8, end), lost: 0 };
}
