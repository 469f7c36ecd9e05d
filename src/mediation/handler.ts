/**
 * The mediator core behind the ingest server (IngestHandler): task lists for probes, and
 * batches made durable as handover records.
 *
 * accept(probe, batch, spool) routes the batch (encode-batch.ts), then hands each journal its
 * share through that journal's JournalChannel, synchronously and in call order, so batches
 * keep their order in every journal. It resolves once every share is durable; a share whose
 * records are already in its journal (a resend) is skipped there. Nothing here keeps a
 * per-probe watermark of its own: the journals' states are the only truth, which is what
 * makes a resend after a crash safe. (firstUnacked is therefore not offered: the server
 * passes resent batches to accept(), which drops what each journal already holds.)
 *
 * Some work must be durable before the records that depend on it are handed over (a new CIN
 * in cins.json, the session table): such a batch, and every batch or mediator record after
 * it, goes through one chain (ordered()) that hands shares over only once the steps before
 * are durable, still in call order. The chain is entered only while such a step is pending;
 * otherwise hand-over stays synchronous. A durability step that fails stops the handler
 * (MEDIATION_FAILED for everything after): a CIN or session not known durable must never
 * appear in a record.
 *
 * submitIri() writes IRI the mediator makes itself (not from a probe batch) into an agency's
 * HI2 journal, numbered in its communication's IRI sequence, in the same order.
 *
 * Application IRI and flow summaries (app-iri.ts, flow-summary.ts) are routed with the
 * packets (encode-batch.ts), in the CIN their match resolves to; an application report names
 * the match's open session by its user (sessionUser()).
 *
 * Access sessions (sessions.ts, session-batch.ts): identity events open, continue and end the
 * sessions of username/MAC targets, each with its own CIN, and become IPIRI on the agency's
 * HI2 journal; packets naming a session carry its CIN. A batch with identity events waits
 * (through the chain) for its new CINs and the session table to be durable. Task lists hand
 * the open sessions back to the probes, which are told whenever that set changes. When an
 * intercept goes (setIntercepts without it), each of its open sessions gets an IRI-END
 * endOfInterceptionWithSessionActive through submitIri's path, deduplicated by the table's
 * end ids, so a restart between deciding and journaling it neither loses nor doubles it.
 */
import type { Agency, Intercept } from '../config';
import { type RecordContext, type Stamp, cinResetPdu, ipiriPdu, nowStamp } from '../etsi/build';
import { MediationError, isLigError } from '../errors';
import type { TaskList } from '../gen/lig/v1/ingest';
import type { Batch } from '../gen/lig/v1/ingest';
import type { IngestHandler } from './ingest-handler';
import { type EncodeCounters, type Hi, RecordEncoder, newEncodeCounters, routeBatch } from './encode-batch';
import { identityIri, macText } from './identity-iri';
import type { JournalChannel, Once } from './journal-channel';
import { type CinRegistry, INTERCEPT_COMMUNICATION } from './numbering';
import { decideSessions, handBack, hasIdentity, resolveMatch } from './session-batch';
import { stampOfMicros } from './stamp';
import { type PendingEnd, SESSION_END_ORIGIN, type SessionCounters, SessionTable, newSessionCounters } from './sessions';
import { TaskIds, TaskTable, interceptKey } from './tasks';

export type HandlerLog = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

export interface MediationHandlerOptions {
  agencies: readonly Agency[];
  intercepts: readonly Intercept[];
  taskIds: TaskIds;
  cins: CinRegistry;
  /** The access sessions: SessionTable.open(dataDir); default a table in memory only, for cores that take no identity events. */
  sessions?: SessionTable;
  /** The clock for records without a capture time (IRI-END when an intercept goes); default the system's. */
  now?: () => Date;
  /** The writer of an agency's HI2 or HI3 journal; undefined when it has none. */
  channel(agency: string, hi: Hi): JournalChannel | undefined;
  log?: HandlerLog;
}

export interface HandlerCounters extends EncodeCounters, SessionCounters {
  batches: number;
  /** Matches naming a session the mediator never saw start: carried in the intercept's own CIN. */
  unknownSessions: number;
  /** Sessions open now (all intercepts). */
  openSessions: number;
  /** IRI-END records of removed intercepts that failed to be journaled (kept; tried again at the next change or start). */
  endFailures: number;
  /** Records for a journal the agency does not have (config forbids it; counted, dropped). */
  noJournal: number;
  /** IRI records the mediator made itself (submitIri), journaled or skipped as already there. */
  mediatorIri: number;
  /** Matches captured outside their warrant's time window (Intercept.window): dropped, and counted in unknownTasks too. */
  outsideWindow: number;
}

