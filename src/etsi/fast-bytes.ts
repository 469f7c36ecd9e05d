/**
 * Byte-level helpers of the IPCC hot path (fast-ipcc.ts): minimal BER lengths and
 * non-negative INTEGER contents written in place, and GeneralizedTime digits computed
 * without a Date. Inputs are already checked by the caller; nothing here allocates.
 */

/*
 * The helpers are kept tiny on purpose: TurboFan inlines calls only within a bytecode budget
 * per optimised function, and the hot path calls these a dozen times per PDU.
 */

/** Minimal length-octet count (X.690 8.1.3) of a length below 2^31: 1 (short form) to 5. */
export function lenSize(n: number): number {
  return n < 0x80 ? 1 : 5 - (Math.clz32(n) >> 3);
}

/** Contents-octet count of a non-negative INTEGER below 2^32 (minimal two's complement, X.690 8.3). */
export function uint32Size(v: number): number {
  return ((32 - Math.clz32(v)) >> 3) + 1;
}

/** Contents-octet count of a non-negative INTEGER below 2^53. */
export function uintSize(v: number): number {
  return v < 0x1_0000_0000 ? uint32Size(v) : 4 + uint32Size(Math.floor(v / 0x1_0000_0000));
}

/** Writes the low `len` (1..5) bytes of `v` (below 2^32) big-endian at `at`. Unrolled: no loop. */
export function putBE(b: Uint8Array, at: number, v: number, len: number): void {
  switch (len) {
    case 1:
      b[at] = v;
      return;
    case 2:
      b[at] = v >>> 8;
      b[at + 1] = v;
      return;
    case 3:
      b[at] = v >>> 16;
      b[at + 1] = v >>> 8;
      b[at + 2] = v;
      return;
    case 4:
      b[at] = v >>> 24;
      b[at + 1] = v >>> 16;
      b[at + 2] = v >>> 8;
      b[at + 3] = v;
      return;
    default: // 5: a value of 2^31 or more takes a leading zero octet
      b[at] = 0;
      b[at + 1] = v >>> 24;
      b[at + 2] = v >>> 16;
      b[at + 3] = v >>> 8;
      b[at + 4] = v;
  }
}

/** Writes `v` (a non-negative integer below 2^53) big-endian in exactly `len` (1..7) bytes at `at`. */
export function putUint(b: Uint8Array, at: number, v: number, len: number): void {
  if (len <= 4) {
    putBE(b, at, v, len);
  } else {
    putBE(b, at, Math.floor(v / 0x1_0000_0000), len - 4);
    putBE(b, at + len - 4, v >>> 0, 4);
  }
}

/**
 * Writes the minimal length octets of `n` (below 2^31) at `at`: the form `layout`-style
 * callers write once, when they do not keep the length-octet count fixed.
 */
export function putLength(b: Uint8Array, at: number, n: number): void {
  if (n < 0x80) {
    b[at] = n;
  } else {
    const k = lenSize(n) - 1;
    b[at] = 0x80 | k;
    putBE(b, at + 1, n, k);
  }
}

/** Fraction digits GeneralizedTime carries for these microseconds: trailing zeros dropped. */
export function fractionDigits(micros: number): number {
  if (micros === 0) return 0;
  let n = 6;
  for (let v = micros; v % 10 === 0; v /= 10) n--;
  return n;
}

/** Length of `YYYYMMDDhhmmss[.f…]Z` with `frac` fraction digits. */
export function gtTextSize(frac: number): number {
  return frac === 0 ? 15 : 16 + frac;
}

/** Writes the `frac` fraction digits of `micros` (after the '.') at `at`. */
export function putFraction(b: Uint8Array, at: number, micros: number, frac: number): void {
  let v = micros;
  for (let k = 6 - frac; k > 0; k--) v = (v / 10) | 0; // drop the trailing zeros
  for (let i = at + frac - 1; i >= at; i--) {
    const q = (v / 10) | 0;
    b[i] = 0x30 + v - q * 10;
    v = q;
  }
}

/**
 * Writes YYYYMMDDhhmmss (UTC, proleptic Gregorian, as Date counts) of a second since the
 * epoch at `at`. The year must be 0..9999.
 */
export function putCivilDigits(b: Uint8Array, at: number, seconds: number): void {
  const days = Math.floor(seconds / 86_400);
  let sod = seconds - days * 86_400;
  // days since 1970-01-01 to year, month, day: H. Hinnant's civil_from_days
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(sod / 3600);
  sod -= hour * 3600;
  const minute = Math.floor(sod / 60);
  two(b, at, Math.floor(year / 100));
  two(b, at + 2, year % 100);
  two(b, at + 4, month);
  two(b, at + 6, day);
  two(b, at + 8, hour);
  two(b, at + 10, minute);
  two(b, at + 12, sod - minute * 60);
}

function two(b: Uint8Array, at: number, v: number): void {
  const t = Math.floor(v / 10);
  b[at] = 0x30 + t;
  b[at + 1] = 0x30 + v - t * 10;
}
