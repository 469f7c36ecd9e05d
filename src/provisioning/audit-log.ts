/**
 * The audit log: DATADIR/audit.log, append-only, one hash-chained JSON entry per line (the
 * format and its verification are in audit-chain.ts). It records every warrant change and
 * what else the mediator reports (delivery start/stop, refused certificates). It holds
 * LIIDs and targets, as the compliance record must: the file is mode 0600, and nothing here
 * ever quotes an entry in an error.
 *
 * One writer: the mediator process. `append` returns only after the line is written and
 * fsync'ed. Before each append the file's size is compared with what this process wrote, so
 * a second writer (or a truncation) is caught instead of forking the chain.
 *
 * Crash safety: a crash in the middle of an append leaves an unterminated last line. That
 * entry was never reported durable, so nothing else (no warrant row, no anchor) refers to
 * it: `open` cuts exactly that unterminated line, fsyncs, and then appends an
 * `audit.repair` entry saying how many bytes it cut, so the repair is itself on record.
 * Only an unterminated last line is ever cut; any other damage at the tail is refused with
 * LIG_ERR_AUDIT_BROKEN. (If the cut line was in fact an anchored entry whose "\n" was
 * damaged, the warrant store's anchor check names it when the store opens.)
 *
 * The anchor (see warrant-store.ts) is kept by whoever registers `setAnchorSink`: it is
 * called after each append, once the entry is durable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditError, LigError } from '../errors';
import { AUDIT_ROLES, AuditVerifier, GENESIS_PREV, MAX_AUDIT_ENTRY_BYTES, VerifierOptions, checkLine, sealEntry, sha256Hex } from './audit-chain';
import { WARRANT_AUDIT_ACTIONS } from './types';
import type { Actor, AuditAnchor, AuditEntry, AuditVerifyResult } from './types';

export const AUDIT_LOG_FILE = 'audit.log';
/** Bytes read at a time when the log is streamed. */
export const AUDIT_READ_CHUNK_BYTES = 64 * 1024;
export const MAX_AUDIT_ACTION_LENGTH = 64;
export const MAX_AUDIT_SUBJECT_LENGTH = 256;
export const MAX_AUDIT_ACTOR_LENGTH = 256;

const ACTION = /^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/;
const MEDIATOR: Actor = { name: 'mediator', role: 'mediator' };

/** What a caller records; seq, time, prev and hash are added by the log. */
export interface AuditAppend {
  actor: Actor;
  action: string;
  subject: string;
  before?: unknown;
  after?: unknown;
}

/** The last entry of the log: its seq and hash, the hash of its line, and the file size after it. */
export interface AuditHead extends AuditAnchor {
  lineHash: string;
  offset: number;
}

/** Told of each entry once it is durable, with the log's new head. */
export type AnchorSink = (entry: AuditEntry, head: AuditHead) => void;

export function auditLogPath(dataDir: string): string {
  return path.join(dataDir, AUDIT_LOG_FILE);
}

