/**
 * The durable journal: an append-only log of handover records, one per agency and interface.
 *
 * Producers append batches and get the indices back only once the records are fsynced
 * (group commit: appends that arrive while an fsync runs share the next one). Delivery reads
 * in index order, waits for new records without polling, and confirms what the agency has
 * received; confirmed segments are deleted. Memory stays bounded whatever the backlog:
 * records live on disk, plus a small cache of the tail and a sparse in-memory index.
 *
 * A producer may keep its own small state in the journal: append(records, state) makes the
 * records and the state durable together (after a crash both are there or neither is), and
 * `state` gives the latest one back after a reopen. A state is never read as a record; it
 * outlives the deletion of its segment (the cursor file keeps a copy).
 */
import { promises as fsp } from 'node:fs';
import { ConfigError, JournalError, LigError, isLigError } from '../../errors';
import { readCursor, writeCursor } from './cursor';
import { JournalState, SEGMENT_HEADER_BYTES, checkRecord, checkState, encodeFrameInto, frameSize } from './framing';
import { JournalLock, acquireLock } from './lock';
import {
  DEFAULT_READ_MAX_BYTES,
  DEFAULT_READ_MAX_RECORDS,
  JournalOptions,
  ResolvedJournalOptions,
  resolveJournalOptions,
} from './options';
import { recover } from './recover';
import { JournalRecord, Segment, SparseEntry, newSegment, noteSparse, readSegment, sparseFloor } from './segment';
import { TailCache } from './tail-cache';
import { GroupCommit } from './group-commit';
import { PlannedFrame, SegmentWriter } from './writer';

export interface ReadOptions {
  /** At most this many records (default DEFAULT_READ_MAX_RECORDS). */
  maxRecords?: number;
  /** At most this many record bytes, but always at least one record (default DEFAULT_READ_MAX_BYTES). */
  maxBytes?: number;
}

export interface JournalStats {
  /** Records appended (acknowledged or not) and not yet confirmed. */
  pendingRecords: bigint;
  /** On-disk bytes (frames) of those records. */
  pendingBytes: number;
  /** Bytes of all segment files, including frames still being written. */
  diskBytes: number;
  maxBytes: number;
  segments: number;
  /** Bytes held by the tail cache (bounded by tailCacheBytes). */
  cacheBytes: number;
  /** Bytes cut from a torn tail when the journal was opened. */
  tornBytesAtOpen: number;
  /** Group commits (write + fsync rounds) since open; appends per sync shows batching. */
  syncs: number;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

const MAX_POSITION_HINTS = 8;

export class Journal {
  private readonly writer: SegmentWriter;
  private readonly cache: TailCache;
  /** Segments planned for but not yet created on disk. */
  private readonly unborn = new Set<Segment>();
  private readonly commits: GroupCommit;
  private indexWaiters: (Waiter<void> & { index: bigint })[] = [];
  private roomWaiters: (Waiter<void> & { fits: () => boolean })[] = [];
  /** Where some records start, remembered from reads (delivery reads on from where it stopped). */
  private readonly hints = new Map<bigint, { seg: Segment; offset: number }>();
  /** Where record confirmedIdx + 1 starts, when it exists. */
  private confirmPos: { seg: Segment; offset: number } | undefined;
  private usedBytes: number;
  private nextIndex: bigint;
  private durableNext: bigint;
  private confirmedIdx: bigint;
  private confirmTarget: bigint;
  private confirmChain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The latest durable state (see append). */
  private latestState: JournalState | undefined;

  private constructor(
    readonly dir: string,
    readonly options: ResolvedJournalOptions,
    private readonly lock: JournalLock,
    private segs: Segment[],
    confirmed: bigint,
    private readonly tornBytes: number,
    state: JournalState | undefined,
  ) {
    this.latestState = state;
    this.writer = new SegmentWriter(dir);
    this.commits = new GroupCommit(
      this.writer,
      this.unborn,
      options.groupCommitDelayMs,
      (e) => ioError(`journal ${dir}: write failed`, e),
      (batch) => this.durableNow(batch),
    );
    this.cache = new TailCache(options.tailCacheBytes);
    this.usedBytes = segs.reduce((n, s) => n + s.size, 0);
    const lastSeg = segs[segs.length - 1];
    this.nextIndex = this.durableNext = lastSeg ? lastSeg.last + 1n : confirmed + 1n;
    this.confirmedIdx = this.confirmTarget = confirmed;
  }

