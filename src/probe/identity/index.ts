/**
 * Identity tracking at the probe (RADIUS accounting and DHCP seen on the wire), and what the
 * mediator side shares with it: the session key format, the terminate causes the probe
 * decides, and the parsers (pure). See tracker.ts for the rules and events.ts for the fields
 * of each IdentityEvent.
 */
export * from './causes';
export { dhcpSessionKey, nasName, radiusSessionKey } from './keys';
export { parseRadiusAccounting, ACCT_STATUS, MAX_RADIUS_ATTRIBUTES, MAX_RADIUS_PACKET_BYTES, MIN_FRAMED_IPV6_PREFIX_LENGTH, type RadiusAccounting } from './radius';
export { parseDhcp, DHCP_TYPE, DHCP_INFINITE_LEASE, MAX_DHCP_OPTIONS, type DhcpMessage } from './dhcp';
export { IdentityTracker, DEFAULT_MAX_SESSIONS, MAX_SESSIONS_LIMIT, type SessionChange, type SeedSession, type TrackedSession } from './tracker';
export { DEFAULT_RADIUS_ACCOUNTING_PORTS, DHCP_PORTS, identityUdpPorts, type IdentityCounters, type IdentityOptions } from './stage';
