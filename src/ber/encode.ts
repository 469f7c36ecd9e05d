/**
 * Generic schema-driven BER encoder. Checks every constraint the schema carries (ranges,
 * sizes, alphabets, mandatory components), so lig never emits a record the ASN.1 forbids.
 * Errors name the path of the offending component, e.g. `PS-PDU.pSHeader.sequenceNumber`.
 */
import { BerError } from '../errors';
import { DEFAULT_MAX_DEPTH, TagClass } from './constants';
import { readElement } from './reader';
import { Field, Schema, needsExplicit, resolve, universalTag } from './schema';
import {
  encodeBitStringContent,
  encodeBooleanContent,
  encodeIntegerContent,
  encodeOidContent,
  encodeRelativeOidContent,
  encodeTag,
  formatGeneralizedTime,
  tlv,
} from './writer';

/** Encodes `value` as the untagged (universal or CHOICE) form of `schema`. */
export function encode(schema: Schema, value: unknown, path = ''): Buffer {
  const r = resolve(schema);
  if (r.kind === 'choice') return encodeChoice(r, value, path || r.name);
  if (r.kind === 'raw') return asElement(value, path || 'raw');
  const u = universalTag(r)!;
  return tlv(encodeTag(TagClass.Universal, u.constructed, u.tag), encodeContent(r, value, path || nameOf(r)));
}

/** Encodes one component with its tag, implicit or explicit as X.680 requires. */
export function encodeField(field: Field, value: unknown, path: string): Buffer {
  if (field.tag === undefined) return encode(field.type, value, path);
  const cls = field.cls ?? TagClass.Context;
  if (needsExplicit(field.type)) return tlv(encodeTag(cls, true, field.tag), encode(field.type, value, path));
  const u = universalTag(field.type)!;
  return tlv(encodeTag(cls, u.constructed, field.tag), encodeContent(resolve(field.type), value, path));
}

function encodeContent(s: Exclude<Schema, { kind: 'lazy' }>, v: unknown, path: string): Buffer {
  switch (s.kind) {
    case 'int': {
      const n = asInteger(v, path);
      if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
        throw rangeError(path, `${n} is outside ${s.min ?? '-∞'}..${s.max ?? '∞'}`);
      }
      return encodeIntegerContent(n);
    }
    case 'enum': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && Object.hasOwn(s.values, v) ? s.values[v] : undefined;
      if (n === undefined || (typeof v === 'number' && !Object.values(s.values).includes(v))) {
        throw rangeError(path, `${JSON.stringify(v)} is not one of ${Object.keys(s.values).join(', ')}`);
      }
      return encodeIntegerContent(n);
    }
    case 'bool':
      if (typeof v !== 'boolean') throw rangeError(path, 'expected a boolean');
      return encodeBooleanContent(v);
    case 'null':
      if (v !== null && v !== undefined && v !== true) throw rangeError(path, 'expected null');
      return Buffer.alloc(0);
    case 'octets': {
      const b = asBytes(v, path);
      checkSize(b.length, s, path);
      return b;
    }
    case 'ia5':
    case 'printable':
    case 'utf8':
      return encodeText(s, v, path);
    case 'gtime': {
      const text = v instanceof Date ? wrapRange(path, () => formatGeneralizedTime(v)) : v;
      if (typeof text !== 'string' || !/^\d{10}(\d{2}(\d{2}([.,]\d+)?)?)?(Z|[+-]\d{4})?$/.test(text)) {
        throw rangeError(path, `${JSON.stringify(v)} is not a GeneralizedTime`);
      }
      return Buffer.from(text, 'latin1');
    }
    case 'oid':
      return wrapRange(path, () => encodeOidContent(asArcs(v, path)));
    case 'roid':
      return wrapRange(path, () => encodeRelativeOidContent(asArcs(v, path)));
    case 'bits': {
      const b = v as { bytes?: Uint8Array; unusedBits?: number } | undefined;
      if (!b || !(b.bytes instanceof Uint8Array)) throw rangeError(path, 'expected { bytes, unusedBits }');
      const nbits = b.bytes.length * 8 - (b.unusedBits ?? 0);
      checkSize(nbits, s, path);
      return wrapRange(path, () => encodeBitStringContent(b.bytes!, b.unusedBits ?? 0));
    }
    case 'seq': {
      if (typeof v !== 'object' || v === null) throw rangeError(path, `expected ${s.name} as an object`);
      const obj = v as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        if (obj[k] !== undefined && !s.fields.some((fl) => fl.name === k)) throw rangeError(path, `${s.name} has no component "${k}"`);
      }
      const parts: Buffer[] = [];
      for (const fl of s.fields) {
        const fv = obj[fl.name];
        if (fv === undefined) {
          if (!fl.optional) throw new BerError('LIG_ERR_BER_MISSING', `${path}.${fl.name} is mandatory`);
          continue;
        }
        parts.push(encodeField(fl, fv, `${path}.${fl.name}`));
      }
      return Buffer.concat(parts);
    }
    case 'seqOf': {
      if (!Array.isArray(v)) throw rangeError(path, 'expected an array');
      checkSize(v.length, s, path);
      return Buffer.concat(v.map((item, i) => encode(s.of, item, `${path}[${i}]`)));
    }
    case 'choice':
    case 'raw':
      throw rangeError(path, 'internal: a CHOICE or open type has no implicit contents');
  }
}

