/**
 * The hot path: one IPCC record (TS 102 232-3) per captured packet, written straight into a
 * buffer. Everything of the PS-PDU but the sequence number, the time stamp, the direction
 * and the packet is constant for one communication (LIID, CIN), so an `IpccTemplate` encodes
 * those constant parts once, with the general constraint-checking encoder, and each call
 * only patches the variable parts in and computes the nested lengths arithmetically.
 * Its output is byte-identical to `ipccPdu` (test/unit/fast-ipcc.test.ts proves it).
 *
 * ```asn1
 * PS-PDU ::= SEQUENCE {                                    -- 30 L0
 *   pSHeader [1] PSHeader,                                 -- A1 L1 { constant, [4] seq, [5] | [7] time, constant }
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
 * Pure: no I/O. Per call it allocates nothing but the output buffer of `encode`.
 */
import { encodeField } from '../ber/encode';
import { Field, Schema } from '../ber/schema';
import { BerError, EtsiError, EtsiLimitError } from '../errors';
import { RecordContext, Stamp, ipccPdu, psHeader } from './build';
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

/** An encoder of IPCC records for one communication (one LIID and CIN). */
export class IpccTemplate {
  /** The largest packet this template accepts. */
  readonly maxPacketBytes: number;
  private readonly generalized: boolean;
  /** Header components before sequenceNumber [4]. */
  private readonly head: Uint8Array;
  /** Header components between timeStamp [5] and microSecondTimeStamp [7] (interceptionPointID). */
  private readonly mid: Uint8Array;
  /** Header components after microSecondTimeStamp [7] (timeStampQualifier). */
  private readonly tail: Uint8Array;
  /** head + mid + tail lengths. */
  private readonly constLen: number;
  /** The iPCCObjId TLV. */
  private readonly objId: Uint8Array;
  /** GeneralizedTime digits YYYYMMDDhhmmss of `gtSecond`, kept because a second holds many packets. */
  private readonly gtDigits = new Uint8Array(14);
  private gtSecond = NaN;

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
    this.head = Buffer.concat(parts[0]!);
    this.mid = Buffer.concat(parts[1]!);
    this.tail = Buffer.concat(parts[2]!);
    this.constLen = this.head.length + this.mid.length + this.tail.length;
    this.objId = encodeField(IPCC_FIELDS[0] as Field, IP_ACCESS_OBJIDS.iPCC, `${CC}.cCContents.iPCC.iPCCObjId`);
    const mine = this.encode(0, t0, EMPTY, 'fromTarget');
    if (!mine.equals(reference)) throw new EtsiError('internal: the IPCC template does not match the general encoder for this context');
  }

  /** Bytes `encode` would produce for these inputs (checked as `encode` checks them). */
  sizeOf(seq: number, stamp: Stamp, packetLength: number): number {
    checkSeq(seq);
    this.checkStamp(stamp);
    if (!Number.isSafeInteger(packetLength) || packetLength < 0) throw new EtsiError(`packet length ${String(packetLength)} is not a non-negative integer`);
    this.checkPacketLength(packetLength);
    const payload = payloadSize(this.objId.length, packetLength);
    const h = this.headerContentSize(seq, stamp);
    const l0 = 1 + lenSize(h) + h + payload;
    return 1 + lenSize(l0) + l0;
  }

  /** One IPCC PS-PDU in a fresh Buffer. */
  encode(seq: number, stamp: Stamp, packet: Uint8Array, direction: PayloadDirection): Buffer {
    if (!(packet instanceof Uint8Array)) throw notBytes();
    const size = this.sizeOf(seq, stamp, packet.length);
    const d = directionCode(direction);
    const out = Buffer.allocUnsafe(size);
    this.write(out, 0, seq, stamp, packet, d);
    return out;
  }

  /**
   * Writes one IPCC PS-PDU into `target` at `offset`; returns the bytes written (as `sizeOf`).
   * Nothing is written when an input is invalid or the PDU does not fit.
   */
  encodeInto(target: Uint8Array, offset: number, seq: number, stamp: Stamp, packet: Uint8Array, direction: PayloadDirection): number {
    if (!(packet instanceof Uint8Array)) throw notBytes();
    const size = this.sizeOf(seq, stamp, packet.length);
    const d = directionCode(direction);
    if (!(target instanceof Uint8Array) || !Number.isSafeInteger(offset) || offset < 0 || offset + size > target.length) {
      const room = target instanceof Uint8Array ? target.length - offset : 0;
      throw new EtsiError(`the IPCC PDU needs ${size} bytes at offset ${String(offset)}, the target has ${room > 0 ? room : 0}`);
    }
    return this.write(target, offset, seq, stamp, packet, d) - offset;
  }

  // --- sizes ---------------------------------------------------------------------------------

  /** Length of the PSHeader's contents for this sequence number and stamp. */
  private headerContentSize(seq: number, stamp: Stamp): number {
    let n = this.constLen + 2 + uintSize(seq);
    if (this.generalized) n += 2 + gtTextSize(fractionDigits(stamp.micros));
    else n += 2 + 2 + uintSize(stamp.seconds) + 2 + uintSize(stamp.micros);
    return n;
  }

  // --- checks (cheap; messages and codes as the general encoder's) ---------------------------

  private checkStamp(stamp: Stamp): void {
    if (typeof stamp !== 'object' || stamp === null) throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}: the time stamp must be { seconds, micros }`);
    const s = stamp.seconds;
    const m = stamp.micros;
    if (this.generalized) {
      if (!Number.isSafeInteger(s) || s < GT_MIN_SECONDS || s > GT_MAX_SECONDS) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.timeStamp: ${String(s)} seconds is not an integer within GeneralizedTime years 0000..9999`);
      }
      if (!(m >>> 0 === m && m <= 999_999)) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.timeStamp: GeneralizedTime microseconds ${String(m)} are not an integer in 0..999999`);
      }
    } else {
      if (!Number.isSafeInteger(s) || s < 0) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.microSecondTimeStamp.seconds: ${String(s)} is not an integer in 0..${Number.MAX_SAFE_INTEGER}`);
      }
      if (!(m >>> 0 === m && m <= 999_999)) {
        throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.microSecondTimeStamp.microSeconds: ${String(m)} is outside 0..999999`);
      }
    }
  }

  private checkPacketLength(n: number): void {
    if (n > this.maxPacketBytes) {
      throw new EtsiLimitError(`an IPCC packet of ${n} bytes exceeds the ${this.maxPacketBytes}-byte limit`, this.maxPacketBytes);
    }
  }

  // --- writing -------------------------------------------------------------------------------

  /** Writes the PDU at `at` (inputs already checked, room already known); returns the end offset. */
  private write(b: Uint8Array, at: number, seq: number, stamp: Stamp, packet: Uint8Array, dir: number): number {
    const n = packet.length;
    const seqLen = uintSize(seq);
    const micros = stamp.micros;
    const seconds = stamp.seconds;
    let timeLen: number; // the time component's TLV
    let secLen = 0;
    let microLen = 0;
    let frac = 0;
    if (this.generalized) {
      frac = fractionDigits(micros);
      timeLen = 2 + gtTextSize(frac);
    } else {
      secLen = uintSize(seconds);
      microLen = uintSize(micros);
      timeLen = 2 + 2 + secLen + 2 + microLen;
    }
    const l1 = this.constLen + 2 + seqLen + timeLen;
    // payload, from the packet outwards
    const objLen = this.objId.length;
    const l7 = 1 + lenSize(n) + n;
    const l6 = objLen + 1 + lenSize(l7) + l7;
    const l5 = 1 + lenSize(l6) + l6;
    const l4 = 3 + 1 + lenSize(l5) + l5;
    const l3 = 1 + lenSize(l4) + l4;
    const l2 = 1 + lenSize(l3) + l3;
    const l0 = 1 + lenSize(l1) + l1 + 1 + lenSize(l2) + l2;

    b[at++] = 0x30;
    at = putLength(b, at, l0);
    b[at++] = 0xa1;
    at = putLength(b, at, l1);
    at = copySmall(b, at, this.head);
    b[at++] = 0x84; // sequenceNumber [4] INTEGER
    b[at++] = seqLen;
    putUint(b, at, seq, seqLen);
    at += seqLen;
    if (this.generalized) {
      b[at++] = 0x85; // timeStamp [5] GeneralizedTime
      b[at++] = gtTextSize(frac);
      at = this.putGeneralizedTime(b, at, seconds, micros, frac);
      at = copySmall(b, at, this.mid);
    } else {
      at = copySmall(b, at, this.mid);
      b[at++] = 0xa7; // microSecondTimeStamp [7] SEQUENCE
      b[at++] = 4 + secLen + microLen;
      b[at++] = 0x80; // seconds [0]
      b[at++] = secLen;
      putUint(b, at, seconds, secLen);
      at += secLen;
      b[at++] = 0x81; // microSeconds [1]
      b[at++] = microLen;
      putUint(b, at, micros, microLen);
      at += microLen;
    }
    at = copySmall(b, at, this.tail);

    b[at++] = 0xa2; // payload [2] (explicit)
    at = putLength(b, at, l2);
    b[at++] = 0xa1; // cCPayloadSequence [1]
    at = putLength(b, at, l3);
    b[at++] = 0x30; // CCPayload
    at = putLength(b, at, l4);
    b[at++] = 0x80; // payloadDirection [0]
    b[at++] = 0x01;
    b[at++] = dir;
    b[at++] = 0xa2; // cCContents [2] (explicit)
    at = putLength(b, at, l5);
    b[at++] = 0xa2; // iPCC [2]
    at = putLength(b, at, l6);
    at = copySmall(b, at, this.objId);
    b[at++] = 0xa1; // iPCCContents [1] (explicit)
    at = putLength(b, at, l7);
    b[at++] = 0x80; // iPPackets [0]
    at = putLength(b, at, n);
    b.set(packet, at);
    return at + n;
  }

  /** YYYYMMDDhhmmss[.f…]Z as formatGeneralizedTime writes it; returns the end offset. */
  private putGeneralizedTime(b: Uint8Array, at: number, seconds: number, micros: number, frac: number): number {
    if (seconds !== this.gtSecond) {
      civilDigits(seconds, this.gtDigits);
      this.gtSecond = seconds;
    }
    at = copySmall(b, at, this.gtDigits);
    if (frac > 0) {
      b[at++] = 0x2e; // '.'
      let v = micros;
      for (let k = 6 - frac; k > 0; k--) v = (v / 10) | 0; // drop the trailing zeros
      for (let i = at + frac - 1; i >= at; i--) {
        const q = (v / 10) | 0;
        b[i] = 0x30 + v - q * 10;
        v = q;
      }
      at += frac;
    }
    b[at++] = 0x5a; // 'Z'
    return at;
  }
}

// --- helpers -----------------------------------------------------------------------------------

/** Length of the payload [2] TLV for a packet of `n` bytes. */
function payloadSize(objLen: number, n: number): number {
  const l7 = 1 + lenSize(n) + n;
  const l6 = objLen + 1 + lenSize(l7) + l7;
  const l5 = 1 + lenSize(l6) + l6;
  const l4 = 3 + 1 + lenSize(l5) + l5;
  const l3 = 1 + lenSize(l4) + l4;
  const l2 = 1 + lenSize(l3) + l3;
  return 1 + lenSize(l2) + l2;
}

function checkSeq(seq: number): void {
  if (seq >>> 0 !== seq) throw new BerError('LIG_ERR_BER_RANGE', `${HEADER}.sequenceNumber: ${String(seq)} is not an integer in 0..4294967295`);
}

function notBytes(): BerError {
  return new BerError('LIG_ERR_BER_RANGE', `${CC}.cCContents.iPCC.iPCCContents.iPPackets: expected bytes (Uint8Array)`);
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

/** Minimal length-octet count (X.690 8.1.3) for a length below 2^32. */
function lenSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

function putLength(b: Uint8Array, at: number, n: number): number {
  if (n < 0x80) {
    b[at] = n;
    return at + 1;
  }
  if (n < 0x100) {
    b[at] = 0x81;
    b[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    b[at] = 0x82;
    b[at + 1] = n >>> 8;
    b[at + 2] = n & 0xff;
    return at + 3;
  }
  if (n < 0x1000000) {
    b[at] = 0x83;
    b[at + 1] = n >>> 16;
    b[at + 2] = (n >>> 8) & 0xff;
    b[at + 3] = n & 0xff;
    return at + 4;
  }
  b[at] = 0x84;
  b[at + 1] = n >>> 24;
  b[at + 2] = (n >>> 16) & 0xff;
  b[at + 3] = (n >>> 8) & 0xff;
  b[at + 4] = n & 0xff;
  return at + 5;
}

/** Contents-octet count of a non-negative INTEGER below 2^53 (minimal two's complement). */
function uintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x8000) return 2;
  if (v < 0x800000) return 3;
  if (v < 0x80000000) return 4;
  if (v < 0x8000000000) return 5;
  if (v < 0x800000000000) return 6;
  return 7;
}

/** Writes `v` (a non-negative integer below 2^53) big-endian in exactly `len` bytes at `at`. */
function putUint(b: Uint8Array, at: number, v: number, len: number): void {
  let lo = v >>> 0; // v mod 2^32
  let i = at + len - 1;
  const low = len < 4 ? len : 4;
  for (let k = 0; k < low; k++, i--) {
    b[i] = lo & 0xff;
    lo >>>= 8;
  }
  if (len > 4) {
    let hi = (v - (v >>> 0)) / 0x1_0000_0000;
    for (; i >= at; i--) {
      b[i] = hi & 0xff;
      hi >>>= 8;
    }
  }
}

/** Digits of the fraction GeneralizedTime carries for these microseconds (trailing zeros dropped). */
function fractionDigits(micros: number): number {
  if (micros === 0) return 0;
  let n = 6;
  for (let v = micros; v % 10 === 0; v /= 10) n--;
  return n;
}

/** Length of YYYYMMDDhhmmss[.f…]Z with `frac` fraction digits. */
function gtTextSize(frac: number): number {
  return frac === 0 ? 15 : 16 + frac;
}

/** Copies a short constant; a loop beats TypedArray#set's call overhead for a few dozen bytes. */
function copySmall(b: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  for (let i = 0; i < n; i++) b[at + i] = src[i]!;
  return at + n;
}

/** YYYYMMDDhhmmss (UTC, proleptic Gregorian) of a second since the epoch, as ASCII digits. */
function civilDigits(seconds: number, out: Uint8Array): void {
  const days = Math.floor(seconds / 86_400);
  let sod = seconds - days * 86_400;
  // civil_from_days (H. Hinnant): days since 1970-01-01 to year, month, day
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
  const second = sod - minute * 60;
  out[0] = 0x30 + Math.floor(year / 1000);
  out[1] = 0x30 + (Math.floor(year / 100) % 10);
  out[2] = 0x30 + (Math.floor(year / 10) % 10);
  out[3] = 0x30 + (year % 10);
  two(out, 4, month);
  two(out, 6, day);
  two(out, 8, hour);
  two(out, 10, minute);
  two(out, 12, second);
}

function two(out: Uint8Array, at: number, v: number): void {
  const t = Math.floor(v / 10);
  out[at] = 0x30 + t;
  out[at + 1] = 0x30 + v - t * 10;
}
