/**
 * The warrant store: warrants in DATADIR/warrants.db (db.ts), every change on record in the
 * audit log (audit-log.ts). Life of a warrant: pending → active (an explicit `activate` by a
 * named admin; creation never activates) → stopped (by an admin) or expired (its end time
 * passed; `expireDue`, by the mediator). Stopped and expired are final.
 *
 * A change and its audit entry are written together, in this order:
 *   1. the audit entry (the warrant before and after) is appended and fsync'ed;
 *   2. one SQLite transaction writes the warrant row and the anchor (table audit_head: seq,
 *      hash and end offset of that entry) and commits.
 * A crash between 1 and 2 leaves the log one entry ahead of the anchor, with a change the
 * database lacks. `open` reconciles: it checks the anchored entry is still there unchanged
 * (else LIG_ERR_AUDIT_BROKEN: the log was cut or rewritten), verifies the chain after it, and
 * rolls each warrant change there forward (the entry's `after` is the whole warrant) in one
 * transaction with the new anchor. So the database never holds a change the log does not,
 * and after `open` it holds every change the log does. A failed commit in step 2 stops the
 * store (LIG_ERR_STORE_CLOSED until reopened, which applies that change). Entries others
 * append through the same AuditLog (delivery start/stop, refusals) move the anchor too,
 * once durable, through the log's anchor sink.
 *
 * One writer: the mediator process. Calls are synchronous (better-sqlite3).
 */
import type Database from 'better-sqlite3';
import { AuditError, LigError, StoreError, WarrantError } from '../errors';
import { AuditVerifier, VerifyFrom, checkLine, sha256Hex } from './audit-chain';
import type { AuditHead, AuditLog } from './audit-log';
import { openDatabase } from './db';
import { WARRANT_AUDIT_ACTIONS, WARRANT_STATES, isInForce } from './types';
import type { Actor, AuditAnchor, AuditEntry, AuditVerifyResult, Warrant, WarrantChange, WarrantSpec, WarrantState } from './types';
import { LEGACY_REPORTS, WARRANT_COLUMNS, WarrantRow, rowToWarrant, warrantFromJson, warrantToJson, warrantToRow } from './warrant-rows';
import { validateStopReason, validateWarrantChange, validateWarrantSpec } from './warrant-validate';

/** The actor of changes lig makes itself (expiry). */
export const MEDIATOR_ACTOR: Actor = { name: 'mediator', role: 'mediator' };
export const MAX_ACTOR_NAME_LENGTH = 256;

