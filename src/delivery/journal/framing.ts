/**
 * The journal's on-disk formats. Pure: bytes in, plain values out; no I/O.
 *
 * A segment file is a 16-byte header followed by frames, back to back:
 *
 * ```
 * segment header  0  "LIGJ"          magic
 *                 4  u32 version     SEGMENT_VERSION
 *                 8  u64 base index  index of the segment's first record (also its file name)
 * frame           0  u8 type         0 record, 1 record of a stated append, 2 state
 *                 1  u24 length L    payload bytes: 1..MAX_RECORD_BYTES (state: MAX_STATE_BYTES)
 *                 4  u64 index       the record's index (contiguous from 1, never reused);
 *                                    a state frame carries the index of its append's last record
 *                12  L bytes         the record (or state), opaque
 *              12+L  u32 CRC-32C     over bytes [0, 12+L) of the frame
 * ```
 *
 * All integers are big-endian. The checksum sits at the end so a frame whose write was cut
 * short can never look complete, and it covers the type, length and index so a damaged header
 * is caught as surely as a damaged payload.
 *
 * Stated appends (append(records, state)): the records are written as type-1 frames followed
 * by one state frame, all in one segment; the state frame is the append's commit mark.
 * Recovery keeps type-1 records only when their state frame follows, so a crash leaves the
 * records and their state together or neither. State frames take no index and are never
 * returned as records. Version 1 segments (written before frame types existed) hold type-0
 * frames only and are read as before.
 *
 * The confirmed cursor is a 16-byte file: "LIGC", u64 confirmed index, u32 CRC-32C over the
 * first 12 bytes. When the journal holds a state it is instead "LIGS", u64 confirmed index,
 * u64 state index, u32 state length S, S bytes of state, u32 CRC-32C over all before it: the
 * latest state survives the deletion of the segments that held it.
 */
import { JournalError } from '../../errors';
import { crc32c } from './crc32c';

/** Largest record the journal accepts (a handover PDU is at most 64 KiB). */
export const MAX_RECORD_BYTES = 64 * 1024;
/** Largest state blob a stated append may carry (written with every such append: keep it small). */
export const MAX_STATE_BYTES = 256 * 1024;
/** Bytes a frame adds around its record: length, index, checksum. */
export const FRAME_OVERHEAD_BYTES = 16;
/** Size of the header at the start of every segment file. */
export const SEGMENT_HEADER_BYTES = 16;
/** Segment format version written (2: frame types); versions 1 and 2 are read. */
export const SEGMENT_VERSION = 2;
const READABLE_VERSIONS: readonly number[] = [1, 2];
/** Largest record index (kept within a signed 64-bit range for other tools). */
export const MAX_RECORD_INDEX = (1n << 63n) - 1n;
/** Size of the confirmed-cursor file. */
export const CURSOR_BYTES = 16;

const SEGMENT_MAGIC = 0x4c49474a; // "LIGJ"
const CURSOR_MAGIC = 0x4c494743; // "LIGC"
const STATED_CURSOR_MAGIC = 0x4c494753; // "LIGS"
/** Bytes of a stated cursor around its state. */
const STATED_CURSOR_OVERHEAD = 28;

/**
 * What a frame holds: a plain record; a record of a stated append (valid only once the
 * append's state frame follows it); or the state of a stated append.
 */
export type FrameType = 'record' | 'txn' | 'state';
const TYPE_CODE: Record<FrameType, number> = { record: 0, txn: 1, state: 2 };
const TYPE_OF: readonly FrameType[] = ['record', 'txn', 'state'];
const LENGTH_MASK = 0xffffff;

/** The latest state of a journal: the blob of its latest stated append, and that append's last record index. */
export interface JournalState {
  index: bigint;
  data: Uint8Array;
}

/** Largest frame of any type: readers size their buffers to hold one whole. */
export const MAX_FRAME_BYTES = Math.max(MAX_RECORD_BYTES, MAX_STATE_BYTES) + FRAME_OVERHEAD_BYTES;

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

/** Throws BAD_STATE unless `state` can be written as a journal state. */
export function checkState(state: Uint8Array): void {
  if (!(state instanceof Uint8Array)) throw new JournalError('LIG_ERR_JOURNAL_BAD_STATE', 'the state is not a Uint8Array');
  if (state.length === 0) throw new JournalError('LIG_ERR_JOURNAL_BAD_STATE', 'the state is empty');
  if (state.length > MAX_STATE_BYTES) {
    throw new JournalError('LIG_ERR_JOURNAL_BAD_STATE', `the state has ${state.length} bytes, more than MAX_STATE_BYTES (${MAX_STATE_BYTES})`);
  }
}

/** Writes the frame for (`index`, `payload`) into `out` at `at`; returns the bytes written. */
export function encodeFrameInto(out: Uint8Array, at: number, index: bigint, payload: Uint8Array, type: FrameType = 'record'): number {
  if (type === 'state') checkState(payload);
  else checkRecord(payload);
  if (index < 1n || index > MAX_RECORD_INDEX) {
    throw new JournalError('LIG_ERR_JOURNAL_RANGE', `record index ${index} is outside 1..${MAX_RECORD_INDEX}`);
  }
  const size = frameSize(payload.length);
  if (at < 0 || at + size > out.length) throw new RangeError('frame does not fit in the output buffer');
  const dv = view(out);
  dv.setUint32(at, ((TYPE_CODE[type] << 24) | payload.length) >>> 0);
  dv.setBigUint64(at + 4, index);
  out.set(payload, at + 12);
  dv.setUint32(at + 12 + payload.length, crc32c(out, at, at + 12 + payload.length));
  return size;
}

