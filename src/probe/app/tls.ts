/**
 * TLS analyser: the client's ClientHello (TLS 1.0 to 1.3, RFC 8446 §4.1.2, RFC 5246 §7.4.1.2),
 * read across records and segments, for the server name (SNI, RFC 6066 §3), the offered
 * application protocols (ALPN, RFC 7301) and versions (supported_versions, RFC 8446 §4.2.1).
 * Nothing after the ClientHello is read: the rest is encrypted or not needed. Pure.
 *
 *   TLSPlaintext  <type 22:1><legacy_record_version:2><length:2><fragment>   (length ≤ 2^14 + 2048)
 *   Handshake     <msg_type 1:1><length:3><ClientHello>
 *   ClientHello   <legacy_version:2><random:32><session_id<0..32>:1><cipher_suites:2>
 *                 <compression_methods:1><extensions<8..2^16-1>:2>
 *   server_name(0)  <list:2> { <name_type 0:1><HostName:2> }
 *   ALPN(16)        <list:2> { <ProtocolName:1> }
 *   supported_versions(43) <list:1> { <version:2> }
 *
 * Events (protocol "tls"), one per connection, side "client", fields: `sni` (lower case,
 * without a trailing dot) when offered; `alpn` (comma-separated) when offered; `version`
 * ("TLS 1.3", the highest offered); `ech` "true" when an Encrypted Client Hello extension
 * (0xfe0d) hides the real name (the `sni` is then the outer, public one).
 *
 * Classification for pen-register orders: the server name is the host name the target
 * connects to (addressing); ALPN and versions are protocol signalling. No field is content.
 */
import { Gather } from './gather';
import { NO_EVENTS } from './outbox';
import { newCounters } from './text';
import type { AppCounters, AppEvent, FlowSide, StreamAnalyser } from './types';

/** Largest ClientHello read (handshake message octets); a larger one is given up on (truncated). */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;
/** Largest TLSPlaintext fragment allowed (RFC 8446 §5.1: 2^14; TLS 1.2 ciphertext may add 2048). */
export const MAX_TLS_RECORD_BYTES = 16384 + 2048;

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const EXT_ECH = 0xfe0d;

/** Sniffer: the client starts with a handshake record holding a ClientHello. */
export function sniffTls(client: Uint8Array): 'yes' | 'no' | 'more' {
  if (client.length === 0) return 'more';
  if (client[0] !== HANDSHAKE) return 'no';
  if (client.length >= 2 && client[1] !== 3) return 'no';
  if (client.length >= 3 && client[2]! > 4) return 'no';
  if (client.length < 6) return 'more';
  return client[5] === CLIENT_HELLO ? 'yes' : 'no';
}

/** GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
const grease = (v: number): boolean => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);

export function versionName(v: number): string {
  if (v === 0x0300) return 'SSL 3.0';
  if (v >= 0x0301 && v <= 0x0304) return `TLS 1.${v - 0x0301}`;
  return `0x${v.toString(16).padStart(4, '0')}`;
}

export class TlsAnalyser implements StreamAnalyser {
  readonly protocol = 'tls';
  private done = false;
  /** The current record's header, as far as it came. */
  private readonly header = new Gather(5);
  /** Octets of the current record's fragment still to come. */
  private recordLeft = 0;
  /** The handshake message octets gathered so far. */
  private hs = new Uint8Array(0);
  private hsHave = 0;

  constructor(readonly counters: AppCounters = newCounters()) {}

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    if (side !== 'client' || this.done) return NO_EVENTS;
    let off = 0;
    while (off < data.length && !this.done) {
      if (this.recordLeft === 0) {
        off = this.header.fill(data, off);
        if (!this.header.full) break;
        this.header.reset();
        const h = this.header.buf;
        const len = (h[3]! << 8) | h[4]!;
        if (h[0] !== HANDSHAKE || h[1] !== 3 || len === 0 || len > MAX_TLS_RECORD_BYTES) return this.fail('malformed');
        this.recordLeft = len;
        continue;
      }
      const n = Math.min(this.recordLeft, data.length - off);
      if (!this.append(data.subarray(off, off + n))) return NO_EVENTS;
      this.recordLeft -= n;
      off += n;
      const ev = this.tryParse(timeUs);
      if (ev) return ev;
    }
    return NO_EVENTS;
  }

  onGap(): void {
    if (!this.done) this.fail('truncated');
  }

  onEnd(): AppEvent[] {
    if (!this.done && (this.hsHave > 0 || this.header.have > 0)) this.fail('truncated');
    return NO_EVENTS;
  }

  private fail(why: 'malformed' | 'truncated'): AppEvent[] {
    this.done = true;
    this.counters[why]++;
    this.hs = new Uint8Array(0);
    return NO_EVENTS;
  }

  /** Adds fragment octets to the handshake buffer, growing it up to the limit. */
  private append(b: Uint8Array): boolean {
    const need = this.hsHave + b.length;
    if (need > MAX_CLIENT_HELLO_BYTES + 4) {
      this.fail('truncated');
      return false;
    }
    if (need > this.hs.length) {
      const grown = new Uint8Array(Math.min(MAX_CLIENT_HELLO_BYTES + 4, Math.max(need, this.hs.length * 2, 512)));
      grown.set(this.hs.subarray(0, this.hsHave));
      this.hs = grown;
    }
    this.hs.set(b, this.hsHave);
    this.hsHave = need;
    return true;
  }

  private tryParse(timeUs: bigint): AppEvent[] | undefined {
    if (this.hsHave < 4) return undefined;
    const hs = this.hs;
    if (hs[0] !== CLIENT_HELLO) return this.fail('malformed');
    const len = (hs[1]! << 16) | (hs[2]! << 8) | hs[3]!;
    if (len > MAX_CLIENT_HELLO_BYTES) return this.fail('truncated');
    if (this.hsHave < 4 + len) return undefined;
    const fields = parseClientHello(hs.subarray(4, 4 + len));
    this.done = true;
    this.hs = new Uint8Array(0);
    if (!fields) {
      this.counters.malformed++;
      return NO_EVENTS;
    }
    this.counters.events++;
    return [{ protocol: 'tls', timeUs, side: 'client', fields }];
  }
}

