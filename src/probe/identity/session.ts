/**
 * One access session the probe knows of: a RADIUS accounting session or a DHCP lease, with
 * who (username, MAC), where (IPv4 address, IPv6 prefix), through which NAS, its counters and
 * times. Times are capture times in microseconds since the epoch (numbers: exact to 2^53).
 * Pure data; the tracker owns and changes them.
 */
import { ACCT_STATUS, type RadiusAccounting } from './radius';
import { nasName, radiusSessionKey } from './keys';
import { isAssignableIpv4, macNumber } from './text';

export type SessionSource = 'radius' | 'dhcp';

export interface TrackedSession {
  readonly key: string;
  readonly source: SessionSource;
  /** RADIUS User-Name (valid UTF-8 only). */
  username: string | undefined;
  /** Calling-Station-Id as a MAC, or the DHCP client's chaddr. */
  mac: Uint8Array | undefined;
  /** `mac` as a number (text.ts macNumber); -1 without one. */
  macNum: number;
  ipv4: Uint8Array | undefined;
  ipv6Prefix: Uint8Array | undefined;
  ipv6PrefixLength: number;
  /** Acct-Session-Id ('' for DHCP). */
  sessionId: string;
  /** NAS-IP-Address or NAS-IPv6-Address; for DHCP the server identifier (option 54). */
  nasIp: Uint8Array | undefined;
  nasIdentifier: string;
  octetsIn: bigint;
  octetsOut: bigint;
  /** When it started (0: unknown). */
  startUs: number;
  /** The capture time of the last packet about it. */
  lastSeenUs: number;
  /** DHCP: the lease granted, in seconds (0: unknown), and when it runs out (Infinity: never, or unknown). */
  leaseSeconds: number;
  expiresUs: number;
  /** RADIUS: the last Acct-Status-Type and Acct-Session-Time applied (to tell a retransmission). */
  lastStatus: number;
  sessionTime: number | undefined;
  /** A task wants it: evicted only when nothing else can be. */
  pinned: boolean;
  /** False once it ended (stopped, released, expired, taken over, evicted). */
  open: boolean;
  /** Made from the mediator's hand-back (TaskList.sessions), not seen on the wire. */
  seeded: boolean;
}

/** A session with no addresses or counters yet. */
export function blankSession(key: string, source: SessionSource, timeUs: number): TrackedSession {
  return {
    key,
    source,
    username: undefined,
    mac: undefined,
    macNum: -1,
    ipv4: undefined,
    ipv6Prefix: undefined,
    ipv6PrefixLength: 0,
    sessionId: '',
    nasIp: undefined,
    nasIdentifier: '',
    octetsIn: 0n,
    octetsOut: 0n,
    startUs: 0,
    lastSeenUs: timeUs,
    leaseSeconds: 0,
    expiresUs: Infinity,
    lastStatus: 0,
    sessionTime: undefined,
    pinned: false,
    open: true,
    seeded: false,
  };
}

export function setMac(s: TrackedSession, mac: Uint8Array | undefined): void {
  s.mac = mac;
  s.macNum = mac ? macNumber(mac) : -1;
}

/** The key of the session an Accounting-Request is about (the parser made sure it names one). */
export function radiusKeyOf(a: RadiusAccounting): string {
  return radiusSessionKey(nasName(a.nasIp, a.nasIpv6, a.nasIdentifier), a.sessionId ?? '');
}

/** A RADIUS session made from its first Accounting-Request seen (without its addresses: the tracker claims them). */
export function radiusSession(a: RadiusAccounting, timeUs: number): TrackedSession {
  const s = blankSession(radiusKeyOf(a), 'radius', timeUs);
  s.sessionId = a.sessionId ?? '';
  s.nasIp = a.nasIp ?? a.nasIpv6;
  s.nasIdentifier = a.nasIdentifier ?? '';
  // Start: it began when the NAS sent the Start (Acct-Delay-Time before the capture);
  // Interim or Stop of an unknown session: Acct-Session-Time before that, if given.
  const delay = (a.delayTime ?? 0) * 1e6;
  if (a.statusType === ACCT_STATUS.START) s.startUs = Math.max(0, timeUs - delay);
  else if (a.sessionTime !== undefined) s.startUs = Math.max(0, timeUs - delay - a.sessionTime * 1e6);
  applyRadius(s, a, timeUs);
  return s;
}

/** Takes what an Accounting-Request says of a known session, but its addresses (the tracker claims those). */
export function applyRadius(s: TrackedSession, a: RadiusAccounting, timeUs: number): void {
  if (a.userName !== undefined) s.username = a.userName;
  if (a.mac) setMac(s, a.mac);
  if (a.inputOctets !== undefined) s.octetsIn = a.inputOctets;
  if (a.outputOctets !== undefined) s.octetsOut = a.outputOctets;
  s.lastStatus = a.statusType;
  s.sessionTime = a.sessionTime;
  s.lastSeenUs = timeUs;
}

/** The IPv4 address an Accounting-Request binds, when it is one a subscriber can hold. */
export function radiusIpv4(a: RadiusAccounting): Uint8Array | undefined {
  return a.framedIp && isAssignableIpv4(a.framedIp) ? a.framedIp : undefined;
}

export const equalBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));
