/**
 * Session keys (IdentityEvent.session_key, Match.session_key, Session.session_key): stable for
 * a session's whole life and across probe restarts, because they are made from what the
 * network says, never from the probe's state. Pure.
 *
 *   RADIUS: "radius:" NAS "/" ACCT-SESSION-ID   NAS = NAS-IP-Address (dotted), else
 *           NAS-IPv6-Address (RFC 5952), else NAS-Identifier; identifiers as safeText (text.ts:
 *           '/' and '%' escaped, so the key splits at its one '/')
 *   DHCP:   "dhcp:" MAC "/" ADDRESS               MAC "aa:bb:cc:dd:ee:ff", ADDRESS dotted
 */
import { formatAddress } from '../../capture/targets';
import { macText } from './text';

/** The NAS part of a RADIUS key: the first of NAS-IP-Address, NAS-IPv6-Address, NAS-Identifier given. */
export function nasName(nasIp: Uint8Array | undefined, nasIpv6: Uint8Array | undefined, nasIdentifier: string | undefined): string {
  if (nasIp) return formatAddress(nasIp);
  if (nasIpv6) return formatAddress(nasIpv6);
  return nasIdentifier ?? '';
}

export function radiusSessionKey(nas: string, sessionId: string): string {
  return `radius:${nas}/${sessionId}`;
}

export function dhcpSessionKey(mac: Uint8Array, address: Uint8Array): string {
  return `dhcp:${macText(mac)}/${formatAddress(address)}`;
}
