/**
 * BER writer (X.690) for the definite-length, minimal encodings handover uses.
 * Pure: bytes in, bytes out. Every function returns a fresh Uint8Array (a Buffer).
 */
import { BerError } from '../errors';
import { TagClass, UNIVERSAL } from './constants';

/** Tag numbers the reader accepts fit in 4 base-128 octets; the writer refuses larger ones. */
export const MAX_TAG_NUMBER = 2 ** 28;

/** Identifier octets for a tag of any class and number (X.690 8.1.2). */
export function encodeTag(cls: TagClass, constructed: boolean, num: number): Buffer {
  if (!Number.isSafeInteger(num) || num < 0) throw new BerError('LIG_ERR_BER_RANGE', `tag number ${num} is not a non-negative integer`);
  if (num >= MAX_TAG_NUMBER) throw new BerError('LIG_ERR_BER_RANGE', `tag number ${num} is beyond what the reader accepts (4 octets)`);
  const first = (cls << 6) | (constructed ? 0x20 : 0);
  if (num < 31) return Buffer.from([first | num]);
  const rest = base128(num);
  const out = Buffer.allocUnsafe(1 + rest.length);
  out[0] = first | 0x1f;
  out.set(rest, 1);
  return out;
}

/** Length octets in the minimal definite form (X.690 8.1.3). */
export function encodeLength(len: number): Buffer {
  if (!Number.isSafeInteger(len) || len < 0) throw new BerError('LIG_ERR_BER_RANGE', `length ${len} is not a non-negative integer`);
  if (len < 0x80) return Buffer.from([len]);
  let n = 0;
  for (let v = len; v > 0; v = Math.floor(v / 256)) n++;
  const out = Buffer.allocUnsafe(1 + n);
  out[0] = 0x80 | n;
  for (let i = n, v = len; i >= 1; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

/** Number of length octets `encodeLength(len)` produces. */
export function lengthSize(len: number): number {
  if (len < 0x80) return 1;
  let n = 1;
  for (let v = len; v > 0; v = Math.floor(v / 256)) n++;
  return n;
}

/** Writes the minimal length octets of `len` at `at`; returns the offset after them. */
export function writeLength(buf: Uint8Array, at: number, len: number): number {
  if (len < 0x80) {
    buf[at] = len;
    return at + 1;
  }
  const n = lengthSize(len) - 1;
  buf[at] = 0x80 | n;
  for (let i = n, v = len; i >= 1; i--, v = Math.floor(v / 256)) buf[at + i] = v & 0xff;
  return at + 1 + n;
}

/** A whole TLV: identifier, length and the contents (concatenated when several). */
export function tlv(tag: Uint8Array, ...contents: Uint8Array[]): Buffer {
  let len = 0;
  for (const c of contents) len += c.length;
  const out = Buffer.allocUnsafe(tag.length + lengthSize(len) + len);
  out.set(tag, 0);
  let at = writeLength(out, tag.length, len);
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Contents octets of an INTEGER or ENUMERATED: minimal two's complement (X.690 8.3). */
export function encodeIntegerContent(value: number | bigint): Buffer {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new BerError('LIG_ERR_BER_RANGE', `integer ${value} is not a safe integer; pass a bigint`);
    if (value >= -128 && value <= 127) return Buffer.from([value & 0xff]);
    value = BigInt(value);
  }
  // bigint path: collect bytes little-endian, then stop once the sign bit is right.
  const bytes: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.push(b);
    v >>= 8n;
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes.reverse());
}

/** Contents octets of an OBJECT IDENTIFIER given as dotted text or arcs (X.690 8.19). */
export function encodeOidContent(oid: string | readonly number[]): Buffer {
  const arcs = typeof oid === 'string' ? parseArcs(oid) : oid;
  if (arcs.length < 2) throw new BerError('LIG_ERR_BER_RANGE', 'an OBJECT IDENTIFIER needs at least two arcs');
  const [a, b] = arcs as [number, number];
  if (![0, 1, 2].includes(a) || !Number.isSafeInteger(b) || b < 0 || (a < 2 && b > 39)) throw new BerError('LIG_ERR_BER_RANGE', `OBJECT IDENTIFIER cannot start ${a}.${b}`);
  return Buffer.concat([base128(a * 40 + b), ...arcs.slice(2).map(base128)]);
}

/** Contents octets of a RELATIVE-OID (X.690 8.20): each arc base-128, no first-arc folding. */
export function encodeRelativeOidContent(oid: string | readonly number[]): Buffer {
  const arcs = typeof oid === 'string' ? parseArcs(oid) : oid;
  if (arcs.length < 1) throw new BerError('LIG_ERR_BER_RANGE', 'a RELATIVE-OID needs at least one arc');
  return Buffer.concat(arcs.map(base128));
}

/**
 * GeneralizedTime text for a time: `YYYYMMDDhhmmss[.fff…]Z` (UTC, X.690 11.7 form).
 * Fractions are written without trailing zeros; a whole second has none.
 * `micros` (0..999999) adds sub-millisecond precision to a Date.
 */
export function formatGeneralizedTime(date: Date, micros?: number): string {
  const t = date.getTime();
  if (!Number.isFinite(t)) throw new BerError('LIG_ERR_BER_RANGE', 'GeneralizedTime of an invalid Date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new BerError('LIG_ERR_BER_RANGE', `GeneralizedTime year ${year} does not fit four digits`);
  if (micros !== undefined && (!Number.isInteger(micros) || micros < 0 || micros > 999_999)) {
    throw new BerError('LIG_ERR_BER_RANGE', `GeneralizedTime microseconds ${micros} are not an integer in 0..999999`);
  }
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  let s = `${p(year, 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  const frac = micros !== undefined ? p(micros, 6) : p(date.getUTCMilliseconds(), 3);
  const trimmed = frac.replace(/0+$/, '');
  if (trimmed) s += '.' + trimmed;
  return s + 'Z';
}

/** Contents of a BOOLEAN: 0xFF for true, as DER requires and every peer accepts. */
export function encodeBooleanContent(v: boolean): Buffer {
  return Buffer.from([v ? 0xff : 0x00]);
}

/** Contents of a BIT STRING: unused-bits octet, then the bits (X.690 8.6). */
export function encodeBitStringContent(bytes: Uint8Array, unusedBits: number): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new BerError('LIG_ERR_BER_RANGE', `BIT STRING cannot have ${unusedBits} unused bits`);
  }
  const out = Buffer.allocUnsafe(1 + bytes.length);
  out[0] = unusedBits;
  out.set(bytes, 1);
  return out;
}

/** A universal-class primitive TLV, for callers that write raw BER by hand (tests, templates). */
export function universal(num: number, content: Uint8Array, constructed = false): Buffer {
  return tlv(encodeTag(TagClass.Universal, constructed, num), content);
}

/** A SEQUENCE of already-encoded elements. */
export function sequence(...elements: Uint8Array[]): Buffer {
  return tlv(Buffer.from([0x20 | UNIVERSAL.SEQUENCE]), ...elements);
}

function parseArcs(text: string): number[] {
  if (!/^\d+(\.\d+)*$/.test(text)) throw new BerError('LIG_ERR_BER_RANGE', `"${text}" is not a dotted object identifier`);
  return text.split('.').map((x) => {
    const n = Number(x);
    if (!Number.isSafeInteger(n)) throw new BerError('LIG_ERR_BER_RANGE', `OID arc ${x} is too large`);
    return n;
  });
}

function base128(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new BerError('LIG_ERR_BER_RANGE', `OID arc ${n} is not a non-negative integer`);
  const out: number[] = [n % 128];
  for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) out.push(0x80 | n % 128);
  return Buffer.from(out.reverse());
}
