/**
 * Text forms identity tracking needs, shared by the parsers and the tracker. Pure.
 *
 * - safeText: octets a NAS sends as "string" (Acct-Session-Id, NAS-Identifier, DHCP host
 *   name) as a string that is valid UTF-8, unambiguous and stable: printable ASCII stays, and
 *   every other octet, '%' and '/' become %XX. So a session key "radius:NAS/ID" can be split
 *   again, and two different octet strings never give the same text.
 * - MAC addresses as a NAS writes them in Calling-Station-Id: "AA-BB-CC-DD-EE-FF" (MikroTik
 *   hotspot, RFC 3580), "aa:bb:cc:dd:ee:ff", "aabb.ccdd.eeff" (Cisco), "aabbccddeeff"; any
 *   case. Group (multicast) and all-zero MACs are not a subscriber's and give undefined.
 * - a MAC as a number (48 bits fit a double exactly), the key of the MAC indexes.
 */

const HEX = '0123456789ABCDEF';

/** `b` as text: printable ASCII (0x21..0x7e) but '%' and '/' kept, every other octet %XX. */
export function safeText(b: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x21 || c > 0x7e || c === 0x25 || c === 0x2f) {
      plain = false;
      break;
    }
  }
  if (plain) return String.fromCharCode(...b);
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    out += c < 0x21 || c > 0x7e || c === 0x25 || c === 0x2f ? `%${HEX[c >> 4]}${HEX[c & 15]}` : String.fromCharCode(c);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `b` decoded as UTF-8, or undefined when it is not valid UTF-8 (never a replacement character). */
export function utf8Text(b: Uint8Array): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

/** Whether `m` (6 octets) can be a subscriber's MAC: unicast and not all zeros. */
export function isUnicastMac(m: Uint8Array): boolean {
  return m.length === 6 && (m[0]! & 1) === 0 && m.some((x) => x !== 0);
}

const MAC_FORMS = [
  /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i,
  /^([0-9a-f]{4})([.-])([0-9a-f]{4})\2([0-9a-f]{4})$/i,
  /^([0-9a-f]{12})$/i,
];

/** The MAC a Calling-Station-Id (or other text) spells, or undefined (not a MAC, or not a unicast one). */
export function parseMacText(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (t.length < 12 || t.length > 17) return undefined;
  for (const re of MAC_FORMS) {
    const m = re.exec(t);
    if (!m) continue;
    const digits = m
      .slice(1)
      .filter((g) => g.length > 1)
      .join('');
    const mac = Uint8Array.from(Buffer.from(digits, 'hex'));
    return isUnicastMac(mac) ? mac : undefined;
  }
  return undefined;
}

/** A MAC (6 octets of `b` from `o`) as a number: the key of MAC indexes, no allocation. */
export function macNumber(b: Uint8Array, o = 0): number {
  return ((b[o]! << 8) | b[o + 1]!) * 0x1_0000_0000 + (((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0);
}

/** "aa:bb:cc:dd:ee:ff" (as the DHCP session key spells it). */
export function macText(m: Uint8Array): string {
  return Array.from(m, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Four octets of `b` from `o` as a signed 32-bit number: the key of IPv4 indexes. */
export const ipv4Number = (b: Uint8Array, o = 0): number => (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;

/** Whether an IPv4 address (4 octets) can be bound to a subscriber: not 0.0.0.0/8, not multicast or reserved (224/3), not loopback. */
export function isAssignableIpv4(a: Uint8Array): boolean {
  const first = a[0]!;
  return a.length === 4 && first !== 0 && first !== 127 && first < 224;
}