/** Builds one mediator-originated record: the PS-PDU for `seq` and `stamp` in `ctx`'s communication. */
export type IriBuilder = (ctx: RecordContext, seq: number, stamp: Stamp) => Uint8Array;

export interface SubmitIriOptions {
  /** The record's time (PSHeader timestamp); default: when it is built. */
  stamp?: Stamp;
  /**
   * Makes a resubmission after a crash harmless: the record is skipped when one of the same
   * origin with an id as high is already in the journal. Ids must increase per origin, in
   * submission order, and the caller keeps them durably (see journal-channel.ts).
   */
  once?: Once;
}

export class MediationHandler implements IngestHandler {
  readonly counters: HandlerCounters = { ...newEncodeCounters(), ...newSessionCounters(), batches: 0, noJournal: 0, mediatorIri: 0, unknownSessions: 0, openSessions: 0, endFailures: 0, outsideWindow: 0 };
  private table: TaskTable;
  private readonly encoder: RecordEncoder;
  private readonly listeners = new Set<(probe: string) => void>();
  /** Probes that asked for tasks or sent batches: those told when their list changes. */
  private readonly seen = new Set<string>();
  private readonly log: HandlerLog;
  /** The hand-over chain while a durability step is pending (see ordered()); undefined when idle. */
  private gate: Promise<void> | undefined;
  private gated = 0;
  /** Why the handler takes nothing any more (a durability step failed). */
  private failure: MediationError | undefined;
  /** The version of the task lists: moves with every change of the intercepts or of the open sessions. */
  private version = 1n;
  private readonly sessions: SessionTable;

  private constructor(
    private readonly o: MediationHandlerOptions,
    table: TaskTable,
  ) {
    this.table = table;
    this.sessions = o.sessions ?? SessionTable.inMemory();
    this.encoder = new RecordEncoder(o.agencies);
    this.log = o.log ?? (() => undefined);
    this.countOpen();
  }

  /**
   * Gives every intercept a task id and a CIN (both durable before this resolves), makes sure
   * the CINs the session table holds are never allocated again, and journals the IRI-ENDs a
   * previous run decided but may not have journaled. Sessions of intercepts not given here
   * stay until a setIntercepts() without them (the intercepts may come later, from warrants).
   */
  static async create(o: MediationHandlerOptions): Promise<MediationHandler> {
    await o.taskIds.assign(o.intercepts);
    await o.cins.allocate(o.intercepts);
    await Promise.all((o.sessions?.cins() ?? []).map((c) => o.cins.reserve(c.agency, c.liid, c.cin)));
    const h = new MediationHandler(o, new TaskTable(o.intercepts, o.taskIds, 1n));
    await h.journalEnds();
    return h;
  }

  /** The probe's tasks, and the open sessions of its username/MAC tasks (hand-back). */
  tasksFor(probe: string): TaskList {
    this.seen.add(probe);
    const list = this.table.listFor(probe);
    return { version: this.version, tasks: list.tasks, sessions: handBack(probe, this.table, this.sessions) };
  }

