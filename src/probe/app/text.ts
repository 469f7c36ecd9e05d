/**
 * Helpers the analysers share: bounded line splitting of a byte stream fed in pieces of any
 * size (HTTP, SMTP, POP3, IMAP), counters, bounded conversion of bytes to field text,
 * addresses as text, base64, the user name of SASL PLAIN and LOGIN, and logon fields. Pure:
 * no I/O, no clock.
 */
import type { AppCounters } from './types';

/** Longest field value an analyser reports, in characters; a longer value is cut (and counted). */
export const MAX_FIELD_CHARS = 2048;

/** A fresh set of counters. */
export function newCounters(): AppCounters {
  return { events: 0, malformed: 0, truncated: 0 };
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines ending in LF (a CR before it is dropped), whatever the
 * size of the pieces it is fed. A line longer than `maxBytes` keeps its first `maxBytes`
 * octets, the rest up to the LF is skipped and `cut` is set for that line.
 *
 * Use: `off = lines.take(data, off)`; when `lines.line` is set, one line is complete. A
 * line wholly inside one piece is a view of it (no copy); only a line split across pieces
 * is copied, into a buffer grown as needed up to `maxBytes`.
 */
export class LineBuffer {
  /** The line completed by the last take(), without its CRLF; undefined when none was. */
  line: Uint8Array | undefined = undefined;
  /** Whether that line was longer than the limit (and so cut). */
  cut = false;
  /** Grown as needed, up to `maxBytes`: most flows never split a line, and never pay for it. */
  private partial = new Uint8Array(0);
  private held = 0;
  private overflow = false;

  constructor(readonly maxBytes: number) {}

  /** Copies `b` after what is held (there is room: the caller checked against maxBytes). */
  private hold(b: Uint8Array): void {
    const need = this.held + b.length;
    if (need > this.partial.length) {
      const grown = new Uint8Array(Math.min(this.maxBytes, Math.max(need, this.partial.length * 2, 128)));
      grown.set(this.partial.subarray(0, this.held));
      this.partial = grown;
    }
    this.partial.set(b, this.held);
    this.held = need;
  }

  /** Bytes of an unfinished line held so far (0 at a line start). */
  get pending(): number {
    return this.held + (this.overflow ? 1 : 0);
  }

  /** Reads from `data[from]` up to the end of the next line (or of `data`); returns where it stopped. */
  take(data: Uint8Array, from: number): number {
    this.line = undefined;
    const lf = data.indexOf(LF, from);
    const end = lf < 0 ? data.length : lf;
    if (!this.overflow) {
      const room = this.maxBytes - this.held;
      const n = end - from;
      if (lf >= 0 && this.held === 0 && n <= this.maxBytes) {
        this.line = trimCr(data.subarray(from, end));
        this.cut = false;
        return lf + 1;
      }
      if (n > room) {
        this.hold(data.subarray(from, from + room));
        this.overflow = true;
      } else this.hold(data.subarray(from, end));
    }
    if (lf < 0) return data.length;
    this.line = trimCr(this.partial.slice(0, this.held));
    this.cut = this.overflow;
    this.held = 0;
    this.overflow = false;
    return lf + 1;
  }

  /** Forgets an unfinished line (after a gap, or a change of mode). */
  reset(): void {
    this.held = 0;
    this.overflow = false;
    this.line = undefined;
  }
}

function trimCr(b: Uint8Array): Uint8Array {
  return b.length > 0 && b[b.length - 1] === CR ? b.subarray(0, b.length - 1) : b;
}

/** The octets as text (UTF-8, invalid sequences replaced), cut to MAX_FIELD_CHARS. */
export function text(b: Uint8Array, max = MAX_FIELD_CHARS): string {
  const s = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, max * 4)).toString('utf8');
  return s.length > max ? s.slice(0, max) : s;
}

/** The octets as Latin-1 (one character per octet): for matching keywords in binary-safe text. */
export function latin1(b: Uint8Array, max = MAX_FIELD_CHARS): string {
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, max)).toString('latin1');
}

/** Cuts `s` to MAX_FIELD_CHARS. */
export function clip(s: string, max = MAX_FIELD_CHARS): string {
  return s.length > max ? s.slice(0, max) : s;
}

/** Whether `b` starts with `prefix` (ASCII, case-insensitive; `prefix` given in upper case). */
export function startsWithCi(b: Uint8Array, prefix: string, at = 0): boolean {
  if (b.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    let c = b[at + i]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether `b` could still turn out to start with one of `prefixes` (ASCII, case-insensitive,
 * prefixes in upper case): 'yes' when it does, 'more' when `b` is a proper prefix of one,
 * 'no' otherwise. The sniffers use it on the first bytes of a flow.
 */
export function sniffPrefix(b: Uint8Array, prefixes: readonly string[]): 'yes' | 'no' | 'more' {
  let more = false;
  for (const p of prefixes) {
    const n = Math.min(b.length, p.length);
    let i = 0;
    for (; i < n; i++) {
      let c = b[i]!;
      if (c >= 0x61 && c <= 0x7a) c -= 0x20;
      if (c !== p.charCodeAt(i)) break;
    }
    if (i < n) continue;
    if (b.length >= p.length) return 'yes';
    more = true;
  }
  return more ? 'more' : 'no';
}

/** Decodes standard base64 (RFC 4648; padding optional); undefined when it is not base64. */
export function base64(s: string): Uint8Array | undefined {
  const t = s.trim();
  if (t === '=' || !/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 === 1) return undefined;
  return Buffer.from(t, 'base64');
}

/**
 * The authentication identity in a SASL PLAIN message (RFC 4616: authzid NUL authcid NUL
 * passwd), given as base64. The password is never returned or kept.
 */
export function saslPlainUser(b64: string): string | undefined {
  const b = base64(b64);
  if (!b) return undefined;
  const first = b.indexOf(0);
  const second = first < 0 ? -1 : b.indexOf(0, first + 1);
  if (second < 0) return undefined;
  const user = text(b.subarray(first + 1, second));
  return user === '' ? undefined : user;
}

/**
 * The user name in the first client response of a SASL exchange (base64): the PLAIN
 * authentication identity (RFC 4616), or the LOGIN user name; undefined for other
 * mechanisms, or when there is none. The password is never read.
 */
export function saslUser(mechanism: string, b64: string): string | undefined {
  if (mechanism === 'PLAIN') return saslPlainUser(b64);
  if (mechanism !== 'LOGIN') return undefined;
  const u = base64(b64);
  return u && u.length > 0 ? text(u) : undefined;
}

/** The fields of a logon event (SMTP, POP3, IMAP, XMPP): its mechanism and outcome, and the user name when known. */
export function logonFields(mechanism: string, ok: boolean, username: string | undefined): Record<string, string> {
  const fields: Record<string, string> = { kind: 'logon', mechanism, status: ok ? 'ok' : 'failed' };
  if (username !== undefined) fields.username = username;
  return fields;
}

