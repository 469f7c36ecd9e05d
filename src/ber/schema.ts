/**
 * ASN.1 types as data, for modules written with DEFINITIONS IMPLICIT TAGS (as every
 * TS 102 232 module is). A schema drives one generic encoder (`encode`) and one generic
 * decoder (`decode`), so each record module is a line-by-line transcription of its ASN.1.
 *
 * Values are plain objects named as in the ASN.1:
 * - SEQUENCE → object, absent OPTIONAL components omitted; CHOICE → `{ alternative: value }`
 * - SEQUENCE OF → array; INTEGER → number (bigint beyond 2^53); ENUMERATED → its name
 * - OCTET STRING → Uint8Array; character strings and GeneralizedTime → string
 * - OBJECT IDENTIFIER / RELATIVE-OID → dotted string; BOOLEAN → boolean; NULL → null
 * - BIT STRING → { bytes, unusedBits }; an open type (`raw`) → the element's encoded bytes
 *
 * Tagging follows X.680 31.2.7: a tagged component is IMPLICIT unless its type is a CHOICE
 * or an open type, which are tagged EXPLICITly.
 */
import { TagClass, UNIVERSAL } from './constants';

export type Schema =
  | { kind: 'int'; min?: number | bigint; max?: number | bigint }
  | { kind: 'enum'; values: Readonly<Record<string, number>>; ext?: boolean }
  | { kind: 'bool' }
  | { kind: 'null' }
  | { kind: 'octets'; min?: number; max?: number }
  | { kind: 'ia5' | 'printable' | 'utf8'; min?: number; max?: number }
  | { kind: 'gtime' }
  | { kind: 'oid' }
  | { kind: 'roid' }
  | { kind: 'bits'; min?: number; max?: number }
  | { kind: 'seq'; name: string; fields: readonly Field[]; ext?: boolean }
  | { kind: 'seqOf'; of: Schema; min?: number; max?: number }
  | { kind: 'choice'; name: string; alts: readonly Field[]; ext?: boolean }
  | { kind: 'raw' }
  | { kind: 'lazy'; get: () => Schema };

export interface Field {
  name: string;
  /** Context tag number `[n]`; absent for an untagged component. */
  tag?: number;
  /** Tag class when not context-specific (APPLICATION, PRIVATE). */
  cls?: TagClass;
  type: Schema;
  optional?: boolean;
}

// --- constructors: short enough to read next to the ASN.1 --------------------------------

export const int = (min?: number | bigint, max?: number | bigint): Schema => ({ kind: 'int', min, max });
export const enumerated = (values: Record<string, number>, ext = false): Schema => ({ kind: 'enum', values, ext });
export const bool: Schema = { kind: 'bool' };
export const nul: Schema = { kind: 'null' };
export const octets = (min?: number, max?: number): Schema => ({ kind: 'octets', min, max });
export const ia5 = (min?: number, max?: number): Schema => ({ kind: 'ia5', min, max });
export const printable = (min?: number, max?: number): Schema => ({ kind: 'printable', min, max });
export const utf8 = (min?: number, max?: number): Schema => ({ kind: 'utf8', min, max });
export const gtime: Schema = { kind: 'gtime' };
export const oid: Schema = { kind: 'oid' };
export const roid: Schema = { kind: 'roid' };
export const bits = (min?: number, max?: number): Schema => ({ kind: 'bits', min, max });
export const raw: Schema = { kind: 'raw' };
export const seq = (name: string, fields: Field[], ext = false): Schema => ({ kind: 'seq', name, fields, ext });
export const seqOf = (of: Schema, min?: number, max?: number): Schema => ({ kind: 'seqOf', of, min, max });
export const choice = (name: string, alts: Field[], ext = false): Schema => ({ kind: 'choice', name, alts, ext });
/** A reference resolved on use, for recursive or forward-declared types. */
export const lazy = (get: () => Schema): Schema => ({ kind: 'lazy', get });

/** `[tag] type` — a mandatory component. */
export const f = (name: string, tag: number | undefined, type: Schema): Field => ({ name, tag, type });
/** `[tag] type OPTIONAL`. */
export const opt = (name: string, tag: number | undefined, type: Schema): Field => ({ name, tag, type, optional: true });

// --- tag bookkeeping ------------------------------------------------------------------------

export function resolve(s: Schema): Exclude<Schema, { kind: 'lazy' }> {
  while (s.kind === 'lazy') s = s.get();
  return s;
}

/** Universal tag and constructed bit of an untagged type; undefined for CHOICE and open types. */
export function universalTag(s: Schema): { tag: number; constructed: boolean } | undefined {
  const r = resolve(s);
  switch (r.kind) {
    case 'int': return { tag: UNIVERSAL.INTEGER, constructed: false };
    case 'enum': return { tag: UNIVERSAL.ENUMERATED, constructed: false };
    case 'bool': return { tag: UNIVERSAL.BOOLEAN, constructed: false };
    case 'null': return { tag: UNIVERSAL.NULL, constructed: false };
    case 'octets': return { tag: UNIVERSAL.OCTET_STRING, constructed: false };
    case 'ia5': return { tag: UNIVERSAL.IA5String, constructed: false };
    case 'printable': return { tag: UNIVERSAL.PrintableString, constructed: false };
    case 'utf8': return { tag: UNIVERSAL.UTF8String, constructed: false };
    case 'gtime': return { tag: UNIVERSAL.GeneralizedTime, constructed: false };
    case 'oid': return { tag: UNIVERSAL.OBJECT_IDENTIFIER, constructed: false };
    case 'roid': return { tag: UNIVERSAL.RELATIVE_OID, constructed: false };
    case 'bits': return { tag: UNIVERSAL.BIT_STRING, constructed: false };
    case 'seq':
    case 'seqOf': return { tag: UNIVERSAL.SEQUENCE, constructed: true };
    case 'choice':
    case 'raw': return undefined;
  }
}

/** True when a tag on a component of this type must be EXPLICIT (X.680 31.2.7 c). */
export function needsExplicit(s: Schema): boolean {
  const k = resolve(s).kind;
  return k === 'choice' || k === 'raw';
}

/** Key for matching a (class, tag) pair. */
export const tagKey = (cls: number, tag: number): number => cls * 0x1_0000_0000 + tag;

/** The set of (class, tag) keys a component can start with. Empty for an untagged open type. */
export function firstTags(field: Field): readonly number[] {
  let tags = FIRST_TAGS.get(field);
  if (!tags) {
    tags = computeFirstTags(field);
    FIRST_TAGS.set(field, tags);
  }
  return tags;
}

// Schemas are immutable once built, so each component's first tags are computed once.
const FIRST_TAGS = new WeakMap<Field, readonly number[]>();

function computeFirstTags(field: Field): readonly number[] {
  if (field.tag !== undefined) return [tagKey(field.cls ?? TagClass.Context, field.tag)];
  const r = resolve(field.type);
  if (r.kind === 'choice') return r.alts.flatMap((a) => firstTags(a));
  const u = universalTag(r);
  return u ? [tagKey(TagClass.Universal, u.tag)] : [];
}
