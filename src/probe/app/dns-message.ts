/**
 * DNS message decoding (RFC 1035 §4.1; AAAA RFC 3596, SRV RFC 2782): header, questions and
 * answers, with names read through compression pointers. Pure and bounded: a pointer must
 * point before the label it replaces and at most MAX_DNS_POINTERS are followed per name, so
 * a loop or a chain cannot run on; a name is at most 255 octets; at most MAX_DNS_RECORDS
 * records per section are decoded. Malformed input yields undefined, never a throw.
 */
import { formatAddress } from '../../capture/targets';

/** Compression pointers followed in one name before it is declared malformed. */
export const MAX_DNS_POINTERS = 32;
/** Records decoded per section (the counts in the header may claim more). */
export const MAX_DNS_RECORDS = 64;
/** Longest name (RFC 1035 §2.3.4), in octets of its wire form. */
export const MAX_DNS_NAME_BYTES = 255;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  ttl: number;
  /** The record's data as text: an address, a name, "10 mx.example." ...; undefined for types not decoded. */
  data: string | undefined;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  /** The answer count the header claims (answers holds at most MAX_DNS_RECORDS). */
  answerCount: number;
}

export const DNS_TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  39: 'DNAME',
  41: 'OPT',
  43: 'DS',
  46: 'RRSIG',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
};

export const RCODES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

export const typeName = (t: number): string => DNS_TYPES[t] ?? `TYPE${t}`;

/** The name at `off` in `msg` and the offset after it in place, or undefined when malformed. */
export function readName(msg: Uint8Array, off: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let pos = off;
  let next = -1;
  let jumps = 0;
  let wire = 0;
  /** Labels must start before this: a pointer only goes backwards. */
  let limit = off;
  for (;;) {
    if (pos >= msg.length) return undefined;
    const len = msg[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length || ++jumps > MAX_DNS_POINTERS) return undefined;
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (next < 0) next = pos + 2;
      if (target >= limit) return undefined;
      limit = target;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return undefined; // 0x40, 0x80: extended label types, not in use
    wire += len + 1;
    if (wire > MAX_DNS_NAME_BYTES) return undefined;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if (pos + 1 + len > msg.length) return undefined;
    labels.push(label(msg.subarray(pos + 1, pos + 1 + len)));
    pos += 1 + len;
  }
  return { name: labels.length === 0 ? '.' : labels.join('.'), next };
}

/** A label as text: printable ASCII kept (lower case), other octets and dots escaped as \DDD (RFC 4343). */
function label(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    else s += `\\${String(c).padStart(3, '0')}`;
  }
  return s;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

/** Decodes a DNS message, or returns undefined when it is not one. */
export function parseDnsMessage(msg: Uint8Array): DnsMessage | undefined {
  if (msg.length < 12) return undefined;
  const flags = u16(msg, 2);
  const qd = u16(msg, 4);
  const an = u16(msg, 6);
  const m: DnsMessage = { id: u16(msg, 0), response: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, rcode: flags & 0xf, questions: [], answers: [], answerCount: an };
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const n = readName(msg, off);
    if (!n || n.next + 4 > msg.length) return undefined;
    if (i < MAX_DNS_RECORDS) m.questions.push({ name: n.name, type: u16(msg, n.next), class: u16(msg, n.next + 2) });
    off = n.next + 4;
    if (i >= MAX_DNS_RECORDS) return m; // the rest is not decoded: too many to be a real query
  }
  for (let i = 0; i < an && i < MAX_DNS_RECORDS; i++) {
    const n = readName(msg, off);
    if (!n || n.next + 10 > msg.length) return undefined;
    const type = u16(msg, n.next);
    const ttl = ((msg[n.next + 4]! << 24) | (msg[n.next + 5]! << 16) | (msg[n.next + 6]! << 8) | msg[n.next + 7]!) >>> 0;
    const rdlen = u16(msg, n.next + 8);
    const rd = n.next + 10;
    if (rd + rdlen > msg.length) return undefined;
    m.answers.push({ name: n.name, type, ttl, data: rdata(msg, type, rd, rdlen) });
    off = rd + rdlen;
  }
  return m;
}

/** A record's data as text, for the types worth reporting; undefined otherwise or when malformed. */
function rdata(msg: Uint8Array, type: number, off: number, len: number): string | undefined {
  const name = (at: number): string | undefined => {
    const n = readName(msg, at);
    return n && n.next <= off + len ? n.name : undefined;
  };
  switch (type) {
    case 1:
      return len === 4 ? `${msg[off]}.${msg[off + 1]}.${msg[off + 2]}.${msg[off + 3]}` : undefined;
    case 28:
      return len === 16 ? formatAddress(msg.subarray(off, off + 16)) : undefined;
    case 2:
    case 5:
    case 12:
    case 39:
      return name(off);
    case 15: {
      if (len < 3) return undefined;
      const n = name(off + 2);
      return n === undefined ? undefined : `${u16(msg, off)} ${n}`;
    }
    case 33: {
      if (len < 7) return undefined;
      const n = name(off + 6);
      return n === undefined ? undefined : `${u16(msg, off)} ${u16(msg, off + 2)} ${u16(msg, off + 4)} ${n}`;
    }
    case 6:
      return name(off);
    default:
      return undefined;
  }
}
