/**
 * pcapng parsing, one block per step: Section Header (either byte order; a new one starts a
 * new section with its own interfaces), Interface Description (link type, snaplen,
 * if_tsresol, if_tsoffset), Enhanced Packet and Simple Packet blocks. Every other block
 * type (name resolution, statistics, custom, the obsolete Packet Block...) is skipped whole.
 * Pure; `PcapReader` does the buffering.
 */
import { CaptureFileError } from '../errors';
import { CaptureParser, Need, Step } from './pcap-classic';
import {
  CaptureLimits,
  CapturedPacket,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_EPB,
  PCAPNG_IDB,
  PCAPNG_MIN_BLOCK_BYTES,
  PCAPNG_MIN_SHB_BYTES,
  PCAPNG_OPT_ENDOFOPT,
  PCAPNG_OPT_IF_TSOFFSET,
  PCAPNG_OPT_IF_TSRESOL,
  PCAPNG_SHB,
  PCAPNG_SPB,
  PCAPNG_VERSION_MAJOR,
  Timestamp,
} from './pcap-format';

/** What an Interface Description Block says about its packets. */
interface Iface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second: 10^n or 2^n from if_tsresol (default 10^6). */
  unitsPerSec: bigint;
  /** if_tsoffset: seconds to add to every timestamp. */
  offsetSec: bigint;
}

const NS_PER_SEC = 1_000_000_000n;
const MAX_SEC = BigInt(Number.MAX_SAFE_INTEGER);

function blockError(message: string, offset: number): CaptureFileError {
  return new CaptureFileError('LIG_ERR_CAPTURE_BAD_BLOCK', message, offset);
}

export class PcapngParser implements CaptureParser {
  private little = true;
  private interfaces: Iface[] = [];

  constructor(private readonly limits: CaptureLimits) {}

