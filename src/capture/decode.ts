/**
 * Frame decoding, link layer down to IP: finds the IP packet in a frame of any link type a
 * source yields, with its addresses and ports (decode-ip.ts does L3). Pure: bytes in, a
 * DecodedPacket (offsets into the frame and views of it, no copy) or the reason the frame holds none.
 *
 * Link layers: Ethernet II; 802.1Q (0x8100), 802.1ad and pre-standard QinQ (0x88a8, 0x9100),
 * stacked up to MAX_VLAN_TAGS; PPPoE session (0x8864: PPP 0x0021 IPv4, 0x0057 IPv6, with or
 * without protocol-field compression); raw IP (LINKTYPE_RAW 101, IPV4 228, IPV6 229); BSD
 * loopback (NULL 0); Linux cooked captures SLL (113) and SLL2 (276).
 */
import { DecodeSkip, DecodedPacket, MacOffsets, NO_MACS, decodeIpv4, decodeIpv6 } from './decode-ip';
import { LINKTYPE } from './pcap-format';

export { DECODE_SKIPS, MAX_IPV6_EXTENSION_HEADERS, udpPayload } from './decode-ip';
export { DecodedPacket } from './decode-ip';
export type { DecodeSkip, MacOffsets } from './decode-ip';

/** Most stacked VLAN tags skipped before the frame is refused ('too-many-tags'). */
export const MAX_VLAN_TAGS = 8;

export const ETHERTYPE = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
} as const;

export const PPP_IPV4 = 0x0021;
export const PPP_IPV6 = 0x0057;
/** ARPHRD_ETHER: a cooked header whose address is an Ethernet MAC. */
const ARPHRD_ETHER = 1;

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const ETHERNET_MACS: Readonly<MacOffsets> = Object.freeze({ src: 6, dst: 0 });
/** Linux cooked headers carry the source's link-layer address only. */
const SLL_MACS: Readonly<MacOffsets> = Object.freeze({ src: 6, dst: -1 });
const SLL2_MACS: Readonly<MacOffsets> = Object.freeze({ src: 12, dst: -1 });

/** Decodes the IP packet in `data`, a frame of link type `linktype`. */
export function decodeFrame(linktype: number, data: Uint8Array): DecodedPacket | DecodeSkip {
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      if (data.length < 14) return 'link-truncated';
      return fromEthertype(data, 12, ETHERNET_MACS);
    case LINKTYPE.RAW:
      return rawIp(data, 0);
    case LINKTYPE.IPV4:
      return decodeIpv4(data, 0);
    case LINKTYPE.IPV6:
      return decodeIpv6(data, 0);
    case LINKTYPE.NULL: {
      if (data.length < 4) return 'link-truncated';
      // The address family in the capturing host's byte order: read whichever order gives a small number.
      const le = data[0]! | (data[1]! << 8);
      const family = le !== 0 ? le : (data[2]! << 8) | data[3]!;
      if (family === 2) return decodeIpv4(data, 4);
      if (family === 10 || family === 24 || family === 28 || family === 30) return decodeIpv6(data, 4);
      return 'not-ip';
    }
    case LINKTYPE.LINUX_SLL: {
      if (data.length < 16) return 'link-truncated';
      const macs = u16(data, 2) === ARPHRD_ETHER && u16(data, 4) === 6 ? SLL_MACS : NO_MACS;
      return fromEthertype(data, 14, macs);
    }
    case LINKTYPE.LINUX_SLL2: {
      if (data.length < 20) return 'link-truncated';
      const macs = u16(data, 8) === ARPHRD_ETHER && data[11] === 6 ? SLL2_MACS : NO_MACS;
      // SLL2 puts its protocol first; the payload follows the 20-octet header.
      return ethertypeAt(data, u16(data, 0), 20, macs);
    }
    default:
      return 'unsupported-linktype';
  }
}

function rawIp(b: Uint8Array, off: number): DecodedPacket | DecodeSkip {
  if (b.length <= off) return 'ip-truncated';
  const v = b[off]! >> 4;
  if (v === 4) return decodeIpv4(b, off);
  if (v === 6) return decodeIpv6(b, off);
  return 'not-ip';
}

/** `at` is the offset of the (first) EtherType field; the frame holds at least two octets there. */
function fromEthertype(b: Uint8Array, at: number, macs: MacOffsets): DecodedPacket | DecodeSkip {
  if (b.length < at + 2) return 'link-truncated';
  return ethertypeAt(b, u16(b, at), at + 2, macs);
}

/** `type` is an EtherType whose payload starts at `off`. */
function ethertypeAt(b: Uint8Array, type: number, off: number, macs: MacOffsets): DecodedPacket | DecodeSkip {
  let tags = 0;
  while (type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_OLD) {
    if (++tags > MAX_VLAN_TAGS) return 'too-many-tags';
    if (b.length < off + 4) return 'link-truncated';
    type = u16(b, off + 2);
    off += 4;
  }
  if (type === ETHERTYPE.IPV4) return decodeIpv4(b, off, macs);
  if (type === ETHERTYPE.IPV6) return decodeIpv6(b, off, macs);
  if (type !== ETHERTYPE.PPPOE_SESSION) return 'not-ip';
  // PPPoE session (RFC 2516): ver/type 0x11, code 0, session id, length; then the PPP protocol.
  if (b.length < off + 7) return 'link-truncated';
  if (b[off] !== 0x11 || b[off + 1] !== 0) return 'not-ip';
  off += 6;
  let proto: number;
  if ((b[off]! & 1) === 1) {
    proto = b[off]!; // protocol-field compression (RFC 1661 §6.5): one odd octet
    off += 1;
  } else {
    if (b.length < off + 2) return 'link-truncated';
    proto = u16(b, off);
    off += 2;
  }
  if (proto === PPP_IPV4) return decodeIpv4(b, off, macs);
  if (proto === PPP_IPV6) return decodeIpv6(b, off, macs);
  return 'not-ip';
}

/** Counts of frames decoded and skipped, by reason: what a source's consumer reports. */
export class DecodeCounters {
  decoded = 0;
  readonly skipped: Record<DecodeSkip, number> = {
    'unsupported-linktype': 0,
    'link-truncated': 0,
    'too-many-tags': 0,
    'not-ip': 0,
    'ip-truncated': 0,
    'ip-malformed': 0,
  };

  /** Decodes and counts. */
  decode(linktype: number, data: Uint8Array): DecodedPacket | undefined {
    const r = decodeFrame(linktype, data);
    if (typeof r === 'string') {
      this.skipped[r]++;
      return undefined;
    }
    this.decoded++;
    return r;
  }
}
