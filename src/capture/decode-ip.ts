/**
 * IPv4 and IPv6 header decoding, down to the transport protocol and its ports: the L3 half of
 * frame decoding (decode.ts does L2). Pure: bytes in, a plain object or a reason out.
 *
 * IPv4: RFC 791 (options skipped by the header length; fragments: ports only in the first).
 * IPv6: RFC 8200 (extension headers walked to the upper-layer header; fragments: ports only
 * in the first; ESP and No Next Header end the walk without ports).
 */

/** Most IPv6 extension headers walked before giving up on finding the transport header. */
export const MAX_IPV6_EXTENSION_HEADERS = 16;

/** Why a frame yielded no IP packet. Each is counted by the caller. */
export type DecodeSkip =
  /** A link type lig does not decode. */
  | 'unsupported-linktype'
  /** The frame ends inside its link-layer header (Ethernet, VLAN tag, PPPoE, cooked header). */
  | 'link-truncated'
  /** More stacked VLAN tags than MAX_VLAN_TAGS. */
  | 'too-many-tags'
  /** The frame carries something other than IPv4 or IPv6 (ARP, LLC, PPP control, PPPoE discovery...). */
  | 'not-ip'
  /** The frame ends inside the fixed IP header. */
  | 'ip-truncated'
  /** The IP header contradicts itself (version, header length, total length). */
  | 'ip-malformed';

export const DECODE_SKIPS: readonly DecodeSkip[] = ['unsupported-linktype', 'link-truncated', 'too-many-tags', 'not-ip', 'ip-truncated', 'ip-malformed'];

/** What lig needs from a frame: the IP packet, its addresses and its transport ports. */
export interface DecodedPacket {
  version: 4 | 6;
  /**
   * The IP packet, from its header: a view into the frame, cut at the IP length (so Ethernet
   * padding and trailers are not part of it), or shorter when the capture cut the packet.
   */
  ip: Uint8Array;
  /** The length the IP header declares (IPv4 total length; IPv6 40 + payload length). */
  ipLength: number;
  /** True when the capture holds less of the packet than `ipLength`. */
  truncated: boolean;
  /** Source and destination addresses: views of 4 (IPv4) or 16 (IPv6) octets. */
  src: Uint8Array;
  dst: Uint8Array;
  /** Link-layer addresses, when the link layer carries them (Ethernet; SLL gives the source only). */
  srcMac: Uint8Array | undefined;
  dstMac: Uint8Array | undefined;
  /** The transport protocol number (after IPv6 extension headers; the last next-header seen if the walk stopped early). */
  protocol: number;
  /** True for any fragment (first or later). */
  fragment: boolean;
  /** Offset in `ip` of the transport header: undefined for later fragments or when it was not reached. */
  transportOffset: number | undefined;
  /** TCP, UDP, UDP-Lite, SCTP and DCCP ports, when the first four octets of the transport header were captured. */
  srcPort: number | undefined;
  dstPort: number | undefined;
}

/** Protocols whose header starts with source port, destination port (16 bits each). */
const PORTED = new Set([6, 17, 33, 132, 136]);
/** IPv6 extension headers in the generic format (next header, length in 8-octet units less one); AH counts in 4-octet units. */
const EXTENSIONS = new Set([0, 43, 60, 135, 139, 140, 253, 254]);
const FRAGMENT = 44;
const AH = 51;

function ports(ip: Uint8Array, protocol: number, at: number | undefined, out: DecodedPacket): void {
  if (at === undefined || !PORTED.has(protocol) || at + 4 > ip.length) return;
  out.srcPort = (ip[at]! << 8) | ip[at + 1]!;
  out.dstPort = (ip[at + 2]! << 8) | ip[at + 3]!;
}

/** Decodes the IPv4 packet starting at `off` in `b`. */
export function decodeIpv4(b: Uint8Array, off: number, srcMac?: Uint8Array, dstMac?: Uint8Array): DecodedPacket | DecodeSkip {
  const avail = b.length - off;
  if (avail < 20) return 'ip-truncated';
  const vihl = b[off]!;
  if (vihl >> 4 !== 4) return 'ip-malformed';
  const ihl = (vihl & 0x0f) * 4;
  const total = (b[off + 2]! << 8) | b[off + 3]!;
  if (ihl < 20 || total < ihl) return 'ip-malformed';
  const truncated = avail < total;
  const ip = b.subarray(off, off + Math.min(avail, total));
  const frag = (b[off + 6]! << 8) | b[off + 7]!;
  const fragOffset = frag & 0x1fff;
  const protocol = b[off + 9]!;
  const out: DecodedPacket = {
    version: 4,
    ip,
    ipLength: total,
    truncated,
    src: ip.subarray(12, 16),
    dst: ip.subarray(16, 20),
    srcMac,
    dstMac,
    protocol,
    fragment: fragOffset !== 0 || (frag & 0x2000) !== 0,
    transportOffset: fragOffset === 0 && ihl <= ip.length ? ihl : undefined,
    srcPort: undefined,
    dstPort: undefined,
  };
  ports(ip, protocol, out.transportOffset, out);
  return out;
}

/** Decodes the IPv6 packet starting at `off` in `b`. */
export function decodeIpv6(b: Uint8Array, off: number, srcMac?: Uint8Array, dstMac?: Uint8Array): DecodedPacket | DecodeSkip {
  const avail = b.length - off;
  if (avail < 40) return 'ip-truncated';
  if (b[off]! >> 4 !== 6) return 'ip-malformed';
  const payload = (b[off + 4]! << 8) | b[off + 5]!;
  let next = b[off + 6]!;
  // A zero payload length with a hop-by-hop header is a jumbogram (RFC 2675): its length is in an option; take what was captured.
  const total = payload === 0 && next === 0 ? avail : 40 + payload;
  const ip = b.subarray(off, off + Math.min(avail, total));
  let at: number | undefined = 40;
  let fragment = false;
  for (let count = 1; ; count++) {
    const isFragment = next === FRAGMENT;
    if (!isFragment && next !== AH && !EXTENSIONS.has(next)) break;
    if (count > MAX_IPV6_EXTENSION_HEADERS || at + (isFragment ? 8 : 2) > ip.length) {
      at = undefined;
      break;
    }
    if (isFragment) {
      fragment = true;
      const fragOffset = ((ip[at + 2]! << 8) | ip[at + 3]!) >> 3;
      next = ip[at]!;
      if (fragOffset !== 0) {
        at = undefined;
        break;
      }
      at += 8;
    } else {
      const len = next === AH ? (ip[at + 1]! + 2) * 4 : (ip[at + 1]! + 1) * 8;
      next = ip[at]!;
      at += len;
    }
  }
  if (at !== undefined && at > ip.length) at = undefined;
  const out: DecodedPacket = {
    version: 6,
    ip,
    ipLength: total,
    truncated: avail < total,
    src: ip.subarray(8, 24),
    dst: ip.subarray(24, 40),
    srcMac,
    dstMac,
    protocol: next,
    fragment,
    transportOffset: at,
    srcPort: undefined,
    dstPort: undefined,
  };
  ports(ip, next, at, out);
  return out;
}
