/**
 * Segment files: naming, the scan that verifies one on open, and reading frames back.
 *
 * A segment is named after the index of its first record, zero-padded to 20 digits
 * (00000000000000000001.seg), so a directory listing sorts in record order and the segment
 * holding an index is found without opening files. In memory each segment keeps a sparse
 * index (one (index, offset) pair per SPARSE_INTERVAL_BYTES) so a read can start near its
 * record without scanning the segment from the top.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { JournalError } from '../../errors';
import { FrameType, JournalState, MAX_FRAME_BYTES, MAX_RECORD_INDEX, SEGMENT_HEADER_BYTES, decodeFrame, decodeSegmentHeader, frameHead, frameSize } from './framing';

/** Distance in bytes between two sparse-index entries of a segment. */
export const SPARSE_INTERVAL_BYTES = 64 * 1024;
/** Size of one disk read while scanning or reading a segment. */
export const READ_CHUNK_BYTES = 256 * 1024;

const NAME = /^(\d{20})\.seg$/;

/** Where a record starts: its index and byte offset in a segment. */
export interface SparseEntry {
  index: bigint;
  offset: number;
}

/** A segment as the journal tracks it. "Durable" fields cover only fsynced data. */
export interface Segment {
  base: bigint;
  file: string;
  /** Bytes including frames planned but not yet written. */
  size: number;
  /** Index of the last record including planned ones; base - 1 while empty. */
  last: bigint;
  /** Bytes known to be on disk and fsynced. */
  durableSize: number;
  /** Last fsynced record; base - 1 while none. */
  durableLast: bigint;
  /** Ascending; the first entry is (base, SEGMENT_HEADER_BYTES). */
  sparse: SparseEntry[];
}

export function segmentName(base: bigint): string {
  return `${base.toString().padStart(20, '0')}.seg`;
}

/** Segment bases found in `dir`, ascending. Other files are ignored. */
export async function listSegments(dir: string): Promise<bigint[]> {
  const bases: bigint[] = [];
  for (const name of await fsp.readdir(dir)) {
    const m = NAME.exec(name);
    if (m) bases.push(BigInt(m[1]!));
  }
  return bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function newSegment(dir: string, base: bigint): Segment {
  return {
    base,
    file: path.join(dir, segmentName(base)),
    size: SEGMENT_HEADER_BYTES,
    last: base - 1n,
    durableSize: SEGMENT_HEADER_BYTES,
    durableLast: base - 1n,
    sparse: [{ index: base, offset: SEGMENT_HEADER_BYTES }],
  };
}

/** Records a sparse entry for a frame of `index` at `offset` if it is far enough past the last. */
export function noteSparse(seg: Segment, index: bigint, offset: number): void {
  const lastEntry = seg.sparse[seg.sparse.length - 1]!;
  if (offset - lastEntry.offset >= SPARSE_INTERVAL_BYTES) seg.sparse.push({ index, offset });
}

/** The sparse entry at or before `index` (index must be within the segment). */
export function sparseFloor(seg: Segment, index: bigint): SparseEntry {
  const s = seg.sparse;
  let lo = 0;
  let hi = s.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid]!.index <= index) lo = mid;
    else hi = mid - 1;
  }
  return s[lo]!;
}

/** The outcome of scanning a segment file on open. */
export interface ScanResult {
  seg: Segment;
  /** Size of the file on disk (may exceed seg.size when there is a fault). */
  fileSize: number;
  /** The state of the segment's last complete stated append, if it holds one. */
  state?: JournalState;
  /**
   * Where the segment stops being valid, if it does; seg covers what precedes `offset`.
   * `offset` is the first bad frame (or bad header at offset 0), or the start of a stated
   * append whose state frame is missing (its records are cut with it). `misplaced`: a frame
   * is intact but out of place (wrong index, state without records): never a torn write.
   * `damage` is where bad bytes start and the index last read before them, for telling a
   * torn tail from damage followed by valid frames (undefined when no byte is bad).
   */
  fault?: { offset: number; reason: string; header: boolean; misplaced: boolean; damage?: { offset: number; last: bigint } };
}

