/**
 * IdentityEvent.terminate_cause values. A RADIUS Stop carries the NAS's Acct-Terminate-Cause
 * (RFC 2866 §5.10: 1 User-Request ... 22, values below 0x10000); a DHCP RELEASE carries
 * DHCP_LEASE_RELEASED (0). The ends the probe itself decides get values from 0x10000 up, which
 * no RADIUS cause uses, so the mediator tells them apart (e.g. endReason leaseExpired).
 * Pure constants: the mediator imports them from here.
 */

/** DHCP RELEASE from the client (and a RADIUS Stop without Acct-Terminate-Cause). */
export const DHCP_LEASE_RELEASED = 0;
/** The DHCP lease ran out: a packet was captured at or after bind (or last renewal) + lease time. */
export const DHCP_LEASE_EXPIRED = 0x10000;
/**
 * The session's address was given to another subscriber's session before its own end was
 * seen (a missed Stop or RELEASE): it ended when the other session claimed the address.
 */
export const SESSION_ADDRESS_TAKEN = 0x10001;
/** The tracker held identity.maxSessions sessions and dropped this one, the longest idle. */
export const SESSION_EVICTED = 0x10002;
/** DHCP DECLINE: the client refused the address (it is in use elsewhere). */
export const DHCP_LEASE_DECLINED = 0x10003;
/** The same client got another address from the same DHCP server, which ends the older lease. */
export const DHCP_LEASE_SUPERSEDED = 0x10004;
/**
 * A session the probe knew only from the mediator's hand-back (TaskList.sessions), which a
 * later task list no longer lists: the mediator learnt it ended (another probe saw the Stop).
 */
export const SESSION_WITHDRAWN = 0x10005;