/** The frame for (`index`, `payload`) as a new buffer. */
export function encodeFrame(index: bigint, payload: Uint8Array, type: FrameType = 'record'): Uint8Array {
  const out = new Uint8Array(frameSize(payload.length));
  encodeFrameInto(out, 0, index, payload, type);
  return out;
}

/** What `decodeFrame` found at an offset. */
export type FrameResult =
  | { kind: 'frame'; type: FrameType; index: bigint; payload: Uint8Array; size: number }
  /** The frame runs past `end`; `size` is its full size when the header was readable. */
  | { kind: 'truncated'; size: number | undefined }
  /** The bytes cannot be a frame: unknown type, length out of range, index 0 or checksum mismatch. */
  | { kind: 'bad'; reason: string };

/** The type and length in a frame's first word, or a reason they are out of range. */
export function frameHead(word: number): { type: FrameType; length: number } | string {
  const type = TYPE_OF[word >>> 24];
  if (type === undefined) return `frame type ${word >>> 24} is unknown`;
  const length = word & LENGTH_MASK;
  const max = type === 'state' ? MAX_STATE_BYTES : MAX_RECORD_BYTES;
  if (length === 0 || length > max) return `${type === 'state' ? 'state' : 'record'} length ${length} is out of range`;
  return { type, length };
}

/**
 * Decodes the frame at `buf[at]`, looking no further than `end`. The payload is a view into
 * `buf`, not a copy. A length out of range is reported as 'bad' before 'truncated', so
 * garbage never makes a reader wait for more bytes that will not come.
 */
export function decodeFrame(buf: Uint8Array, at: number, end = buf.length): FrameResult {
  if (end - at < 4) return { kind: 'truncated', size: undefined };
  const dv = view(buf);
  const head = frameHead(dv.getUint32(at));
  if (typeof head === 'string') return { kind: 'bad', reason: head };
  const { type, length } = head;
  const size = frameSize(length);
  if (end - at < size) return { kind: 'truncated', size };
  const index = dv.getBigUint64(at + 4);
  const stored = dv.getUint32(at + 12 + length);
  if (crc32c(buf, at, at + 12 + length) !== stored) return { kind: 'bad', reason: 'checksum mismatch' };
  if (index === 0n || index > MAX_RECORD_INDEX) return { kind: 'bad', reason: `record index ${index} is out of range` };
  return { kind: 'frame', type, index, payload: buf.subarray(at + 12, at + 12 + length), size };
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
  if (!READABLE_VERSIONS.includes(version)) return { bad: `segment format version ${version} is not supported` };
  return { base: dv.getBigUint64(8) };
}

/** The confirmed-cursor file's contents, carrying the journal's latest state when it has one. */
export function encodeCursor(confirmed: bigint, state?: JournalState): Uint8Array {
  if (state === undefined) {
    const out = new Uint8Array(CURSOR_BYTES);
    const dv = view(out);
    dv.setUint32(0, CURSOR_MAGIC);
    dv.setBigUint64(4, confirmed);
    dv.setUint32(12, crc32c(out, 0, 12));
    return out;
  }
  checkState(state.data);
  const n = state.data.length;
  const out = new Uint8Array(STATED_CURSOR_OVERHEAD + n);
  const dv = view(out);
  dv.setUint32(0, STATED_CURSOR_MAGIC);
  dv.setBigUint64(4, confirmed);
  dv.setBigUint64(12, state.index);
  dv.setUint32(20, n);
  out.set(state.data, 24);
  dv.setUint32(24 + n, crc32c(out, 0, 24 + n));
  return out;
}

/** A cursor file's confirmed index and state, or undefined if the bytes are not a valid cursor. */
export function decodeCursorState(buf: Uint8Array): { confirmed: bigint; state: JournalState | undefined } | undefined {
  if (buf.length < CURSOR_BYTES) return undefined;
  const dv = view(buf);
  const magic = dv.getUint32(0);
  if (magic === CURSOR_MAGIC) {
    if (buf.length !== CURSOR_BYTES || dv.getUint32(12) !== crc32c(buf, 0, 12)) return undefined;
    const confirmed = dv.getBigUint64(4);
    return confirmed > MAX_RECORD_INDEX ? undefined : { confirmed, state: undefined };
  }
  if (magic !== STATED_CURSOR_MAGIC || buf.length < STATED_CURSOR_OVERHEAD + 1) return undefined;
  const n = dv.getUint32(20);
  if (n === 0 || n > MAX_STATE_BYTES || buf.length !== STATED_CURSOR_OVERHEAD + n) return undefined;
  if (dv.getUint32(24 + n) !== crc32c(buf, 0, 24 + n)) return undefined;
  const confirmed = dv.getBigUint64(4);
  const index = dv.getBigUint64(12);
  if (confirmed > MAX_RECORD_INDEX || index < 1n || index > MAX_RECORD_INDEX) return undefined;
  return { confirmed, state: { index, data: new Uint8Array(buf.subarray(24, 24 + n)) } };
}

/** The confirmed index in a cursor file, or undefined if the bytes are not a valid cursor. */
export function decodeCursor(buf: Uint8Array): bigint | undefined {
  return decodeCursorState(buf)?.confirmed;
}
