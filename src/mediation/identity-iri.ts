/**
 * Access sessions as TS 102 232-3 IRI: what the mediator keeps of a session (SessionFacts),
 * how a probe's IdentityEvent updates it, and the IPIRIContents of each record of the
 * session's life. Pure: no I/O, no clock; times come from the events.
 *
 * The records (clause 7.1, IPIRIContents):
 * - IRI-BEGIN accessAccept: the session started (RADIUS Start, DHCP ACK binding a lease);
 * - IRI-BEGIN startOfInterceptionWithSessionActive: the session was already under way when
 *   the interception started (SESSION_ACTIVE, or the first Interim-Update of a session the
 *   mediator did not see start);
 * - IRI-CONTINUE interimUpdate: RADIUS Interim-Update, DHCP renewal of the same lease;
 * - IRI-END accessEnd: RADIUS Stop, DHCP RELEASE or lease expiry;
 * - IRI-END endOfInterceptionWithSessionActive: the interception ended during the session.
 *
 * Every record carries what is known of the session: targetUsername (the User-Name; for a
 * session without one, the MAC as text), internetAccessType wirelessLAN (lig serves
 * hotspots), iPVersion, targetIPAddress (IPv4 if any, else the IPv6 prefix; assignment
 * dynamic) and additionalIPAddress (the IPv6 prefix when both), targetNetworkID (the MAC,
 * "aa:bb:cc:dd:ee:ff"), startTime, authenticationType (radiusAAA or dhcpAAA), pOPIPAddress
 * (the NAS, or the DHCP server) and pOPIdentifier (NAS-Identifier), expectedEndTime (DHCP:
 * when the lease granted last runs out).
 *
 * Octet counters, from the target's point of view: RADIUS Acct-Input-Octets (IdentityEvent
 * octets_in) counts what the NAS received *from* the user, i.e. what the target transmitted:
 * octetsTransmitted. Acct-Output-Octets (octets_out), sent to the user, is octetsReceived.
 * They are reported in every record but IRI-BEGIN accessAccept (nothing counted yet), and for
 * RADIUS sessions only (DHCP counts nothing).
 *
 * Facts are plain JSON (the session table keeps them in sessions.json): bytes as lower-case
 * hex, times and counters as decimal strings.
 */
import { stampText } from '../etsi/build';
import { type IPAddress, ipAddressOf } from '../etsi/common';
import type { EndReason, IPIRIContents } from '../etsi/ip-access';
import type { IRIType } from '../etsi/ps-pdu';
import { type IdentityEvent, IdentityEvent_Kind, IdentityEvent_Source } from '../gen/lig/v1/ingest';
import { DHCP_LEASE_EXPIRED } from '../probe/identity/causes';
import { stampOfMicros } from './stamp';

/** Longest session key accepted ("radius:NAS/ACCT-SESSION-ID"; RADIUS attributes are at most 253 octets). */
export const MAX_SESSION_KEY_LENGTH = 600;
/** Longest User-Name / NAS-Identifier kept (a RADIUS attribute value is at most 253 octets). */
export const MAX_IDENTITY_TEXT_LENGTH = 253;
/** pOPIdentifier printableIDType is UTF8String (SIZE (1..128)): a longer NAS-Identifier is cut to this. */
export const MAX_POP_IDENTIFIER_LENGTH = 128;
/**
 * terminate_cause values the probe sets itself (src/probe/identity/causes.ts): a DHCP lease
 * that ran out (DHCP_LEASE_EXPIRED, endReason leaseExpired); the others (an address taken by
 * another subscriber's session, a lease declined or superseded, …) say lig saw the end but
 * not why: endReason undefined.
 */
export { DHCP_LEASE_EXPIRED };
/** DHCP lease time meaning "infinite" (RFC 2132 option 51): no expectedEndTime. */
export const DHCP_INFINITE_LEASE = 0xffffffff;

export type SessionSource = 'radius' | 'dhcp';

/** What the mediator knows of one access session; everything its IRI says. */
export interface SessionFacts {
  /** IdentityEvent.session_key: "radius:NAS/ACCT-SESSION-ID" or "dhcp:MAC/ADDRESS". */
  key: string;
  source: SessionSource;
  /** User-Name; '' when none. */
  username: string;
  /** 12 hex digits; '' when unknown. */
  mac: string;
  /** 8 hex digits; '' when none. */
  ipv4: string;
  /** 32 hex digits (the prefix, host bits as the probe sent them); '' when none. */
  ipv6: string;
  ipv6Length: number;
  /** 8 or 32 hex digits; '' when unknown. */
  nasIp: string;
  nasIdentifier: string;
  /** When the session started (µs since the epoch, decimal); '0' when unknown. */
  startUs: string;
  /** DHCP: seconds of the lease granted last, and when (µs, decimal); 0 / '0' when unknown. */
  leaseSeconds: number;
  leaseFromUs: string;
  /** The last counters reported (decimal): octets_in (from the user) and octets_out (to the user). */
  octetsIn: string;
  octetsOut: string;
}

