/**
 * RADIUS accounting as a passive probe sees it: the Accounting-Request (RFC 2866) a NAS sends
 * its accounting server, with the attributes that say who is online at which address
 * (RFC 2865, RFC 2869, RFC 3162 for IPv6). Pure: the UDP payload in, a RadiusAccounting or an
 * IdentityPacketError with a stable code out; no other exception.
 *
 * The Request Authenticator is NOT verified: that needs the secret shared by the NAS and the
 * server, which a passive probe does not have (and must not ask for). A forged accounting
 * packet on the probe's link is therefore believed; the probe must watch a link on which only
 * the NAS and the accounting server speak, and the mediator keeps every identity change on
 * record (IRI) so that one can be checked afterwards.
 *
 *   Code (1) | Identifier (1) | Length (2) | Authenticator (16) | Attributes: Type (1) Length (1) Value
 *
 * Octets after Length are padding and ignored (RFC 2865 §3). An attribute this parser reads
 * must have the size its type has, and must not repeat (Framed-IPv6-Prefix excepted: the
 * first is kept); others (Vendor-Specific included) are only bounds-checked.
 */
import { IdentityPacketError, type LigErrorCode } from '../../errors';
import { parseMacText, safeText, utf8Text } from './text';

/** RFC 2865 §3: a RADIUS packet is 20 to 4096 octets. */
export const RADIUS_HEADER_BYTES = 20;
export const MAX_RADIUS_PACKET_BYTES = 4096;
/** Most attributes read from one packet (a 4096-octet packet could hold 2038 empty ones). */
export const MAX_RADIUS_ATTRIBUTES = 256;
/**
 * Shortest Framed-IPv6-Prefix bound to a subscriber: a shorter one would match a whole
 * provider's space. It is left out of the session (and counted, `unsafePrefix`).
 */
export const MIN_FRAMED_IPV6_PREFIX_LENGTH = 32;

/** RADIUS codes (RFC 2865, 2866). */
export const RADIUS_CODE = { ACCOUNTING_REQUEST: 4, ACCOUNTING_RESPONSE: 5 } as const;

/** Acct-Status-Type values (RFC 2866 §5.1). */
export const ACCT_STATUS = { START: 1, STOP: 2, INTERIM_UPDATE: 3, ACCOUNTING_ON: 7, ACCOUNTING_OFF: 8 } as const;

/** Attribute types read (RFC 2865, 2866, 2869, 3162). */
export const RADIUS_ATTR = {
  USER_NAME: 1,
  NAS_IP_ADDRESS: 4,
  FRAMED_IP_ADDRESS: 8,
  CALLING_STATION_ID: 31,
  NAS_IDENTIFIER: 32,
  ACCT_STATUS_TYPE: 40,
  ACCT_DELAY_TIME: 41,
  ACCT_INPUT_OCTETS: 42,
  ACCT_OUTPUT_OCTETS: 43,
  ACCT_SESSION_ID: 44,
  ACCT_SESSION_TIME: 46,
  ACCT_TERMINATE_CAUSE: 49,
  ACCT_INPUT_GIGAWORDS: 52,
  ACCT_OUTPUT_GIGAWORDS: 53,
  EVENT_TIMESTAMP: 55,
  NAS_IPV6_ADDRESS: 95,
  FRAMED_IPV6_PREFIX: 97,
} as const;

/** An Accounting-Request, as far as identity tracking reads it. Absent attributes are undefined. */
export interface RadiusAccounting {
  identifier: number;
  /** Acct-Status-Type (ACCT_STATUS; other values are returned too, for the caller to count). */
  statusType: number;
  /** User-Name as UTF-8; undefined when absent or not valid UTF-8 (see userNameInvalid). */
  userName: string | undefined;
  /** User-Name was present but is not valid UTF-8: it can equal no username target. */
  userNameInvalid: boolean;
  /** Calling-Station-Id, when it spells a unicast MAC (any usual spelling). */
  mac: Uint8Array | undefined;
  /** Calling-Station-Id was present (MAC or not). */
  callingStationId: boolean;
  /** Framed-IP-Address (4 octets), as sent. */
  framedIp: Uint8Array | undefined;
  /** Framed-IPv6-Prefix: 16 octets, host bits cleared, and its length. */
  framedIpv6Prefix: Uint8Array | undefined;
  framedIpv6PrefixLength: number;
  /** A Framed-IPv6-Prefix shorter than MIN_FRAMED_IPV6_PREFIX_LENGTH was left out. */
  unsafePrefix: boolean;
  /** Acct-Session-Id as safeText. */
  sessionId: string | undefined;
  nasIp: Uint8Array | undefined;
  nasIpv6: Uint8Array | undefined;
  /** NAS-Identifier as safeText. */
  nasIdentifier: string | undefined;
  /** Acct-Input-Octets + 2^32 × Acct-Input-Gigawords (octets from the user). */
  inputOctets: bigint | undefined;
  outputOctets: bigint | undefined;
  terminateCause: number | undefined;
  sessionTime: number | undefined;
  delayTime: number | undefined;
  /** Event-Timestamp: seconds since the epoch by the NAS's clock (not trusted for timing). */
  eventTimestamp: number | undefined;
}

