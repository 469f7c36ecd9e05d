/**
 * Decoded PS-PDUs as text for people (`lig decode`) and as JSON lines for tools (`lig decode
 * --json`, the LEMF's records.jsonl). Pure: records in, strings out.
 *
 * The human form walks the PDU together with its schema, so every field is named as in the
 * ASN.1 and printed as its type reads best: OCTET STRINGs as quoted text when printable,
 * else hex (long ones cut to ABBREVIATE_OCTETS bytes unless `full`), character strings
 * quoted, ENUMERATED by name, NULL by its field name alone.
 */
import { Schema, resolve } from '../ber/schema';
import { UNKNOWN, UnknownElement } from '../ber/decode';
import { LigError } from '../errors';
import { octetsText, toJsonValue } from './json';
import { MICROSECOND_TIMESTAMP, PS_PDU, PsPdu } from './ps-pdu';

/** OCTET STRINGs longer than this many bytes are shown cut, with their length, unless `full`. */
export const ABBREVIATE_OCTETS = 32;

/** Spaces per level of the human tree. */
const INDENT = '  ';

export interface RenderOptions {
  /** Print long OCTET STRINGs whole. */
  full?: boolean;
}

/** A decoded (or failed) PDU with its place in the stream: what both renderings take. */
export interface RecordView {
  index: number;
  offset: number;
  length: number;
  pdu?: PsPdu;
  error?: LigError;
}

/**
 * What a PDU carries, for the header line: the Payload alternative, and inside IRI and CC
 * sequences the contents' alternatives with a count when repeated, e.g. `IRI iPIRI`,
 * `CC iPCC x3`, `TRI keep-alive`, `HI1 liActivated`.
 */
