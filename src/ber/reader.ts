/**
 * BER reader (X.690), definite lengths only. Pure: bytes in, plain objects out.
 *
 * It accepts what real peers send (non-minimal lengths, long-form tags) and enforces named
 * limits (nesting depth, element size). Every failure is a `BerError` with a stable code
 * and the byte offset where it was found.
 */
import { BerError } from '../errors';
import { DEFAULT_LIMITS, DEFAULT_MAX_ELEMENTS, ReadLimits, TagClass } from './constants';

/** One element's identifier and where its contents lie in the input. */
export interface Header {
  cls: TagClass;
  constructed: boolean;
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first contents octet. */
  contentStart: number;
  /** Offset just past the contents. */
  end: number;
}

/** A decoded element: primitives keep their contents, constructed ones their children. */
export interface Element extends Header {
  /** The contents octets (a view, not a copy; made on first use). */
  readonly content: Uint8Array;
  /** Children, for constructed elements; empty for primitives. */
  children: Element[];
}

/** Element of a parsed tree; `content` is a view made only when asked for (decoding is hot). */
class TreeElement implements Element {
  children: Element[] = [];
  constructor(
    private readonly buf: Uint8Array,
    readonly cls: TagClass,
    readonly constructed: boolean,
    readonly tag: number,
    readonly start: number,
    readonly contentStart: number,
    readonly end: number,
  ) {}
  get content(): Uint8Array {
    return this.buf.subarray(this.contentStart, this.end);
  }
}

/**
 * Reads the identifier and length at `at`, within `[at, limit)`. Throws TRUNCATED when the
 * header or contents run past `limit`, so a stream framer can tell "need more" from "bad".
 */
export function readHeader(buf: Uint8Array, at: number, limit = buf.length, limits: ReadLimits = DEFAULT_LIMITS): Header {
  const start = at;
  if (at >= limit) throw new BerError('LIG_ERR_BER_TRUNCATED', 'expected an element, found the end of input', at);
  const first = buf[at++]!;
  const cls = (first >> 6) as TagClass;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    let octets = 0;
    for (;;) {
      // four octets that all say "more follows" are over-long whatever comes next
      if (octets === 4) throw new BerError('LIG_ERR_BER_BAD_TAG', 'tag number is longer than 4 octets', start);
      if (at >= limit) throw new BerError('LIG_ERR_BER_TRUNCATED', 'tag number runs past the end of input', at);
      const b = buf[at++]!;
      octets++;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (at >= limit) throw new BerError('LIG_ERR_BER_TRUNCATED', 'length runs past the end of input', at);
  let len = buf[at++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new BerError('LIG_ERR_BER_BAD_LENGTH', 'indefinite length is not allowed in handover', at - 1);
    if (n === 0x7f) throw new BerError('LIG_ERR_BER_BAD_LENGTH', 'length octet 0xFF is reserved', at - 1);
    // Read the length octets that are there; an oversize length is refused as soon as its
    // leading octets prove it, before the rest arrive (the least a hostile peer can make us wait).
    const lengthOctets = at;
    len = 0;
    for (let i = 0; i < n; i++) {
      if (at >= limit) throw new BerError('LIG_ERR_BER_TRUNCATED', 'length runs past the end of input', lengthOctets);
      len = len * 256 + buf[at++]!;
      if (len * 256 ** (n - 1 - i) > limits.maxPduBytes) {
        throw new BerError('LIG_ERR_BER_TOO_LARGE', `element length exceeds the ${limits.maxPduBytes}-byte limit`, start);
      }
    }
  }
  if (len > limits.maxPduBytes) {
    throw new BerError('LIG_ERR_BER_TOO_LARGE', `element length ${len} exceeds the ${limits.maxPduBytes}-byte limit`, start);
  }
  if (at + len > limit) {
    throw new BerError('LIG_ERR_BER_TRUNCATED', `element of ${len} bytes runs past the end of its container`, start);
  }
  return { cls, constructed, tag, start, contentStart: at, end: at + len };
}

/**
 * Parses the single element at `at` (and everything in it) into a tree. Children must fill
 * their parent exactly. `depth` is the caller's nesting level (0 for a PDU).
 */
export function readElement(buf: Uint8Array, at = 0, limit = buf.length, limits: ReadLimits = DEFAULT_LIMITS, depth = 0): Element {
  const budget = { left: limits.maxElements ?? DEFAULT_MAX_ELEMENTS };
  if (depth === 0) return withStackGuard(at, () => readTree(buf, at, limit, limits, 0, budget));
  return readTree(buf, at, limit, limits, depth, budget);
}

/**
 * Runs a recursive descent, turning a call-stack overflow (possible only when a caller raises
 * `maxDepth` far beyond the default) into the typed error the depth limit stands for.
 */
export function withStackGuard<T>(at: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new BerError('LIG_ERR_BER_TOO_DEEP', 'nesting deeper than the call stack allows; lower maxDepth', at);
    }
    throw e;
  }
}

function readTree(buf: Uint8Array, at: number, limit: number, limits: ReadLimits, depth: number, budget: { left: number }): Element {
  if (depth >= limits.maxDepth) throw new BerError('LIG_ERR_BER_TOO_DEEP', `nesting deeper than ${limits.maxDepth}`, at);
  if (--budget.left < 0) {
    throw new BerError('LIG_ERR_BER_TOO_MANY', `more than ${limits.maxElements ?? DEFAULT_MAX_ELEMENTS} elements in one PDU`, at);
  }
  const h = readHeader(buf, at, limit, limits);
  const el = new TreeElement(buf, h.cls, h.constructed, h.tag, h.start, h.contentStart, h.end);
  if (h.constructed) {
    let p = h.contentStart;
    while (p < h.end) {
      const child = readTree(buf, p, h.end, limits, depth + 1, budget);
      el.children.push(child);
      p = child.end;
    }
  }
  return el;
}

