/**
 * Where one journal record goes in a file delivery, and the bytes it adds there. Pure:
 * bytes in, bytes out.
 *
 * - A CC record whose every CCPayload is an IPCC packet (iPPackets, or iPTruncatedPacket
 *   with its originalLength) becomes pcap records (LINKTYPE_RAW), timed by the PS header's
 *   microSecondTimeStamp, else its timeStamp, else the CCPayload's own time.
 * - Every other record (IPIRI, IRI-only packet reports, EmailIRI, EmailCC, IPMM, …), and a
 *   CC record pcap cannot hold exactly (no time, a time before 1970 or after 2106, a packet
 *   over MAX_SNAPLEN), becomes one JSON line: the header fields and the payload as JSON.
 * - TRI (keep-alives, acknowledgements, …) is not written.
 * - A record that does not decode is rejected: written as it is, on its own.
 */
import { encodePcapRecord } from '../../capture/pcap-write';
import { LINKTYPE, MAX_SNAPLEN } from '../../capture/pcap-format';
import { generalizedTimeToDate } from '../../ber/reader';
import { decodePsPdu } from '../../etsi/stream';
import { octetsText, toJsonValue } from '../../etsi/json';
import type { CCPayload, MicroSecondTimeStamp, PSHeader, PsPdu } from '../../etsi/ps-pdu';
import type { IPCC } from '../../etsi/ip-access';
import { isLigError } from '../../errors';
import { liidDirName } from './names';

/** The link type of the CC pcap files: raw IPv4/IPv6 packets, as IPCC carries them. */
export const CC_LINKTYPE = LINKTYPE.RAW;
/** Snapshot length written in the CC pcap headers: the largest packet pcap files carry. */
export const CC_SNAPLEN = MAX_SNAPLEN;

/** The handover interface a record came from. */
export type Interface = 'hi2' | 'hi3';

export type Routed =
  /** TRI: nothing is written. */
  | { kind: 'skip' }
  /** Does not decode; `code` is the decoder's error code when it gave one. */
  | { kind: 'reject'; code: string | undefined }
  /** pcap records (headers and packets) for the LIID directory `dir`. */
  | { kind: 'cc'; dir: string; bytes: Buffer; packets: number }
  /** One JSON line, newline included, for the LIID directory `dir`. */
  | { kind: 'iri'; dir: string; bytes: Buffer };

/** A record's time: whole seconds since the epoch and microseconds. */
export interface RecordTime {
  sec: number;
  usec: number;
}

/** Routes one encoded PS-PDU read from interface `hi`. Never throws. */
export function routeRecord(data: Uint8Array, hi: Interface): Routed {
  let pdu: PsPdu;
  try {
    pdu = decodePsPdu(data);
  } catch (e) {
    // Anything the decoder throws, typed or not, must not stop delivery: the record is kept as is.
    return { kind: 'reject', code: isLigError(e) ? e.code : undefined };
  }
  try {
    const payload = pdu.payload as Record<string, unknown>;
    if ('tRIPayload' in payload) return { kind: 'skip' };
    const dir = liidDirName(pdu.pSHeader.lawfulInterceptionIdentifier);
    const cc = 'cCPayloadSequence' in payload ? pcapRecords(pdu.pSHeader, payload.cCPayloadSequence as CCPayload[]) : undefined;
    if (cc) return { kind: 'cc', dir, bytes: cc.bytes, packets: cc.packets };
    return { kind: 'iri', dir, bytes: jsonLine(pdu, hi) };
  } catch {
    // A decoded record this module cannot render would be a bug here; the record is still kept.
    return { kind: 'reject', code: undefined };
  }
}