  onTasksChanged(listener: (probe: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Replaces the intercepts (new ones get a task id and a CIN first) and tells every probe
   * whose task list changed. Batches matched against the old list resolve against the new
   * one: matches of removed intercepts are dropped as unknown. The open sessions of removed
   * intercepts end (IRI-END endOfInterceptionWithSessionActive, after every record accepted
   * before); resolves once those are durable. One that fails is logged, counted and kept, to
   * be journaled at the next setIntercepts() or start.
   */
  async setIntercepts(intercepts: readonly Intercept[]): Promise<void> {
    await this.o.taskIds.assign(intercepts);
    await this.o.cins.allocate(intercepts);
    const old = this.table;
    this.table = new TaskTable(intercepts, this.o.taskIds, old.version + 1n);
    const kept = new Set(intercepts.map((i) => interceptKey(i.agency, i.liid)));
    const ended = this.sessions.endIntercepts((r) => kept.has(interceptKey(r.agency, r.liid)), BigInt(this.now().getTime()) * 1000n, this.counters);
    this.countOpen();
    this.version++;
    for (const probe of this.seen) {
      if (!this.table.differsFor(probe, old)) continue;
      for (const l of this.listeners) l(probe);
    }
    if (ended.length > 0 || this.sessions.pendingEnds().length > 0) await this.journalEnds();
  }

  /** Journals every pending IRI-END (in id order, after everything accepted so far); failures are logged and kept. */
  private async journalEnds(): Promise<void> {
    const pending = [...this.sessions.pendingEnds()];
    if (pending.length === 0) return;
    const saved = this.sessions.save();
    const done = pending.map((p) => this.journalEnd(p, saved));
    const results = await Promise.allSettled(done);
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      this.counters.endFailures += failed.length;
      const e = (failed[0] as PromiseRejectedResult).reason as unknown;
      this.log('error', `${failed.length} IRI-END record(s) of ended intercepts could not be journaled (${isLigError(e) ? e.code : 'internal error'}); kept for the next change or start`);
    }
    await this.sessions.save().catch((e: unknown) => this.log('warn', `the session table could not be saved: ${isLigError(e) ? e.code : 'internal error'}`));
  }

  private journalEnd(p: PendingEnd, saved: Promise<void>): Promise<void> {
    const channel = this.o.channel(p.agency, 'hi2');
    if (!channel) {
      this.counters.noJournal++;
      this.sessions.endDelivered(p.id);
      return Promise.resolve();
    }
    const { iriType, contents } = identityIri(p.step, p.facts, BigInt(p.atUs), p.cause);
    const stamp = stampOfMicros(BigInt(p.atUs));
    return this.ordered(saved, () =>
      this.appendIri(channel, p.agency, p.liid, p.cin, (ctx, seq, t) => ipiriPdu(ctx, seq, t, iriType, contents), { stamp, once: { origin: SESSION_END_ORIGIN, id: BigInt(p.id) } }),
    ).then(() => this.sessions.endDelivered(p.id));
  }

  private now(): Date {
    return this.o.now ? this.o.now() : new Date();
  }

  private countOpen(): void {
    this.counters.openSessions = this.sessions.openCount();
  }

  /** Tells every probe that watches an intercept in `keys` that its task list (hand-back) changed. */
  private notifySessions(keys: Set<string>): void {
    this.countOpen();
    this.version++;
    for (const probe of this.seen) {
      if (!this.table.watchedBy(probe).some((e) => keys.has(interceptKey(e.intercept.agency, e.intercept.liid)))) continue;
      for (const l of this.listeners) l(probe);
    }
  }

  accept(probe: string, batch: Batch, spool = ''): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.seen.add(probe);
    this.counters.batches++;
    const table = this.table;
    const sessions = hasIdentity(batch) ? decideSessions(probe, spool, batch, table, this.sessions, this.o.cins, this.counters) : undefined;
    const shares = routeBatch(
      batch,
      (taskId, key, timeUs) => {
        const e = table.resolve(probe, taskId);
        if (e?.intercept.window && !inWindow(e.intercept.window, timeUs)) {
          this.counters.outsideWindow++;
          return undefined;
        }
        return e && resolveMatch(e.intercept, this.o.cins.get(e.intercept.agency, e.intercept.liid), key, timeUs, this.sessions, this.counters);
      },
      this.counters,
      sessions?.iri,
      (intercept, key) => this.sessionUser(intercept, key),
    );
    const ready = sessions && sessions.ready.length > 0 ? Promise.all(sessions.ready) : undefined;
    if (ready && sessions!.openChanged.size > 0) {
      const keys = sessions!.openChanged;
      ready.then(() => this.notifySessions(keys), () => undefined);
    }
    const durable = this.ordered(ready, () => {
      const durable: Promise<void>[] = [];
      for (const share of shares.values()) {
        const channel = this.o.channel(share.agency, share.hi);
        if (!channel) {
          this.counters.noJournal += share.records.length;
          this.log('error', `agency ${share.agency} has no ${share.hi} journal: ${share.records.length} record(s) dropped`);
          continue;
        }
        durable.push(channel.submit(probe, spool, batch.batchId, (numbering) => this.encoder.encode(share, numbering, this.counters)));
      }
      return Promise.all(durable).then(() => undefined);
    });
    if (!sessions) return durable;
    return durable.then(() => this.sessions.forgetReplay(probe, spool, batch.batchId));
  }