/**
 * Stream framing: the total size of the complete element starting at `at`, or `undefined`
 * when more bytes are needed to know or to hold it. Malformed headers throw (they will not
 * get better with more bytes); so does an element larger than `maxPduBytes`.
 */
export function frameLength(buf: Uint8Array, at = 0, limits: ReadLimits = DEFAULT_LIMITS): number | undefined {
  try {
    // TRUNCATED means "need more": whether the header or the contents are incomplete
    return readHeader(buf, at, buf.length, limits).end - at;
  } catch (e) {
    if (e instanceof BerError && e.code === 'LIG_ERR_BER_TRUNCATED') return undefined;
    throw e;
  }
}

// --- primitive contents ------------------------------------------------------------------

/** INTEGER / ENUMERATED contents: a number when it fits exactly, else a bigint. */
export function decodeInteger(c: Uint8Array, offset = 0): number | bigint {
  if (c.length === 0) throw new BerError('LIG_ERR_BER_BAD_VALUE', 'INTEGER with no contents octets', offset);
  if (c.length <= 6) {
    let v = c[0]! & 0x80 ? -1 : 0;
    for (let i = 0; i < c.length; i++) v = v * 256 + c[i]!;
    // the sign-extended start of -1 shifts correctly: -1*256+b = b-256
    return v;
  }
  // one conversion of the whole hex text: linear, where shifting byte by byte is quadratic
  let v = BigInt('0x' + Buffer.from(c.buffer, c.byteOffset, c.length).toString('hex'));
  if (c[0]! & 0x80) v -= 1n << BigInt(c.length * 8);
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return v;
}

export function decodeBoolean(c: Uint8Array, offset = 0): boolean {
  if (c.length !== 1) throw new BerError('LIG_ERR_BER_BAD_VALUE', `BOOLEAN with ${c.length} contents octets`, offset);
  return c[0] !== 0;
}

export function decodeNull(c: Uint8Array, offset = 0): null {
  if (c.length !== 0) throw new BerError('LIG_ERR_BER_BAD_VALUE', `NULL with ${c.length} contents octets`, offset);
  return null;
}

/** OBJECT IDENTIFIER contents as dotted text. */
export function decodeOid(c: Uint8Array, offset = 0): string {
  const arcs = base128Arcs(c, offset);
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** RELATIVE-OID contents as dotted text. */
export function decodeRelativeOid(c: Uint8Array, offset = 0): string {
  return base128Arcs(c, offset).join('.');
}

/** BIT STRING contents. */
export function decodeBitString(c: Uint8Array, offset = 0): { bytes: Uint8Array; unusedBits: number } {
  if (c.length === 0) throw new BerError('LIG_ERR_BER_BAD_VALUE', 'BIT STRING with no contents octets', offset);
  const unusedBits = c[0]!;
  if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0)) {
    throw new BerError('LIG_ERR_BER_BAD_VALUE', `BIT STRING with ${unusedBits} unused bits`, offset);
  }
  return { bytes: c.subarray(1), unusedBits };
}

/** A character string's contents, checked against its alphabet. */
export function decodeString(c: Uint8Array, kind: 'ia5' | 'printable' | 'utf8' | 'time', offset = 0): string {
  if (kind === 'utf8') {
    const s = Buffer.from(c.buffer, c.byteOffset, c.length).toString('utf8');
    if (s.includes('\uFFFD') && !Buffer.from(s, 'utf8').equals(c)) {
      throw new BerError('LIG_ERR_BER_BAD_VALUE', 'UTF8String is not valid UTF-8', offset);
    }
    return s;
  }
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    const ok = kind === 'printable' ? PRINTABLE[b] === 1 : b < 0x80;
    if (!ok) throw new BerError('LIG_ERR_BER_BAD_VALUE', `byte 0x${b.toString(16)} is not allowed in ${kind} text`, offset + i);
  }
  return Buffer.from(c.buffer, c.byteOffset, c.length).toString('latin1');
}

/**
 * GeneralizedTime contents, checked for shape: `YYYYMMDDhh[mm[ss[.f+]]][Z|±hhmm]`.
 * Returns the text as sent; use `generalizedTimeToDate` for a Date.
 */
export function decodeGeneralizedTime(c: Uint8Array, offset = 0): string {
  const s = decodeString(c, 'time', offset);
  if (!GT_RE.test(s)) throw new BerError('LIG_ERR_BER_BAD_VALUE', `"${s}" is not a GeneralizedTime`, offset);
  return s;
}

const GT_RE = /^\d{10}(\d{2}(\d{2}([.,]\d+)?)?)?(Z|[+-]\d{4})?$/;

/** A GeneralizedTime's instant (local times without a zone are read as UTC). */
export function generalizedTimeToDate(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(s);
  if (!m) return new Date(NaN);
  const [, y, mo, d, h, mi = '00', se = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Math.floor(Number('0.' + frac) * 1000) : 0;
  let t = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi, +se, ms);
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    t -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  return new Date(t);
}

function base128Arcs(c: Uint8Array, offset: number): number[] {
  if (c.length === 0) throw new BerError('LIG_ERR_BER_BAD_VALUE', 'object identifier with no contents octets', offset);
  if (c[c.length - 1]! & 0x80) throw new BerError('LIG_ERR_BER_BAD_VALUE', 'object identifier ends inside an arc', offset);
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER) throw new BerError('LIG_ERR_BER_BAD_VALUE', 'object identifier arc too large', offset + i);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs;
}

const PRINTABLE = (() => {
  const t = new Uint8Array(256);
  for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?") t[ch.charCodeAt(0)] = 1;
  return t;
})();
