/**
 * PacketCable Call Content Connection (CCC) datagram parser: what MikroTik RouterOS sends for
 * `/ip firewall mangle action=sniff-pc` and what a PacketCable CMTS/CMS sends to a collection
 * function (PKT-SP-ES-INF, the CCC interface). One intercepted IP packet per UDP datagram,
 * after one of three headers (all integers in network order):
 *
 *   4 octets:  CCCID (u32)                                   Wireshark `pcli`
 *   12 octets: CCCID, NTP timestamp (u64: seconds since 1900, 2^-32 fractions)   `pcli12`
 *   20 octets: CCCID, NTP timestamp, case ID (8 octets)      `pcli20`
 *
 * The form is configured per source. `'auto'` tries all three and accepts a form only when
 * the rest of the datagram is exactly one IP packet (IPv4: version, header length, total
 * length equal to what is left, valid header checksum; IPv6: version, payload length equal
 * to what is left); a datagram that fits two forms is refused as ambiguous rather than
 * guessed. Pure: bytes in, a plain object or a DatagramError out.
 */
import { DatagramError } from '../errors';
import type { FrameTime } from './frame';

export type CccHeaderForm = 4 | 12 | 20;
export const CCC_HEADER_FORMS: readonly CccHeaderForm[] = [4, 12, 20];

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET = 2_208_988_800;

export interface CccDatagram {
  /** Call Content Connection identifier: names the intercept. */
  cccid: number;
  form: CccHeaderForm;
  /** The NTP timestamp of the 12- and 20-octet forms, as Unix time; undefined for the 4-octet form or a zero timestamp. */
  time: FrameTime | undefined;
  /** The 20-octet form's case identifier (a view). */
  caseId: Uint8Array | undefined;
  /** The intercepted IP packet: a view into the datagram. */
  packet: Uint8Array;
}

/** An NTP timestamp (RFC 5905; era 1 when the top bit is clear, i.e. after 2036-02-07) as Unix time. */
export function ntpToFrameTime(seconds: number, fraction: number): FrameTime {
  const era = seconds < 0x8000_0000 ? 2 ** 32 : 0;
  return { seconds: seconds + era - NTP_UNIX_OFFSET, micros: Math.floor((fraction * 1_000_000) / 2 ** 32) };
}

/** Whether `p` is exactly one well-formed IP packet (the strict test auto-detection relies on). */
export function isExactIpPacket(p: Uint8Array): boolean {
  if (p.length < 1) return false;
  const version = p[0]! >> 4;
  if (version === 4) {
    const ihl = (p[0]! & 0x0f) * 4;
    if (ihl < 20 || p.length < ihl) return false;
    if (((p[2]! << 8) | p[3]!) !== p.length) return false;
    let sum = 0;
    for (let i = 0; i < ihl; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return sum === 0xffff;
  }
  if (version === 6) return p.length >= 40 && 40 + ((p[4]! << 8) | p[5]!) === p.length;
  return false;
}

function atForm(d: Uint8Array, form: CccHeaderForm): CccDatagram {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const ntpSec = form >= 12 ? v.getUint32(4) : 0;
  const ntpFrac = form >= 12 ? v.getUint32(8) : 0;
  return {
    cccid: v.getUint32(0),
    form,
    time: form >= 12 && (ntpSec !== 0 || ntpFrac !== 0) ? ntpToFrameTime(ntpSec, ntpFrac) : undefined,
    caseId: form === 20 ? d.subarray(12, 20) : undefined,
    packet: d.subarray(form),
  };
}

/**
 * Parses one CCC datagram with the given header form, or `'auto'`. Throws DatagramError:
 * LIG_ERR_CCC_TRUNCATED (shorter than the header), LIG_ERR_CCC_NOT_IP (no IP packet after
 * it), LIG_ERR_CCC_AMBIGUOUS (auto: more than one form fits).
 */
export function parseCcc(d: Uint8Array, form: CccHeaderForm | 'auto'): CccDatagram {
  if (form !== 'auto') {
    if (d.length < form) throw new DatagramError('LIG_ERR_CCC_TRUNCATED', `CCC datagram of ${d.length} octets is shorter than its ${form}-octet header`, d.length);
    const version = d.length > form ? d[form]! >> 4 : 0;
    if (version !== 4 && version !== 6) {
      throw new DatagramError('LIG_ERR_CCC_NOT_IP', `no IPv4 or IPv6 packet after the ${form}-octet CCC header`, form);
    }
    return atForm(d, form);
  }
  if (d.length < 4) throw new DatagramError('LIG_ERR_CCC_TRUNCATED', `CCC datagram of ${d.length} octets is shorter than any CCC header`, d.length);
  const fits = CCC_HEADER_FORMS.filter((f) => d.length > f && isExactIpPacket(d.subarray(f)));
  if (fits.length === 0) throw new DatagramError('LIG_ERR_CCC_NOT_IP', 'no header form (4, 12 or 20 octets) is followed by exactly one IP packet', 4);
  if (fits.length > 1) throw new DatagramError('LIG_ERR_CCC_AMBIGUOUS', `the datagram fits the ${fits.join(' and ')}-octet header forms`, 4);
  return atForm(d, fits[0]!);
}

/** Builds a CCC datagram (for tests and tools). `time` and `caseId` are required by the forms that carry them. */
export function encodeCcc(cccid: number, packet: Uint8Array, opts: { form?: CccHeaderForm; ntpSeconds?: number; ntpFraction?: number; caseId?: Uint8Array } = {}): Uint8Array {
  const form = opts.form ?? 4;
  const out = new Uint8Array(form + packet.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, cccid >>> 0);
  if (form >= 12) {
    v.setUint32(4, opts.ntpSeconds ?? 0);
    v.setUint32(8, opts.ntpFraction ?? 0);
  }
  if (form === 20) out.set((opts.caseId ?? new Uint8Array(8)).subarray(0, 8), 12);
  out.set(packet, form);
  return out;
}