/** Which record of a session's life. */
export type IriStep = 'begin' | 'active' | 'continue' | 'end' | 'endOfInterception';

/** One IRI record of a session, decided: what identityIri() needs (plain JSON, kept in sessions.json). */
export interface SessionIri {
  step: IriStep;
  facts: SessionFacts;
  /** The event's capture time (µs, decimal): the record's timestamp. */
  atUs: string;
  /** terminate_cause of the event that ended the session (0 otherwise). */
  cause: number;
}

export const IRI_STEPS: readonly IriStep[] = ['begin', 'active', 'continue', 'end', 'endOfInterception'];

/** Why an identity event cannot be used, or undefined when it can. */
export function identityProblem(ev: IdentityEvent): string | undefined {
  if (ev.sessionKey === '') return 'it names no session (empty session_key)';
  if (ev.sessionKey.length > MAX_SESSION_KEY_LENGTH) return `its session_key is longer than MAX_SESSION_KEY_LENGTH (${MAX_SESSION_KEY_LENGTH})`;
  if (ev.source !== IdentityEvent_Source.SOURCE_RADIUS && ev.source !== IdentityEvent_Source.SOURCE_DHCP) return 'its source is neither RADIUS nor DHCP';
  if (stepOfKind(ev.kind) === undefined) return `its kind (${ev.kind}) is unknown`;
  return undefined;
}

/** What an event kind asks for, before the session table decides (undefined: unknown kind). */
export function stepOfKind(kind: IdentityEvent_Kind): 'start' | 'active' | 'interim' | 'stop' | undefined {
  switch (kind) {
    case IdentityEvent_Kind.KIND_SESSION_START:
    case IdentityEvent_Kind.KIND_LEASE_BIND:
      return 'start';
    case IdentityEvent_Kind.KIND_SESSION_ACTIVE:
      return 'active';
    case IdentityEvent_Kind.KIND_SESSION_INTERIM:
      return 'interim';
    case IdentityEvent_Kind.KIND_SESSION_STOP:
    case IdentityEvent_Kind.KIND_LEASE_RELEASE:
      return 'stop';
    default:
      return undefined;
  }
}

const hex = (b: Uint8Array, ...sizes: number[]): string => (sizes.includes(b.length) ? Buffer.from(b).toString('hex') : '');
const text = (s: string): string => [...s].slice(0, MAX_IDENTITY_TEXT_LENGTH).join('');

/**
 * The facts after event `ev` at capture time `timeUs`: what the event says, and for what it
 * leaves out, what `prior` knew. A field of the wrong size (a MAC that is not 6 octets, …) is
 * treated as absent. The start time is the event's session_start_us, else prior's, else (for
 * a start) the event's time.
 */
export function factsOf(ev: IdentityEvent, timeUs: bigint, prior?: SessionFacts): SessionFacts {
  const step = stepOfKind(ev.kind);
  const v6 = hex(ev.ipv6Prefix, 16);
  const v6Length = v6 && ev.ipv6PrefixLength >= 1 && ev.ipv6PrefixLength <= 128 ? ev.ipv6PrefixLength : 0;
  const dhcp = ev.source === IdentityEvent_Source.SOURCE_DHCP;
  let startUs = ev.sessionStartUs > 0n ? ev.sessionStartUs.toString() : (prior?.startUs ?? '0');
  if (startUs === '0' && step === 'start') startUs = timeUs.toString();
  const granted = dhcp && ev.leaseSeconds > 0 && (step === 'start' || step === 'interim');
  const f: SessionFacts = {
    key: ev.sessionKey,
    source: dhcp ? 'dhcp' : 'radius',
    username: text(ev.username) || (prior?.username ?? ''),
    mac: hex(ev.mac, 6) || (prior?.mac ?? ''),
    ipv4: hex(ev.ipv4, 4) || (prior?.ipv4 ?? ''),
    ipv6: v6Length ? v6 : (prior?.ipv6 ?? ''),
    ipv6Length: v6Length || (prior?.ipv6Length ?? 0),
    nasIp: hex(ev.nasIp, 4, 16) || (prior?.nasIp ?? ''),
    nasIdentifier: text(ev.nasIdentifier) || (prior?.nasIdentifier ?? ''),
    startUs,
    leaseSeconds: granted ? ev.leaseSeconds : (prior?.leaseSeconds ?? (dhcp ? ev.leaseSeconds : 0)),
    leaseFromUs: granted ? timeUs.toString() : (prior?.leaseFromUs ?? (dhcp && ev.sessionStartUs > 0n ? ev.sessionStartUs.toString() : '0')),
    octetsIn: ev.octetsIn > 0n || !prior ? ev.octetsIn.toString() : prior.octetsIn,
    octetsOut: ev.octetsOut > 0n || !prior ? ev.octetsOut.toString() : prior.octetsOut,
  };
  return f;
}