export interface WarrantStoreOptions {
  /** Ids of the configured agencies: a warrant must name one. */
  agencies: readonly string[];
  audit: AuditLog;
  clock?: () => Date;
  /** How long a write waits for another connection's lock (default DATABASE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
}

export class WarrantStore {
  private closed = false;
  private failed: unknown;

  private constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
    private readonly agencies: readonly string[],
    private readonly clock: () => Date,
  ) {}

  /** Opens DATADIR/warrants.db, reconciles it with the audit log (see above) and keeps the log's anchor. */
  static open(dataDir: string, opts: WarrantStoreOptions): WarrantStore {
    const db = openDatabase(dataDir, undefined, opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs });
    try {
      const store = new WarrantStore(db, opts.audit, [...opts.agencies], opts.clock ?? (() => new Date()));
      store.reconcile();
      opts.audit.setAnchorSink((_e, head) => store.anchorMoved(head));
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Creates a pending warrant (audit: warrant.create, after = the warrant). */
  create(spec: WarrantSpec, actor: Actor): Warrant {
    this.usable();
    requireAdmin(actor, 'create');
    const now = this.clock();
    const s = validateWarrantSpec(spec, { agencies: this.agencies, now });
    if (this.sql(() => this.db.prepare('SELECT 1 FROM warrants WHERE agency = ? AND liid = ?').get(s.agency, s.liid))) {
      throw new WarrantError('LIG_ERR_WARRANT_CONFLICT', `the LIID is already used for agency ${s.agency} (LIIDs are never reused)`);
    }
    const { next } = this.sql(() => this.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS next FROM warrants').get() as { next: number });
    const w: Warrant = { ...s, id: next, state: 'pending', version: 1, createdAt: now, createdBy: actor.name };
    return this.commit('warrant.create', actor, undefined, w);
  }

  /** pending → active, by a named admin; refused once the end time has passed. */
  activate(id: number, actor: Actor): Warrant {
    this.usable();
    requireAdmin(actor, 'activate');
    const cur = this.mustGet(id);
    if (cur.state !== 'pending') throw stateError(cur, 'activated: only a pending warrant can be');
    const now = this.clock();
    if (cur.endTime.getTime() <= now.getTime()) throw stateError(cur, 'activated: its end time has passed (it expires)');
    return this.commit('warrant.activate', actor, cur, { ...cur, state: 'active', version: cur.version + 1, activatedAt: now, activatedBy: actor.name });
  }

  /** Changes a pending or active warrant (audit: before and after); `expectedVersion` guards against lost updates. */
  modify(id: number, change: WarrantChange, actor: Actor, expectedVersion?: number): Warrant {
    this.usable();
    requireAdmin(actor, 'modify');
    const cur = this.mustGet(id);
    if (cur.state !== 'pending' && cur.state !== 'active') throw stateError(cur, 'modified: stopped and expired warrants are final');
    if (expectedVersion !== undefined && expectedVersion !== cur.version) {
      throw new WarrantError('LIG_ERR_WARRANT_CONFLICT', `warrant ${id} is at version ${cur.version}, not ${String(expectedVersion)}: it changed since it was read`);
    }
    const now = this.clock();
    if (cur.endTime.getTime() <= now.getTime()) throw stateError(cur, 'modified: its end time has passed (it expires)');
    const c = validateWarrantChange(change, cur, { now });
    const after: Warrant = { ...cur, version: cur.version + 1 };
    if (c.targets) after.targets = c.targets;
    if (c.startTime) after.startTime = c.startTime;
    if (c.endTime) after.endTime = c.endTime;
    if (c.compliance) after.compliance = { ...cur.compliance, ...c.compliance };
    if (c.probes === null) delete after.probes;
    else if (c.probes) after.probes = c.probes;
    if (c.reports) after.reports = { ...(cur.reports ?? LEGACY_REPORTS), ...c.reports };
    return this.commit('warrant.modify', actor, cur, after);
  }

  /** pending|active → stopped, by a named admin, with an optional reason. */
  stop(id: number, actor: Actor, reason?: string): Warrant {
    this.usable();
    requireAdmin(actor, 'stop');
    const r = validateStopReason(reason);
    const cur = this.mustGet(id);
    if (cur.state !== 'pending' && cur.state !== 'active') throw stateError(cur, 'stopped: it has already ended');
    const after: Warrant = { ...cur, state: 'stopped', version: cur.version + 1, endedAt: this.clock(), endedBy: actor.name };
    if (r !== undefined) after.endReason = r;
    return this.commit('warrant.stop', actor, cur, after);
  }

  /** Expires every pending or active warrant whose end time is at or before `now` (audit actor: mediator). */
  expireDue(now: Date = this.clock()): Warrant[] {
    this.usable();
    const due = this.rows('SELECT * FROM warrants WHERE state IN (?, ?) AND end_time <= ? ORDER BY id', 'pending', 'active', now.getTime());
    return due.map((cur) => this.commit('warrant.expire', MEDIATOR_ACTOR, cur, { ...cur, state: 'expired', version: cur.version + 1, endedAt: cur.endTime }));
  }

  get(id: number): Warrant | undefined {
    this.notClosed();
    if (!Number.isSafeInteger(id)) return undefined;
    return this.rows('SELECT * FROM warrants WHERE id = ?', id)[0];
  }

  /** Warrants in id order, optionally only those in one state or of one agency. */
  list(filter: { state?: WarrantState; agency?: string } = {}): Warrant[] {
    this.notClosed();
    if (filter.state !== undefined && !WARRANT_STATES.includes(filter.state)) {
      throw new WarrantError('LIG_ERR_WARRANT_INVALID', `state: expected one of ${WARRANT_STATES.join(', ')}`, [{ field: 'state', message: `expected one of ${WARRANT_STATES.join(', ')}` }]);
    }
    return this.rows('SELECT * FROM warrants WHERE (@state IS NULL OR state = @state) AND (@agency IS NULL OR agency = @agency) ORDER BY id', {
      state: filter.state ?? null,
      agency: filter.agency ?? null,
    });
  }

  /** The warrants to intercept at `now`: active and inside their time window. */
  inForce(now: Date = this.clock()): Warrant[] {
    return this.list({ state: 'active' }).filter((w) => isInForce(w, now));
  }

  /**
   * When to look again: the earliest start time of an active warrant, or end time of a
   * pending or active one, after `now`. Call expireDue first: an end time already passed is
   * not "after now".
   */
  nextChangeAt(now: Date = this.clock()): Date | undefined {
    this.notClosed();
    let next: number | undefined;
    const t = now.getTime();
    for (const w of this.rows('SELECT * FROM warrants WHERE state IN (?, ?)', 'pending', 'active')) {
      const times = [w.endTime.getTime()];
      if (w.state === 'active' && w.startTime) times.push(w.startTime.getTime());
      for (const x of times) if (x > t && (next === undefined || x < next)) next = x;
    }
    return next === undefined ? undefined : new Date(next);
  }

  /** The audit entry the database has seen last (seq and hash), for verifying the log's tail. */
  auditAnchor(): AuditAnchor | undefined {
    this.notClosed();
    const h = this.head();
    return h ? { seq: h.seq, hash: h.hash } : undefined;
  }

  /** Verifies the whole audit log against this database's anchor. */
  verifyAudit(): AuditVerifyResult {
    return this.audit.verify(this.auditAnchor());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.audit.setAnchorSink(undefined);
    this.db.close();
  }

  /** Step 1 and 2 of a change (see the top of this file). */
  private commit(action: string, actor: Actor, before: Warrant | undefined, after: Warrant): Warrant {
    const entry = { actor, action, subject: `warrant/${after.id}`, after: warrantToJson(after), ...(before ? { before: warrantToJson(before) } : {}) };
    this.audit.appendThen(entry, (_e, head) => {
      try {
        this.db.transaction(() => {
          this.put(after, before !== undefined);
          this.writeHead(head);
        })();
      } catch (err) {
        this.failed = err;
        throw new StoreError(
          'LIG_ERR_STORE_IO',
          `warrant ${after.id}: the audit log holds this change but the database could not commit it; reopen the store, which applies it from the log`,
          { cause: err },
        );
      }
    });
    return after;
  }

  private anchorMoved(head: AuditHead): void {
    if (this.closed || this.failed !== undefined) return;
    try {
      this.writeHead(head);
    } catch (err) {
      this.failed = err;
      throw new StoreError('LIG_ERR_STORE_IO', 'the audit entry is written but the warrant database could not record it as the anchor; reopen the store', { cause: err });
    }
  }

  /** Brings the database up to the audit log (see the top of this file). */
  private reconcile(): void {
    const anchor = this.head();
    const logHead = this.audit.head;
    let from: VerifyFrom | undefined;
    let start = 0;
    if (anchor) {
      if (!logHead || logHead.seq < anchor.seq || logHead.offset < anchor.offset) {
        const at = (logHead?.seq ?? 0) + 1;
        throw new AuditError(
          'LIG_ERR_AUDIT_BROKEN',
          `audit entry ${at}: the audit log ends at entry ${at - 1} but the warrant database has seen entry ${anchor.seq}: entries were cut from its end; restore the log`,
          { entry: at },
        );
      }
      const line = this.audit.lineEndingAt(anchor.offset);
      const c = checkLine(line);
      if (!('entry' in c) || c.entry.seq !== anchor.seq || c.entry.hash !== anchor.hash) {
        throw new AuditError('LIG_ERR_AUDIT_BROKEN', `audit entry ${anchor.seq}: does not match the warrant database's anchor (the log was rewritten); restore the log`, { entry: anchor.seq });
      }
      if (logHead.offset === anchor.offset) return;
      from = { seq: anchor.seq, lineHash: sha256Hex(line) };
      start = anchor.offset;
    } else if (!logHead) return;
    this.db.transaction(() => {
      let last: (AuditAnchor & { offset: number }) | undefined;
      const v = new AuditVerifier({
        ...(from ? { from } : {}),
        onEntry: (e, end) => {
          this.rollForward(e);
          last = { seq: e.seq, hash: e.hash, offset: start + end };
        },
      });
      for (const chunk of this.audit.chunks(start)) v.push(chunk);
      const r = v.end();
      if (!r.ok) throw new AuditError('LIG_ERR_AUDIT_BROKEN', r.message, { entry: r.entry });
      if (last) this.writeHead(last);
    })();
  }

  /** Applies a warrant change from the log unless the row already has it. */
  private rollForward(e: AuditEntry): void {
    if (!(WARRANT_AUDIT_ACTIONS as readonly string[]).includes(e.action)) return;
    const m = /^warrant\/(\d+)$/.exec(e.subject);
    const w = warrantFromJson(e.after);
    if (!m || !w || w.id !== Number(m[1])) {
      throw new AuditError('LIG_ERR_AUDIT_BROKEN', `audit entry ${e.seq}: a warrant change without the warrant after it`, { entry: e.seq });
    }
    const cur = this.rows('SELECT * FROM warrants WHERE id = ?', w.id)[0];
    if (cur && cur.version >= w.version) return;
    if ((cur?.version ?? 0) !== w.version - 1) {
      throw new AuditError(
        'LIG_ERR_AUDIT_BROKEN',
        `audit entry ${e.seq}: warrant ${w.id} is at version ${cur?.version ?? 0} in the database but ${w.version} in the log: changes are missing from both`,
        { entry: e.seq },
      );
    }
    this.put(w, cur !== undefined);
  }

  private put(w: Warrant, exists: boolean): void {
    const row = warrantToRow(w);
    if (exists) {
      const set = WARRANT_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ');
      this.db.prepare(`UPDATE warrants SET ${set} WHERE id = @id`).run(row);
    } else {
      this.db.prepare(`INSERT INTO warrants (${WARRANT_COLUMNS.join(', ')}) VALUES (${WARRANT_COLUMNS.map((c) => `@${c}`).join(', ')})`).run(row);
    }
  }

  private head(): (AuditAnchor & { offset: number }) | undefined {
    return this.sql(() => this.db.prepare('SELECT seq, hash, offset FROM audit_head WHERE id = 1').get() as (AuditAnchor & { offset: number }) | undefined);
  }

  private writeHead(h: AuditAnchor & { offset: number }): void {
    this.db
      .prepare('INSERT INTO audit_head (id, seq, hash, offset) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, offset = excluded.offset')
      .run(h.seq, h.hash, h.offset);
  }

  private rows(query: string, ...params: unknown[]): Warrant[] {
    return this.sql(() => (this.db.prepare(query).all(...params) as WarrantRow[]).map(rowToWarrant));
  }

  private mustGet(id: number): Warrant {
    const w = this.get(id);
    if (!w) throw new WarrantError('LIG_ERR_WARRANT_NOT_FOUND', `no warrant has id ${Number.isSafeInteger(id) ? id : '(not a whole number)'}`);
    return w;
  }

  private sql<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw err instanceof LigError ? err : new StoreError('LIG_ERR_STORE_IO', 'the warrant database failed a query', { cause: err });
    }
  }

