/**
 * subjectAltName entries: each given as a DNS name or an IP address (v4 or v6), told apart
 * by node:net, and encoded by us (forge's own IPv6 parser mishandles some forms).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { CertError } from '../errors';

/** What a leaf carries when no SANs are given: good for everything on one host (and tests). */
export const DEFAULT_SANS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
/** Most SAN entries one certificate may carry. */
export const MAX_SANS = 100;

/** A DNS name as RFC 1123 allows it, with an optional leading "*." wildcard. */
const DNS_NAME = /^(\*\.)?(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export type San = { type: 'dns'; value: string } | { type: 'ip'; value: string; bytes: Buffer };

/** Parses SAN entries; duplicates are dropped, anything neither a DNS name nor an IP is an error. */
export function parseSans(entries: readonly string[]): San[] {
  if (entries.length === 0) throw new CertError('LIG_ERR_CERT_OPTIONS', 'at least one subjectAltName is needed');
  if (entries.length > MAX_SANS) throw new CertError('LIG_ERR_CERT_OPTIONS', `at most ${MAX_SANS} subjectAltNames are allowed`);
  const out: San[] = [];
  const seen = new Set<string>();
  for (const raw of entries) {
    const e = raw.trim();
    const ip = ipBytes(e);
    const san: San | undefined = ip ? { type: 'ip', value: e, bytes: ip } : isDnsName(e) ? { type: 'dns', value: e.toLowerCase() } : undefined;
    if (!san) throw new CertError('LIG_ERR_CERT_OPTIONS', `subjectAltName ${JSON.stringify(raw.slice(0, 80))} is neither a DNS name nor an IP address`);
    const key = san.type === 'ip' ? `ip:${san.bytes.toString('hex')}` : `dns:${san.value}`;
    if (!seen.has(key)) out.push(san);
    seen.add(key);
  }
  return out;
}

/** A DNS name; one whose last label is numeric ("10.1.2") looks like a mistyped IP, so is refused. */
function isDnsName(s: string): boolean {
  return DNS_NAME.test(s) && !/(^|\.)\d+\.?$/.test(s);
}

/** Network-order bytes of an IPv4 (4) or IPv6 (16) address, or undefined if `s` is not one. */
export function ipBytes(s: string): Buffer | undefined {
  if (isIPv4(s)) return Buffer.from(s.split('.').map(Number));
  if (!isIPv6(s) || s.includes('%')) return undefined;
  // node:net has validated the syntax; an embedded IPv4 tail becomes two hex groups.
  let text = s;
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(2).map(Number) as [number, number, number, number];
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(halves[0]);
  const right = parse(halves[1]);
  const groups = halves.length > 1 ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}
