/**
 * Bencoding (BitTorrent BEP 3): integers `i42e`, byte strings `4:spam`, lists `l...e` and
 * dictionaries `d...e` (keys are byte strings). A bounded decoder for the DHT's datagrams:
 * nesting depth and item count are limited, and anything malformed yields undefined, never
 * a throw. Pure.
 */

/** Deepest nesting of lists and dictionaries decoded. */
export const MAX_BENCODE_DEPTH = 16;
/** Most values (of any kind) decoded in one input. */
export const MAX_BENCODE_ITEMS = 4096;

export type Bencoded = Uint8Array | number | Bencoded[] | BDict;
/** A dictionary, keyed by the Latin-1 form of its byte-string keys. */
export type BDict = Map<string, Bencoded>;

/** The single value `b` holds (nothing may follow it), or undefined when it is not bencoded. */
export function decodeBencode(b: Uint8Array): Bencoded | undefined {
  const st = { pos: 0, items: 0 };
  const v = value(b, st, 0);
  return v !== undefined && st.pos === b.length ? v : undefined;
}

interface St {
  pos: number;
  items: number;
}

function value(b: Uint8Array, st: St, depth: number): Bencoded | undefined {
  if (++st.items > MAX_BENCODE_ITEMS || st.pos >= b.length) return undefined;
  const c = b[st.pos]!;
  if (c === 0x69) return integer(b, st); // i
  if (c >= 0x30 && c <= 0x39) return bytes(b, st);
  if (depth >= MAX_BENCODE_DEPTH) return undefined;
  if (c === 0x6c) {
    // l
    st.pos++;
    const list: Bencoded[] = [];
    while (st.pos < b.length && b[st.pos] !== 0x65) {
      const v = value(b, st, depth + 1);
      if (v === undefined) return undefined;
      list.push(v);
    }
    if (st.pos >= b.length) return undefined;
    st.pos++;
    return list;
  }
  if (c === 0x64) {
    // d
    st.pos++;
    const dict: BDict = new Map();
    while (st.pos < b.length && b[st.pos] !== 0x65) {
      const k = bytes(b, st);
      if (k === undefined) return undefined;
      const v = value(b, st, depth + 1);
      if (v === undefined) return undefined;
      dict.set(Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1'), v);
    }
    if (st.pos >= b.length) return undefined;
    st.pos++;
    return dict;
  }
  return undefined;
}

function integer(b: Uint8Array, st: St): number | undefined {
  const end = b.indexOf(0x65, st.pos + 1);
  if (end < 0 || end - st.pos > 21) return undefined;
  const s = Buffer.from(b.buffer, b.byteOffset + st.pos + 1, end - st.pos - 1).toString('latin1');
  if (!/^(0|-?[1-9]\d*)$/.test(s)) return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) return undefined;
  st.pos = end + 1;
  return n;
}

function bytes(b: Uint8Array, st: St): Uint8Array | undefined {
  let n = 0;
  let p = st.pos;
  const start = p;
  while (p < b.length && b[p]! >= 0x30 && b[p]! <= 0x39) {
    n = n * 10 + (b[p]! - 0x30);
    p++;
    if (p - start > 9) return undefined;
  }
  if (p === start || p >= b.length || b[p] !== 0x3a || (b[start] === 0x30 && p - start > 1)) return undefined;
  p++;
  if (p + n > b.length) return undefined;
  st.pos = p + n;
  return b.subarray(p, p + n);
}

/** `d[key]` when it is a byte string. */
export function bstr(d: BDict | undefined, key: string): Uint8Array | undefined {
  const v = d?.get(key);
  return v instanceof Uint8Array ? v : undefined;
}

/** `d[key]` when it is a dictionary. */
export function bdict(d: BDict | undefined, key: string): BDict | undefined {
  const v = d?.get(key);
  return v instanceof Map ? v : undefined;
}