  /**
   * Opens (creating if needed) the journal in `dir`: takes the directory lock, verifies every
   * segment, cuts a torn tail and throws CORRUPT for damage anywhere else.
   */
  static async open(dir: string, opts: JournalOptions = {}): Promise<Journal> {
    const options = resolveJournalOptions(opts);
    if (typeof dir !== 'string' || dir === '') throw new ConfigError('journal.dir', 'must be a directory path');
    let lock: JournalLock | undefined;
    try {
      await fsp.mkdir(dir, { recursive: true });
      lock = await acquireLock(dir);
      const cursor = await readCursor(dir);
      const confirmed = cursor.confirmed;
      const { segs, tornBytes, state } = await recover(dir, confirmed);
      // The cursor keeps the state of segments already deleted; segments hold newer ones.
      const latest = state && (!cursor.state || state.index >= cursor.state.index) ? state : cursor.state;
      const j = new Journal(dir, options, lock, segs, confirmed, tornBytes, latest);
      j.confirmPos = await j.locate(confirmed + 1n);
      return j;
    } catch (e) {
      await lock?.release().catch(() => undefined);
      throw ioError(`cannot open journal ${dir}`, e);
    }
  }

  /** Index of the last confirmed record (durably persisted); 0n when none. */
  get confirmed(): bigint {
    return this.confirmedIdx;
  }

  /** Index the next appended record will get. */
  get next(): bigint {
    return this.nextIndex;
  }

  /** Index of the last durable (acknowledged, readable) record; 0n when none. */
  get durable(): bigint {
    return this.durableNext - 1n;
  }

  /**
   * The state of the latest durable stated append (a copy of its bytes, and the index of its
   * last record), or undefined if none was ever made. After a reopen, the state of the last
   * stated append that survived: it always matches the records that survived with it.
   */
  get state(): JournalState | undefined {
    const s = this.latestState;
    return s && { index: s.index, data: new Uint8Array(s.data) };
  }

  get stats(): JournalStats {
    let pendingBytes = 0;
    for (const seg of this.segs) {
      if (seg.last <= this.confirmedIdx) continue;
      if (seg.base > this.confirmedIdx) pendingBytes += seg.size - SEGMENT_HEADER_BYTES;
      else if (this.confirmPos?.seg === seg) pendingBytes += seg.size - this.confirmPos.offset;
    }
    return {
      pendingRecords: this.nextIndex - 1n - this.confirmedIdx,
      pendingBytes,
      diskBytes: this.usedBytes,
      maxBytes: this.options.maxBytes,
      segments: this.segs.length,
      cacheBytes: this.cache.bytes,
      tornBytesAtOpen: this.tornBytes,
      syncs: this.commits.syncs,
    };
  }

