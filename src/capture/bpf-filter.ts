/**
 * The capture pre-filter of a live source: a libpcap filter expression that lets through the
 * targets' traffic (by IP address or prefix) plus the UDP ports identity
 * tracking reads (RADIUS accounting, DHCP), so the kernel drops the rest before it is copied
 * to lig. It only narrows: the matcher (src/probe/matcher.ts) still decides, per packet.
 * Pure: targets in, a string out.
 *
 * On Ethernet the expression uses explicit offsets rather than libpcap's `vlan` and `pppoes`
 * keywords, whose offset shifts apply to everything written after them (an untagged PPPoE
 * term placed after a `vlan` term would be read 4 octets too far). It covers IPv4 and IPv6
 * directly, in PPPoE sessions (all of PPPoE's rare compressed-protocol IP frames pass), and
 * behind up to FILTER_VLAN_DEPTH in-band VLAN tags (Linux moves the outermost tag out of the
 * frame before filtering, so one more is covered there).
 * Other link types get the keyword form (`host`, `net`, `udp port`), which libpcap places
 * itself. A filter that would grow past MAX_FILTER_WORDS comparisons is replaced by capturing
 * everything: completeness first.
 *
 * Username, e-mail and MAC targets: their addresses are not known when the filter is built
 * (identity tracking learns them from RADIUS accounting and DHCP as they change), and a filter
 * rebuilt on every bind would miss the packets between the bind and the new filter. A MAC
 * target cannot be filtered by its MAC either: where the probe sees traffic behind a router,
 * the frames carry the router's MAC, and only the address DHCP or RADIUS bound to the target's
 * MAC identifies them. So while any task has such a target the filter captures everything,
 * and the matcher alone decides. The identity ports are always let through.
 */
import { LINKTYPE } from './pcap-format';
import { SourceError } from '../errors';
import { IpTarget, Targets, formatAddress } from './targets';

/** UDP ports identity tracking needs: RADIUS authentication and accounting, DHCP server and client. */
export const DEFAULT_IDENTITY_UDP_PORTS: readonly number[] = [1812, 1813, 67, 68];
/** In-band VLAN tags (802.1Q, 802.1ad, 0x9100) the Ethernet filter looks behind. */
export const FILTER_VLAN_DEPTH = 2;
/**
 * Most 32-bit comparisons of target addresses a filter may hold (an IPv4 target costs 1, an
 * IPv6 target 1 to 4 by prefix length, a MAC 1, an identity port 1/2). Each costs 25 to 35
 * BPF instructions across the encapsulations covered, and Linux refuses filters over 4,096;
 * above this budget the source captures everything instead.
 */
export const MAX_FILTER_WORDS = 100;
/** Matches no frame: for a probe with no targets and no identity ports. */
export const MATCH_NOTHING = 'less 1';
/** Matches every frame. */
export const MATCH_EVERYTHING = '';

