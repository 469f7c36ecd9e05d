/**
 * The IP packets a CC record carries, as pcap records want them: bytes, length on the wire
 * and a time. Pure.
 *
 * The time is the CC payload's own microSecondTimeStamp or timeStamp when it has one, else the
 * PSHeader's (TS 102 232-1 clause 5.2.6: the time of interception), else `fallback` (the time
 * of receipt). A time classic pcap cannot hold (before 1970 or after 2106) also falls back.
 */
import { generalizedTimeToDate } from '../ber/reader';
import { MAX_SNAPLEN } from '../capture/pcap-format';
import { Stamp } from '../etsi/build';
import { CCPayload, MicroSecondTimeStamp, PsPdu } from '../etsi/ps-pdu';

export interface CcPacket {
  sec: number;
  usec: number;
  /** The captured bytes, at most MAX_SNAPLEN (longer packets are cut, `origLen` keeps their length). */
  data: Uint8Array;
  origLen: number;
}

const MAX_PCAP_SECONDS = 0xffffffff;

function fromMicro(t: MicroSecondTimeStamp | undefined): Stamp | undefined {
  if (t === undefined) return undefined;
  const s = Number(t.seconds);
  return s <= MAX_PCAP_SECONDS ? { seconds: s, micros: t.microSeconds } : undefined;
}

/** A GeneralizedTime as seconds and microseconds (digits beyond the sixth dropped). */
export function fromGeneralized(text: string | undefined): Stamp | undefined {
  if (text === undefined) return undefined;
  const ms = generalizedTimeToDate(text).getTime();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const frac = /[.,](\d+)/.exec(text)?.[1] ?? '';
  const seconds = Math.floor(ms / 1000);
  if (seconds > MAX_PCAP_SECONDS) return undefined;
  return { seconds, micros: Number((frac + '000000').slice(0, 6)) };
}

function packetOf(contents: Record<string, unknown>): { data: Uint8Array; origLen: number } | undefined {
  const packets = contents.iPPackets;
  if (packets instanceof Uint8Array) return { data: packets, origLen: packets.length };
  const cut = contents.iPTruncatedPacket as { truncatedPacket?: Uint8Array; originalLength?: number | bigint } | undefined;
  if (cut?.truncatedPacket instanceof Uint8Array) {
    const orig = Number(cut.originalLength ?? cut.truncatedPacket.length);
    return { data: cut.truncatedPacket, origLen: orig >= cut.truncatedPacket.length && orig <= 0xffffffff ? orig : cut.truncatedPacket.length };
  }
  return undefined;
}

/** Every IP packet (iPCC) of a CC record, in order; other CC kinds (e-mail, VoIP) yield none. */
export function ccPackets(pdu: PsPdu, fallback: Stamp): CcPacket[] {
  const seq = (pdu.payload as { cCPayloadSequence?: CCPayload[] }).cCPayloadSequence;
  if (!Array.isArray(seq)) return [];
  const h = pdu.pSHeader;
  const headerTime = fromMicro(h.microSecondTimeStamp) ?? fromGeneralized(h.timeStamp);
  const out: CcPacket[] = [];
  for (const p of seq) {
    const ipcc = (p.cCContents as { iPCC?: { iPCCContents?: Record<string, unknown> } }).iPCC;
    const pkt = ipcc?.iPCCContents ? packetOf(ipcc.iPCCContents) : undefined;
    if (!pkt) continue;
    const t = fromMicro(p.microSecondTimeStamp) ?? fromGeneralized(p.timeStamp) ?? headerTime ?? fallback;
    const data = pkt.data.length > MAX_SNAPLEN ? pkt.data.subarray(0, MAX_SNAPLEN) : pkt.data;
    out.push({ sec: t.seconds, usec: t.micros, data, origLen: Math.max(pkt.origLen, pkt.data.length) });
  }
  return out;
}
