/**
 * Where the headers of an IP packet end: what an IRI-only intercept may report of a packet
 * (TS 102 232-3 clause 6.2.5, IPIRIPacketReport header): the IP header (IPv4 with options;
 * IPv6 with its extension headers) and the transport header, never a byte of payload.
 * Pure: bytes in, a length out.
 *
 * Conservative by construction: the length never passes the end of a header that was
 * actually parsed. A later fragment, ESP, an unknown or malformed transport header, or a
 * capture that ends early all stop at the last complete header; bytes that are not an IP
 * packet give 0.
 *
 * Shared by the probe (it sends IRI-only tasks only these bytes of a packet) and the mediator
 * (it cuts again, whatever a probe sends).
 */

/** Most IPv6 extension headers walked; past it only the headers walked so far are reported. */
export const MAX_REPORT_EXTENSION_HEADERS = 16;

/** IPv6 extension headers of the (next header, length) form: hop-by-hop, routing, destination options, mobility, HIP, shim6. */
const EXT_8 = new Set([0, 43, 60, 135, 139, 140]);
const FRAGMENT = 44;
const AH = 51;
const TCP = 6;
/** Transport headers of a fixed size: UDP, UDP-Lite (8), ICMP, ICMPv6 (8: type, code, checksum, rest of header), SCTP common header (12). */
const FIXED: ReadonlyMap<number, number> = new Map([
  [17, 8],
  [136, 8],
  [1, 8],
  [58, 8],
  [132, 12],
]);
const DCCP = 33;

/**
 * Bytes at the start of `p` that are IP and transport headers (0 when `p` is not an IPv4 or
 * IPv6 packet with a complete fixed header). Never more than `p.length`.
 */
export function headerLength(p: Uint8Array): number {
  if (p.length < 1) return 0;
  const version = p[0]! >> 4;
  let off: number;
  let proto: number;
  if (version === 4) {
    if (p.length < 20) return 0;
    const ihl = (p[0]! & 0x0f) * 4;
    if (ihl < 20 || ihl > p.length) return 0;
    off = ihl;
    const fragOffset = ((p[6]! & 0x1f) << 8) | p[7]!;
    if (fragOffset !== 0) return off; // a later fragment: what follows is payload
    proto = p[9]!;
  } else if (version === 6) {
    if (p.length < 40) return 0;
    off = 40;
    proto = p[6]!;
    for (let n = 0; ; n++) {
      if (n >= MAX_REPORT_EXTENSION_HEADERS) return off;
      if (EXT_8.has(proto)) {
        if (off + 2 > p.length) return off;
        const len = (p[off + 1]! + 1) * 8;
        if (off + len > p.length) return off;
        proto = p[off]!;
        off += len;
      } else if (proto === FRAGMENT) {
        if (off + 8 > p.length) return off;
        const fragOffset = ((p[off + 2]! << 8) | p[off + 3]!) >> 3;
        proto = p[off]!;
        off += 8;
        if (fragOffset !== 0) return off;
      } else if (proto === AH) {
        if (off + 2 > p.length) return off;
        const len = (p[off + 1]! + 2) * 4;
        if (off + len > p.length) return off;
        proto = p[off]!;
        off += len;
      } else {
        break; // ESP (50), No Next Header (59) and transport protocols end the walk
      }
    }
  } else {
    return 0;
  }
  return off + transportLength(p, off, proto);
}

/** Length of the transport header of `proto` at `off`, cut to what was captured; 0 when unknown or malformed. */
function transportLength(p: Uint8Array, off: number, proto: number): number {
  const room = p.length - off;
  if (room <= 0) return 0;
  let len: number;
  if (proto === TCP) {
    if (room < 13) return room; // cut inside the fixed 20 bytes: all of it is header
    len = (p[off + 12]! >> 4) * 4;
    if (len < 20) return 0;
  } else if (proto === DCCP) {
    if (room < 5) return room; // cut inside the fixed 12 bytes
    len = p[off + 4]! * 4;
    if (len < 12) return 0;
  } else {
    len = FIXED.get(proto) ?? 0;
  }
  return Math.min(len, room);
}
