/**
 * The journal's on-disk formats. Pure: bytes in, plain values out; no I/O.
 *
 * A segment file is a 16-byte header followed by frames, back to back:
 *
 * ```
 * segment header  0  "LIGJ"          magic
 *                 4  u32 version     SEGMENT_VERSION
 *                 8  u64 base index  index of the segment's first record (also its file name)
 * frame           0  u32 length L    payload bytes, 1..MAX_RECORD_BYTES
 *                 4  u64 index       the record's index (contiguous from 1, never reused)
 *                12  L bytes         the record, opaque
 *              12+L  u32 CRC-32C     over bytes [0, 12+L) of the frame
 * ```
 *
 * All integers are big-endian. The checksum sits at the end so a frame whose write was cut
 * short can never look complete, and it covers the length and index so a damaged header is
 * caught as surely as a damaged payload. The confirmed cursor is a 16-byte file: "LIGC", u64
 * confirmed index, u32 CRC-32C over the first 12 bytes.
 */
import { JournalError } from '../../errors';
import { crc32c } from './crc32c';

/** Largest record the journal accepts (a handover PDU is at most 64 KiB). */
export const MAX_RECORD_BYTES = 64 * 1024;
/** Bytes a frame adds around its record: length, index, checksum. */
export const FRAME_OVERHEAD_BYTES = 16;
/** Size of the header at the start of every segment file. */
export const SEGMENT_HEADER_BYTES = 16;
/** Segment format version written and accepted. */
export const SEGMENT_VERSION = 1;
/** Largest record index (kept within a signed 64-bit range for other tools). */
export const MAX_RECORD_INDEX = (1n << 63n) - 1n;
/** Size of the confirmed-cursor file. */
export const CURSOR_BYTES = 16;

const SEGMENT_MAGIC = 0x4c49474a; // "LIGJ"
const CURSOR_MAGIC = 0x4c494743; // "LIGC"

/** On-disk size of a frame holding `payloadLength` bytes. */
export function frameSize(payloadLength: number): number {
  return payloadLength + FRAME_OVERHEAD_BYTES;
}

/** Throws BAD_RECORD unless `payload` can be journaled. */
export function checkRecord(payload: Uint8Array, position = 0): void {
  if (!(payload instanceof Uint8Array)) {
    throw new JournalError('LIG_ERR_JOURNAL_BAD_RECORD', `record ${position} is not a Uint8Array`);
  }
  if (payload.length === 0) throw new JournalError('LIG_ERR_JOURNAL_BAD_RECORD', `record ${position} is empty`);
  if (payload.length > MAX_RECORD_BYTES) {
    throw new JournalError(
      'LIG_ERR_JOURNAL_BAD_RECORD',
      `record ${position} has ${payload.length} bytes, more than MAX_RECORD_BYTES (${MAX_RECORD_BYTES})`,
    );
  }
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Writes the frame for (`index`, `payload`) into `out` at `at`; returns the bytes written. */
export function encodeFrameInto(out: Uint8Array, at: number, index: bigint, payload: Uint8Array): number {
  checkRecord(payload);
  if (index < 1n || index > MAX_RECORD_INDEX) {
    throw new JournalError('LIG_ERR_JOURNAL_RANGE', `record index ${index} is outside 1..${MAX_RECORD_INDEX}`);
  }
  const size = frameSize(payload.length);
  if (at < 0 || at + size > out.length) throw new RangeError('frame does not fit in the output buffer');
  const dv = view(out);
  dv.setUint32(at, payload.length);
  dv.setBigUint64(at + 4, index);
  out.set(payload, at + 12);
  dv.setUint32(at + 12 + payload.length, crc32c(out, at, at + 12 + payload.length));
  return size;
}

/** The frame for (`index`, `payload`) as a new buffer. */
export function encodeFrame(index: bigint, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(frameSize(payload.length));
  encodeFrameInto(out, 0, index, payload);
  return out;
}

/** What `decodeFrame` found at an offset. */
export type FrameResult =
  | { kind: 'frame'; index: bigint; payload: Uint8Array; size: number }
  /** The frame runs past `end`; `size` is its full size when the header was readable. */
  | { kind: 'truncated'; size: number | undefined }
  /** The bytes cannot be a frame: length out of range, index 0 or checksum mismatch. */
  | { kind: 'bad'; reason: string };

/**
 * Decodes the frame at `buf[at]`, looking no further than `end`. The payload is a view into
 * `buf`, not a copy. A length out of range is reported as 'bad' before 'truncated', so
 * garbage never makes a reader wait for more bytes that will not come.
 */
export function decodeFrame(buf: Uint8Array, at: number, end = buf.length): FrameResult {
  if (end - at < 4) return { kind: 'truncated', size: undefined };
  const dv = view(buf);
  const length = dv.getUint32(at);
  if (length === 0 || length > MAX_RECORD_BYTES) return { kind: 'bad', reason: `record length ${length} is out of range` };
  const size = frameSize(length);
  if (end - at < size) return { kind: 'truncated', size };
  const index = dv.getBigUint64(at + 4);
  const stored = dv.getUint32(at + 12 + length);
  if (crc32c(buf, at, at + 12 + length) !== stored) return { kind: 'bad', reason: 'checksum mismatch' };
  if (index === 0n || index > MAX_RECORD_INDEX) return { kind: 'bad', reason: `record index ${index} is out of range` };
  return { kind: 'frame', index, payload: buf.subarray(at + 12, at + 12 + length), size };
}

/** The header that starts a segment whose first record is `base`. */
export function encodeSegmentHeader(base: bigint): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_BYTES);
  const dv = view(out);
  dv.setUint32(0, SEGMENT_MAGIC);
  dv.setUint32(4, SEGMENT_VERSION);
  dv.setBigUint64(8, base);
  return out;
}

/** The base index in a segment header, or a reason it is not a valid header. */
export function decodeSegmentHeader(buf: Uint8Array): { base: bigint } | { bad: string } {
  if (buf.length < SEGMENT_HEADER_BYTES) return { bad: `header is ${buf.length} bytes, expected ${SEGMENT_HEADER_BYTES}` };
  const dv = view(buf);
  if (dv.getUint32(0) !== SEGMENT_MAGIC) return { bad: 'not a lig journal segment (bad magic)' };
  const version = dv.getUint32(4);
  if (version !== SEGMENT_VERSION) return { bad: `segment format version ${version} is not supported` };
  return { base: dv.getBigUint64(8) };
}

/** The confirmed-cursor file's contents. */
export function encodeCursor(confirmed: bigint): Uint8Array {
  const out = new Uint8Array(CURSOR_BYTES);
  const dv = view(out);
  dv.setUint32(0, CURSOR_MAGIC);
  dv.setBigUint64(4, confirmed);
  dv.setUint32(12, crc32c(out, 0, 12));
  return out;
}

/** The confirmed index in a cursor file, or undefined if the bytes are not a valid cursor. */
export function decodeCursor(buf: Uint8Array): bigint | undefined {
  if (buf.length !== CURSOR_BYTES) return undefined;
  const dv = view(buf);
  if (dv.getUint32(0) !== CURSOR_MAGIC || dv.getUint32(12) !== crc32c(buf, 0, 12)) return undefined;
  const confirmed = dv.getBigUint64(4);
  return confirmed > MAX_RECORD_INDEX ? undefined : confirmed;
}
