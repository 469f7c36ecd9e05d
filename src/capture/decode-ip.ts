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

/** A view of `len` octets of `b` from `start` (built directly: `subarray` on a Node Buffer costs more). */
export function view(b: Uint8Array, start: number, len: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + start, len);
}

/**
 * What lig needs from a frame: the IP packet, its addresses and its transport ports.
 *
 * Everything is kept as offsets into `frame`, so that matching reads addresses in place: a
 * typed-array view costs V8 about 100 ns to make, several times a lookup, and most packets
 * match nothing. The views (`ip`, `src`, `dst`, `srcMac`, `dstMac`) are made when asked for.
 */
export class DecodedPacket {
  /** The frame the packet was found in. */
  frame: Uint8Array;
  version: 4 | 6;
  /** Where the IP header starts in `frame`, and how many of its octets were captured (at most `ipLength`). */
  ipOffset: number;
  ipBytes: number;
  /** The length the IP header declares (IPv4 total length; IPv6 40 + payload length). */
  ipLength: number;
  /** True when the capture holds less of the packet than `ipLength`. */
  truncated: boolean;
  /** Offsets in `frame` of the source and destination addresses (4 or 16 octets). */
  srcOffset: number;
  dstOffset: number;
  /** Offsets in `frame` of the link-layer addresses, or -1 when the link layer has none (raw IP; SLL gives the source only). */
  srcMacOffset: number;
  dstMacOffset: number;
  /** The transport protocol number (after IPv6 extension headers; the last next-header seen if the walk stopped early). */
  protocol: number;
  /** True for any fragment (first or later). */
  fragment: boolean;
  /** Offset in `ip` of the transport header: undefined for later fragments or when it was not reached. */
  transportOffset: number | undefined;
  /** TCP, UDP, UDP-Lite, SCTP and DCCP ports, when the first four octets of the transport header were captured. */
  srcPort: number | undefined = undefined;
  dstPort: number | undefined = undefined;

  private ipView: Uint8Array | undefined = undefined;

  constructor(frame: Uint8Array, version: 4 | 6, ipOffset: number, ipBytes: number, ipLength: number, macs: MacOffsets) {
    this.frame = frame;
    this.version = version;
    this.ipOffset = ipOffset;
    this.ipBytes = ipBytes;
    this.ipLength = ipLength;
    this.truncated = ipBytes < ipLength;
    this.srcOffset = ipOffset + (version === 4 ? 12 : 8);
    this.dstOffset = ipOffset + (version === 4 ? 16 : 24);
    this.srcMacOffset = macs.src;
    this.dstMacOffset = macs.dst;
    this.protocol = 0;
    this.fragment = false;
    this.transportOffset = undefined;
  }

  /**
   * The IP packet, from its header: a view into the frame, cut at the IP length (so Ethernet
   * padding and trailers are not part of it), or shorter when the capture cut the packet.
   */
  get ip(): Uint8Array {
    return (this.ipView ??= view(this.frame, this.ipOffset, this.ipBytes));
  }

  /** Source address: a view of 4 (IPv4) or 16 (IPv6) octets. */
  get src(): Uint8Array {
    return view(this.frame, this.srcOffset, this.version === 4 ? 4 : 16);
  }

  get dst(): Uint8Array {
    return view(this.frame, this.dstOffset, this.version === 4 ? 4 : 16);
  }

  /** Link-layer source address (6 octets), when the link layer carries it. */
  get srcMac(): Uint8Array | undefined {
    return this.srcMacOffset < 0 ? undefined : view(this.frame, this.srcMacOffset, 6);
  }

  get dstMac(): Uint8Array | undefined {
    return this.dstMacOffset < 0 ? undefined : view(this.frame, this.dstMacOffset, 6);
  }
}

/** Where a frame's link layer has its MAC addresses: offsets, -1 for none. */
export interface MacOffsets {
  src: number;
  dst: number;
}

export const NO_MACS: Readonly<MacOffsets> = Object.freeze({ src: -1, dst: -1 });

/** Protocols whose header starts with source port, destination port (16 bits each). */
const PORTED = new Set([6, 17, 33, 132, 136]);
/** IPv6 extension headers in the generic format (next header, length in 8-octet units less one); AH counts in 4-octet units. */
const EXTENSIONS = new Set([0, 43, 60, 135, 139, 140, 253, 254]);
const FRAGMENT = 44;

