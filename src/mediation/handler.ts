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
 */
import type { Agency, Intercept } from '../config';
import { type RecordContext, type Stamp, cinResetPdu, nowStamp } from '../etsi/build';
import { MediationError, isLigError } from '../errors';
import type { TaskList } from '../gen/lig/v1/ingest';
import type { Batch } from '../gen/lig/v1/ingest';
import type { IngestHandler } from './ingest-handler';
import { type EncodeCounters, type Hi, RecordEncoder, newEncodeCounters, routeBatch } from './encode-batch';
import type { JournalChannel, Once } from './journal-channel';
import { type CinRegistry, INTERCEPT_COMMUNICATION } from './numbering';
import { TaskIds, TaskTable } from './tasks';

export type HandlerLog = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

export interface MediationHandlerOptions {
  agencies: readonly Agency[];
  intercepts: readonly Intercept[];
  taskIds: TaskIds;
  cins: CinRegistry;
  /** The writer of an agency's HI2 or HI3 journal; undefined when it has none. */
  channel(agency: string, hi: Hi): JournalChannel | undefined;
  log?: HandlerLog;
}

export interface HandlerCounters extends EncodeCounters {
  batches: number;
  /** Records for a journal the agency does not have (config forbids it; counted, dropped). */
  noJournal: number;
  /** IRI records the mediator made itself (submitIri), journaled or skipped as already there. */
  mediatorIri: number;
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
  readonly counters: HandlerCounters = { ...newEncodeCounters(), batches: 0, noJournal: 0, mediatorIri: 0 };
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

  private constructor(
    private readonly o: MediationHandlerOptions,
    table: TaskTable,
  ) {
    this.table = table;
    this.encoder = new RecordEncoder(o.agencies);
    this.log = o.log ?? (() => undefined);
  }

  /** Gives every intercept a task id and a CIN (both durable before this resolves). */
  static async create(o: MediationHandlerOptions): Promise<MediationHandler> {
    await o.taskIds.assign(o.intercepts);
    await o.cins.allocate(o.intercepts);
    return new MediationHandler(o, new TaskTable(o.intercepts, o.taskIds, 1n));
  }

  tasksFor(probe: string): TaskList {
    this.seen.add(probe);
    return this.table.listFor(probe);
  }

  onTasksChanged(listener: (probe: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Replaces the intercepts (new ones get a task id and a CIN first) and tells every probe
   * whose task list changed. Batches matched against the old list resolve against the new
   * one: matches of removed intercepts are dropped as unknown.
   */
  async setIntercepts(intercepts: readonly Intercept[]): Promise<void> {
    await this.o.taskIds.assign(intercepts);
    await this.o.cins.allocate(intercepts);
    const old = this.table;
    this.table = new TaskTable(intercepts, this.o.taskIds, old.version + 1n);
    for (const probe of this.seen) {
      if (!this.table.differsFor(probe, old)) continue;
      for (const l of this.listeners) l(probe);
    }
  }

  accept(probe: string, batch: Batch, spool = ''): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.seen.add(probe);
    this.counters.batches++;
    const table = this.table;
    const shares = routeBatch(
      batch,
      (taskId) => {
        const e = table.resolve(probe, taskId);
        const cin = e && this.o.cins.get(e.intercept.agency, e.intercept.liid);
        return e && cin !== undefined ? { intercept: e.intercept, cin } : undefined;
      },
      this.counters,
    );
    return this.ordered(undefined, () => {
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
