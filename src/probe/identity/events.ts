/**
 * The IdentityEvent the mediator gets for a session's change (ingest.proto). Pure.
 *
 * Fields filled from the session as the probe knows it at that moment:
 *   task_ids          every task of the session's user or MAC, ascending
 *   kind              START / INTERIM / STOP (RADIUS), LEASE_BIND / INTERIM / LEASE_RELEASE
 *                     (DHCP: a renewal is INTERIM), SESSION_ACTIVE (task new to a session)
 *   username          RADIUS User-Name ('' if none or not UTF-8; always '' for DHCP)
 *   mac               Calling-Station-Id as a MAC, or the DHCP client's chaddr (6 octets, or empty)
 *   ipv4              Framed-IP-Address, or the DHCP yiaddr (4 octets, or empty)
 *   ipv6_prefix(_length)  Framed-IPv6-Prefix (16 octets, host bits clear), or empty and 0
 *   session_id        Acct-Session-Id (safeText); '' for DHCP
 *   nas_ip            NAS-IP-Address (4) or NAS-IPv6-Address (16); for DHCP the server
 *                     identifier (option 54) if sent
 *   nas_identifier    NAS-Identifier (safeText); '' for DHCP
 *   octets_in/out     Acct-Input/Output-Octets with their Gigawords (last seen); 0 for DHCP
 *   terminate_cause   ends only: Acct-Terminate-Cause, or a value of causes.ts
 *   source            RADIUS or DHCP
 *   session_key       keys.ts
 *   session_start_us  RADIUS: Start capture time less Acct-Delay-Time (or, first seen in an
 *                     Interim/Stop, less Acct-Session-Time too; 0 if unknown); DHCP: the
 *                     capture time of the ACK that bound it; 0 for a hand-back session
 *   lease_seconds     DHCP: option 51 of the last ACK (0xffffffff: infinite; 0: unknown)
 */
import { IdentityEvent_Kind, IdentityEvent_Source, type Event } from '../../gen/lig/v1/ingest';
import type { TrackedSession } from './session';

const EMPTY = Buffer.alloc(0);
const buf = (b: Uint8Array | undefined) => (b ? Buffer.from(b) : EMPTY);

export function identityEvent(kind: IdentityEvent_Kind, s: TrackedSession, terminateCause: number, taskIds: bigint[], timeUs: bigint): Event {
  return {
    timeUs,
    kind: {
      $case: 'identity',
      identity: {
        taskIds,
        kind,
        username: s.username ?? '',
        mac: buf(s.mac),
        ipv4: buf(s.ipv4),
        ipv6Prefix: buf(s.ipv6Prefix),
        ipv6PrefixLength: s.ipv6Prefix ? s.ipv6PrefixLength : 0,
        sessionId: s.sessionId,
        nasIp: buf(s.nasIp),
        nasIdentifier: s.nasIdentifier,
        octetsIn: s.octetsIn,
        octetsOut: s.octetsOut,
        terminateCause,
        source: s.source === 'radius' ? IdentityEvent_Source.SOURCE_RADIUS : IdentityEvent_Source.SOURCE_DHCP,
        sessionKey: s.key,
        sessionStartUs: BigInt(Math.max(0, Math.round(s.startUs))),
        leaseSeconds: s.leaseSeconds,
      },
    },
  };
}