/** The event fields of a ClientHello body (after the handshake header), or undefined when it is malformed. */
export function parseClientHello(b: Uint8Array): Record<string, string> | undefined {
  const r = new Reader(b);
  const legacy = r.u16();
  r.skip(32);
  r.skip(r.u8()); // session_id
  r.skip(r.u16()); // cipher_suites
  r.skip(r.u8()); // compression_methods
  if (!r.ok) return undefined;
  const fields: Record<string, string> = {};
  let best = legacy;
  if (r.left > 0) {
    const ext = r.sub(r.u16());
    while (r.ok && ext.ok && ext.left > 0) {
      const type = ext.u16();
      const body = ext.sub(ext.u16());
      if (!ext.ok) return undefined;
      if (type === EXT_SERVER_NAME) {
        const list = body.sub(body.u16());
        while (list.ok && list.left > 0) {
          const nameType = list.u8();
          const name = list.bytes(list.u16());
          if (!list.ok || !name) return undefined;
          if (nameType === 0 && fields.sni === undefined) {
            const s = hostName(name);
            if (s === undefined) return undefined;
            fields.sni = s;
          }
        }
        if (!list.ok) return undefined;
      } else if (type === EXT_ALPN) {
        const list = body.sub(body.u16());
        const names: string[] = [];
        while (list.ok && list.left > 0) {
          const p = list.bytes(list.u8());
          if (p && p.length > 0) names.push(Buffer.from(p).toString('latin1').replace(/[^\x21-\x7e]/g, '?'));
        }
        if (!list.ok) return undefined;
        fields.alpn = names.join(',');
      } else if (type === EXT_SUPPORTED_VERSIONS) {
        const list = body.sub(body.u8());
        while (list.ok && list.left >= 2) {
          const v = list.u16();
          if (!grease(v) && v > best && v <= 0x0304) best = v;
        }
      } else if (type === EXT_ECH) fields.ech = 'true';
    }
    if (!r.ok || !ext.ok) return undefined;
  }
  fields.version = versionName(best);
  return fields;
}

/** A DNS host name as text (RFC 6066: ASCII, no trailing dot), or undefined when it is not one. */
function hostName(b: Uint8Array): string | undefined {
  if (b.length === 0 || b.length > 255) return undefined;
  for (const c of b) if (c <= 0x20 || c >= 0x7f) return undefined;
  return Buffer.from(b).toString('latin1').toLowerCase().replace(/\.$/, '');
}

/** A bounds-checked big-endian reader: a read past the end clears `ok` and returns 0. */
class Reader {
  ok = true;
  private pos = 0;
  constructor(private readonly b: Uint8Array) {}
  get left(): number {
    return this.b.length - this.pos;
  }
  u8(): number {
    if (this.left < 1) return this.bad();
    return this.b[this.pos++]!;
  }
  u16(): number {
    if (this.left < 2) return this.bad();
    const v = (this.b[this.pos]! << 8) | this.b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  skip(n: number): void {
    if (this.left < n) this.bad();
    else this.pos += n;
  }
  bytes(n: number): Uint8Array | undefined {
    if (!this.ok || this.left < n) {
      this.bad();
      return undefined;
    }
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  sub(n: number): Reader {
    const v = this.bytes(n);
    const r = new Reader(v ?? new Uint8Array(0));
    if (!v) r.ok = false;
    return r;
  }
  private bad(): number {
    this.ok = false;
    this.pos = this.b.length;
    return 0;
  }
}