/**
 * Reads the whole file, verifying the header and every frame in order from `base`. Records of
 * a stated append count only once its state frame is read; an append cut short is a fault at
 * its start.
 */
export async function scanSegment(dir: string, base: bigint): Promise<ScanResult> {
  const seg = newSegment(dir, base);
  const fh = await fsp.open(seg.file, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const head = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const { bytesRead } = await fh.read(head, 0, SEGMENT_HEADER_BYTES, 0);
    const header = decodeSegmentHeader(head.subarray(0, bytesRead));
    if ('bad' in header || header.base !== base) {
      const reason = 'bad' in header ? header.bad : `header says base ${header.base}, file name says ${base}`;
      seg.size = seg.durableSize = 0;
      return { seg, fileSize, fault: { offset: 0, reason, header: true, misplaced: false, damage: { offset: 0, last: base - 1n } } };
    }
    const scan = new Scan(seg, fileSize);
    const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES + MAX_FRAME_BYTES);
    let pos = SEGMENT_HEADER_BYTES;
    while (pos < fileSize) {
      const want = Math.min(buf.length, fileSize - pos);
      const got = (await fh.read(buf, 0, want, pos)).bytesRead;
      if (got === 0) return scan.end(pos, 'the file shrank while being scanned');
      let at = 0;
      for (;;) {
        const r = decodeFrame(buf, at, got);
        if (r.kind === 'truncated') {
          if (pos + got < fileSize) break; // more of the file to read: continue from `at`
          return scan.end(pos + at, 'the file ends inside a frame');
        }
        if (r.kind === 'bad') return scan.end(pos + at, r.reason);
        const wrong = scan.frame(r.type, r.index, r.payload, pos + at);
        if (wrong !== undefined) return scan.end(pos + at, wrong, true);
        at += r.size;
        if (at >= got) break;
      }
      pos += at;
    }
    return scan.end(pos);
  } finally {
    await fh.close();
  }
}

/** A segment scan in progress: the next index, and the stated append not yet committed. */
class Scan {
  private expected: bigint;
  private open: SparseEntry | undefined;
  private state: JournalState | undefined;

  constructor(
    private readonly seg: Segment,
    private readonly fileSize: number,
  ) {
    this.expected = seg.base;
  }

  /** Takes one intact frame at `offset`; returns why it is out of place, if it is. */
  frame(type: FrameType, index: bigint, payload: Uint8Array, offset: number): string | undefined {
    if (type === 'state') {
      if (this.open === undefined) return `a state frame (for record ${index}) follows no stated append`;
      if (index !== this.expected - 1n) return `a state frame for record ${index}, expected ${this.expected - 1n}`;
      this.state = { index, data: new Uint8Array(payload) };
      this.open = undefined;
      return undefined;
    }
    if (index !== this.expected) return `record index ${index}, expected ${this.expected}`;
    if (type === 'record' && this.open !== undefined) return `record ${index} interrupts the stated append from record ${this.open.index}`;
    if (type === 'txn' && this.open === undefined) this.open = { index, offset };
    noteSparse(this.seg, index, offset);
    this.expected++;
    return undefined;
  }

  /**
   * The result: valid up to `end`, or back to the start of a stated append left without its
   * state frame; `reason` when the file does not end cleanly at `end`.
   */
  end(end: number, reason?: string, misplaced = false): ScanResult {
    const { seg, fileSize, open, state } = this;
    const damage = reason === undefined ? undefined : { offset: end, last: this.expected - 1n };
    let cut = end;
    let next = this.expected;
    let why = reason;
    if (open !== undefined && !misplaced) {
      cut = open.offset;
      next = open.index;
      why = reason ?? 'the file ends inside a stated append (its state frame is missing)';
    }
    seg.size = seg.durableSize = cut;
    seg.last = seg.durableLast = next - 1n;
    seg.sparse = seg.sparse.filter((e, k) => k === 0 || e.index < next);
    const r: ScanResult = { seg, fileSize };
    if (state) r.state = state;
    if (why !== undefined) r.fault = { offset: cut, reason: why, header: false, misplaced, ...(damage ? { damage } : {}) };
    return r;
  }
}