  /**
   * The name application reports give a match's access session: its User-Name, else its MAC
   * as text (as the session's own IRI names it); undefined for a session not open now.
   */
  private sessionUser(intercept: Intercept, key: string): string | undefined {
    const o = this.sessions.openOf(intercept).find((s) => s.facts.key === key);
    if (!o) return undefined;
    return o.facts.username !== '' ? o.facts.username : macText(o.facts.mac);
  }

  /**
   * Writes one IRI record the mediator makes itself into `agency`'s HI2 journal, after every
   * batch and record accepted before this call, numbered in the IRI sequence of the
   * intercept's communication `communication` (default: the intercept's own, the CIN its
   * IP-target records carry; another name gets a CIN of its own, allocated durably first).
   * `build` makes the PS-PDU from the communication's context, the sequence number and the
   * stamp (e.g. `(ctx, seq, t) => ipiriPdu(ctx, seq, t, 'iRI-Report', …)`). Resolves once the
   * record is durable. Rejects with MEDIATION_NO_AGENCY for an agency without an HI2 journal,
   * with what `build` threw (nothing is appended then), or with the journal's error.
   */
  submitIri(agency: string, liid: string, communication: string | undefined, build: IriBuilder, opts: SubmitIriOptions = {}): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const channel = this.o.channel(agency, 'hi2');
    if (!channel) return Promise.reject(new MediationError('LIG_ERR_MEDIATION_NO_AGENCY', `agency ${agency} has no HI2 journal`));
    const comm = communication ?? INTERCEPT_COMMUNICATION;
    const wanted = [{ agency, liid, communication: comm }];
    let ready: Promise<void> | undefined;
    if (this.o.cins.get(agency, liid, comm) === undefined) {
      try {
        ready = this.o.cins.allocate(wanted);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.ordered(ready, () => this.appendIri(channel, agency, liid, this.o.cins.get(agency, liid, comm)!, build, opts));
  }

  /** Hands one mediator IRI record of CIN `cin` to `channel` (call inside ordered()). */
  protected appendIri(channel: JournalChannel, agency: string, liid: string, cin: number, build: IriBuilder, opts: SubmitIriOptions): Promise<void> {
    const ctx = this.encoder.contextFor(agency, liid, cin);
    return channel
      .append((numbering) => {
        const stamp = opts.stamp ?? nowStamp();
        const n = numbering.take(liid, cin);
        const pdu = build(ctx, n.seq, stamp);
        if (!n.reset) return [pdu];
        this.counters.cinResets++;
        return [cinResetPdu(ctx, 0, stamp), pdu];
      }, opts.once)
      .then(() => {
        this.counters.mediatorIri++;
      });
  }

  /**
   * Runs `handOff` (which hands records to journals synchronously and returns when they are
   * durable) after `ready` and after every hand-off chained before it; synchronously when
   * nothing is pending. A `ready` that fails stops the handler (see the file comment).
   */
  protected ordered(ready: Promise<unknown> | undefined, handOff: () => Promise<void>): Promise<void> {
    if (ready === undefined && this.gate === undefined) return handOff();
    const before = this.gate ?? Promise.resolve();
    const handed = Promise.all([before, ready]).then(
      () => {
        if (this.failure) throw this.failure;
        return { durable: handOff() };
      },
      (e: unknown) => {
        this.stop(e);
        throw this.failure;
      },
    );
    this.gated++;
    const gate = handed.then(
      () => undefined,
      () => undefined,
    );
    this.gate = gate;
    void gate.then(() => {
      if (--this.gated === 0) this.gate = undefined;
    });
    return handed.then((h) => h.durable);
  }

  /** Stops taking batches and records after a durability step failed with `e`. */
  protected stop(e: unknown): void {
    if (this.failure) return;
    const what = isLigError(e) ? `${e.code}: ${e.message}` : 'an internal error';
    this.failure = new MediationError('LIG_ERR_MEDIATION_FAILED', `a mediator state write failed (${what}); restart the mediator`, { cause: e });
    this.log('error', this.failure.message);
  }
}

/** True when capture time `timeUs` (microseconds since the epoch) is inside [from, until). */
function inWindow(w: NonNullable<Intercept['window']>, timeUs: bigint): boolean {
  const ms = Number(timeUs / 1000n);
  return (w.from === undefined || ms >= w.from.getTime()) && ms < w.until.getTime();
}
