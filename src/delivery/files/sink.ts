/**
 * FileSink: delivery of one agency's records as files (TS 102 232 records from its HI2 and
 * HI3 journals → per-LIID rotated pcap and JSON-lines files with a SHA-256 manifest), for
 * agencies that collect files and for US evidence packages. See names.ts for the layout and
 * route.ts for what goes where.
 *
 * Exactly once across crashes. One loop does everything, in order:
 *   read a batch → append its output to open `.part` files in memory → commit:
 *   write and fsync every file touched → write the state (journal indices and file offsets
 *   now durable) atomically → confirm the journals up to those indices.
 * After a crash, recovery cuts each open file back to its offset in the state and reads the
 * journals again from the record after the state's indices. Closing a file is recorded in
 * the state first (with the manifest's size), so a close cut short is finished on recovery.
 * An I/O failure while running is recorded (stats.lastError) and handled like a crash:
 * recovery from the durable state, then a retry after a growing delay.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FilesError, LigError, LigErrorCode, isLigError } from '../../errors';
import type { Journal, JournalRecord } from '../journal';
import { JournalLock, acquireLock } from '../journal/lock';
import { PART_SUFFIX, PRIVATE_DIR, REJECTS_DIR, PartKind, isOutputDirName, parseFileName } from './names';
import { FileSinkOptions, MAX_RETRY_DELAY_MS, ResolvedFileSinkOptions, resolveFileSinkOptions } from './options';
import { PartFile, finishClose, highestListed, manifestSize } from './part';
import { Interface, routeRecord } from './route';
import { PartEntry, SinkState, readState, writeState } from './state';

const INTERFACES: readonly Interface[] = ['hi2', 'hi3'];
/** Directories whose last file number is remembered; past it the oldest is forgotten (and re-read from disk). */
export const COUNTER_CACHE_ENTRIES = 4096;

