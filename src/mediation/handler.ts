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
 */
import type { Agency, Intercept } from '../config';
import type { TaskList } from '../gen/lig/v1/ingest';
import type { Batch } from '../gen/lig/v1/ingest';
import type { IngestHandler } from './ingest-handler';
import { type EncodeCounters, type Hi, RecordEncoder, newEncodeCounters, routeBatch } from './encode-batch';
import type { JournalChannel } from './journal-channel';
import type { CinRegistry } from './numbering';
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
}

export class MediationHandler implements IngestHandler {
  readonly counters: HandlerCounters = { ...newEncodeCounters(), batches: 0, noJournal: 0 };
  private table: TaskTable;
  private readonly encoder: RecordEncoder;
  private readonly listeners = new Set<(probe: string) => void>();
  /** Probes that asked for tasks or sent batches: those told when their list changes. */
  private readonly seen = new Set<string>();
  private readonly log: HandlerLog;

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
  }
}