function encodeChoice(s: Extract<Schema, { kind: 'choice' }>, v: unknown, path: string): Buffer {
  if (typeof v !== 'object' || v === null) throw rangeError(path, `expected ${s.name} as { alternative: value }`);
  const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) throw rangeError(path, `${s.name} takes exactly one alternative, got ${keys.length}`);
  const alt = s.alts.find((a) => a.name === keys[0]);
  if (!alt) throw rangeError(path, `${s.name} has no alternative "${keys[0]}"`);
  return encodeField(alt, (v as Record<string, unknown>)[alt.name], `${path}.${alt.name}`);
}

function encodeText(s: { kind: 'ia5' | 'printable' | 'utf8'; min?: number; max?: number }, v: unknown, path: string): Buffer {
  if (typeof v !== 'string') throw rangeError(path, 'expected a string');
  const chars = [...v].length;
  checkSize(chars, s, path);
  if (s.kind === 'utf8') return Buffer.from(v, 'utf8');
  const re = s.kind === 'printable' ? /^[A-Za-z0-9 '()+,\-./:=?]*$/ : /^[\x00-\x7f]*$/;
  if (!re.test(v)) throw rangeError(path, `${JSON.stringify(v)} has characters outside ${s.kind === 'printable' ? 'PrintableString' : 'IA5String'}`);
  return Buffer.from(v, 'latin1');
}

function checkSize(n: number, s: { min?: number; max?: number }, path: string): void {
  if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
    throw rangeError(path, `size ${n} is outside ${s.min ?? 0}..${s.max ?? '∞'}`);
  }
}

function asInteger(v: unknown, path: string): number | bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw rangeError(path, `${String(v)} is not an integer`);
}

function asArcs(v: unknown, path: string): string | readonly number[] {
  if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'))) return v;
  throw rangeError(path, 'expected an object identifier as dotted text or an array of arcs');
}

/** An open type's value: bytes that must be exactly one well-formed BER element. */
function asElement(v: unknown, path: string): Buffer {
  const b = asBytes(v, path);
  const el = wrapRange(path, () => readElement(b, 0, b.length, { maxDepth: DEFAULT_MAX_DEPTH, maxPduBytes: Number.MAX_SAFE_INTEGER }));
  if (el.end !== b.length) throw rangeError(path, `an open type holds one element, but ${b.length - el.end} bytes follow it`);
  return b;
}

function asBytes(v: unknown, path: string): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.length);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  throw rangeError(path, 'expected bytes (Uint8Array) or a string');
}

function wrapRange<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BerError) throw rangeError(path, e.message);
    throw e;
  }
}

function rangeError(path: string, msg: string): BerError {
  return new BerError('LIG_ERR_BER_RANGE', `${path}: ${msg}`);
}

function nameOf(s: Schema): string {
  const r = resolve(s);
  return r.kind === 'seq' || r.kind === 'choice' ? r.name : r.kind;
}
