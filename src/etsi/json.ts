/**
 * A decoded record as JSON: field names as in the ASN.1, OCTET STRINGs as lower-case hex,
 * INTEGERs beyond 2^53 as decimal strings, unknown extension additions as { tag, bytes }.
 * One shape for `lig decode --json` and the LEMF's records.jsonl.
 */
export function toJsonValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toJsonValue(x);
    return out;
  }
  return v;
}

/** Printable text of an OCTET STRING when it is plain ASCII (LIIDs, operator ids), else hex. */
export function octetsText(v: Uint8Array): string {
  for (const b of v) if (b < 0x20 || b > 0x7e) return Buffer.from(v).toString('hex');
  return Buffer.from(v).toString('latin1');
}
