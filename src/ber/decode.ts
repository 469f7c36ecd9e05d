/**
 * Generic schema-driven BER decoder: an element tree in, plain objects named as in the
 * ASN.1 out. Lenient where real peers differ (non-minimal lengths, unknown extension
 * additions in extensible types), strict where the PDU would be misread (wrong tags,
 * missing mandatory components). Constraints (sizes, ranges) are the encoder's job; the
 * decoder reports what was sent.
 */
import { BerError } from '../errors';
import { DEFAULT_LIMITS, ReadLimits, TagClass } from './constants';
import {
  Element,
  decodeBitString,
  decodeBoolean,
  decodeGeneralizedTime,
  decodeInteger,
  decodeNull,
  decodeOid,
  decodeRelativeOid,
  decodeString,
  readElement,
  withStackGuard,
} from './reader';
import { Field, Schema, firstTags, needsExplicit, resolve, tagKey, universalTag } from './schema';

/** An element the schema does not know (an extension addition from a newer version). */
export interface UnknownElement {
  tag: string;
  bytes: Uint8Array;
}

/** Key under which a SEQUENCE keeps unknown extension additions. */
export const UNKNOWN = '$unknown';

/** Decodes one complete element at `at` against `schema`. */
export function decode(schema: Schema, buf: Uint8Array, at = 0, limits: ReadLimits = DEFAULT_LIMITS): unknown {
  const el = readElement(buf, at, buf.length, limits);
  return withStackGuard(at, () => decodeElement(schema, el, buf));
}

/** Decodes an element already read, as the untagged form of `schema`. */
export function decodeElement(schema: Schema, el: Element, buf: Uint8Array): unknown {
  const r = resolve(schema);
  if (r.kind === 'choice') return decodeChoice(r, el, buf);
  if (r.kind === 'raw') return buf.subarray(el.start, el.end);
  const u = universalTag(r)!;
  expectTag(el, TagClass.Universal, u.tag, u.constructed, nameOf(r));
  return decodeContent(r, el, buf);
}

function decodeField(field: Field, el: Element, buf: Uint8Array): unknown {
  if (field.tag === undefined) return decodeElement(field.type, el, buf);
  const cls = field.cls ?? TagClass.Context;
  if (needsExplicit(field.type)) {
    expectTag(el, cls, field.tag, true, field.name);
    if (el.children.length !== 1) {
      throw new BerError('LIG_ERR_BER_UNEXPECTED', `${field.name}: an explicit tag must hold exactly one element, found ${el.children.length}`, el.start);
    }
    return decodeElement(field.type, el.children[0]!, buf);
  }
  const u = universalTag(field.type)!;
  expectTag(el, cls, field.tag, u.constructed, field.name);
  return decodeContent(resolve(field.type), el, buf);
}

function decodeContent(s: Exclude<Schema, { kind: 'lazy' }>, el: Element, buf: Uint8Array): unknown {
  const c = el.content;
  const at = el.contentStart;
  switch (s.kind) {
    case 'int':
      return decodeInteger(c, at);
    case 'enum': {
      const n = decodeInteger(c, at);
      const name = typeof n === 'number' ? enumNames(s.values).get(n) : undefined;
      if (name !== undefined) return name;
      return typeof n === 'bigint' ? n.toString() : n; // an extension value this version does not name
    }
    case 'bool':
      return decodeBoolean(c, at);
    case 'null':
      return decodeNull(c, at);
    case 'octets':
      return c;
    case 'ia5':
    case 'printable':
    case 'utf8':
      return decodeString(c, s.kind, at);
    case 'gtime':
      return decodeGeneralizedTime(c, at);
    case 'oid':
      return decodeOid(c, at);
    case 'roid':
      return decodeRelativeOid(c, at);
    case 'bits':
      return decodeBitString(c, at);
    case 'seq':
      return decodeSequence(s, el, buf);
    case 'seqOf':
      return el.children.map((child) => decodeElement(s.of, child, buf));
    case 'choice':
    case 'raw':
      throw new BerError('LIG_ERR_BER_UNEXPECTED', 'internal: a CHOICE or open type has no implicit contents', el.start);
  }
}

// Schemas are immutable once built: each ENUMERATED's number → name map is made once.
const ENUM_NAMES = new WeakMap<Readonly<Record<string, number>>, Map<number, string>>();