/** The pcap records of a CC payload sequence, or undefined when pcap cannot hold it exactly. */
function pcapRecords(h: PSHeader, seq: CCPayload[]): { bytes: Buffer; packets: number } | undefined {
  if (seq.length === 0) return undefined;
  const parts: Uint8Array[] = [];
  for (const cc of seq) {
    const ipcc = (cc.cCContents as { iPCC?: IPCC }).iPCC;
    if (!ipcc) return undefined;
    const t = headerTime(h) ?? microTime(cc.microSecondTimeStamp) ?? generalizedTime(cc.timeStamp);
    if (!t || t.sec < 0 || t.sec > 0xffffffff) return undefined;
    const contents = ipcc.iPCCContents as Record<string, unknown>;
    let packet: Uint8Array;
    let origLen: number;
    if (contents.iPPackets instanceof Uint8Array) {
      packet = contents.iPPackets;
      origLen = packet.length;
    } else if (contents.iPTruncatedPacket) {
      const tp = contents.iPTruncatedPacket as { truncatedPacket: Uint8Array; originalLength?: number | bigint };
      packet = tp.truncatedPacket;
      const orig = tp.originalLength === undefined ? packet.length : Number(tp.originalLength);
      origLen = orig >= packet.length && orig <= 0xffffffff ? orig : packet.length;
    } else {
      return undefined; // an IPCCContents alternative lig does not know
    }
    if (packet.length > CC_SNAPLEN) return undefined;
    parts.push(encodePcapRecord(t.sec, t.usec, packet, origLen));
  }
  return { bytes: Buffer.concat(parts), packets: parts.length };
}

/** The PS header's time: microSecondTimeStamp, else timeStamp. */
export function headerTime(h: PSHeader): RecordTime | undefined {
  return microTime(h.microSecondTimeStamp) ?? generalizedTime(h.timeStamp);
}

function microTime(m: MicroSecondTimeStamp | undefined): RecordTime | undefined {
  if (!m) return undefined;
  const sec = Number(m.seconds);
  const usec = Number(m.microSeconds);
  // Ranges are not enforced by the decoder: a value outside them is no time at all.
  return Number.isSafeInteger(sec) && Number.isInteger(usec) && usec >= 0 && usec <= 999_999 ? { sec, usec } : undefined;
}

/** A GeneralizedTime to the microsecond (sub-microsecond digits are cut). */
function generalizedTime(s: string | undefined): RecordTime | undefined {
  if (s === undefined) return undefined;
  const ms = generalizedTimeToDate(s).getTime();
  if (!Number.isFinite(ms)) return undefined;
  const sec = Math.floor(ms / 1000);
  // With seconds present, the fraction is of a second: take it to six digits.
  const frac = /^\d{14}[.,](\d+)/.exec(s)?.[1];
  const usec = frac !== undefined ? Number(frac.slice(0, 6).padEnd(6, '0')) : (ms - sec * 1000) * 1000;
  return { sec, usec };
}

/** ISO 8601 UTC to the microsecond, or null when the time is absent or out of Date's range. */
export function isoTime(t: RecordTime | undefined): string | null {
  if (!t || Math.abs(t.sec) > 8.64e12) return null;
  return new Date(t.sec * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(t.usec).padStart(6, '0')}Z`);
}

/**
 * The JSON line of a record: `liid` (text when printable ASCII, else hex), `cin`,
 * `sequenceNumber`, `time` (ISO 8601 UTC, microseconds), `interface` (hi2 or hi3) and
 * `payload` as `lig decode --json` shows it.
 */
export function jsonLine(pdu: PsPdu, hi: Interface): Buffer {
  const h = pdu.pSHeader;
  const liid = h.lawfulInterceptionIdentifier;
  const line = {
    liid: typeof liid === 'string' ? liid : octetsText(liid),
    // The decoder does not enforce INTEGER ranges: out-of-range values arrive as bigint.
    cin: toJsonValue(h.communicationIdentifier.communicationIdentityNumber ?? null),
    sequenceNumber: toJsonValue(h.sequenceNumber),
    time: isoTime(headerTime(h)),
    interface: hi,
    payload: toJsonValue(pdu.payload),
  };
  return Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
}