  step(buf: Uint8Array, v: DataView, at: number, base: number): Step | Need {
    const avail = buf.length - at;
    if (avail < 8) return { need: 8, what: 'a pcapng block header' };
    const type = v.getUint32(at, this.little);
    if (type === PCAPNG_SHB) {
      // The byte order of the section, and so of this block's own length, is in its body.
      if (avail < 12) return { need: 12, what: 'a pcapng section header' };
      const bom = v.getUint32(at + 8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) this.little = true;
      else if (v.getUint32(at + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) this.little = false;
      else throw blockError('section header has no valid byte-order magic', base + at + 8);
    }
    const len = v.getUint32(at + 4, this.little);
    const min = type === PCAPNG_SHB ? PCAPNG_MIN_SHB_BYTES : PCAPNG_MIN_BLOCK_BYTES;
    if (len < min || len % 4 !== 0) throw blockError(`block length ${len} is not a multiple of 4 of at least ${min}`, base + at + 4);
    if (len > this.limits.maxBlockBytes) {
      throw new CaptureFileError('LIG_ERR_CAPTURE_TOO_LARGE', `block of ${len} bytes exceeds the limit of ${this.limits.maxBlockBytes} (maxBlockBytes)`, base + at);
    }
    if (avail < len) return { need: len, what: 'a pcapng block' };
    if (v.getUint32(at + len - 4, this.little) !== len) {
      throw blockError(`block's trailing length differs from its leading length ${len}`, base + at + len - 4);
    }
    const body = at + 8;
    const bodyLen = len - 12;
    switch (type) {
      case PCAPNG_SHB:
        this.section(v, body, base);
        return { size: len };
      case PCAPNG_IDB:
        this.interfaces.push(this.iface(v, body, bodyLen, base));
        return { size: len };
      case PCAPNG_EPB:
        return { size: len, packet: this.enhanced(buf, v, body, bodyLen, base, at) };
      case PCAPNG_SPB:
        return { size: len, packet: this.simple(buf, v, body, bodyLen, base, at) };
      default:
        return { size: len };
    }
  }

  private section(v: DataView, body: number, base: number): void {
    const major = v.getUint16(body + 4, this.little);
    if (major !== PCAPNG_VERSION_MAJOR) {
      const minor = v.getUint16(body + 6, this.little);
      throw new CaptureFileError('LIG_ERR_CAPTURE_BAD_FORMAT', `pcapng version ${major}.${minor} is not supported (only 1.x)`, base + body + 4);
    }
    this.interfaces = [];
  }

  private iface(v: DataView, body: number, bodyLen: number, base: number): Iface {
    if (bodyLen < 8) throw blockError('interface description block is too short', base + body - 8);
    const iface: Iface = {
      linktype: v.getUint16(body, this.little),
      snaplen: v.getUint32(body + 4, this.little),
      unitsPerSec: 1_000_000n,
      offsetSec: 0n,
    };
    const end = body + bodyLen;
    let at = body + 8;
    while (at < end) {
      if (end - at < 4) throw blockError('option header runs past the end of its block', base + at);
      const code = v.getUint16(at, this.little);
      const olen = v.getUint16(at + 2, this.little);
      if (code === PCAPNG_OPT_ENDOFOPT) break;
      const padded = (olen + 3) & ~3;
      if (at + 4 + padded > end) throw blockError(`option ${code} of ${olen} bytes runs past the end of its block`, base + at);
      if (code === PCAPNG_OPT_IF_TSRESOL) {
        if (olen !== 1) throw blockError(`if_tsresol must be 1 byte, got ${olen}`, base + at);
        const r = v.getUint8(at + 4);
        iface.unitsPerSec = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
      } else if (code === PCAPNG_OPT_IF_TSOFFSET) {
        if (olen !== 8) throw blockError(`if_tsoffset must be 8 bytes, got ${olen}`, base + at);
        iface.offsetSec = v.getBigInt64(at + 4, this.little);
      }
      at += 4 + padded;
    }
    return iface;
  }

  private interfaceAt(id: number, offset: number): Iface {
    const iface = this.interfaces[id];
    if (!iface) {
      const n = this.interfaces.length;
      throw new CaptureFileError('LIG_ERR_CAPTURE_BAD_INTERFACE', `packet names interface ${id}, but the section defines ${n} interface${n === 1 ? '' : 's'}`, offset);
    }
    return iface;
  }

  private checkSize(capLen: number, offset: number): void {
    if (capLen > this.limits.maxRecordBytes) {
      throw new CaptureFileError('LIG_ERR_CAPTURE_TOO_LARGE', `packet of ${capLen} captured bytes exceeds the limit of ${this.limits.maxRecordBytes} (maxRecordBytes)`, offset);
    }
  }

  private enhanced(buf: Uint8Array, v: DataView, body: number, bodyLen: number, base: number, at: number): CapturedPacket {
    if (bodyLen < 20) throw blockError('enhanced packet block is too short', base + at);
    const interfaceId = v.getUint32(body, this.little);
    const iface = this.interfaceAt(interfaceId, base + body);
    const capLen = v.getUint32(body + 12, this.little);
    this.checkSize(capLen, base + at);
    if (20 + capLen > bodyLen) throw blockError(`captured length ${capLen} runs past the end of its block`, base + body + 12);
    const hi = v.getUint32(body + 4, this.little);
    const lo = v.getUint32(body + 8, this.little);
    return {
      ts: toTimestamp(hi, lo, iface, base + body + 4),
      linktype: iface.linktype,
      data: buf.subarray(body + 20, body + 20 + capLen),
      origLen: v.getUint32(body + 16, this.little),
      interfaceId,
      offset: base + at,
    };
  }

  private simple(buf: Uint8Array, v: DataView, body: number, bodyLen: number, base: number, at: number): CapturedPacket {
    if (bodyLen < 4) throw blockError('simple packet block is too short', base + at);
    const iface = this.interfaceAt(0, base + at);
    const origLen = v.getUint32(body, this.little);
    // The captured length is implied: the original length, cut to the snaplen and the block.
    let capLen = Math.min(origLen, bodyLen - 4);
    if (iface.snaplen > 0) capLen = Math.min(capLen, iface.snaplen);
    this.checkSize(capLen, base + at);
    return { ts: undefined, linktype: iface.linktype, data: buf.subarray(body + 4, body + 4 + capLen), origLen, interfaceId: 0, offset: base + at };
  }
}

/** A 64-bit count of interface time units (hi, lo) as seconds and nanoseconds. */
function toTimestamp(hi: number, lo: number, iface: Iface, offset: number): Timestamp {
  const units = (BigInt(hi) << 32n) | BigInt(lo);
  const sec = units / iface.unitsPerSec + iface.offsetSec;
  if (sec > MAX_SEC || sec < -MAX_SEC) throw blockError('timestamp is out of range', offset);
  const nsec = ((units % iface.unitsPerSec) * NS_PER_SEC) / iface.unitsPerSec;
  return { sec: Number(sec), nsec: Number(nsec) };
}
