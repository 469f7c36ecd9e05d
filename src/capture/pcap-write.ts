/**
 * Classic pcap writer: the file header and one record at a time, little-endian with
 * microsecond timestamps (magic 0xA1B2C3D4, version 2.4), as libpcap writes on x86. Pure:
 * bytes out; the caller writes them.
 */
import { CaptureFileError } from '../errors';
import {
  MAX_SNAPLEN,
  PCAP_HEADER_BYTES,
  PCAP_MAGIC_MICRO,
  PCAP_RECORD_HEADER_BYTES,
  PCAP_VERSION_MAJOR,
  PCAP_VERSION_MINOR,
} from './pcap-format';

function bad(message: string): CaptureFileError {
  return new CaptureFileError('LIG_ERR_CAPTURE_BAD_ARGUMENT', message);
}

function checkUint(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw bad(`${name} must be an integer from ${min} to ${max}, got ${v}`);
}

/**
 * The 24-byte global header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, linktype.
 * `snaplen` is the most bytes any record of the file will carry (1..MAX_SNAPLEN).
 */
export function encodePcapHeader(linktype: number, snaplen: number): Uint8Array {
  checkUint('linktype', linktype, 0, 0xffff);
  checkUint('snaplen', snaplen, 1, MAX_SNAPLEN);
  const out = new Uint8Array(PCAP_HEADER_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, PCAP_MAGIC_MICRO, true);
  v.setUint16(4, PCAP_VERSION_MAJOR, true);
  v.setUint16(6, PCAP_VERSION_MINOR, true);
  // thiszone (4 bytes) and sigfigs (4 bytes) stay 0, as every modern writer leaves them.
  v.setUint32(16, snaplen, true);
  v.setUint32(20, linktype, true);
  return out;
}

/**
 * One record: 16-byte header (ts_sec, ts_usec, incl_len, orig_len) then the packet bytes.
 * `origLen` is the length on the wire when `data` was truncated (default: `data.length`).
 */
export function encodePcapRecord(tsSec: number, tsUsec: number, data: Uint8Array, origLen: number = data.length): Uint8Array {
  checkUint('tsSec', tsSec, 0, 0xffffffff);
  checkUint('tsUsec', tsUsec, 0, 999_999);
  if (data.length > MAX_SNAPLEN) throw bad(`a record carries at most ${MAX_SNAPLEN} bytes (MAX_SNAPLEN), got ${data.length}`);
  checkUint('origLen', origLen, data.length, 0xffffffff);
  const out = new Uint8Array(PCAP_RECORD_HEADER_BYTES + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, tsSec, true);
  v.setUint32(4, tsUsec, true);
  v.setUint32(8, data.length, true);
  v.setUint32(12, origLen, true);
  out.set(data, PCAP_RECORD_HEADER_BYTES);
  return out;
}
