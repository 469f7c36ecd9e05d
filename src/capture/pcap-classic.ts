/**
 * Classic pcap parsing, one step at a time: the 24-byte global header, then 16-byte record
 * headers each followed by the packet. Both byte orders; microsecond and nanosecond magic.
 * Pure; `PcapReader` does the buffering.
 */
import { CaptureFileError } from '../errors';
import {
  CaptureLimits,
  CapturedPacket,
  PCAP_HEADER_BYTES,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_NANO,
  PCAP_RECORD_HEADER_BYTES,
  PCAP_VERSION_MAJOR,
} from './pcap-format';

/** What one step did: bytes consumed, and the packet read if any. */
export interface Step {
  size: number;
  packet?: CapturedPacket;
}

/** Not enough bytes yet: `need` bytes from the step's start, for `what` (for messages). */
export interface Need {
  need: number;
  what: string;
}

/** A format's parser: consumes one header, record or block per step. */
export interface CaptureParser {
  /** `v` views the same bytes as `buf` (made once per buffer: DataViews are not free). */
  step(buf: Uint8Array, v: DataView, at: number, base: number): Step | Need;
}

export class ClassicPcapParser implements CaptureParser {
  private little = true;
  private nano = false;
  private linktype = -1;
  /** From the header; informational (libpcap too reads records longer than it). */
  snaplen = 0;

  constructor(private readonly limits: CaptureLimits) {}

  step(buf: Uint8Array, v: DataView, at: number, base: number): Step | Need {
    return this.linktype < 0 ? this.header(buf, v, at, base) : this.record(buf, v, at, base);
  }

  private header(buf: Uint8Array, v: DataView, at: number, base: number): Step | Need {
    if (buf.length - at < PCAP_HEADER_BYTES) return { need: PCAP_HEADER_BYTES, what: 'the pcap file header' };
    const le = v.getUint32(at, true);
    this.little = le === PCAP_MAGIC_MICRO || le === PCAP_MAGIC_NANO;
    const magic = v.getUint32(at, this.little);
    if (magic !== PCAP_MAGIC_MICRO && magic !== PCAP_MAGIC_NANO) {
      throw new CaptureFileError('LIG_ERR_CAPTURE_BAD_FORMAT', 'not a classic pcap magic number', base + at);
    }
    this.nano = magic === PCAP_MAGIC_NANO;
    const major = v.getUint16(at + 4, this.little);
    const minor = v.getUint16(at + 6, this.little);
    if (major !== PCAP_VERSION_MAJOR) {
      throw new CaptureFileError('LIG_ERR_CAPTURE_BAD_FORMAT', `pcap version ${major}.${minor} is not supported (only 2.x)`, base + at + 4);
    }
    this.snaplen = v.getUint32(at + 16, this.little);
    // The low 16 bits are the link type; the high bits may carry FCS information.
    this.linktype = v.getUint32(at + 20, this.little) & 0xffff;
    return { size: PCAP_HEADER_BYTES };
  }

  private record(buf: Uint8Array, v: DataView, at: number, base: number): Step | Need {
    if (buf.length - at < PCAP_RECORD_HEADER_BYTES) return { need: PCAP_RECORD_HEADER_BYTES, what: 'a pcap record header' };
    const inclLen = v.getUint32(at + 8, this.little);
    if (inclLen > this.limits.maxRecordBytes) {
      throw new CaptureFileError(
        'LIG_ERR_CAPTURE_TOO_LARGE',
        `record of ${inclLen} captured bytes exceeds the limit of ${this.limits.maxRecordBytes} (maxRecordBytes)`,
        base + at,
      );
    }
    const size = PCAP_RECORD_HEADER_BYTES + inclLen;
    if (buf.length - at < size) return { need: size, what: 'a pcap packet' };
    let sec = v.getUint32(at, this.little);
    const frac = v.getUint32(at + 4, this.little);
    let nsec = this.nano ? frac : frac * 1000;
    if (nsec >= 1e9) {
      // Out-of-range fractions occur in the wild; carry them rather than refuse the file.
      sec += Math.floor(nsec / 1e9);
      nsec %= 1e9;
    }
    const packet: CapturedPacket = {
      ts: { sec, nsec },
      linktype: this.linktype,
      data: buf.subarray(at + PCAP_RECORD_HEADER_BYTES, at + size),
      origLen: v.getUint32(at + 12, this.little),
      interfaceId: 0,
      offset: base + at,
    };
    return { size, packet };
  }
}
