/**
 * Types of LI-PS-PDU (ETSI TS 102 232-1) that the service-specific modules (-2, -3, -5)
 * import, kept apart from the PS-PDU itself so the modules do not import each other in a
 * circle. lig's profile of the ASN.1 is asn1/LIG-PS-PDU.asn.
 */
import { EtsiError } from '../errors';
import { bool, choice, enumerated, f, ia5, int, octets, opt, seq, utf8 } from '../ber/schema';

/** Root of every ObjId: {itu-t(0) identified-organization(4) etsi(0) securityDomain(2) lawfulIntercept(2)}. */
export const LI_DOMAIN = '0.4.0.2.2';

/** `li-psDomainId` for a genHeader module version: {lawfulInterceptDomainId li-ps(5) genHeader(1) versionN(N)}. */
export const liPsDomainId = (version: number): string => `${LI_DOMAIN}.5.1.${version}`;

/**
 * ```asn1
 * IP-value ::= CHOICE
 * {
 *     iPBinaryAddress [1] OCTET STRING (SIZE(4..16)),
 *     iPTextAddress   [2] IA5String (SIZE(7..45)),
 *     ...
 * }
 * ```
 */
export const IP_VALUE = choice('IP-value', [
  f('iPBinaryAddress', 1, octets(4, 16)),
  f('iPTextAddress', 2, ia5(7, 45)),
], true);

/**
 * ```asn1
 * IPAddress ::= SEQUENCE
 * {
 *     iP-type             [1] ENUMERATED { iPV4(0), iPV6(1), ... },
 *     iP-value            [2] IP-value,
 *     iP-assignment       [3] ENUMERATED { static(1), dynamic(2), notKnown(3), ... } OPTIONAL,
 *     ...,
 *     iPv6PrefixLength    [4] INTEGER (1..128) OPTIONAL,
 *     iPv4SubnetMask      [5] OCTET STRING (SIZE(4)) OPTIONAL,
 *     iP-NAT-translated   [6] BOOLEAN OPTIONAL
 * }
 * ```
 */
export const IP_ADDRESS = seq('IPAddress', [
  f('iP-type', 1, enumerated({ iPV4: 0, iPV6: 1 }, true)),
  f('iP-value', 2, IP_VALUE),
  opt('iP-assignment', 3, enumerated({ static: 1, dynamic: 2, notKnown: 3 }, true)),
  opt('iPv6PrefixLength', 4, int(1, 128)),
  opt('iPv4SubnetMask', 5, octets(4, 4)),
  opt('iP-NAT-translated', 6, bool),
], true);

export interface IPAddress {
  'iP-type': 'iPV4' | 'iPV6';
  'iP-value': { iPBinaryAddress: Uint8Array } | { iPTextAddress: string };
  'iP-assignment'?: 'static' | 'dynamic' | 'notKnown';
  iPv6PrefixLength?: number;
  iPv4SubnetMask?: Uint8Array;
  'iP-NAT-translated'?: boolean;
}

/**
 * ```asn1
 * WlanLocationAttributes ::= SEQUENCE
 * {
 *     wlanAPMACAddress        [0] OCTET STRING (SIZE(6)) OPTIONAL,
 *     ...
 * }
 * ```
 */
export const WLAN_LOCATION_ATTRIBUTES = seq('WlanLocationAttributes', [opt('wlanAPMACAddress', 0, octets(6, 6))], true);

/**
 * `WGS84CoordinateDecimal` from TS 103 280, whose module has EXTENSIBILITY IMPLIED (so it is
 * extensible although its text shows no `...`):
 * ```asn1
 * WGS84CoordinateDecimal ::= SEQUENCE { latitude [0] OCTET STRING (SIZE(10)), longitude [1] OCTET STRING (SIZE(11)) }
 * CPEProvidedLocationAttributes ::= SEQUENCE { wGS84CoordinateDecimal [0] WGS84CoordinateDecimal OPTIONAL, ... }
 * ```
 */
export const CPE_PROVIDED_LOCATION = seq('CPEProvidedLocationAttributes', [
  opt('wGS84CoordinateDecimal', 0, seq('WGS84CoordinateDecimal', [
    f('latitude', 0, octets(10, 10)),
    f('longitude', 1, octets(11, 11)),
  ], true)),
], true);

/**
 * The parts of Location lig emits; the 3GPP/TS 101 671 alternatives are kept as raw bytes
 * when received (their modules are not part of lig's profile).
 * ```asn1
 * Location ::= SEQUENCE
 * {
 *     umtsHI2Location               [0] UmtsHI2Location OPTIONAL,
 *     epsLocation                   [1] EPSLocation OPTIONAL,
 *     ...,
 *     wlanLocationAttributes        [2] WlanLocationAttributes OPTIONAL,
 *     eTSI671HI2Location            [3] ETSI671HI2Location OPTIONAL,
 *     threeGPP33128UserLocation     [4] UserLocation OPTIONAL,
 *     cPEProvidedLocationAttributes [5] CPEProvidedLocationAttributes OPTIONAL
 * }
 * ```
 */
export const LOCATION = seq('Location', [
  opt('wlanLocationAttributes', 2, WLAN_LOCATION_ATTRIBUTES),
  opt('cPEProvidedLocationAttributes', 5, CPE_PROVIDED_LOCATION),
], true);

export interface Location {
  wlanLocationAttributes?: { wlanAPMACAddress?: Uint8Array };
  cPEProvidedLocationAttributes?: { wGS84CoordinateDecimal?: { latitude: Uint8Array; longitude: Uint8Array } };
}

/** A UTF8String that must hold 1..n characters, as several IRI fields do. */
export const utf8Upto = (n: number) => utf8(1, n);

/** Builds an IPAddress from text ("192.0.2.1", "2001:db8::1") as a binary address. */
export function ipAddress(text: string, assignment?: IPAddress['iP-assignment'], prefixLength?: number): IPAddress {
  return ipAddressOf(parseIp(text), assignment, prefixLength);
}

/** The same, from the address's 4 or 16 bytes. */
export function ipAddressOf(bytes: Uint8Array, assignment?: IPAddress['iP-assignment'], prefixLength?: number): IPAddress {
  const v6 = bytes.length === 16;
  const out: IPAddress = { 'iP-type': v6 ? 'iPV6' : 'iPV4', 'iP-value': { iPBinaryAddress: bytes } };
  if (assignment) out['iP-assignment'] = assignment;
  if (v6) out.iPv6PrefixLength = prefixLength ?? 128; // mandatory for binary IPv6 (TS 102 232-1 IPAddress)
  else if (prefixLength !== undefined) out.iPv4SubnetMask = v4Mask(prefixLength);
  return out;
}

/** Parses a textual IPv4 or IPv6 address to 4 or 16 bytes; throws a typed error if it is not one. */
export function parseIp(text: string): Uint8Array {
  const bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (!bytes) throw new EtsiError(`"${text}" is not an IP address`);
  return bytes;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? Uint8Array.from(b) : undefined;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let s = text;
  let tail: number[] = [];
  const dotted = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (dotted) {
    const b = parseIpv4(dotted[2]!);
    if (!b) return undefined;
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    s = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const words = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? [...words(halves[1]!), ...tail] : tail;
  const gap = 8 - head.length - rest.length;
  if (halves.length === 2 ? gap < 1 : gap !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? gap : 0).fill(0), ...rest];
  if (all.some((w) => Number.isNaN(w))) return undefined;
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function v4Mask(prefix: number): Uint8Array {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return Uint8Array.from([m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff]);
}