function fail(code: LigErrorCode, message: string, offset: number): never {
  throw new IdentityPacketError(code, message, offset);
}

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Value sizes of the fixed-size attributes read; the text ones need at least one octet. */
const FIXED: Readonly<Record<number, number>> = {
  [RADIUS_ATTR.NAS_IP_ADDRESS]: 4,
  [RADIUS_ATTR.FRAMED_IP_ADDRESS]: 4,
  [RADIUS_ATTR.ACCT_STATUS_TYPE]: 4,
  [RADIUS_ATTR.ACCT_DELAY_TIME]: 4,
  [RADIUS_ATTR.ACCT_INPUT_OCTETS]: 4,
  [RADIUS_ATTR.ACCT_OUTPUT_OCTETS]: 4,
  [RADIUS_ATTR.ACCT_SESSION_TIME]: 4,
  [RADIUS_ATTR.ACCT_TERMINATE_CAUSE]: 4,
  [RADIUS_ATTR.ACCT_INPUT_GIGAWORDS]: 4,
  [RADIUS_ATTR.ACCT_OUTPUT_GIGAWORDS]: 4,
  [RADIUS_ATTR.EVENT_TIMESTAMP]: 4,
  [RADIUS_ATTR.NAS_IPV6_ADDRESS]: 16,
};
const TEXT = new Set<number>([RADIUS_ATTR.USER_NAME, RADIUS_ATTR.CALLING_STATION_ID, RADIUS_ATTR.NAS_IDENTIFIER, RADIUS_ATTR.ACCT_SESSION_ID]);

/** Clears the bits of a 16-octet prefix beyond `bits` (in place). */
function clearHostBits(p: Uint8Array, bits: number): void {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    p[i]! &= (0xff << (8 - keep)) & 0xff;
  }
}

/**
 * Parses the UDP payload of a packet sent to a RADIUS accounting port. Throws
 * IdentityPacketError: NOT_ACCOUNTING for another code (e.g. an Accounting-Response),
 * TRUNCATED, MALFORMED, TOO_MANY_ATTRIBUTES, or MISSING (no Acct-Status-Type; Start, Stop or
 * Interim-Update without Acct-Session-Id or any NAS address or identifier).
 */