function enumNames(values: Readonly<Record<string, number>>): Map<number, string> {
  let m = ENUM_NAMES.get(values);
  if (!m) {
    m = new Map(Object.entries(values).map(([k, v]) => [v, k]));
    ENUM_NAMES.set(values, m);
  }
  return m;
}

function decodeSequence(s: Extract<Schema, { kind: 'seq' }>, el: Element, buf: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let next = 0; // components before this index are done (present or passed over)
  for (const kid of el.children) {
    const key = tagKey(kid.cls, kid.tag);
    let n = next;
    while (n < s.fields.length && !firstTags(s.fields[n]!).includes(key)) n++;
    if (n === s.fields.length) {
      // not a component we know at this point. Where the next mandatory component is an
      // untagged extensible CHOICE, it is that CHOICE's new alternative (the SEQUENCE's own
      // additions come after its root components); otherwise an addition to the SEQUENCE.
      const m = nextMandatory(s, next);
      const into = m === undefined ? undefined : resolve(s.fields[m]!.type);
      if (m !== undefined && into?.kind === 'choice' && into.ext && s.fields[m]!.tag === undefined) {
        out[s.fields[m]!.name] = { [UNKNOWN]: unknownOf(kid, buf) };
        next = m + 1;
        continue;
      }
      if (!s.ext) throw new BerError('LIG_ERR_BER_UNEXPECTED', `${s.name} has no component ${describe(kid)} here`, kid.start);
      ((out[UNKNOWN] ??= []) as UnknownElement[]).push(unknownOf(kid, buf));
      continue;
    }
    for (let m = next; m < n; m++) missing(s, s.fields[m]!, kid);
    out[s.fields[n]!.name] = decodeField(s.fields[n]!, kid, buf);
    next = n + 1;
  }
  for (let m = next; m < s.fields.length; m++) missing(s, s.fields[m]!, undefined, el.end);
  return out;
}

/** Index of the first mandatory component at or after `from`, if any. */
function nextMandatory(s: Extract<Schema, { kind: 'seq' }>, from: number): number | undefined {
  for (let m = from; m < s.fields.length; m++) if (!s.fields[m]!.optional) return m;
  return undefined;
}

function missing(s: { name: string }, fl: Field, found: Element | undefined, end = 0): void {
  if (fl.optional) return;
  throw new BerError('LIG_ERR_BER_MISSING', `${s.name}.${fl.name} is mandatory but ${found ? `found ${describe(found)}` : 'absent'}`, found?.start ?? end);
}

function decodeChoice(s: Extract<Schema, { kind: 'choice' }>, el: Element, buf: Uint8Array): Record<string, unknown> {
  const key = tagKey(el.cls, el.tag);
  for (const alt of s.alts) {
    if (firstTags(alt).includes(key)) return { [alt.name]: decodeField(alt, el, buf) };
  }
  if (s.ext) return { [UNKNOWN]: unknownOf(el, buf) };
  throw new BerError('LIG_ERR_BER_UNEXPECTED', `${s.name} has no alternative ${describe(el)}`, el.start);
}

function expectTag(el: Element, cls: number, tag: number, constructed: boolean, what: string): void {
  if (el.cls !== cls || el.tag !== tag) {
    throw new BerError('LIG_ERR_BER_UNEXPECTED', `${what}: expected ${tagText(cls, tag)}, found ${describe(el)}`, el.start);
  }
  if (el.constructed !== constructed) {
    throw new BerError('LIG_ERR_BER_UNEXPECTED', `${what}: ${tagText(cls, tag)} must be ${constructed ? 'constructed' : 'primitive'}`, el.start);
  }
}

function unknownOf(el: Element, buf: Uint8Array): UnknownElement {
  return { tag: tagText(el.cls, el.tag), bytes: buf.subarray(el.start, el.end) };
}

const CLASS_PREFIX = ['UNIVERSAL ', 'APPLICATION ', '', 'PRIVATE '];

export function tagText(cls: number, tag: number): string {
  return `[${CLASS_PREFIX[cls]}${tag}]`;
}

function describe(el: Element): string {
  return `${tagText(el.cls, el.tag)} ${el.constructed ? 'constructed' : 'primitive'}`;
}

function nameOf(s: Schema): string {
  const r = resolve(s);
  return r.kind === 'seq' || r.kind === 'choice' ? r.name : r.kind;
}
