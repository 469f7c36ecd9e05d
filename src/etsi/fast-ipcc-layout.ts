/**
 * Layouts of the IPCC hot path (fast-ipcc.ts). Everything of an IPCC PS-PDU before the
 * packet (the prefix, ~100 bytes) is staged in a scratch buffer. Where each variable part
 * sits depends only on the shape: how many octets each length, each INTEGER and the time
 * text take. A `PrefixSlot` holds the prefix laid out for one shape; within that shape a PDU
 * costs only rewriting the values that changed.
 *
 * ```
 * 30 L0 A1 L1 head 84 n seq [85 n time] mid [A7 n 80 n secs 81 n micros] tail        pSHeader
 * A2 L2 A1 L3 30 L4 80 01 dir A2 L5 A2 L6 objId A1 L7 80 L8 | packet                  payload
 * ```
 * Pure: no I/O.
 */
import { gtTextSize, lenSize, putBE } from './fast-bytes';

/** The constant parts of one communication's prefix, encoded once by the general encoder. */
export interface IpccParts {
  generalized: boolean;
  /** Header components before sequenceNumber [4]. */
  head: Uint8Array;
  /** Header components between timeStamp [5] and microSecondTimeStamp [7] (interceptionPointID). */
  mid: Uint8Array;
  /** Header components after microSecondTimeStamp [7] (timeStampQualifier). */
  tail: Uint8Array;
  /** The iPCCObjId TLV. */
  objId: Uint8Array;
}

/**
 * Tags of the payload's TLVs, outermost first: payload [2], cCPayloadSequence [1], CCPayload,
 * cCContents [2], iPCC [2], iPCCContents [1], iPPackets [0]. CCPayload's payloadDirection
 * comes after the third, iPCCObjId after the fifth.
 */
const PAYLOAD_TAGS = [0xa2, 0xa1, 0x30, 0xa2, 0xa2, 0xa1, 0x80] as const;

/** Room in a scratch buffer beyond the constant parts: lengths, INTEGERs, time, tags (~80 at most). */
const SCRATCH_SLACK = 128;

const EMPTY = new Uint8Array(0);

/** The payload's lengths L2..L7 and L8 (the packet's), for one packet length. */
export class PayloadSizes {
  /** The packet length these are for. */
  n = -1;
  /** Sum of the length-octet counts: each only grows with n, so the sum names the layout. */
  shape = 0;
  /** Bytes of the whole payload [2] TLV, packet included. */
  tlv = 0;
  readonly value = new Int32Array(7);
  readonly size = new Int32Array(7);
  /** Octets of the iPCCObjId TLV (iPCC holds it besides iPCCContents). */
  private readonly objIdLength: number;

  constructor(objIdLength: number) {
    this.objIdLength = objIdLength;
  }

  /** Straight-line on purpose: this runs whenever the packet length changes. */
  compute(n: number): void {
    const v = this.value;
    const s = this.size;
    const s8 = lenSize(n);
    const l7 = 1 + s8 + n; // iPCCContents: iPPackets
    const s7 = lenSize(l7);
    const l6 = this.objIdLength + 1 + s7 + l7; // iPCC: iPCCObjId, iPCCContents
    const s6 = lenSize(l6);
    const l5 = 1 + s6 + l6; // cCContents: iPCC
    const s5 = lenSize(l5);
    const l4 = 3 + 1 + s5 + l5; // CCPayload: payloadDirection, cCContents
    const s4 = lenSize(l4);
    const l3 = 1 + s4 + l4; // cCPayloadSequence: CCPayload
    const s3 = lenSize(l3);
    const l2 = 1 + s3 + l3; // payload: cCPayloadSequence
    const s2 = lenSize(l2);
    v[0] = l2;
    v[1] = l3;
    v[2] = l4;
    v[3] = l5;
    v[4] = l6;
    v[5] = l7;
    v[6] = n;
    s[0] = s2;
    s[1] = s3;
    s[2] = s4;
    s[3] = s5;
    s[4] = s6;
    s[5] = s7;
    s[6] = s8;
    this.tlv = 1 + s2 + l2;
    this.shape = s2 + s3 + s4 + s5 + s6 + s7 + s8;
    this.n = n;
  }
}

