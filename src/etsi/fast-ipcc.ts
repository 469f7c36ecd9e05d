/**
 * The hot path: one IPCC record (TS 102 232-3) per captured packet. Everything of the PS-PDU
 * but the sequence number, the time stamp, the direction and the packet is constant for one
 * communication (LIID, CIN), so an `IpccTemplate` encodes the constant parts once, with the
 * general constraint-checking encoder, and each call patches only the variable parts in,
 * computing the nested lengths arithmetically. Its output is byte-identical to `ipccPdu`
 * (test/unit/fast-ipcc.test.ts proves it).
 *
 * ```asn1
 * PS-PDU ::= SEQUENCE {                                    -- 30 L0
 *   pSHeader [1] PSHeader,                                 -- A1 L1 { head, [4] seq, [5] time | mid, [7] time, tail }
 *   payload  [2] Payload }                                 -- A2 L2 (explicit: CHOICE)
 * Payload: cCPayloadSequence [1] SEQUENCE OF CCPayload     -- A1 L3
 * CCPayload ::= SEQUENCE {                                 -- 30 L4
 *   payloadDirection [0] PayloadDirection,                 -- 80 01 d
 *   cCContents       [2] CCContents }                      -- A2 L5 (explicit: CHOICE)
 * CCContents: iPCC [2] IPCC                                -- A2 L6
 * IPCC ::= SEQUENCE {
 *   iPCCObjId    [0] RELATIVE-OID,                         -- 80 04 05 03 14 02
 *   iPCCContents [1] IPCCContents }                        -- A1 L7 (explicit: CHOICE)
 * IPCCContents: iPPackets [0] OCTET STRING                 -- 80 L8 packet
 * ```
 * How: everything before the packet (the prefix) is staged in a scratch buffer laid out for
 * the current shape (fast-ipcc-layout.ts), so a call rewrites only the few bytes that changed,
 * then makes two copies: prefix, packet. Pure: no I/O; per call nothing is allocated but the
 * output.
 */
import { encodeField } from '../ber/encode';
import { Field, Schema } from '../ber/schema';
import { BerError, EtsiError, EtsiLimitError } from '../errors';
import { RecordContext, Stamp, ipccPdu, psHeader } from './build';
import { fractionDigits, lenSize, putBE, putCivilDigits, putFraction, putUint, uint32Size, uintSize } from './fast-bytes';
import { IpccParts, PREFIX_SLOTS, PayloadSizes, PrefixSlot, headerLength } from './fast-ipcc-layout';
import { IPCC, IP_ACCESS_OBJIDS } from './ip-access';
import { PAYLOAD_DIRECTION, PS_HEADER, PayloadDirection } from './ps-pdu';

/**
 * Largest packet an IpccTemplate accepts by default, in bytes: libpcap's largest snapshot
 * length (MAXIMUM_SNAPLEN), so any packet capture can deliver fits, and the PDU stays far
 * below the reader's DEFAULT_MAX_PDU_BYTES, so lig's own decoder accepts what it sends.
 * Override per template with `IpccTemplateOptions.maxPacketBytes`.
 */
export const MAX_IPCC_PACKET_BYTES = 262_144;

/** Ceiling for `maxPacketBytes`: lengths stay small integers, and a PDU stays a plain Buffer. */
export const MAX_IPCC_PACKET_BYTES_CEILING = 1 << 30;

export interface IpccTemplateOptions {
  /** Largest packet accepted (default MAX_IPCC_PACKET_BYTES); larger ones raise EtsiLimitError. */
  maxPacketBytes?: number;
}

/** First and last second GeneralizedTime can write (years 0000 and 9999), as formatGeneralizedTime allows. */
const GT_MIN_SECONDS = -62_167_219_200;
const GT_MAX_SECONDS = 253_402_300_799;

