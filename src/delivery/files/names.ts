/**
 * Names in a file-delivery directory. Pure: strings in, strings out.
 *
 * ```
 * DIR/<LIID-safe>/cc-<UTC start>-<n>.pcap       CC packets (IPCC), LINKTYPE_RAW
 * DIR/<LIID-safe>/iri-<UTC start>-<n>.jsonl     every other record, one JSON object per line
 * DIR/<LIID-safe>/MANIFEST.sha256               `sha256sum -c` lines, one per closed file
 * DIR/_rejects/rejects-<n>.ber                  one undecodable record per file (+ MANIFEST.sha256)
 * DIR/.lig/                                     the sink's own state and lock
 * ```
 * A file being written carries `.part` after its name and loses it, by an atomic rename,
 * when it is closed. `<n>` counts up per LIID and kind, without gaps, across restarts.
 */

/** Suffix of a file still being written. */
export const PART_SUFFIX = '.part';
/** Per-directory hash list, in `sha256sum -c` format. */
export const MANIFEST_FILE = 'MANIFEST.sha256';
/** Directory of undecodable records (a LIID-safe name never starts with `_`). */
export const REJECTS_DIR = '_rejects';
/** The sink's private directory (a LIID-safe name never starts with `.`). */
export const PRIVATE_DIR = '.lig';
/** Digits `<n>` is padded to, so that names sort in order (more digits once past 999999). */
export const COUNTER_DIGITS = 6;

/** What a file holds. */
export type PartKind = 'cc' | 'iri' | 'reject';

const SAFE_BYTE = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f;

/**
 * The directory name of a LIID: letters, digits, `-`, `.` and `_` as they are, every other
 * byte (and `%` itself) as `%XX`, and a leading `.` or `_` escaped too, so that no LIID can
 * name `.`, `..`, a hidden file or one of the sink's reserved names. One-to-one: two LIIDs
 * never share a directory.
 */
export function liidDirName(liid: Uint8Array | string): string {
  const bytes = typeof liid === 'string' ? Buffer.from(liid, 'latin1') : liid;
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const reservedFirst = i === 0 && (b === 0x2e || b === 0x5f);
    out += SAFE_BYTE(b) && !reservedFirst ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const LIID_DIR_RE = /^(?:[A-Za-z0-9-]|%[0-9A-F]{2})(?:[A-Za-z0-9._-]|%[0-9A-F]{2})*$/;

/** True for a name liidDirName can produce, or the rejects directory: safe to join to DIR. */
export function isOutputDirName(name: string): boolean {
  return name === REJECTS_DIR || (name.length <= 3 * 255 && LIID_DIR_RE.test(name));
}

/** `YYYYMMDDTHHMMSSZ` of a time in milliseconds since the epoch (UTC). */
export function utcStamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-01-02T03:04:05.678Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

const pad = (n: number): string => String(n).padStart(COUNTER_DIGITS, '0');

/** The closed name of file `n` of `kind`, started at `startMs`. */
export function fileName(kind: PartKind, n: number, startMs: number): string {
  switch (kind) {
    case 'cc':
      return `cc-${utcStamp(startMs)}-${pad(n)}.pcap`;
    case 'iri':
      return `iri-${utcStamp(startMs)}-${pad(n)}.jsonl`;
    case 'reject':
      return `rejects-${pad(n)}.ber`;
  }
}

const NAME_RE: Record<PartKind, RegExp> = {
  cc: /^cc-\d{8}T\d{6}Z-(\d{6,15})\.pcap$/,
  iri: /^iri-\d{8}T\d{6}Z-(\d{6,15})\.jsonl$/,
  reject: /^rejects-(\d{6,15})\.ber$/,
};

/**
 * `{ kind, n, part }` of a file name fileName can produce (with or without `.part`), else
 * undefined. Used to find the next counter in a directory and to check names read from state.
 */
export function parseFileName(name: string): { kind: PartKind; n: number; part: boolean } | undefined {
  const part = name.endsWith(PART_SUFFIX);
  const base = part ? name.slice(0, -PART_SUFFIX.length) : name;
  for (const kind of ['cc', 'iri', 'reject'] as const) {
    const m = NAME_RE[kind].exec(base);
    if (m) return { kind, n: Number(m[1]), part };
  }
  return undefined;
}