  /**
   * Appends `records` (each 1..MAX_RECORD_BYTES bytes; copied, so the caller may reuse its
   * buffers) and resolves with their indices once they are fsynced. All or nothing: when
   * they would take the journal past maxBytes it rejects with JOURNAL_FULL and writes none.
   *
   * With `state` (1..MAX_STATE_BYTES bytes, opaque) the append is stated: the records and the
   * state become durable together, in one segment, and `state` returns it from then on (and
   * after a reopen, unless a crash cut this append: then records and state are both gone).
   */
  append(records: readonly Uint8Array[], state?: Uint8Array): Promise<{ first: bigint; last: bigint }> {
    try {
      this.usable();
      if (this.commits.failure) throw this.commits.failure;
      if (!Array.isArray(records) || records.length === 0) {
        throw new JournalError('LIG_ERR_JOURNAL_BAD_RECORD', 'append needs a non-empty array of records');
      }
      records.forEach((r, k) => checkRecord(r, k));
      if (state !== undefined) checkState(state);
      const need = this.bytesFor(records, this.active(), state);
      if (this.usedBytes + need > this.options.maxBytes) {
        throw new JournalError(
          'LIG_ERR_JOURNAL_FULL',
          `journal ${this.dir} is full: ${records.length} record(s) need ${need} bytes, ${this.usedBytes} of ${this.options.maxBytes} are used`,
        );
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const first = this.nextIndex;
    const frames: PlannedFrame[] = [];
    // A stated append stays in one segment (recovery relies on it): roll first if it would not fit.
    if (state !== undefined && this.rolls(this.active(), statedBytes(records, state))) this.roll();
    for (const rec of records) {
      const size = frameSize(rec.length);
      let seg = this.active();
      if (state === undefined && this.rolls(seg, size)) seg = this.roll();
      const frame = Buffer.allocUnsafe(size);
      encodeFrameInto(frame, 0, this.nextIndex, rec, state === undefined ? 'record' : 'txn');
      this.plan(frames, seg!, frame, this.nextIndex);
      noteSparse(seg!, this.nextIndex, seg!.size - size);
      seg!.last = this.nextIndex;
      this.nextIndex++;
    }
    const last = this.nextIndex - 1n;
    if (state !== undefined) {
      const frame = Buffer.allocUnsafe(frameSize(state.length));
      encodeFrameInto(frame, 0, last, state, 'state');
      this.plan(frames, this.active()!, frame, last, true);
    }
    return this.commits.enqueue(frames).then(() => ({ first, last }));
  }

  /** True when a frame (or stated append) of `size` bytes must start a new segment after `seg`. */
  private rolls(seg: Segment | undefined, size: number): boolean {
    return !seg || (seg.size > SEGMENT_HEADER_BYTES && seg.size + size > this.options.segmentBytes);
  }

  /** Starts a new segment (created on disk by the next write) and returns it. */
  private roll(): Segment {
    const seg = newSegment(this.dir, this.nextIndex);
    this.segs.push(seg);
    this.unborn.add(seg);
    this.usedBytes += SEGMENT_HEADER_BYTES;
    return seg;
  }

  /** Places `frame` at the end of `seg`. */
  private plan(frames: PlannedFrame[], seg: Segment, frame: Buffer, index: bigint, state = false): void {
    frames.push(state ? { seg, offset: seg.size, index, frame, state } : { seg, offset: seg.size, index, frame });
    seg.size += frame.length;
    this.usedBytes += frame.length;
  }

  /**
   * True when an append needing `need` fits now: either the records themselves (exact), or
   * a number of on-disk bytes (frameSize() per record; one segment header is added for a roll).
   */
  hasRoom(need: number | readonly Uint8Array[], state?: Uint8Array): boolean {
    const bytes = typeof need === 'number' ? need + SEGMENT_HEADER_BYTES : this.bytesFor(need, this.active(), state);
    return this.usedBytes + bytes <= this.options.maxBytes;
  }

  /**
   * Resolves once hasRoom(need, state) holds; rejects with FULL if it never can, CLOSED on
   * close, and with `signal`'s reason when it is aborted (a producer's bound on the wait).
   */
  waitForRoom(need: number | readonly Uint8Array[], state?: Uint8Array, signal?: AbortSignal): Promise<void> {
    try {
      this.usable();
      signal?.throwIfAborted();
      const alone = typeof need === 'number' ? need + SEGMENT_HEADER_BYTES : this.bytesFor(need, undefined, state);
      if (alone > this.options.maxBytes) {
        throw new JournalError('LIG_ERR_JOURNAL_FULL', `${alone} bytes can never fit in maxBytes ${this.options.maxBytes}`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.hasRoom(need, state)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.roomWaiters = this.roomWaiters.filter((x) => x !== w);
        reject(signal!.reason);
      };
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const w = {
        fits: () => this.hasRoom(need, state),
        resolve: () => (settle(), resolve()),
        reject: (e: unknown) => (settle(), reject(e)),
      };
      this.roomWaiters.push(w);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves once record `index` is durable and readable (immediately if it already is). */
  waitFor(index: bigint, signal?: AbortSignal): Promise<void> {
    try {
      this.usable();
      if (typeof index !== 'bigint') throw new JournalError('LIG_ERR_JOURNAL_RANGE', 'waitFor needs a bigint index');
      signal?.throwIfAborted();
    } catch (e) {
      return Promise.reject(e);
    }
    if (index < this.durableNext) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.indexWaiters = this.indexWaiters.filter((x) => x !== w);
        reject(signal!.reason);
      };
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const w = {
        index,
        resolve: () => (settle(), resolve()),
        reject: (e: unknown) => (settle(), reject(e)),
      };
      this.indexWaiters.push(w);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Durable records from `from` on, in order, within the limits (at least one record if any
   * is available). Empty when `from` is past the last durable record; RANGE when its record
   * was already released. Returned bytes are read-only.
   */
  async read(from: bigint, opts: ReadOptions = {}): Promise<JournalRecord[]> {
    this.usable();
    const maxRecords = positive('maxRecords', opts.maxRecords ?? DEFAULT_READ_MAX_RECORDS);
    const maxBytes = positive('maxBytes', opts.maxBytes ?? DEFAULT_READ_MAX_BYTES);
    if (typeof from !== 'bigint' || from < 1n) throw new JournalError('LIG_ERR_JOURNAL_RANGE', 'read needs a bigint index ≥ 1');
    const oldest = this.segs[0]?.base ?? this.durableNext;
    if (from < oldest) throw new JournalError('LIG_ERR_JOURNAL_RANGE', `record ${from} was confirmed and released`);
    const out: JournalRecord[] = [];
    let bytes = 0;
    const accept = (_index: bigint, length: number): boolean => {
      if (out.length >= maxRecords || (out.length > 0 && bytes + length > maxBytes)) return false;
      bytes += length;
      return true;
    };
    let index = from;
    let full = false;
    while (!full && index < this.durableNext) {
      const cached = this.cache.get(index);
      if (cached) {
        if (!accept(index, cached.data.length)) break;
        out.push({ index, data: cached.data });
        index++;
        continue;
      }
      const seg = this.segmentOf(index);
      if (!seg) throw new JournalError('LIG_ERR_JOURNAL_RANGE', `record ${index} was confirmed and released`);
      const start = this.hintFor(index, seg) ?? sparseFloor(seg, index);
      const stop = await readSegment(seg, start, index, accept, out).catch((e: unknown) => {
        throw ioError(`journal ${this.dir}: reading ${seg.file} failed`, e);
      });
      full = stop.stopped;
      index = stop.next.index;
      this.remember(index, seg, stop.next.offset);
    }
    return out;
  }

  /**
   * Records that the agency has everything up to `upTo`: persists the cursor atomically,
   * then deletes segments holding only confirmed records. Backwards is a no-op; beyond the
   * last durable record is RANGE.
   */
  confirm(upTo: bigint): Promise<void> {
    try {
      this.usable();
      if (typeof upTo !== 'bigint') throw new JournalError('LIG_ERR_JOURNAL_RANGE', 'confirm needs a bigint index');
      if (upTo >= this.durableNext) {
        throw new JournalError('LIG_ERR_JOURNAL_RANGE', `cannot confirm ${upTo}: the last durable record is ${this.durableNext - 1n}`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (upTo <= this.confirmedIdx) return Promise.resolve();
    if (upTo > this.confirmTarget) this.confirmTarget = upTo;
    const run = this.confirmChain.then(() => this.persistConfirm()).catch((e: unknown) => {
      throw ioError(`journal ${this.dir}: confirm failed`, e);
    });
    this.confirmChain = run.catch(() => undefined);
    return run;
  }

  /** Writes what is pending, waits for confirms in flight, closes files and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.drain();
    await this.confirmChain;
    const closed = new JournalError('LIG_ERR_JOURNAL_CLOSED', `journal ${this.dir} was closed`);
    for (const w of [...this.indexWaiters, ...this.roomWaiters]) w.reject(closed);
    this.indexWaiters = [];
    this.roomWaiters = [];
    this.cache.clear();
    try {
      await this.writer.close();
    } catch (e) {
      if (!this.commits.failure) throw ioError(`journal ${this.dir}: closing failed`, e);
    } finally {
      await this.lock.release();
    }
  }

  // --- internals -------------------------------------------------------------------------

  private usable(): void {
    if (this.closed) throw new JournalError('LIG_ERR_JOURNAL_CLOSED', `journal ${this.dir} is closed`);
  }

  private active(): Segment | undefined {
    return this.segs[this.segs.length - 1];
  }

  /** Bytes an append of `records` (stated when `state` is given) would add after segment `seg` (undefined: none yet). */
  private bytesFor(records: readonly Uint8Array[], seg: Segment | undefined, state?: Uint8Array): number {
    if (state !== undefined) {
      const txn = statedBytes(records, state);
      return this.rolls(seg, txn) ? SEGMENT_HEADER_BYTES + txn : txn;
    }
    let size = seg ? seg.size : undefined;
    let need = 0;
    for (const rec of records) {
      const f = frameSize(rec.length);
      if (size === undefined || (size > SEGMENT_HEADER_BYTES && size + f > this.options.segmentBytes)) {
        need += SEGMENT_HEADER_BYTES;
        size = SEGMENT_HEADER_BYTES;
      }
      need += f;
      size += f;
    }
    return need;
  }

  /** The live segment holding durable record `index`, by binary search on bases. */
  private segmentOf(index: bigint): Segment | undefined {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segs[mid]!;
      if (index < s.base) hi = mid - 1;
      else if (index > s.last) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  private remember(index: bigint, seg: Segment, offset: number): void {
    if (this.hints.size >= MAX_POSITION_HINTS) this.hints.delete(this.hints.keys().next().value!);
    this.hints.set(index, { seg, offset });
  }

  /** A remembered start of record `index` in `seg`, if still valid (the segment may have rolled). */
  private hintFor(index: bigint, seg: Segment): SparseEntry | undefined {
    const h = this.hints.get(index);
    return h && h.seg === seg ? { index, offset: h.offset } : undefined;
  }

  /** Where record `index` starts, if it exists (durable, being written, or queued). */
  private async locate(index: bigint): Promise<{ seg: Segment; offset: number } | undefined> {
    if (index > this.nextIndex) return undefined;
    if (index === this.nextIndex) {
      // Not appended yet: it will go at the end of the active segment, or start a new one.
      const active = this.active();
      return active && { seg: active, offset: active.size };
    }
    if (index >= this.durableNext) {
      const p = this.commits.find(index);
      return p && { seg: p.seg, offset: p.offset };
    }
    const cached = this.cache.get(index);
    if (cached) return { seg: cached.seg, offset: cached.offset };
    const seg = this.segmentOf(index);
    if (!seg) return undefined;
    const start = this.hintFor(index, seg) ?? sparseFloor(seg, index);
    const stop = await readSegment(seg, start, index, () => false, []);
    return { seg, offset: stop.next.offset };
  }

  private async persistConfirm(): Promise<void> {
    const target = this.confirmTarget;
    if (target <= this.confirmedIdx) return;
    // The cursor carries the latest state: the segments deleted below may hold it.
    await writeCursor(this.dir, target, this.latestState);
    this.confirmedIdx = target;
    this.confirmPos = await this.locate(target + 1n);
    let freed = false;
    while (this.segs.length > 0) {
      const seg = this.segs[0]!;
      if (seg.last > target || seg.last < seg.base) break;
      // Detach before awaiting the delete: an append made meanwhile must land in a new
      // segment, not in this one's file as it goes (it was lost, though reported durable).
      // Frames already planned into it have indices above `target` and stop the loop above.
      this.segs.shift();
      this.usedBytes -= seg.size;
      for (const [k, h] of this.hints) if (h.seg === seg) this.hints.delete(k);
      await fsp.rm(seg.file, { force: true });
      freed = true;
    }
    if (freed) this.wakeRoom();
  }

  private wakeRoom(): void {
    const still: typeof this.roomWaiters = [];
    for (const w of this.roomWaiters) (w.fits() ? w.resolve(undefined) : still.push(w));
    this.roomWaiters = still;
  }

  /** A group-commit round is on disk: publish it to readers and waiters. */
  private durableNow(batch: PlannedFrame[]): void {
    for (const p of batch) {
      p.seg.durableSize = p.offset + p.frame.length;
      if (p.state) {
        this.latestState = { index: p.index, data: p.frame.subarray(12, p.frame.length - 4) };
        continue;
      }
      p.seg.durableLast = p.index;
      this.cache.push({ index: p.index, data: p.frame.subarray(12, p.frame.length - 4), seg: p.seg, offset: p.offset });
    }
    this.durableNext = batch[batch.length - 1]!.index + 1n;
    const waiting: typeof this.indexWaiters = [];
    for (const w of this.indexWaiters) (w.index < this.durableNext ? w.resolve() : waiting.push(w));
    this.indexWaiters = waiting;
  }
}

/** `e` as a typed error: lig errors pass through, anything else (fs errors) becomes IO. */
function ioError(what: string, e: unknown): LigError {
  if (isLigError(e)) return e;
  return new JournalError('LIG_ERR_JOURNAL_IO', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** On-disk bytes of a stated append's frames: its records and its state. */
function statedBytes(records: readonly Uint8Array[], state: Uint8Array): number {
  let n = frameSize(state.length);
  for (const r of records) n += frameSize(r.length);
  return n;
}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new JournalError('LIG_ERR_JOURNAL_RANGE', `read option ${name} must be a positive integer`);
  return v;
}

export type { JournalRecord, JournalState, SparseEntry };
