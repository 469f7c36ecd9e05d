/**
 * Durations ("30s", "250ms", "1h30m") and sizes ("64MiB", "1GiB", "500MB") as written in
 * config files, parsed to milliseconds and bytes. Pure; undefined means "not of this form".
 */

/** A duration in milliseconds. */
export type Milliseconds = number;
/** A size in bytes. */
export type Bytes = number;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/**
 * Parses one or more number+unit parts (units ms, s, m, h), e.g. "30s", "1h30m", "1.5s".
 * The total must be a whole number of milliseconds.
 */
export function parseDuration(text: string): Milliseconds | undefined {
  if (text.length === 0) return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    DURATION_PART.lastIndex = at;
    const m = DURATION_PART.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    at = DURATION_PART.lastIndex;
  }
  const rounded = Math.round(total * 1e6) / 1e6; // "0.1s" + float noise
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

/** Size units: SI (powers of 1000) and IEC (powers of 1024), spelled exactly. */
export const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?) ?([A-Za-z]*)$/;

/**
 * Parses "64MiB", "1GiB", "500MB", "4096B" or "4096" (bytes). The result must be a whole
 * number of bytes. Units are case-sensitive ("Mb" would be megabits elsewhere);
 * `sizeUnitHint` suggests the right spelling.
 */
export function parseSize(text: string): Bytes | undefined {
  const m = SIZE.exec(text);
  if (!m) return undefined;
  const unit = m[2] === '' ? 'B' : m[2]!;
  const mult = SIZE_UNITS[unit];
  if (mult === undefined) return undefined;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** For "64mib" or "1gb": the same size with the unit spelled right ("64MiB"), if any. */
export function sizeUnitHint(text: string): string | undefined {
  const m = SIZE.exec(text);
  if (!m || m[2] === '') return undefined;
  const unit = Object.keys(SIZE_UNITS).find((u) => u.toLowerCase() === m[2]!.toLowerCase());
  return unit && unit !== m[2] ? `${m[1]}${unit}` : undefined;
}

/** Milliseconds written back the way a user would ("30s", "250ms", "1h30m"), for messages. */
export function formatDuration(ms: Milliseconds): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size && (rest % size === 0 || unit !== 's')) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** Bytes written back with the largest exact IEC unit ("64MiB"), for messages. */
export function formatSize(bytes: Bytes): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    const size = SIZE_UNITS[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