/** One staged prefix: a scratch buffer laid out for one shape, and which values it holds. */
export class PrefixSlot {
  readonly scratch: Uint8Array;
  /** The staged prefix: a view of `scratch`. */
  prefix: Uint8Array = EMPTY;
  /** The shape laid out, or -1 before the first layout. */
  shape = -1;
  /** The packet length and the INTEGER sizes whose lengths are staged. */
  n = -1;
  sizes = -1;
  /** The second whose digits (or INTEGER) are staged. */
  second = NaN;
  /** Where the value octets of L0 and L1 go, and how many there are. */
  l0At = 0;
  l0N = 0;
  l1At = 0;
  l1N = 0;
  seqAt = 0;
  /** GeneralizedTime: the digits; MicroSecondTimeStamp: the seconds INTEGER. */
  timeAt = 0;
  /** GeneralizedTime: the fraction digits; MicroSecondTimeStamp: the microSeconds INTEGER. */
  fracAt = 0;
  dirAt = 0;
  /** Where each payload length's value octets go, and how many there are. */
  readonly pAt = new Int32Array(7);
  readonly pN = new Int32Array(7);

  constructor(parts: IpccParts) {
    this.scratch = new Uint8Array(parts.head.length + parts.mid.length + parts.tail.length + parts.objId.length + SCRATCH_SLACK);
  }

  /**
   * Lays the prefix out for a shape: tags, long-form length prefixes and constant parts in
   * place, and where each value goes. `microLen` is the GeneralizedTime fraction digits in
   * that format. Values are left for `putLengths` and the caller.
   */
  layout(parts: IpccParts, payload: PayloadSizes, ls0: number, ls1: number, seqLen: number, secLen: number, microLen: number): void {
    const b = this.scratch;
    let at = 0;
    b[at++] = 0x30; // PS-PDU
    at = this.lengthSlot(at, ls0);
    this.l0At = at - valueCount(ls0);
    this.l0N = valueCount(ls0);
    b[at++] = 0xa1; // pSHeader [1]
    at = this.lengthSlot(at, ls1);
    this.l1At = at - valueCount(ls1);
    this.l1N = valueCount(ls1);
    b.set(parts.head, at);
    at += parts.head.length;
    b[at++] = 0x84; // sequenceNumber [4]
    b[at++] = seqLen;
    this.seqAt = at;
    at += seqLen;
    if (parts.generalized) {
      b[at++] = 0x85; // timeStamp [5] GeneralizedTime
      b[at++] = gtTextSize(microLen);
      this.timeAt = at;
      at += 14;
      if (microLen > 0) b[at++] = 0x2e; // '.'
      this.fracAt = at;
      at += microLen;
      b[at++] = 0x5a; // 'Z'
      b.set(parts.mid, at);
      at += parts.mid.length;
    } else {
      b.set(parts.mid, at);
      at += parts.mid.length;
      b[at++] = 0xa7; // microSecondTimeStamp [7]
      b[at++] = 4 + secLen + microLen;
      b[at++] = 0x80; // seconds [0]
      b[at++] = secLen;
      this.timeAt = at;
      at += secLen;
      b[at++] = 0x81; // microSeconds [1]
      b[at++] = microLen;
      this.fracAt = at;
      at += microLen;
    }
    b.set(parts.tail, at);
    at += parts.tail.length;
    for (let i = 0; i < 7; i++) {
      const size = payload.size[i]!;
      b[at++] = PAYLOAD_TAGS[i]!;
      at = this.lengthSlot(at, size);
      this.pAt[i] = at - valueCount(size);
      this.pN[i] = valueCount(size);
      if (i === 2) {
        b[at++] = 0x80; // payloadDirection [0]
        b[at++] = 0x01;
        this.dirAt = at++;
      } else if (i === 4) {
        b.set(parts.objId, at);
        at += parts.objId.length;
      }
    }
    this.prefix = b.subarray(0, at);
    this.second = NaN;
  }

  /** Writes the lengths L0, L1 and the payload's into their slots. */
  putLengths(l0: number, l1: number, payload: PayloadSizes): void {
    const b = this.scratch;
    putBE(b, this.l0At, l0, this.l0N);
    putBE(b, this.l1At, l1, this.l1N);
    for (let i = 0; i < 7; i++) putBE(b, this.pAt[i]!, payload.value[i]!, this.pN[i]!);
  }

  /** Reserves a `size`-octet length at `at` (writing the long form's first octet); returns the end. */
  private lengthSlot(at: number, size: number): number {
    if (size > 1) this.scratch[at++] = 0x80 | (size - 1);
    return at + valueCount(size);
  }
}

/** Value octets of a `size`-octet length: the one octet of the short form, or all but the first. */
function valueCount(size: number): number {
  return size > 1 ? size - 1 : 1;
}

/** Number of prefixes a template keeps laid out: mixed packet sizes and INTEGER sizes make ~6 shapes. */
export const PREFIX_SLOTS = 8;

/** L1 for INTEGER and time sizes (`microLen`: the fraction digits in GeneralizedTime format). */
export function headerLength(parts: IpccParts, constLen: number, seqLen: number, secLen: number, microLen: number): number {
  return constLen + 4 + seqLen + (parts.generalized ? gtTextSize(microLen) : 4 + secLen + microLen);
}