/**
 * True when a valid frame with an index after `last` starts anywhere in (`from`, EOF): then
 * the damage at `from` is not a torn tail but lost acknowledged data followed by more data.
 */
export async function validFrameAfter(file: string, from: number, last: bigint): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES + MAX_FRAME_BYTES);
    const maxIndex = last + BigInt(Math.ceil((fileSize - from) / frameSize(1))) + 1n;
    for (let pos = from + 1; pos < fileSize; pos += READ_CHUNK_BYTES) {
      const got = (await fh.read(buf, 0, Math.min(buf.length, fileSize - pos), pos)).bytesRead;
      const stop = Math.min(got, READ_CHUNK_BYTES);
      for (let at = 0; at + frameSize(1) <= got && at < stop; at++) {
        const head = frameHead(buf.readUInt32BE(at));
        if (typeof head === 'string' || at + frameSize(head.length) > got) continue;
        const index = buf.readBigUInt64BE(at + 4);
        if (index <= last || index > maxIndex || index > MAX_RECORD_INDEX) continue;
        if (decodeFrame(buf, at, got).kind === 'frame') return true;
      }
    }
    return false;
  } finally {
    await fh.close();
  }
}

/** One record read back. `data` must be treated as read-only. */
export interface JournalRecord {
  index: bigint;
  data: Uint8Array;
}

/** Where a segment read stopped: the next record's place, and whether `accept` said no. */
export interface ReadStop {
  next: SparseEntry;
  stopped: boolean;
}

/**
 * Reads records of `seg` from `start` (a frame boundary of record `start.index`, or of a state
 * frame just before it), skipping those before `from` and every state frame, and stopping at
 * the segment's durable end or when `accept` says no. Copies each record out of the read
 * buffer so nothing larger than the records returned outlives the call. Checksums and
 * indices are verified again: damage is CORRUPT.
 */
export async function readSegment(
  seg: Segment,
  start: SparseEntry,
  from: bigint,
  accept: (index: bigint, length: number) => boolean,
  out: JournalRecord[],
): Promise<ReadStop> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(seg.file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new JournalError('LIG_ERR_JOURNAL_RANGE', `records from ${from} were released while being read`);
    }
    throw e;
  }
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES + MAX_FRAME_BYTES);
    let pos = start.offset;
    let index = start.index;
    const end = seg.durableSize;
    while (pos < end) {
      const got = (await fh.read(buf, 0, Math.min(buf.length, end - pos), pos)).bytesRead;
      let at = 0;
      while (at < got) {
        const r = decodeFrame(buf, at, got);
        if (r.kind === 'truncated' && at > 0) break;
        if (r.kind === 'frame' && r.type === 'state' && r.index === index - 1n) {
          at += r.size;
          continue;
        }
        if (r.kind !== 'frame' || r.index !== index || r.type === 'state') {
          const reason = r.kind === 'frame' ? `${r.type === 'state' ? 'state for record' : 'record index'} ${r.index}, expected ${index}` : r.kind === 'bad' ? r.reason : 'short read';
          throw new JournalError('LIG_ERR_JOURNAL_CORRUPT', `${seg.file} at offset ${pos + at}: ${reason}`, {
            file: seg.file,
            offset: pos + at,
          });
        }
        if (index >= from) {
          if (!accept(index, r.payload.length)) return { next: { index, offset: pos + at }, stopped: true };
          out.push({ index, data: new Uint8Array(r.payload) });
        }
        index++;
        at += r.size;
      }
      pos += at;
    }
    return { next: { index, offset: pos }, stopped: false };
  } finally {
    await fh.close();
  }
}
