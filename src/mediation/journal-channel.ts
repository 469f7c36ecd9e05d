/**
 * The mediator's writer for one journal (one agency × HI): every append goes through here, in
 * the order submit() is called, with the journal's new ChannelState (counters + watermarks)
 * in the same stated append. So each journal is self-contained: after a crash its records and
 * its state agree, a batch resent by its probe is skipped here exactly when its records for
 * this journal are already here, and numbering goes on without a gap. A crash between the
 * appends of one batch to two journals is harmless: each journal decides for itself.
 *
 * Appends are pipelined: a batch is numbered and handed to the journal as soon as the one
 * before it was (group commit shares the fsyncs); each submit() resolves when its records are
 * durable. When the journal is full, submit() waits for room (delivery frees it), up to
 * roomWaitMs, then fails with JOURNAL_FULL; nothing is appended for it.
 *
 * Failures never leave a hole: a batch that fails here makes every later batch of the same
 * probe spool fail here too, until the probe resends from that batch (a lower or equal id).
 * A failed write (I/O) is terminal: the journal refuses all further appends until the
 * mediator is restarted and the journal recovered.
 *
 * Records the mediator makes itself (IRI-END when a warrant ends mid-session, HI1
 * notifications) come through append(), in the same order as the batches. Such a record is
 * not a resend of anything, so it is deduplicated only when its caller names it: `once`
 * gives an origin (one per kind of caller) and an id that the caller increases with every
 * record and keeps durably; the journal state keeps a watermark per origin exactly as per
 * probe spool, so a caller that submits again after a crash what it may already have
 * submitted gets each record once.
 */
import { JournalError, isLigError } from '../errors';
import type { Journal } from '../delivery/journal';
import { ChannelState } from './channel-state';
import type { Numbering } from './numbering';

/** How long an append waits for room in a full journal before failing with JOURNAL_FULL. */
export const DEFAULT_ROOM_WAIT_MS = 30_000;

/**
 * Where the watermarks of mediator-originated records live in the journal state: the
 * "probe" `MEDIATOR_ORIGIN_PREFIX + origin`, spool ''. A NUL never occurs in a certificate
 * name, so no probe can collide with it.
 */
export const MEDIATOR_ORIGIN_PREFIX = '\u0000mediator:';

/** Names a mediator-originated record for deduplication: ids increase per origin, durably kept by the caller. */
export interface Once {
  origin: string;
  id: bigint;
}

/** Who a stated append is for: a probe's batch, or nothing to deduplicate. */
interface Source {
  probe: string;
  spool: string;
  id: bigint;
}

export interface ChannelCounters {
  /** Stated appends made (one per batch with records for this journal). */
  appends: number;
  records: number;
  /** Batches skipped because their records were already journaled (resends). */
  duplicateBatches: number;
  /** Appends that had to wait for room, and waits that ran out. */
  roomWaits: number;
  roomTimeouts: number;
}

export class JournalChannel {
  /** Counters and watermarks as journaled (plus the appends handed to the journal since). */
  readonly state: ChannelState;
  readonly counters: ChannelCounters = { appends: 0, records: 0, duplicateBatches: 0, roomWaits: 0, roomTimeouts: 0 };
  private tail: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  /** Per probe spool, the first batch that failed here and why. */
  private readonly broken = new Map<string, { from: bigint; error: unknown }>();

  /**
   * `name` says which journal this is in messages (agency/hi); the journal's saved state is
   * read here (MEDIATION_STATE when it is not a mediator state).
   */
  constructor(
    readonly journal: Journal,
    readonly name: string,
    private readonly roomWaitMs = DEFAULT_ROOM_WAIT_MS,
  ) {
    const saved = journal.state;
    this.state = saved ? ChannelState.decode(saved.data, name) : new ChannelState();
  }

  /** Why this journal takes no more appends, if it does not. */
  get failed(): unknown {
    return this.failure;
  }

  /**
   * Appends the records `build` makes for batch `id` of (probe, spool), numbered from this
   * journal's counters, after every earlier submit(); resolves once they are durable. Skips
   * the batch when it is already here; appends nothing when `build` makes no record.
   */
  submit(probe: string, spool: string, id: bigint, build: (numbering: Numbering) => Uint8Array[]): Promise<void> {
    return this.enqueue({ probe, spool, id }, build);
  }

  /**
   * Appends records the mediator makes itself, after every earlier submit() or append();
   * resolves once they are durable. With `once`, skipped when a record of that origin with
   * an id as high is already here (and, like a probe spool, a failure here fails the later
   * ids of that origin until the failed id is appended again).
   */
  append(build: (numbering: Numbering) => Uint8Array[], once?: Once): Promise<void> {
    return this.enqueue(once && { probe: MEDIATOR_ORIGIN_PREFIX + once.origin, spool: '', id: once.id }, build);
  }

  private enqueue(source: Source | undefined, build: (numbering: Numbering) => Uint8Array[]): Promise<void> {
    const planned = this.tail.then(() => this.plan(source, build));
    this.tail = planned.catch(() => undefined);
    return planned.then((p) => p.durable);
  }

  /** Resolves once every submit() so far has been handed to the journal (or failed). */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  private async plan(source: Source | undefined, build: (n: Numbering) => Uint8Array[]): Promise<{ durable: Promise<void> }> {
    if (this.failure !== undefined) throw this.failure;
    const key = source && `${source.probe}\u0000${source.spool}`;
    const b = key === undefined ? undefined : this.broken.get(key);
    if (b && source) {
      if (source.id > b.from) throw b.error;
      this.broken.delete(key!); // the probe resends from the failed batch (or before it)
    }
    if (source && source.id <= this.state.watermark(source.probe, source.spool)) {
      this.counters.duplicateBatches++;
      return { durable: Promise.resolve() };
    }
    this.state.begin();
    try {
      const records = build(this.state.numbering);
      if (records.length === 0) {
        this.state.rollback();
        return { durable: Promise.resolve() };
      }
      if (source) this.state.advance(source.probe, source.spool, source.id);
      const blob = this.state.encode();
      if (!this.journal.hasRoom(records, blob)) await this.waitForRoom(records, blob);
      const appended = this.journal.append(records, blob);
      this.state.commit();
      this.counters.appends++;
      this.counters.records += records.length;
      appended.catch((e: unknown) => {
        this.failure ??= e;
      });
      return { durable: appended.then(() => undefined) };
    } catch (e) {
      this.state.rollback();
      if (source) this.broken.set(key!, { from: source.id, error: e });
      throw e;
    }
  }

  private async waitForRoom(records: Uint8Array[], blob: Uint8Array): Promise<void> {
    this.counters.roomWaits++;
    const signal = AbortSignal.timeout(this.roomWaitMs);
    try {
      await this.journal.waitForRoom(records, blob, signal);
    } catch (e) {
      if (isLigError(e)) throw e;
      this.counters.roomTimeouts++;
      throw new JournalError('LIG_ERR_JOURNAL_FULL', `journal ${this.name} stayed full for ${this.roomWaitMs} ms: delivery to the agency is not keeping up`);
    }
  }
}