export interface FilterOptions {
  /** Link type of the interface (LINKTYPE_*); Ethernet unless told. */
  linktype?: number;
  /** UDP ports always let through (either direction); DEFAULT_IDENTITY_UDP_PORTS unless told. */
  identityUdpPorts?: readonly number[];
  /** Overrides MAX_FILTER_WORDS. */
  maxWords?: number;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const or = (terms: string[]) => (terms.length === 1 ? terms[0]! : `(${terms.join(' or ')})`);
const and = (terms: string[]) => terms.join(' and ');

/** Compares the `bits` leading bits of the field at `off` with `address`, a 32-bit word at a time. */
function prefixAt(off: number, address: Uint8Array, bits: number): string {
  const parts: string[] = [];
  for (let w = 0; w * 32 < bits; w++) {
    const keep = Math.min(32, bits - w * 32);
    const mask = keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    const value = u32(address, w * 4) & mask;
    parts.push(keep === 32 ? `ether[${off + w * 4}:4] = ${hex(value)}` : `ether[${off + w * 4}:4] & ${hex(mask)} = ${hex(value)}`);
  }
  return parts.length === 1 ? parts[0]! : `(${and(parts)})`;
}

/** The IP part for a header at `l3`: any target as source or destination, or an identity port. */
function ipTerms(version: 4 | 6, l3: number, ips: IpTarget[], ports: readonly number[]): string | undefined {
  const terms: string[] = [];
  const [src, dst] = version === 4 ? [l3 + 12, l3 + 16] : [l3 + 8, l3 + 24];
  for (const ip of ips) {
    if (ip.version !== version) continue;
    terms.push(prefixAt(src, ip.address, ip.prefixLength), prefixAt(dst, ip.address, ip.prefixLength));
  }
  if (ports.length > 0) {
    if (version === 4) {
      const l4 = (d: number) => `ether[${l3 + d} + ((ether[${l3}] & 15) << 2):2]`;
      const p = ports.flatMap((port) => [`${l4(0)} = ${port}`, `${l4(2)} = ${port}`]);
      terms.push(`(ether[${l3 + 9}] = 17 and ether[${l3 + 6}:2] & 0x1fff = 0 and ${or(p)})`);
    } else {
      const p = ports.flatMap((port) => [`ether[${l3 + 40}:2] = ${port}`, `ether[${l3 + 42}:2] = ${port}`]);
      terms.push(`(ether[${l3 + 6}] = 17 and ${or(p)})`);
    }
  }
  return terms.length === 0 ? undefined : or(terms);
}

function ethernetFilter(ips: IpTarget[], ports: readonly number[]): string {
  const alternatives: string[] = [];
  for (let k = 0; k <= FILTER_VLAN_DEPTH; k++) {
    const tags: string[] = [];
    for (let i = 0; i < k; i++) {
      const at = `ether[${12 + 4 * i}:2]`;
      tags.push(`(${at} = 0x8100 or ${at} = 0x88a8 or ${at} = 0x9100)`);
    }
    const et = 12 + 4 * k;
    const l3 = et + 2;
    const v4 = ipTerms(4, l3, ips, ports);
    const v6 = ipTerms(6, l3, ips, ports);
    const pv4 = ipTerms(4, l3 + 8, ips, ports);
    const pv6 = ipTerms(6, l3 + 8, ips, ports);
    const inner: string[] = [];
    if (v4) inner.push(`(ether[${et}:2] = 0x800 and ${v4})`);
    if (v6) inner.push(`(ether[${et}:2] = 0x86dd and ${v6})`);
    if (pv4) inner.push(`(ether[${et}:2] = 0x8864 and ether[${et + 8}:2] = 0x21 and ${pv4})`);
    if (pv6) inner.push(`(ether[${et}:2] = 0x8864 and ether[${et + 8}:2] = 0x57 and ${pv6})`);
    // PPP with protocol-field compression (one octet) is rare on PPPoE: let all of it through rather than double the filter.
    if (pv4 || pv6) inner.push(`(ether[${et}:2] = 0x8864 and (ether[${et + 8}] = 0x21 or ether[${et + 8}] = 0x57))`);
    if (inner.length === 0) continue;
    alternatives.push(k === 0 ? or(inner) : `(${and([...tags, or(inner)])})`);
  }
  return alternatives.join(' or ');
}

function keywordFilter(ips: IpTarget[], ports: readonly number[]): string {
  const terms = ips.map((ip) => {
    const a = formatAddress(ip.address);
    return ip.prefixLength === ip.address.length * 8 ? `host ${a}` : `net ${a}/${ip.prefixLength}`;
  });
  for (const p of ports) terms.push(`udp port ${p}`);
  return terms.join(' or ');
}

/**
 * The filter expression for `targets` (every task's IP targets), or MATCH_EVERYTHING when no
 * narrower filter is safe (a username, e-mail or MAC target, or over the budget),
 * or MATCH_NOTHING when there is nothing to capture.
 */
export function buildCaptureFilter(targets: Targets, opts: FilterOptions = {}): string {
  const linktype = opts.linktype ?? LINKTYPE.ETHERNET;
  const ports = [...new Set(opts.identityUdpPorts ?? DEFAULT_IDENTITY_UDP_PORTS)];
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new SourceError('LIG_ERR_SOURCE_OPTIONS', `identityUdpPorts: ${p} is not a port (1..65535)`);
  if (targets.deferred > 0 || targets.tasks.some((t) => t.macs.length > 0)) return MATCH_EVERYTHING;
  const ips = targets.tasks.flatMap((t) => t.ips);
  const key = (x: Uint8Array, extra = '') => `${Buffer.from(x).toString('hex')}${extra}`;
  const uniqueIps = [...new Map(ips.map((ip) => [key(ip.address, `/${ip.prefixLength}`), ip])).values()];
  const words = uniqueIps.reduce((n, ip) => n + Math.ceil(ip.prefixLength / 32), ports.length / 2);
  if (words > (opts.maxWords ?? MAX_FILTER_WORDS)) return MATCH_EVERYTHING;
  if (uniqueIps.length + ports.length === 0) return MATCH_NOTHING;
  if (linktype === LINKTYPE.ETHERNET) return ethernetFilter(uniqueIps, ports);
  return keywordFilter(uniqueIps, ports);
}