export function payloadKind(pdu: PsPdu): string {
  const payload = pdu.payload as Record<string, unknown>;
  const [alt, v] = Object.entries(payload)[0] ?? ['(empty)', undefined];
  const inner = (items: unknown, key: string): string => {
    const counts = new Map<string, number>();
    for (const it of Array.isArray(items) ? items : []) {
      const name = altName((it as Record<string, unknown>)[key]);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    if (counts.size === 0) return '(none)';
    return [...counts].map(([n, c]) => (c > 1 ? `${n} x${c}` : n)).join(', ');
  };
  switch (alt) {
    case 'iRIPayloadSequence': return `IRI ${inner(v, 'iRIContents')}`;
    case 'cCPayloadSequence': return `CC ${inner(v, 'cCContents')}`;
    case 'tRIPayload': return `TRI ${altName(v)}`;
    case 'hI1-Operation': return `HI1 ${altName(v)}`;
    default: return altName(payload);
  }
}

/** The alternative a decoded CHOICE holds; an unknown one by its tag. */
function altName(choice: unknown): string {
  if (choice === null || typeof choice !== 'object') return '(none)';
  const [name, v] = Object.entries(choice)[0] ?? ['(none)', undefined];
  return name === UNKNOWN ? `unknown ${(v as UnknownElement).tag}` : name;
}

/** The human form of one record: a header line, then the PDU's fields as an indented tree. */
export function renderRecord(r: RecordView, opts: RenderOptions = {}): string {
  const head = `PDU ${r.index} at offset ${r.offset}, ${r.length} bytes`;
  if (r.error || !r.pdu) {
    const e = r.error;
    return `${head}: ERROR ${e ? `${e.code}: ${e.message}` : 'no PDU'}`;
  }
  const lines = [`${head}: ${payloadKind(r.pdu)}`];
  renderFields(PS_PDU, r.pdu, 1, lines, opts);
  return lines.join('\n');
}

/** The JSON form of one record, one line: `{index, offset, length, pdu}` or `{…, error: {code, message}}`. */
export function jsonRecord(r: RecordView): string {
  const base = { index: r.index, offset: r.offset, length: r.length };
  if (r.error || !r.pdu) {
    const error = r.error ? { code: r.error.code, message: r.error.message } : { code: 'LIG_ERR_BER_MISSING', message: 'no PDU' };
    return JSON.stringify({ ...base, error });
  }
  return JSON.stringify({ ...base, pdu: toJsonValue(r.pdu) });
}

/** The components of a SEQUENCE, CHOICE or SEQUENCE OF value, one level down. */
function renderFields(schema: Schema, value: unknown, depth: number, out: string[], opts: RenderOptions): void {
  const s = resolve(schema);
  const v = value as Record<string, unknown>;
  if (s.kind === 'seq') {
    for (const fl of s.fields) if (v[fl.name] !== undefined) renderNamed(fl.name, fl.type, v[fl.name], depth, out, opts);
    renderUnknown(v[UNKNOWN], depth, out, opts);
  } else if (s.kind === 'choice') {
    const [name, x] = Object.entries(v)[0] ?? [];
    const alt = s.alts.find((a) => a.name === name);
    if (alt) renderNamed(alt.name, alt.type, x, depth, out, opts);
    else renderUnknown(name === UNKNOWN ? [x] : undefined, depth, out, opts);
  } else if (s.kind === 'seqOf') {
    (value as unknown[]).forEach((item, i) => renderNamed(`[${i}]`, s.of, item, depth, out, opts));
  }
}

function renderNamed(name: string, schema: Schema, value: unknown, depth: number, out: string[], opts: RenderOptions): void {
  const s = resolve(schema);
  const pad = INDENT.repeat(depth);
  if (s.kind === 'seq' || s.kind === 'choice' || s.kind === 'seqOf') {
    const note = s === MICROSECOND_TIMESTAMP ? microsNote(value) : '';
    out.push(`${pad}${name}${note}`);
    renderFields(s, value, depth + 1, out, opts);
    return;
  }
  if (s.kind === 'null') {
    out.push(`${pad}${name}`);
    return;
  }
  out.push(`${pad}${name}: ${primitiveText(s, value, name, opts)}`);
}

function renderUnknown(list: unknown, depth: number, out: string[], opts: RenderOptions): void {
  if (!Array.isArray(list)) return;
  for (const u of list as UnknownElement[]) out.push(`${INDENT.repeat(depth)}(unknown ${u.tag}): ${octetsShown(u.bytes, opts, false)}`);
}

function primitiveText(s: Exclude<Schema, { kind: 'lazy' }>, v: unknown, name: string, opts: RenderOptions): string {
  switch (s.kind) {
    case 'octets': {
      const bytes = v as Uint8Array;
      const ip = name === 'iPBinaryAddress' ? ipText(bytes) : undefined;
      return octetsShown(bytes, opts, true) + (ip ? ` (${ip})` : '');
    }
    case 'raw':
      return octetsShown(v as Uint8Array, opts, false);
    case 'ia5':
    case 'printable':
    case 'utf8':
      return JSON.stringify(v);
    case 'bits': {
      const b = v as { bytes: Uint8Array; unusedBits: number };
      const all = [...b.bytes].map((x) => x.toString(2).padStart(8, '0')).join('');
      return `'${all.slice(0, all.length - b.unusedBits)}'B`;
    }
    case 'bool':
      return v ? 'TRUE' : 'FALSE';
    default: // int (number or bigint), enum (name), oid/roid (dotted), gtime (text)
      return String(v);
  }
}

/** An OCTET STRING: quoted text when printable (if allowed), else hex; cut when long. */
function octetsShown(bytes: Uint8Array, opts: RenderOptions, textOk: boolean): string {
  if (bytes.length === 0) return "''H";
  // octetsText gives one character per byte for printable text, two (hex) otherwise
  const text = textOk && octetsText(bytes).length === bytes.length;
  const cut = !opts.full && bytes.length > ABBREVIATE_OCTETS;
  const shown = cut ? bytes.subarray(0, ABBREVIATE_OCTETS) : bytes;
  const body = text ? JSON.stringify(Buffer.from(shown).toString('latin1')) : Buffer.from(shown).toString('hex');
  return cut ? `${body}… (${bytes.length} bytes)` : body;
}

/** Dotted or colon text of a 4- or 16-byte binary address. */
function ipText(b: Uint8Array): string | undefined {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return undefined;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  let best = -1;
  let bestLen = 1; // RFC 5952: only a run of two or more zero words is shortened
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return best < 0 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** A MicroSecondTimeStamp as UTC text, when it is within Date's range. */
function microsNote(v: unknown): string {
  const t = v as { seconds: number | bigint; microSeconds: number };
  const secs = Number(t.seconds);
  const us = t.microSeconds;
  if (!Number.isSafeInteger(secs) || secs > 8.64e12 || !Number.isInteger(us) || us < 0 || us > 999999) return '';
  const iso = new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return ` (${iso}.${String(us).padStart(6, '0')}Z)`;
}