export class AuditLog {
  /** Bytes of an unterminated last line cut on open (a torn write), or 0. */
  readonly repairedBytes: number;
  private fd: number | undefined;
  private current: AuditHead | undefined;
  private failed: unknown;
  private sink: AnchorSink | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly clock: () => Date,
  ) {
    this.fd = fd;
    let repaired = 0;
    try {
      repaired = this.cutTornTail();
      const size = fs.fstatSync(fd).size;
      if (size > 0) {
        const line = this.lineEndingAt(size);
        const c = checkLine(line);
        if (!('entry' in c)) throw new AuditError('LIG_ERR_AUDIT_BROKEN', `the last entry of the audit log ${c.message}: verify the log and restore it`);
        this.current = { seq: c.entry.seq, hash: c.entry.hash, lineHash: sha256Hex(line), offset: size };
      }
    } catch (err) {
      fs.closeSync(fd);
      this.fd = undefined;
      throw err instanceof LigError ? err : new AuditError('LIG_ERR_AUDIT_IO', `cannot read the audit log ${this.path}`, { cause: err });
    }
    this.repairedBytes = repaired;
    if (repaired > 0) {
      try {
        this.append({ actor: MEDIATOR, action: 'audit.repair', subject: 'audit', after: { cutBytes: repaired } });
      } catch (err) {
        this.close();
        throw err;
      }
    }
  }

  /** Opens (or creates, mode 0600) DATADIR/audit.log, cutting a torn last line (see above). */
  static open(dataDir: string, opts: { clock?: () => Date } = {}): AuditLog {
    const file = auditLogPath(dataDir);
    let fd: number;
    try {
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const existed = fs.existsSync(file);
      fd = fs.openSync(file, 'a+', 0o600);
      fs.fchmodSync(fd, 0o600);
      if (!existed) syncDir(dataDir);
    } catch (err) {
      throw new AuditError('LIG_ERR_AUDIT_IO', `cannot open the audit log ${file}`, { cause: err });
    }
    return new AuditLog(file, fd, opts.clock ?? (() => new Date()));
  }

  /** The last entry, or undefined for an empty log. */
  get head(): AuditHead | undefined {
    return this.current ? { ...this.current } : undefined;
  }

  /** Registers who keeps the anchor (the warrant store); undefined unregisters. */
  setAnchorSink(sink: AnchorSink | undefined): void {
    this.sink = sink;
  }

  /**
   * Appends an entry; returns once it is durable (written and fsync'ed). Warrant changes
   * (WARRANT_AUDIT_ACTIONS) are refused here: the warrant store records them.
   */
  append(e: AuditAppend): AuditEntry {
    if ((WARRANT_AUDIT_ACTIONS as readonly string[]).includes(e?.action)) {
      throw new AuditError('LIG_ERR_AUDIT_INVALID', `${e.action} is recorded by the warrant store only: change warrants through it`);
    }
    return this.appendThen(e, this.sink);
  }

  /**
   * Appends an entry and, once it is durable, calls `then` instead of the anchor sink: the
   * warrant store commits the warrant row and the anchor there, in one transaction.
   */
  appendThen(e: AuditAppend, then: AnchorSink | undefined): AuditEntry {
    const fd = this.usable();
    checkAppend(e);
    const head = this.current;
    const time = this.clock();
    if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw new AuditError('LIG_ERR_AUDIT_INVALID', 'the audit clock gave an invalid time');
    const { entry, line } = sealEntry({
      seq: (head?.seq ?? 0) + 1,
      time: time.toISOString(),
      actor: e.actor.name,
      role: e.actor.role,
      action: e.action,
      subject: e.subject,
      ...(e.before === undefined ? {} : { before: e.before }),
      ...(e.after === undefined ? {} : { after: e.after }),
      prev: head?.lineHash ?? GENESIS_PREV,
    });
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    if (bytes.length - 1 > MAX_AUDIT_ENTRY_BYTES) {
      throw new AuditError('LIG_ERR_AUDIT_TOO_LARGE', `an audit entry of ${bytes.length - 1} bytes exceeds MAX_AUDIT_ENTRY_BYTES (${MAX_AUDIT_ENTRY_BYTES})`);
    }
    const offset = head?.offset ?? 0;
    try {
      if (fs.fstatSync(fd).size !== offset) {
        throw new AuditError('LIG_ERR_AUDIT_BROKEN', `the audit log ${this.path} changed on disk since it was opened (another writer, or cut): reopen and verify it`);
      }
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, null);
      fs.fsyncSync(fd);
    } catch (err) {
      this.failed = err;
      throw err instanceof LigError ? err : new AuditError('LIG_ERR_AUDIT_IO', `cannot write the audit log ${this.path}`, { cause: err });
    }
    this.current = { seq: entry.seq, hash: entry.hash, lineHash: sha256Hex(line), offset: offset + bytes.length };
    then?.(entry, { ...this.current });
    return entry;
  }

  /** The log's bytes from `from` to its end, in chunks of AUDIT_READ_CHUNK_BYTES (a fresh buffer each). */
  *chunks(from = 0): Generator<Uint8Array> {
    const fd = this.usable(true);
    for (let pos = from; ; ) {
      const buf = Buffer.allocUnsafe(AUDIT_READ_CHUNK_BYTES);
      const n = this.io(() => fs.readSync(fd, buf, 0, buf.length, pos));
      if (n === 0) return;
      pos += n;
      yield buf.subarray(0, n);
    }
  }

  /** Streams the entries, verifying the chain as it goes; throws LIG_ERR_AUDIT_BROKEN at the first bad one. */
  *read(): Generator<AuditEntry> {
    let batch: AuditEntry[] = [];
    const v = new AuditVerifier({ onEntry: (e) => batch.push(e) });
    for (const chunk of this.chunks()) {
      v.push(chunk);
      yield* batch;
      batch = [];
    }
    const r = v.end();
    if (!r.ok) throw new AuditError('LIG_ERR_AUDIT_BROKEN', r.message, { entry: r.entry });
  }

  /** Every entry, verified (see read() for large logs). */
  entries(): AuditEntry[] {
    return [...this.read()];
  }

  /** Verifies the whole log, streaming it; with the anchor from the warrant store, a cut tail is found too. */
  verify(anchor?: AuditAnchor, opts: Omit<VerifierOptions, 'anchor'> = {}): AuditVerifyResult {
    const v = new AuditVerifier({ ...opts, ...(anchor ? { anchor } : {}) });
    for (const chunk of this.chunks()) v.push(chunk);
    return v.end();
  }

  /** The line (without "\n") that ends with the "\n" just before `end`. */
  lineEndingAt(end: number): Uint8Array {
    const fd = this.usable(true);
    const parts: Buffer[] = [];
    let pos = end - 1;
    const last = Buffer.alloc(1);
    if (end < 1 || this.io(() => fs.readSync(fd, last, 0, 1, pos)) !== 1 || last[0] !== 0x0a) {
      throw new AuditError('LIG_ERR_AUDIT_BROKEN', 'the audit log has no line end where an entry should end: verify the log');
    }
    let total = 0;
    while (pos > 0) {
      const len = Math.min(AUDIT_READ_CHUNK_BYTES, pos);
      const buf = Buffer.allocUnsafe(len);
      this.io(() => fs.readSync(fd, buf, 0, len, pos - len));
      const nl = buf.lastIndexOf(0x0a);
      parts.unshift(nl < 0 ? buf : buf.subarray(nl + 1));
      total += nl < 0 ? len : len - nl - 1;
      if (total > MAX_AUDIT_ENTRY_BYTES) throw new AuditError('LIG_ERR_AUDIT_BROKEN', `an audit log line is longer than MAX_AUDIT_ENTRY_BYTES (${MAX_AUDIT_ENTRY_BYTES}): verify the log`);
      if (nl >= 0) break;
      pos -= len;
    }
    return Buffer.concat(parts);
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.sink = undefined;
    fs.closeSync(fd);
  }

  /** Cuts an unterminated last line; returns how many bytes it cut. */
  private cutTornTail(): number {
    const fd = this.fd!;
    const size = fs.fstatSync(fd).size;
    if (size === 0) return 0;
    let keep = 0;
    for (let pos = size; pos > 0; ) {
      const len = Math.min(AUDIT_READ_CHUNK_BYTES, pos);
      const buf = Buffer.allocUnsafe(len);
      fs.readSync(fd, buf, 0, len, pos - len);
      const nl = buf.lastIndexOf(0x0a);
      if (nl >= 0) {
        keep = pos - len + nl + 1;
        break;
      }
      pos -= len;
    }
    if (keep === size) return 0;
    fs.ftruncateSync(fd, keep);
    fs.fsyncSync(fd);
    return size - keep;
  }

  private usable(forReading = false): number {
    if (this.fd === undefined) throw new AuditError('LIG_ERR_AUDIT_CLOSED', 'the audit log is closed');
    if (this.failed !== undefined && !forReading) {
      throw new AuditError('LIG_ERR_AUDIT_CLOSED', 'the audit log stopped after a failed write: reopen it', { cause: this.failed });
    }
    return this.fd;
  }

  private io<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new AuditError('LIG_ERR_AUDIT_IO', `cannot read the audit log ${this.path}`, { cause: err });
    }
  }
}

