/**
 * Names the LEMF derives from what it receives: the pcap file name of a LIID, and the LIID
 * as people read it in summaries. Pure.
 *
 * A LIID is an OCTET STRING of 1..25 bytes chosen by the operator: it may hold `/`, `..`,
 * control bytes or anything else, so it never goes into a path unescaped.
 */
import { octetsText } from '../etsi/json';

/** Bytes kept as they are in a file name; everything else is written %XX. */
const SAFE = /^[A-Za-z0-9_-]$/;

/**
 * A file name (without extension) for a LIID: letters, digits, `_` and `-` as they are, `.`
 * too except in first place (so no hidden files, no `.` or `..`), every other byte as %XX
 * (upper-case hex). Distinct LIIDs always get distinct names, on case-sensitive file systems.
 */
export function liidFileName(liid: Uint8Array): string {
  let out = '';
  liid.forEach((b, i) => {
    const ch = String.fromCharCode(b);
    out += SAFE.test(ch) || (ch === '.' && i > 0) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  });
  return out;
}

/** The LIID as summaries show it: its text when printable ASCII, else `hex:` and its bytes. */
export function liidLabel(liid: Uint8Array): string {
  const text = octetsText(liid);
  return text === Buffer.from(liid).toString('latin1') ? text : `hex:${text}`;
}