export function parseRadiusAccounting(b: Uint8Array): RadiusAccounting {
  if (b.length < RADIUS_HEADER_BYTES) fail('LIG_ERR_RADIUS_TRUNCATED', `${b.length} octets cannot hold the 20-octet RADIUS header`, b.length);
  const code = b[0]!;
  if (code !== RADIUS_CODE.ACCOUNTING_REQUEST) fail('LIG_ERR_RADIUS_NOT_ACCOUNTING', `RADIUS code ${code} is not an Accounting-Request`, 0);
  const length = u16(b, 2);
  if (length < RADIUS_HEADER_BYTES || length > MAX_RADIUS_PACKET_BYTES) fail('LIG_ERR_RADIUS_MALFORMED', `Length ${length} is outside 20..4096`, 2);
  if (length > b.length) fail('LIG_ERR_RADIUS_TRUNCATED', `Length says ${length} octets, ${b.length} captured`, b.length);
  const r: RadiusAccounting = {
    identifier: b[1]!,
    statusType: 0,
    userName: undefined,
    userNameInvalid: false,
    mac: undefined,
    callingStationId: false,
    framedIp: undefined,
    framedIpv6Prefix: undefined,
    framedIpv6PrefixLength: 0,
    unsafePrefix: false,
    sessionId: undefined,
    nasIp: undefined,
    nasIpv6: undefined,
    nasIdentifier: undefined,
    inputOctets: undefined,
    outputOctets: undefined,
    terminateCause: undefined,
    sessionTime: undefined,
    delayTime: undefined,
    eventTimestamp: undefined,
  };
  const seen = new Set<number>();
  let inLow: number | undefined;
  let inHigh: number | undefined;
  let outLow: number | undefined;
  let outHigh: number | undefined;
  let statusSeen = false;
  let count = 0;
  for (let o = RADIUS_HEADER_BYTES; o < length; ) {
    if (++count > MAX_RADIUS_ATTRIBUTES) fail('LIG_ERR_RADIUS_TOO_MANY_ATTRIBUTES', `more than ${MAX_RADIUS_ATTRIBUTES} attributes`, o);
    if (o + 2 > length) fail('LIG_ERR_RADIUS_MALFORMED', 'an attribute header crosses the end of the packet', o);
    const type = b[o]!;
    const len = b[o + 1]!;
    if (len < 2) fail('LIG_ERR_RADIUS_MALFORMED', `attribute ${type} has length ${len} (at least 2)`, o + 1);
    if (o + len > length) fail('LIG_ERR_RADIUS_MALFORMED', `attribute ${type} of length ${len} crosses the end of the packet`, o + 1);
    const v = b.subarray(o + 2, o + len);
    const size = FIXED[type];
    const read = size !== undefined || TEXT.has(type) || type === RADIUS_ATTR.FRAMED_IPV6_PREFIX;
    if (read) {
      if (size !== undefined && v.length !== size) fail('LIG_ERR_RADIUS_MALFORMED', `attribute ${type} has ${v.length} value octets, not ${size}`, o + 1);
      if (size === undefined && v.length === 0) fail('LIG_ERR_RADIUS_MALFORMED', `attribute ${type} is empty`, o + 1);
      if (seen.has(type)) {
        if (type !== RADIUS_ATTR.FRAMED_IPV6_PREFIX) fail('LIG_ERR_RADIUS_MALFORMED', `attribute ${type} appears twice`, o);
        o += len;
        continue;
      }
      seen.add(type);
    }
    switch (type) {
      case RADIUS_ATTR.USER_NAME:
        r.userName = utf8Text(v);
        r.userNameInvalid = r.userName === undefined;
        break;
      case RADIUS_ATTR.CALLING_STATION_ID: {
        r.callingStationId = true;
        const t = utf8Text(v);
        r.mac = t === undefined ? undefined : parseMacText(t);
        break;
      }
      case RADIUS_ATTR.NAS_IDENTIFIER:
        r.nasIdentifier = safeText(v);
        break;
      case RADIUS_ATTR.ACCT_SESSION_ID:
        r.sessionId = safeText(v);
        break;
      case RADIUS_ATTR.NAS_IP_ADDRESS:
        r.nasIp = Uint8Array.from(v);
        break;
      case RADIUS_ATTR.NAS_IPV6_ADDRESS:
        r.nasIpv6 = Uint8Array.from(v);
        break;
      case RADIUS_ATTR.FRAMED_IP_ADDRESS:
        r.framedIp = Uint8Array.from(v);
        break;
      case RADIUS_ATTR.FRAMED_IPV6_PREFIX: {
        // RFC 3162 §2.3: Reserved (1), Prefix-Length (1), Prefix (0..16 octets).
        if (v.length < 2 || v.length > 18) fail('LIG_ERR_RADIUS_MALFORMED', `Framed-IPv6-Prefix has ${v.length} value octets (2..18)`, o + 1);
        const bits = v[1]!;
        if (bits > 128 || (v.length - 2) * 8 < bits) fail('LIG_ERR_RADIUS_MALFORMED', `Framed-IPv6-Prefix length ${bits} does not fit its ${v.length - 2} prefix octets`, o + 3);
        if (bits < MIN_FRAMED_IPV6_PREFIX_LENGTH) {
          r.unsafePrefix = true;
          break;
        }
        const p = new Uint8Array(16);
        p.set(v.subarray(2));
        clearHostBits(p, bits);
        r.framedIpv6Prefix = p;
        r.framedIpv6PrefixLength = bits;
        break;
      }
      case RADIUS_ATTR.ACCT_STATUS_TYPE:
        r.statusType = u32(v, 0);
        statusSeen = true;
        break;
      case RADIUS_ATTR.ACCT_INPUT_OCTETS:
        inLow = u32(v, 0);
        break;
      case RADIUS_ATTR.ACCT_OUTPUT_OCTETS:
        outLow = u32(v, 0);
        break;
      case RADIUS_ATTR.ACCT_INPUT_GIGAWORDS:
        inHigh = u32(v, 0);
        break;
      case RADIUS_ATTR.ACCT_OUTPUT_GIGAWORDS:
        outHigh = u32(v, 0);
        break;
      case RADIUS_ATTR.ACCT_TERMINATE_CAUSE:
        r.terminateCause = u32(v, 0);
        break;
      case RADIUS_ATTR.ACCT_SESSION_TIME:
        r.sessionTime = u32(v, 0);
        break;
      case RADIUS_ATTR.ACCT_DELAY_TIME:
        r.delayTime = u32(v, 0);
        break;
      case RADIUS_ATTR.EVENT_TIMESTAMP:
        r.eventTimestamp = u32(v, 0);
        break;
    }
    o += len;
  }
  if (!statusSeen) fail('LIG_ERR_RADIUS_MISSING', 'the Accounting-Request has no Acct-Status-Type', length);
  if (inLow !== undefined || inHigh !== undefined) r.inputOctets = (BigInt(inHigh ?? 0) << 32n) + BigInt(inLow ?? 0);
  if (outLow !== undefined || outHigh !== undefined) r.outputOctets = (BigInt(outHigh ?? 0) << 32n) + BigInt(outLow ?? 0);
  const s = r.statusType;
  if (s === ACCT_STATUS.START || s === ACCT_STATUS.STOP || s === ACCT_STATUS.INTERIM_UPDATE) {
    if (r.sessionId === undefined) fail('LIG_ERR_RADIUS_MISSING', 'the Accounting-Request has no Acct-Session-Id', length);
    if (!r.nasIp && !r.nasIpv6 && r.nasIdentifier === undefined) fail('LIG_ERR_RADIUS_MISSING', 'the Accounting-Request names no NAS (NAS-IP-Address, NAS-IPv6-Address or NAS-Identifier)', length);
  }
  return r;
}
