/**
 * Intercept targets as written in config: `{ ip: "192.0.2.7" }`, `{ ip: "2001:db8::/56" }`,
 * `{ mac: "00:11:22:33:44:55" }`, `{ username: "alice" }`, `{ email: "a@example.org" }`.
 *
 * Targets are warrant data: messages about them never quote the value (callers wrap these
 * schemas in `sensitive`, and the messages here do not echo input).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Checker, INVALID, Path, Schema, isAbsent, isMapping, mismatch } from './schema';
import { closest } from './suggest';

export type Target =
  | { kind: 'ip'; family: 4 | 6; address: string; prefixLength: number }
  | { kind: 'mac'; mac: string }
  | { kind: 'username'; username: string }
  | { kind: 'email'; email: string };

export type TargetKind = Target['kind'];
export const TARGET_KINDS: readonly TargetKind[] = ['ip', 'mac', 'username', 'email'];

/**
 * Shortest IP prefixes a target may name. A shorter one would sweep in many subscribers,
 * which the gateway must never intercept (design guarantee 1); a typo like "/1" or "/0" is
 * caught here rather than on the wire.
 */
export const MIN_IPV4_TARGET_PREFIX = 16;
export const MIN_IPV6_TARGET_PREFIX = 32;

/** The address as bytes (4 or 16), or undefined. IPv6 may use "::" and a dotted IPv4 tail. */
export function ipBytes(addr: string): Uint8Array | undefined {
  if (isIPv4(addr)) return Uint8Array.from(addr.split('.').map(Number));
  if (!isIPv6(addr) || addr.includes('%')) return undefined;
  let text = addr;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    tail.push(...text.slice(lastColon + 1).split('.').map(Number));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** An address or prefix; a reason string when it is not one (without the value). */
export function parseIpTarget(text: string): Target | string {
  const slash = text.indexOf('/');
  const address = (slash < 0 ? text : text.slice(0, slash)).toLowerCase();
  const bytes = ipBytes(address);
  if (!bytes) return 'is not an IPv4 or IPv6 address';
  const family = bytes.length === 4 ? 4 : 6;
  const bits = bytes.length * 8;
  let prefixLength = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return `has a prefix length that is not a number from 0 to ${bits}`;
    prefixLength = Number(p);
  }
  const min = family === 4 ? MIN_IPV4_TARGET_PREFIX : MIN_IPV6_TARGET_PREFIX;
  if (prefixLength < min) {
    return `has prefix /${prefixLength}, shorter than /${min} (MIN_IPV${family}_TARGET_PREFIX): it would intercept other subscribers`;
  }
  for (let bit = prefixLength; bit < bits; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return `has address bits set beyond its /${prefixLength} prefix`;
  }
  return { kind: 'ip', family, address, prefixLength };
}

const MAC = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

function checkOne(kind: TargetKind, v: unknown, ctx: Checker): Target | string {
  if (typeof v !== 'string' || v.length === 0) return mismatch(`a non-empty string`, v, ctx);
  switch (kind) {
    case 'ip': {
      const r = parseIpTarget(v);
      return typeof r === 'string' ? `expected an IP address or prefix such as "192.0.2.7" or "2001:db8::/56", but the value ${r}` : r;
    }
    case 'mac':
      return MAC.test(v) ? { kind, mac: v.toLowerCase().replace(/-/g, ':') } : 'expected a MAC address of six hex octets such as "00:11:22:aa:bb:cc"';
    case 'username':
      return v.trim() === v ? { kind, username: v } : 'expected a user name without leading or trailing spaces';
    case 'email':
      return EMAIL.test(v) ? { kind, email: v } : 'expected an e-mail address such as "user@example.org"';
  }
}

/** A mapping with exactly one of ip, mac, username, email. */
export function target(): Schema<Target> {
  const expected = `a mapping with exactly one of ${TARGET_KINDS.join(', ')}`;
  return {
    expected,
    check(v: unknown, path: Path, ctx: Checker) {
      if (isAbsent(v) || !isMapping(v)) {
        ctx.report(path, mismatch(expected, v, ctx));
        return INVALID;
      }
      const keys = Object.keys(v);
      let ok = true;
      for (const k of keys) {
        if ((TARGET_KINDS as readonly string[]).includes(k)) continue;
        // A key near a kind is a typo and safe to show; any other key may be a target
        // written as a key (`- 192.0.2.1:`), so neither the message nor the path names it.
        const near = closest(k, TARGET_KINDS);
        if (near) ctx.report([...path, k], `unknown key "${k}": did you mean "${near}"?`, true);
        else ctx.report(path, `has an unknown key (not shown: it may be a target): expected exactly one of ${TARGET_KINDS.join(', ')}`);
        ok = false;
      }
      const kinds = keys.filter((k): k is TargetKind => (TARGET_KINDS as readonly string[]).includes(k));
      if (kinds.length !== 1) {
        if (ok) ctx.report(path, kinds.length === 0 ? `expected ${expected}` : `names ${kinds.join(' and ')}: a target is exactly one of ${TARGET_KINDS.join(', ')}; make each its own list item`);
        return INVALID;
      }
      const kind = kinds[0]!;
      const r = checkOne(kind, v[kind], ctx);
      if (typeof r === 'string') {
        ctx.report([...path, kind], r);
        return INVALID;
      }
      return ok ? r : INVALID;
    },
  };
}

/** A key that is the same for the same target, for finding duplicates. */
export function targetKey(t: Target): string {
  switch (t.kind) {
    case 'ip':
      return `ip:${Array.from(ipBytes(t.address)!).join('.')}/${t.prefixLength}`;
    case 'mac':
      return `mac:${t.mac}`;
    case 'username':
      return `username:${t.username}`;
    case 'email':
      return `email:${t.email.toLowerCase()}`;
  }
}