const HEADER = 'PS-PDU.pSHeader';
const CC = 'PS-PDU.payload.cCPayloadSequence[0]';
const HEADER_FIELDS = (PS_HEADER as Extract<Schema, { kind: 'seq' }>).fields;
const IPCC_FIELDS = (IPCC as Extract<Schema, { kind: 'seq' }>).fields;
const EMPTY = new Uint8Array(0);
/** An encoder of IPCC records for one communication (one LIID and CIN). Not for concurrent use across threads. */
export class IpccTemplate {
  /** The largest packet this template accepts. */
  readonly maxPacketBytes: number;
  private readonly generalized: boolean;
  private readonly parts: IpccParts;
  /** Octets of the constant header components. */
  private readonly constLen: number;
  private readonly payload: PayloadSizes;
  /** Laid-out prefixes, made on demand, at most PREFIX_SLOTS; replaced round-robin. */
  private readonly slots: PrefixSlot[] = [];
  private victim = 0;
  /** The slot the last PDU used. */
  private current: PrefixSlot | undefined = undefined;

  /** Checks the context once, with the general encoder; throws its typed errors. */
  constructor(ctx: RecordContext, options: IpccTemplateOptions = {}) {
    const max = options.maxPacketBytes ?? MAX_IPCC_PACKET_BYTES;
    if (!Number.isSafeInteger(max) || max < 0 || max > MAX_IPCC_PACKET_BYTES_CEILING) {
      throw new EtsiError(`maxPacketBytes must be an integer in 0..${MAX_IPCC_PACKET_BYTES_CEILING}, got ${String(max)}`);
    }
    this.maxPacketBytes = max;
    const format = ctx.timestampFormat ?? 'microsecond';
    if (format !== 'microsecond' && format !== 'generalized') {
      throw new EtsiError(`timestampFormat must be "microsecond" or "generalized", got ${JSON.stringify(format)}`);
    }
    this.generalized = format === 'generalized';
    const t0: Stamp = { seconds: 0, micros: 0 };
    const reference = ipccPdu(ctx, 0, t0, EMPTY, 'fromTarget'); // every check of the general path
    // The constant components, in schema order, split at the variable ones.
    const header = psHeader(ctx, 0, t0) as unknown as Record<string, unknown>;
    const parts: Uint8Array[][] = [[]];
    for (const fl of HEADER_FIELDS) {
      if (fl.name === 'sequenceNumber' || fl.name === 'microSecondTimeStamp') parts.push([]);
      if (fl.name === 'sequenceNumber' || fl.name === 'timeStamp' || fl.name === 'microSecondTimeStamp') continue;
      const v = header[fl.name];
      if (v !== undefined) parts[parts.length - 1]!.push(encodeField(fl, v, `${HEADER}.${fl.name}`));
    }
    const bytes = (parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
    this.parts = {
      generalized: this.generalized,
      head: bytes(parts[0]!),
      mid: bytes(parts[1]!),
      tail: bytes(parts[2]!),
      objId: bytes([encodeField(IPCC_FIELDS[0] as Field, IP_ACCESS_OBJIDS.iPCC, `${CC}.cCContents.iPCC.iPCCObjId`)]),
    };
    this.constLen = this.parts.head.length + this.parts.mid.length + this.parts.tail.length;
    this.payload = new PayloadSizes(this.parts.objId.length);
    const mine = this.encode(0, t0, EMPTY, 'fromTarget');
    if (!mine.equals(reference)) throw new EtsiError('internal: the IPCC template does not match the general encoder for this context');
  }

  /** Bytes `encode` would produce for these inputs (checked as `encode` checks them). */
  sizeOf(seq: number, stamp: Stamp, packetLength: number): number {
    checkSeq(seq);
    this.checkStamp(stamp);
    if (typeof packetLength !== 'number' || !(packetLength >= 0) || Math.floor(packetLength) !== packetLength) {
      throw new EtsiError(`packet length ${String(packetLength)} is not a non-negative integer`);
    }
    this.checkPacketLength(packetLength);
    const l1 = this.generalized
      ? headerLength(this.parts, this.constLen, uint32Size(seq), 0, fractionDigits(stamp.micros))
      : headerLength(this.parts, this.constLen, uint32Size(seq), uintSize(stamp.seconds), uint32Size(stamp.micros));
    if (packetLength !== this.payload.n) this.payload.compute(packetLength);
    const l0 = 1 + lenSize(l1) + l1 + this.payload.tlv;
    return 1 + lenSize(l0) + l0;
  }

  /** One IPCC PS-PDU in a fresh Buffer. */
  encode(seq: number, stamp: Stamp, packet: Uint8Array, direction: PayloadDirection): Buffer {
    this.checkInputs(seq, stamp, packet);
    const prefix = this.stage(seq, stamp, packet.length, directionCode(direction));
    const out = Buffer.allocUnsafe(prefix.length + packet.length);
    out.set(prefix, 0);
    out.set(packet, prefix.length);
    return out;
  }

  /**
   * Writes one IPCC PS-PDU into `target` at `offset`; returns the bytes written (as `sizeOf`).
   * Nothing is written when an input is invalid or the PDU does not fit. `packet` must not
   * lie in the part of `target` being written.
   */
  encodeInto(target: Uint8Array, offset: number, seq: number, stamp: Stamp, packet: Uint8Array, direction: PayloadDirection): number {
    this.checkInputs(seq, stamp, packet);
    const prefix = this.stage(seq, stamp, packet.length, directionCode(direction));
    const size = prefix.length + packet.length;
    if (!(target instanceof Uint8Array) || typeof offset !== 'number' || !(offset >= 0) || Math.floor(offset) !== offset || offset + size > target.length) {
      const room = target instanceof Uint8Array && typeof offset === 'number' ? target.length - offset : 0;
      throw new EtsiError(`the IPCC PDU needs ${size} bytes at offset ${String(offset)}, the target has ${room > 0 ? room : 0}`);
    }
    target.set(prefix, offset);
    target.set(packet, offset + prefix.length);
    return size;
  }

  // --- checks (cheap; codes, and paths in the messages, as the general encoder's) -----------

  private checkInputs(seq: number, stamp: Stamp, packet: Uint8Array): void {
    checkSeq(seq);
    this.checkStamp(stamp);
    if (!(packet instanceof Uint8Array)) throw new BerError('LIG_ERR_BER_RANGE', `${CC}.cCContents.iPCC.iPCCContents.iPPackets: expected bytes (Uint8Array)`);
    this.checkPacketLength(packet.length);
  }

  private checkStamp(stamp: Stamp): void {
    if (typeof stamp !== 'object' || stamp === null) throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}: the time stamp must be { seconds, micros }`);
    const s = stamp.seconds;
    const m = stamp.micros;
    if (this.generalized) {
      if (typeof s !== 'number' || !(s >= GT_MIN_SECONDS && s <= GT_MAX_SECONDS) || Math.floor(s) !== s) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.timeStamp: ${String(s)} seconds is not an integer within GeneralizedTime years 0000..9999`);
      }
      if (typeof m !== 'number' || !(m >= 0 && m <= 999_999) || Math.floor(m) !== m) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.timeStamp: GeneralizedTime microseconds ${String(m)} are not an integer in 0..999999`);
      }
    } else {
      if (typeof s !== 'number' || !(s >= 0 && s <= Number.MAX_SAFE_INTEGER) || Math.floor(s) !== s) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.microSecondTimeStamp.seconds: ${String(s)} is not an integer in 0..${Number.MAX_SAFE_INTEGER}`);
      }
      if (typeof m !== 'number' || !(m >= 0 && m <= 999_999) || Math.floor(m) !== m) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.microSecondTimeStamp.microSeconds: ${String(m)} is outside 0..999999`);
      }
    }
  }

  private checkPacketLength(n: number): void {
    if (n > this.maxPacketBytes) {
      throw new EtsiLimitError(`an IPCC packet of ${n} bytes exceeds the ${this.maxPacketBytes}-byte limit`, this.maxPacketBytes);
    }
  }

  // --- staging the prefix --------------------------------------------------------------------

  /**
   * Brings a staged prefix up to date for these (checked) inputs and returns it. Common case:
   * same packet length and INTEGER sizes as the last call, so only the sequence number, the
   * time and the direction are written. Otherwise `restage`.
   */
  private stage(seq: number, stamp: Stamp, n: number, dir: number): Uint8Array {
    const seconds = stamp.seconds;
    const micros = stamp.micros;
    const seqLen = uint32Size(seq);
    let secLen = 0;
    let microLen = 0; // the microSeconds INTEGER's size, or the GeneralizedTime fraction digits
    if (this.generalized) microLen = fractionDigits(micros);
    else {
      secLen = uintSize(seconds);
      microLen = uint32Size(micros);
    }
    const sizes = seqLen | (secLen << 3) | (microLen << 6);
    let s = this.current;
    if (s === undefined || sizes !== s.sizes || n !== s.n) s = this.restage(n, sizes, seqLen, secLen, microLen);
    const b = s.scratch;
    putBE(b, s.seqAt, seq, seqLen);
    if (seconds !== s.second) {
      if (this.generalized) putCivilDigits(b, s.timeAt, seconds);
      else putUint(b, s.timeAt, seconds, secLen);
      s.second = seconds;
    }
    if (this.generalized) putFraction(b, s.fracAt, micros, microLen);
    else putBE(b, s.fracAt, micros, microLen);
    b[s.dirAt] = dir;
    return s.prefix;
  }

  /**
   * New packet length or INTEGER sizes. A slot that already holds the lengths for them becomes
   * the current one; else the lengths are written anew into the slot laid out for their shape
   * (one is laid out if none is). So alternating packet sizes (IMIX) each keep their slot.
   */
  private restage(n: number, sizes: number, seqLen: number, secLen: number, microLen: number): PrefixSlot {
    const slots = this.slots;
    for (let k = 0; k < slots.length; k++) {
      const staged = slots[k]!;
      if (staged.n === n && staged.sizes === sizes) return (this.current = staged); // its lengths are these
    }
    const p = this.payload;
    if (n !== p.n) p.compute(n);
    const l1 = headerLength(this.parts, this.constLen, seqLen, secLen, microLen);
    const ls1 = lenSize(l1);
    const l0 = 1 + ls1 + l1 + p.tlv;
    const ls0 = lenSize(l0);
    const shape = ls0 | (ls1 << 3) | (sizes << 6) | (p.shape << 15);
    let i = 0;
    while (i < slots.length && slots[i]!.shape !== shape) i++;
    let s: PrefixSlot;
    if (i < slots.length) s = slots[i]!;
    else {
      if (slots.length < PREFIX_SLOTS) slots.push((s = new PrefixSlot(this.parts)));
      else {
        s = slots[this.victim]!;
        this.victim = (this.victim + 1) % PREFIX_SLOTS;
      }
      s.layout(this.parts, p, ls0, ls1, seqLen, secLen, microLen);
      s.shape = shape;
    }
    this.current = s;
    s.putLengths(l0, l1, p);
    s.n = n;
    s.sizes = sizes;
    return s;
  }
}

function checkSeq(seq: number): void {
  if (typeof seq !== 'number' || seq >>> 0 !== seq) {
    throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.sequenceNumber: ${String(seq)} is not an integer in 0..4294967295`);
  }
}

/** The ENUMERATED value of a PayloadDirection name. */
function directionCode(d: PayloadDirection): number {
  switch (d) {
    case 'fromTarget': return 0;
    case 'toTarget': return 1;
    case 'indeterminate': return 2;
    case 'combined': return 3;
    case 'notapplicable': return 4;
    default:
      throw new BerError('LIG_ERR_BER_RANGE', `${CC}.payloadDirection: ${JSON.stringify(d)} is not one of ${Object.keys(PAYLOAD_DIRECTION).join(', ')}`);
  }
}