export interface FileSinkStats {
  /** `retrying` after an I/O failure, until a retry succeeds. */
  status: 'running' | 'retrying' | 'closed';
  /** Files being written (`.part`). */
  openFiles: number;
  /** Files closed (renamed and in their manifest) since open. */
  filesClosed: number;
  /** Durably written since open: pcap packets, JSON lines, rejected records; TRI records skipped. */
  written: { packets: number; lines: number; rejects: number; skipped: number };
  /** File bytes durably written since open. */
  bytes: number;
  /** Per journal: the last record whose output is durable in the files. */
  applied: Record<Interface, bigint>;
  /** Per journal: the last record confirmed to it (the journal's cursor). */
  confirmed: Record<Interface, bigint>;
  /** The last failure (I/O, recovery), with the clock's time; messages carry no LIID. */
  lastError: { code: LigErrorCode; message: string; at: number } | undefined;
  /** The decoder's error code for the last rejected record. */
  lastRejectCode: string | undefined;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class FileSink {
  private readonly privateDir: string;
  /** Every open file, by `dir/name`: what the state lists. */
  private readonly parts = new Map<string, PartFile>();
  /** The file receiving each directory's records of a kind, by `dir/kind`; least recently used first. */
  private readonly current = new Map<string, PartFile>();
  /** Entries of files being closed, by `dir/name`: written to the state instead of the open entry. */
  private readonly closing = new Map<string, PartEntry>();
  /** Reject files, complete once committed, to close after the commit. */
  private rejectsToClose: PartFile[] = [];
  /** Last file number used, by `dir/kind`. */
  private readonly counters = new Map<string, number>();
  private applied: Record<Interface, bigint> = { hi2: 0n, hi3: 0n };
  /** What whenWritten() answers from: advanced only after files, state and confirms are durable. */
  private durable: Record<Interface, bigint> = { hi2: 0n, hi3: 0n };
  private pendingApplied: Record<Interface, bigint> = { hi2: 0n, hi3: 0n };
  private pendingCounts = { packets: 0, lines: 0, rejects: 0, skipped: 0 };
  private readonly counts = { packets: 0, lines: 0, rejects: 0, skipped: 0 };
  private bytes = 0;
  private filesClosed = 0;
  private lastError: FileSinkStats['lastError'];
  private lastRejectCode: string | undefined;
  private broken = false;
  private stopping = false;
  private closed = false;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private woken = false;
  private wakeIdle: (() => void) | undefined;
  private wakeSleep: (() => void) | undefined;
  private rotationWaiters: Waiter[] = [];
  private writtenWaiters: (Waiter & { hi: Interface; index: bigint })[] = [];

  private constructor(
    private readonly o: ResolvedFileSinkOptions,
    private readonly lock: JournalLock,
  ) {
    this.privateDir = path.join(o.dir, PRIVATE_DIR);
  }

  /**
   * Opens the sink on its directory (created if needed; one sink per directory), recovers
   * from the state a crash may have left, and starts delivering. Throws ConfigError for bad
   * options, FILES_LOCKED, FILES_STATE, or FILES_IO.
   */
  static async open(opts: FileSinkOptions): Promise<FileSink> {
    const o = resolveFileSinkOptions(opts);
    const privateDir = path.join(o.dir, PRIVATE_DIR);
    let lock: JournalLock;
    try {
      await fsp.mkdir(privateDir, { recursive: true });
      lock = await acquireLock(privateDir);
    } catch (e) {
      if (isLigError(e) && e.code === 'LIG_ERR_JOURNAL_LOCKED') throw new FilesError('LIG_ERR_FILES_LOCKED', `files directory ${o.dir}: ${e.message}`);
      throw asFilesError(e, `files directory ${o.dir} cannot be used`);
    }
    const sink = new FileSink(o, lock);
    try {
      await sink.recover();
    } catch (e) {
      await sink.releaseFiles();
      await lock.release().catch(() => undefined);
      throw asFilesError(e, 'file delivery recovery failed');
    }
    sink.start();
    return sink;
  }

  get stats(): FileSinkStats {
    return {
      status: this.closed ? 'closed' : this.broken ? 'retrying' : 'running',
      openFiles: this.parts.size,
      filesClosed: this.filesClosed,
      written: { ...this.counts },
      bytes: this.bytes,
      applied: { ...this.applied },
      confirmed: { hi2: this.o.hi2?.confirmed ?? 0n, hi3: this.o.hi3?.confirmed ?? 0n },
      lastError: this.lastError && { ...this.lastError },
      lastRejectCode: this.lastRejectCode,
    };
  }

  /** Resolves once the output of journal record `index` of `hi` is durable in the files. */
  whenWritten(hi: Interface, index: bigint): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.durable[hi] >= index) return Promise.resolve();
    return new Promise((resolve, reject) => this.writtenWaiters.push({ hi, index, resolve, reject }));
  }

  /**
   * Closes the files that have been open for rotate.interval by the clock, now; resolves
   * once that is done. The sink also does it by itself every rotationCheckMs.
   */
  checkRotation(): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    const p = new Promise<void>((resolve, reject) => this.rotationWaiters.push({ resolve, reject }));
    this.poke();
    return p;
  }

  /**
   * Stops reading, makes everything read durable, closes every open file (rename and
   * manifest line), confirms the journals and releases the directory. The journals stay open.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.poke();
    this.wakeSleep?.();
    await this.loop;
    try {
      if (this.broken) {
        await this.recover();
        this.broken = false;
      }
      await this.commit();
      for (const p of [...this.parts.values()]) await this.closePart(p);
    } catch (e) {
      const err = asFilesError(e, 'closing file delivery failed');
      this.noteError(err);
      throw err;
    } finally {
      await this.releaseFiles();
      await this.lock.release().catch(() => undefined);
      const err = closedError();
      for (const w of [...this.rotationWaiters, ...this.writtenWaiters]) w.reject(err);
      this.rotationWaiters = [];
      this.writtenWaiters = [];
    }
  }

  // --- the loop ----------------------------------------------------------------------------

  private start(): void {
    if (this.o.rotationCheckMs > 0) {
      this.timer = setInterval(() => this.poke(), this.o.rotationCheckMs);
      this.timer.unref();
    }
    this.loop = this.run();
  }

  private poke(): void {
    this.woken = true;
    this.wakeIdle?.();
  }

  private async run(): Promise<void> {
    let delay = this.o.retryDelayMs;
    while (!this.stopping) {
      const rotation = this.rotationWaiters;
      this.rotationWaiters = [];
      try {
        if (this.broken) {
          await this.recover();
          this.broken = false;
        }
        const n = await this.step();
        await this.rotateDue();
        for (const w of rotation) w.resolve();
        delay = this.o.retryDelayMs;
        if (n === 0) await this.idle();
      } catch (e) {
        const err = asFilesError(e, 'file delivery failed');
        this.noteError(err);
        this.broken = true;
        for (const w of rotation) w.reject(err);
        await this.sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  }

  /** Waits for a record in either journal, a poke, or close. */
  private async idle(): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return;
    }
    const ac = new AbortController();
    let failure: unknown;
    const waits: Promise<unknown>[] = [new Promise<void>((resolve) => (this.wakeIdle = resolve))];
    for (const hi of INTERFACES) {
      const j = this.journal(hi);
      // A journal that fails the wait (closed under the sink) is an error, retried with backoff:
      // returning at once would spin.
      if (j) waits.push(j.waitFor(this.pendingApplied[hi] + 1n, ac.signal).catch((e: unknown) => (ac.signal.aborted ? undefined : (failure ??= e))));
    }
    try {
      await Promise.race(waits);
    } finally {
      ac.abort();
      this.wakeIdle = undefined;
      this.woken = false;
    }
    if (failure !== undefined) throw failure;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => ((this.wakeSleep = undefined), resolve()), ms);
      this.wakeSleep = () => {
        clearTimeout(t);
        this.wakeSleep = undefined;
        resolve();
      };
    });
  }

  /** One batch from each journal, committed; returns the records handled. */
  private async step(): Promise<number> {
    let n = 0;
    for (const hi of INTERFACES) {
      const j = this.journal(hi);
      if (!j || this.pendingApplied[hi] >= j.durable) continue;
      const records = await j.read(this.pendingApplied[hi] + 1n, { maxRecords: this.o.batchRecords, maxBytes: this.o.batchBytes });
      for (const r of records) {
        await this.handle(hi, r);
        n++;
      }
    }
    if (n > 0) await this.commit();
    return n;
  }

  private async handle(hi: Interface, r: JournalRecord): Promise<void> {
    const routed = routeRecord(r.data, hi);
    switch (routed.kind) {
      case 'skip':
        this.pendingCounts.skipped++;
        break;
      case 'reject': {
        const p = await this.createPart(REJECTS_DIR, 'reject');
        p.add(Buffer.from(r.data), 1);
        this.rejectsToClose.push(p);
        this.pendingCounts.rejects++;
        this.lastRejectCode = routed.code;
        break;
      }
      case 'cc':
      case 'iri': {
        const p = await this.partFor(routed.dir, routed.kind, routed.bytes.length);
        p.add(routed.bytes, routed.kind === 'cc' ? routed.packets : 1);
        if (routed.kind === 'cc') this.pendingCounts.packets += routed.packets;
        else this.pendingCounts.lines++;
        break;
      }
    }
    // Only now: a commit inside partFor must not count this record as written.
    this.pendingApplied[hi] = r.index;
  }

  /** The file for `len` more bytes of `kind` in `dir`, rotating (by interval or bytes) and evicting as needed. */
  private async partFor(dir: string, kind: 'cc' | 'iri', len: number): Promise<PartFile> {
    const key = `${dir}/${kind}`;
    let p = this.current.get(key);
    if (p && (this.due(p) || (p.records > 0 && p.size + len > this.o.rotateBytes))) {
      await this.commit();
      await this.closePart(p);
      p = undefined;
    }
    if (p) {
      this.current.delete(key); // most recently used goes last
      this.current.set(key, p);
      return p;
    }
    while (this.current.size >= this.o.maxOpenFiles) {
      const oldest = this.current.values().next().value!;
      await this.commit();
      await this.closePart(oldest);
    }
    p = await this.createPart(dir, kind);
    this.current.set(key, p);
    return p;
  }

  private due(p: PartFile): boolean {
    return this.o.clock.now() - p.started >= this.o.rotateInterval;
  }

  private async rotateDue(): Promise<void> {
    for (const p of [...this.current.values()]) {
      if (!this.due(p)) continue;
      await this.commit();
      await this.closePart(p);
    }
  }

  private async createPart(dir: string, kind: PartKind): Promise<PartFile> {
    const p = await PartFile.create(this.o.dir, dir, kind, await this.nextN(dir, kind), this.o.clock.now());
    this.parts.set(`${dir}/${p.name}`, p);
    return p;
  }

  /**
   * The next file number of `kind` in `dir`: one past the highest on disk (closed or open) or
   * in the manifest (the agency may have taken closed files away).
   */
  private async nextN(dir: string, kind: PartKind): Promise<number> {
    const key = `${dir}/${kind}`;
    let last = this.counters.get(key);
    if (last === undefined) {
      last = await highestListed(this.o.dir, dir, kind);
      const names = await fsp.readdir(path.join(this.o.dir, dir)).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [] as string[];
        throw e;
      });
      for (const name of names) {
        const f = parseFileName(name);
        if (f && f.kind === kind && f.n > last) last = f.n;
      }
    }
    this.counters.delete(key);
    if (this.counters.size >= COUNTER_CACHE_ENTRIES) this.counters.delete(this.counters.keys().next().value!);
    this.counters.set(key, last + 1);
    return last + 1;
  }

  // --- durability ----------------------------------------------------------------------------

  /** Makes everything handled durable: files, then state, then journal confirms. */
  private async commit(): Promise<void> {
    let dirty = INTERFACES.some((hi) => this.pendingApplied[hi] !== this.applied[hi]);
    for (const p of this.parts.values()) dirty ||= p.hasPending;
    if (!dirty) return;
    let bytes = 0;
    for (const p of this.parts.values()) bytes += await p.flush();
    this.applied = { ...this.pendingApplied };
    await this.saveState();
    this.bytes += bytes;
    for (const k of Object.keys(this.counts) as (keyof typeof this.counts)[]) this.counts[k] += this.pendingCounts[k];
    this.pendingCounts = { packets: 0, lines: 0, rejects: 0, skipped: 0 };
    await this.confirmJournals();
    const rejects = this.rejectsToClose;
    this.rejectsToClose = [];
    for (const p of rejects) await this.closePart(p);
    this.durable = { ...this.applied };
    const still: typeof this.writtenWaiters = [];
    for (const w of this.writtenWaiters) (this.durable[w.hi] >= w.index ? w.resolve() : still.push(w));
    this.writtenWaiters = still;
  }

  private saveState(): Promise<void> {
    const parts: PartEntry[] = [];
    for (const [key, p] of this.parts) parts.push(this.closing.get(key) ?? p.entry());
    const s: SinkState = { applied: { ...this.applied }, parts };
    return writeState(this.privateDir, s);
  }

  private async confirmJournals(): Promise<void> {
    for (const hi of INTERFACES) {
      const j = this.journal(hi);
      if (j && this.applied[hi] > j.confirmed) await j.confirm(this.applied[hi]);
    }
  }

  /** Closes a file whose bytes are all committed: marks it closing in the state, renames it, adds its manifest line. */
  private async closePart(p: PartFile): Promise<void> {
    if (p.hasPending) await this.commit();
    const key = `${p.dir}/${p.name}`;
    const e: PartEntry = { ...p.entry(), closing: { manifestSize: await manifestSize(this.o.dir, p.dir) } };
    this.closing.set(key, e);
    await this.saveState();
    await p.release();
    await finishClose(this.o.dir, e);
    this.parts.delete(key);
    this.closing.delete(key);
    const ck = `${p.dir}/${p.kind}`;
    if (this.current.get(ck) === p) this.current.delete(ck);
    await this.saveState();
    this.filesClosed++;
  }

  /**
   * Back to the durable state: finishes closes cut short, reopens open files cut back to their
   * offsets, removes `.part` files the state does not know (written after the last commit),
   * and reads the journals on from the state's indices.
   */
  private async recover(): Promise<void> {
    await this.releaseFiles();
    this.parts.clear();
    this.current.clear();
    this.closing.clear();
    this.counters.clear();
    this.rejectsToClose = [];
    this.pendingCounts = { packets: 0, lines: 0, rejects: 0, skipped: 0 };
    const s = await readState(this.privateDir);
    let changed = false;
    for (const e of s.parts) {
      if (!e.closing) continue;
      await finishClose(this.o.dir, e);
      changed = true;
      this.filesClosed++;
    }
    for (const e of s.parts) {
      if (e.closing) continue;
      const p = await PartFile.reopen(this.o.dir, e);
      this.parts.set(`${e.dir}/${e.name}`, p);
      if (e.kind === 'reject') this.rejectsToClose.push(p);
      else this.current.set(`${e.dir}/${e.kind}`, p);
    }
    await this.removeOrphans();
    const applied = { ...s.applied };
    for (const hi of INTERFACES) {
      const j = this.journal(hi);
      if (!j) continue;
      if (applied[hi] > j.durable) {
        throw new FilesError('LIG_ERR_FILES_STATE', `the ${hi} journal ends at record ${j.durable}, but the files hold records up to ${applied[hi]}`);
      }
      // Records the journal already released cannot be read again (a new state on an old journal).
      if (j.confirmed > applied[hi]) applied[hi] = j.confirmed;
    }
    this.applied = applied;
    this.durable = { ...applied };
    this.pendingApplied = { ...applied };
    if (changed) await this.saveState();
    await this.confirmJournals();
    const rejects = this.rejectsToClose;
    this.rejectsToClose = [];
    for (const p of rejects) await this.closePart(p);
  }

  private async removeOrphans(): Promise<void> {
    const dirs = await fsp.readdir(this.o.dir, { withFileTypes: true });
    for (const d of dirs) {
      if (!d.isDirectory() || !isOutputDirName(d.name)) continue;
      for (const name of await fsp.readdir(path.join(this.o.dir, d.name))) {
        if (!name.endsWith(PART_SUFFIX) || !parseFileName(name)) continue;
        if (!this.parts.has(`${d.name}/${name.slice(0, -PART_SUFFIX.length)}`)) await fsp.rm(path.join(this.o.dir, d.name, name), { force: true });
      }
    }
  }

  private async releaseFiles(): Promise<void> {
    for (const p of this.parts.values()) await p.release().catch(() => undefined);
  }

  private journal(hi: Interface): Journal | undefined {
    return hi === 'hi2' ? this.o.hi2 : this.o.hi3;
  }

  private noteError(e: LigError): void {
    this.lastError = { code: e.code, message: e.message, at: this.o.clock.now() };
  }
}

function closedError(): FilesError {
  return new FilesError('LIG_ERR_FILES_CLOSED', 'the file sink was closed');
}

/**
 * `e` as a typed error. lig errors pass through; an fs error becomes FILES_IO naming only
 * the system call and errno code, since its message holds a path, and paths hold LIIDs.
 */
function asFilesError(e: unknown, what: string): LigError {
  if (isLigError(e)) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  const detail = err?.code ? `${err.syscall ?? 'I/O'} failed with ${err.code}` : `unexpected ${err?.name ?? 'error'}: ${err?.message ?? String(e)}`;
  return new FilesError('LIG_ERR_FILES_IO', `${what}: ${detail}`);
}
