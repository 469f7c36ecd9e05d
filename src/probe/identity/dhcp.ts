/**
 * DHCPv4 (RFC 2131, options RFC 2132) as a passive probe sees it: which client (MAC) holds
 * which address for how long. Pure: the UDP payload in, a DhcpMessage or an
 * IdentityPacketError with a stable code out; no other exception.
 *
 *   op htype hlen hops | xid (4) | secs flags | ciaddr | yiaddr | siaddr | giaddr |
 *   chaddr (16) | sname (64) | file (128) | magic cookie 99.130.83.99 | options
 *
 * Options are code, length, value (Pad 0 and End 255 are one octet); each is bounds-checked
 * and the options read must have their size and appear once (RFC 3396 would concatenate
 * repeats, which leaves a fixed-size option the wrong size). Option overload (52: more options
 * in sname/file) is noted in `overloaded` and those fields are not read: the options identity
 * tracking needs come in the options field in practice; the caller counts it. A message
 * without End is accepted when its last option ends exactly at the end of the payload.
 * Only Ethernet clients (htype 1, hlen 6) are read: others cannot be tied to a MAC.
 */
import { IdentityPacketError, type LigErrorCode } from '../../errors';
import { safeText } from './text';

/** The fixed header before the magic cookie (RFC 2131 §2). */
export const DHCP_FIXED_BYTES = 236;
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** Most options read from one message. */
export const MAX_DHCP_OPTIONS = 255;

export const DHCP_OP = { REQUEST: 1, REPLY: 2 } as const;

/** DHCP message types (option 53, RFC 2132 §9.6). */
export const DHCP_TYPE = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

export const DHCP_OPTION = {
  PAD: 0,
  HOST_NAME: 12,
  REQUESTED_ADDRESS: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  END: 255,
} as const;

/** Lease time meaning "infinite" (RFC 2131 §3.3). */
export const DHCP_INFINITE_LEASE = 0xffffffff;

export interface DhcpMessage {
  op: number;
  xid: number;
  ciaddr: Uint8Array;
  yiaddr: Uint8Array;
  giaddr: Uint8Array;
  /** The client's MAC (chaddr, htype 1 and hlen 6). */
  chaddr: Uint8Array;
  /** Option 53; undefined for BOOTP (no DHCP message type). */
  messageType: number | undefined;
  /** Option 51, seconds (DHCP_INFINITE_LEASE: infinite). */
  leaseSeconds: number | undefined;
  /** Option 54. */
  serverId: Uint8Array | undefined;
  /** Option 50. */
  requestedAddress: Uint8Array | undefined;
  /** Option 12, as safeText. */
  hostName: string | undefined;
  /** Option 52 was present: sname/file hold more options, which were not read. */
  overloaded: boolean;
}

function fail(code: LigErrorCode, message: string, offset: number): never {
  throw new IdentityPacketError(code, message, offset);
}

const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const copy = (b: Uint8Array, o: number, n: number) => Uint8Array.from(b.subarray(o, o + n));

/** Value sizes of the options read that have one. */
const FIXED: Readonly<Record<number, number>> = {
  [DHCP_OPTION.REQUESTED_ADDRESS]: 4,
  [DHCP_OPTION.LEASE_TIME]: 4,
  [DHCP_OPTION.OVERLOAD]: 1,
  [DHCP_OPTION.MESSAGE_TYPE]: 1,
  [DHCP_OPTION.SERVER_ID]: 4,
};

/**
 * Parses the UDP payload of a packet to or from port 67 or 68. Throws IdentityPacketError:
 * TRUNCATED, MALFORMED (magic cookie, option sizes, repeats), TOO_MANY_OPTIONS, NOT_ETHERNET.
 */
export function parseDhcp(b: Uint8Array): DhcpMessage {
  if (b.length < DHCP_FIXED_BYTES + 4) fail('LIG_ERR_DHCP_TRUNCATED', `${b.length} octets cannot hold the DHCP header and magic cookie`, b.length);
  if (b[1] !== 1 || b[2] !== 6) fail('LIG_ERR_DHCP_NOT_ETHERNET', `htype ${b[1]}, hlen ${b[2]} is not an Ethernet client`, 1);
  if (u32(b, DHCP_FIXED_BYTES) !== DHCP_MAGIC_COOKIE) fail('LIG_ERR_DHCP_MALFORMED', 'no DHCP magic cookie', DHCP_FIXED_BYTES);
  const m: DhcpMessage = {
    op: b[0]!,
    xid: u32(b, 4),
    ciaddr: copy(b, 12, 4),
    yiaddr: copy(b, 16, 4),
    giaddr: copy(b, 24, 4),
    chaddr: copy(b, 28, 6),
    messageType: undefined,
    leaseSeconds: undefined,
    serverId: undefined,
    requestedAddress: undefined,
    hostName: undefined,
    overloaded: false,
  };
  const seen = new Set<number>();
  let count = 0;
  let o = DHCP_FIXED_BYTES + 4;
  while (o < b.length) {
    const code = b[o]!;
    if (code === DHCP_OPTION.END) break;
    if (code === DHCP_OPTION.PAD) {
      o++;
      continue;
    }
    if (++count > MAX_DHCP_OPTIONS) fail('LIG_ERR_DHCP_TOO_MANY_OPTIONS', `more than ${MAX_DHCP_OPTIONS} options`, o);
    if (o + 2 > b.length) fail('LIG_ERR_DHCP_TRUNCATED', `option ${code} has no length octet`, o);
    const len = b[o + 1]!;
    if (o + 2 + len > b.length) fail('LIG_ERR_DHCP_TRUNCATED', `option ${code} of length ${len} crosses the end of the message`, o + 1);
    const v = b.subarray(o + 2, o + 2 + len);
    const size = FIXED[code];
    if (size !== undefined || code === DHCP_OPTION.HOST_NAME) {
      if (size !== undefined && len !== size) fail('LIG_ERR_DHCP_MALFORMED', `option ${code} has ${len} octets, not ${size}`, o + 1);
      if (code === DHCP_OPTION.HOST_NAME && len === 0) fail('LIG_ERR_DHCP_MALFORMED', 'option 12 is empty', o + 1);
      if (seen.has(code)) fail('LIG_ERR_DHCP_MALFORMED', `option ${code} appears twice`, o);
      seen.add(code);
    }
    switch (code) {
      case DHCP_OPTION.MESSAGE_TYPE:
        m.messageType = v[0]!;
        break;
      case DHCP_OPTION.LEASE_TIME:
        m.leaseSeconds = u32(v, 0);
        break;
      case DHCP_OPTION.SERVER_ID:
        m.serverId = Uint8Array.from(v);
        break;
      case DHCP_OPTION.REQUESTED_ADDRESS:
        m.requestedAddress = Uint8Array.from(v);
        break;
      case DHCP_OPTION.HOST_NAME:
        m.hostName = safeText(v);
        break;
      case DHCP_OPTION.OVERLOAD:
        m.overloaded = true;
        break;
    }
    o += 2 + len;
  }
  return m;
}