/** "aa:bb:cc:dd:ee:ff" from 12 hex digits. */
export function macText(mac: string): string {
  return mac.match(/../g)?.join(':') ?? '';
}

/** RADIUS Acct-Terminate-Cause values (RFC 2866 section 5.10) that have an EndReason. */
export const RADIUS_TERMINATE_CAUSE = { userRequest: 1, lostCarrier: 2, lostService: 3, idleTimeout: 4, sessionTimeout: 5 } as const;

/**
 * The endReason of an ended session: User-Request → regularLogoff; Lost-Carrier and
 * Lost-Service → connectionLoss; Idle-Timeout and Session-Timeout → connectionTimeout; any
 * other cause → undefined. DHCP: DHCP_LEASE_EXPIRED → leaseExpired, 0 (DHCP_LEASE_RELEASED:
 * the client sent RELEASE, it left of its own accord) → regularLogoff, anything else →
 * undefined.
 */
export function endReasonOf(source: SessionSource, cause: number): EndReason {
  if (source === 'dhcp') return cause === DHCP_LEASE_EXPIRED ? 'leaseExpired' : cause === 0 ? 'regularLogoff' : 'undefined';
  switch (cause) {
    case RADIUS_TERMINATE_CAUSE.userRequest:
      return 'regularLogoff';
    case RADIUS_TERMINATE_CAUSE.lostCarrier:
    case RADIUS_TERMINATE_CAUSE.lostService:
      return 'connectionLoss';
    case RADIUS_TERMINATE_CAUSE.idleTimeout:
    case RADIUS_TERMINATE_CAUSE.sessionTimeout:
      return 'connectionTimeout';
    default:
      return 'undefined';
  }
}

const timeText = (us: string): string => stampText(stampOfMicros(BigInt(us)));

/** A subscriber's address, assigned dynamically (RADIUS or DHCP); an IPv4 one carries no mask. */
const address = (hexBytes: string, prefixLength?: number): IPAddress =>
  ipAddressOf(Buffer.from(hexBytes, 'hex'), 'dynamic', hexBytes.length === 32 ? prefixLength : undefined);

const POP_ADDRESS = (hexBytes: string): IPAddress => ipAddressOf(Buffer.from(hexBytes, 'hex'));

/**
 * The IRI record of `step` for a session with facts `f`, at capture time `atUs`; `cause` is
 * the event's terminate_cause (used by 'end').
 */
export function identityIri(step: IriStep, f: SessionFacts, atUs: bigint, cause = 0): { iriType: IRIType; contents: IPIRIContents } {
  const begin = step === 'begin' || step === 'active';
  const c: IPIRIContents = {
    accessEventType: ACCESS_EVENT[step],
    targetUsername: f.username !== '' ? f.username : macText(f.mac),
    internetAccessType: 'wirelessLAN',
    iPVersion: f.ipv4 && f.ipv6 ? 'iPV4andV6' : f.ipv6 ? 'iPV6' : 'iPV4',
  };
  if (f.ipv4) c.targetIPAddress = address(f.ipv4);
  else if (f.ipv6) c.targetIPAddress = address(f.ipv6, f.ipv6Length);
  if (f.mac) c.targetNetworkID = macText(f.mac);
  if (f.startUs !== '0') c.startTime = timeText(f.startUs);
  if (step === 'end') {
    c.endTime = stampText(stampOfMicros(atUs));
    c.endReason = endReasonOf(f.source, cause);
  }
  if (f.source === 'radius' && step !== 'begin') {
    c.octetsReceived = BigInt(f.octetsOut);
    c.octetsTransmitted = BigInt(f.octetsIn);
  }
  if (f.source === 'dhcp' && f.leaseSeconds > 0 && f.leaseSeconds !== DHCP_INFINITE_LEASE && f.leaseFromUs !== '0' && step !== 'end') {
    c.expectedEndTime = timeText((BigInt(f.leaseFromUs) + BigInt(f.leaseSeconds) * 1_000_000n).toString());
  }
  if (f.nasIdentifier) c.pOPIdentifier = { printableIDType: [...f.nasIdentifier].slice(0, MAX_POP_IDENTIFIER_LENGTH).join('') };
  if (f.nasIp) c.pOPIPAddress = POP_ADDRESS(f.nasIp);
  if (f.ipv4 && f.ipv6) c.additionalIPAddress = address(f.ipv6, f.ipv6Length);
  c.authenticationType = f.source === 'dhcp' ? 'dhcpAAA' : 'radiusAAA';
  return { iriType: begin ? 'iRI-Begin' : step === 'continue' ? 'iRI-Continue' : 'iRI-End', contents: c };
}

const ACCESS_EVENT = {
  begin: 'accessAccept',
  active: 'startOfInterceptionWithSessionActive',
  continue: 'interimUpdate',
  end: 'accessEnd',
  endOfInterception: 'endOfInterceptionWithSessionActive',
} as const;