const AH = 51;

function ports(out: DecodedPacket): void {
  const at = out.transportOffset;
  if (at === undefined || !PORTED.has(out.protocol) || at + 4 > out.ipBytes) return;
  const b = out.frame;
  const o = out.ipOffset + at;
  out.srcPort = (b[o]! << 8) | b[o + 1]!;
  out.dstPort = (b[o + 2]! << 8) | b[o + 3]!;
}

/** Decodes the IPv4 packet starting at `off` in `b`. */
export function decodeIpv4(b: Uint8Array, off: number, macs: MacOffsets = NO_MACS): DecodedPacket | DecodeSkip {
  const avail = b.length - off;
  if (avail < 20) return 'ip-truncated';
  const vihl = b[off]!;
  if (vihl >> 4 !== 4) return 'ip-malformed';
  const ihl = (vihl & 0x0f) * 4;
  const total = (b[off + 2]! << 8) | b[off + 3]!;
  if (ihl < 20 || total < ihl) return 'ip-malformed';
  const out = new DecodedPacket(b, 4, off, Math.min(avail, total), total, macs);
  const frag = (b[off + 6]! << 8) | b[off + 7]!;
  const fragOffset = frag & 0x1fff;
  out.protocol = b[off + 9]!;
  out.fragment = fragOffset !== 0 || (frag & 0x2000) !== 0;
  out.transportOffset = fragOffset === 0 && ihl <= out.ipBytes ? ihl : undefined;
  ports(out);
  return out;
}

/** Decodes the IPv6 packet starting at `off` in `b`. */
export function decodeIpv6(b: Uint8Array, off: number, macs: MacOffsets = NO_MACS): DecodedPacket | DecodeSkip {
  const avail = b.length - off;
  if (avail < 40) return 'ip-truncated';
  if (b[off]! >> 4 !== 6) return 'ip-malformed';
  const payload = (b[off + 4]! << 8) | b[off + 5]!;
  let next = b[off + 6]!;
  // A zero payload length with a hop-by-hop header is a jumbogram (RFC 2675): its length is in an option; take what was captured.
  const total = payload === 0 && next === 0 ? avail : 40 + payload;
  const bytes = Math.min(avail, total);
  const out = new DecodedPacket(b, 6, off, bytes, total, macs);
  // `at` is relative to the IP header; `b[off + at]` reads it in place.
  let at: number | undefined = 40;
  for (let count = 1; ; count++) {
    const isFragment = next === FRAGMENT;
    if (!isFragment && next !== AH && !EXTENSIONS.has(next)) break;
    if (count > MAX_IPV6_EXTENSION_HEADERS || at + (isFragment ? 8 : 2) > bytes) {
      at = undefined;
      break;
    }
    const h = off + at;
    if (isFragment) {
      out.fragment = true;
      const fragOffset = ((b[h + 2]! << 8) | b[h + 3]!) >> 3;
      next = b[h]!;
      if (fragOffset !== 0) {
        at = undefined;
        break;
      }
      at += 8;
    } else {
      const len = next === AH ? (b[h + 1]! + 2) * 4 : (b[h + 1]! + 1) * 8;
      next = b[h]!;
      at += len;
    }
  }
  out.protocol = next;
  out.transportOffset = at !== undefined && at <= bytes ? at : undefined;
  ports(out);
  return out;
}

/**
 * The UDP payload of a decoded packet: a view into the frame from after the 8-octet UDP
 * header, as long as the UDP length says (a length of 0, RFC 2675 jumbograms, or the
 * capture, whichever is shorter, ends it). Undefined when the packet is not UDP, is a later
 * fragment, its UDP header was not captured, or its UDP length is 1..7 (malformed).
 */
export function udpPayload(p: DecodedPacket): Uint8Array | undefined {
  const at = p.transportOffset;
  if (p.protocol !== 17 || at === undefined || at + 8 > p.ipBytes) return undefined;
  const o = p.ipOffset + at;
  const udpLength = (p.frame[o + 4]! << 8) | p.frame[o + 5]!;
  if (udpLength > 0 && udpLength < 8) return undefined;
  const captured = p.ipBytes - at - 8;
  return view(p.frame, o + 8, udpLength === 0 ? captured : Math.min(udpLength - 8, captured));
}