  private notClosed(): void {
    if (this.closed) throw new StoreError('LIG_ERR_STORE_CLOSED', 'the warrant store is closed');
  }

  private usable(): void {
    this.notClosed();
    if (this.failed !== undefined) throw new StoreError('LIG_ERR_STORE_CLOSED', 'the warrant store stopped after a failed write: reopen it', { cause: this.failed });
  }
}

function requireAdmin(actor: Actor, what: string): void {
  if (typeof actor?.name !== 'string' || actor.name.trim() === '' || actor.name.length > MAX_ACTOR_NAME_LENGTH || /[\x00-\x1f\x7f]/.test(actor.name)) {
    const message = `expected the name of who does it, 1 to ${MAX_ACTOR_NAME_LENGTH} characters (MAX_ACTOR_NAME_LENGTH)`;
    throw new WarrantError('LIG_ERR_WARRANT_INVALID', `actor: ${message}`, [{ field: 'actor', message }]);
  }
  if (actor.role !== 'admin') {
    throw new WarrantError('LIG_ERR_WARRANT_FORBIDDEN', `only an admin may ${what} a warrant (this actor's role is ${String(actor.role)})`);
  }
}

function stateError(w: Warrant, what: string): WarrantError {
  return new WarrantError('LIG_ERR_WARRANT_STATE', `warrant ${w.id} is ${w.state} and cannot be ${what}`);
}