/** Verifies an audit log file without opening it for writing (e.g. a copy, or a log another process writes). */
export function verifyAuditFile(file: string, anchor?: AuditAnchor): AuditVerifyResult {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new AuditError('LIG_ERR_AUDIT_IO', `cannot open the audit log ${file}`, { cause: err });
  }
  try {
    const v = new AuditVerifier(anchor ? { anchor } : {});
    for (let pos = 0; ; ) {
      const buf = Buffer.allocUnsafe(AUDIT_READ_CHUNK_BYTES);
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
      v.push(buf.subarray(0, n));
    }
    return v.end();
  } catch (err) {
    throw err instanceof LigError ? err : new AuditError('LIG_ERR_AUDIT_IO', `cannot read the audit log ${file}`, { cause: err });
  } finally {
    fs.closeSync(fd);
  }
}

function checkAppend(e: AuditAppend): void {
  const bad = (what: string) => new AuditError('LIG_ERR_AUDIT_INVALID', `an audit entry needs ${what}`);
  const a = e?.actor;
  if (typeof a?.name !== 'string' || a.name.length === 0 || a.name.length > MAX_AUDIT_ACTOR_LENGTH || /[\x00-\x1f\x7f]/.test(a.name)) {
    throw bad(`an actor name of 1 to ${MAX_AUDIT_ACTOR_LENGTH} characters without control characters (MAX_AUDIT_ACTOR_LENGTH)`);
  }
  if (!AUDIT_ROLES.includes(a.role)) throw bad(`an actor role, one of ${AUDIT_ROLES.join(', ')}`);
  if (typeof e.action !== 'string' || e.action.length > MAX_AUDIT_ACTION_LENGTH || !ACTION.test(e.action)) {
    throw bad(`an action such as "warrant.create" (lower case, at most MAX_AUDIT_ACTION_LENGTH = ${MAX_AUDIT_ACTION_LENGTH} characters)`);
  }
  if (typeof e.subject !== 'string' || e.subject.length === 0 || e.subject.length > MAX_AUDIT_SUBJECT_LENGTH || /[\x00-\x1f\x7f]/.test(e.subject)) {
    throw bad(`a subject of 1 to ${MAX_AUDIT_SUBJECT_LENGTH} characters without control characters (MAX_AUDIT_SUBJECT_LENGTH)`);
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
