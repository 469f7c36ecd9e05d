/**
 * Gathers captured events into batches and stores them in the spool, never making the
 * capture wait: submit() is synchronous, encodes the event once and either takes it or drops
 * it (and counts why) at once. A batch is sealed when it holds maxEvents events, when the
 * next event would take it past maxBytes, or maxDelay after its first event; sealing numbers
 * it (the spool's next id) and writes it to disk in the background.
 *
 * An event is dropped when the spool has no room for the open batch with it, when it alone
 * would exceed a batch (MAX_EVENT_BYTES), or when it cannot be encoded. Losing an event is a
 * compliance failure, so every drop is counted and reported through `onDrop`.
 */
import { ConfigError } from '../errors';
import { Event } from '../gen/lig/v1/ingest';
import { DEFAULT_BATCH_MAX_DELAY, DEFAULT_BATCH_MAX_EVENTS } from '../config/probe';
import { systemClock, type Clock, type TimerHandle } from '../delivery/clock';
import { MAX_BATCH_BYTES, MAX_BATCH_ID_FIELD_BYTES, eventFieldBytes, type Spool } from './spool';

export { DEFAULT_BATCH_MAX_DELAY, DEFAULT_BATCH_MAX_EVENTS };
/** Default bound on a batch's encoded size: as large as the spool stores. */
export const DEFAULT_BATCH_MAX_BYTES = MAX_BATCH_BYTES;
/** Smallest maxBytes accepted. */
export const MIN_BATCH_MAX_BYTES = 1024;

export type DropReason = 'spoolFull' | 'oversize' | 'invalid' | 'spoolFailed' | 'closed';
export const DROP_REASONS: readonly DropReason[] = ['spoolFull', 'oversize', 'invalid', 'spoolFailed', 'closed'];

export interface BatcherOptions {
  maxEvents?: number;
  /** Milliseconds the first event of a batch waits at most. */
  maxDelay?: number;
  /** Bound on a batch's encoded size, at most MAX_BATCH_BYTES. */
  maxBytes?: number;
  clock?: Clock;
}

export interface BatcherHooks {
  /** Batch `id` is durable in the spool. */
  onStored(id: bigint): void;
  /** `count` events were lost for `reason` (spoolFailed also passes the error). */
  onDrop(reason: DropReason, count: number, error?: unknown): void;
}

export interface BatcherCounters {
  submitted: number;
  /** Events in batches that reached the spool. */
  spooled: number;
  dropped: Record<DropReason, number>;
}

function integer(path: string, v: number | undefined, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new ConfigError(path, `must be an integer between ${min} and ${max}, got ${v}`);
  return v;
}

export class Batcher {
  readonly maxEvents: number;
  readonly maxDelay: number;
  readonly maxBytes: number;
  readonly counters: BatcherCounters = {
    submitted: 0,
    spooled: 0,
    dropped: { spoolFull: 0, oversize: 0, invalid: 0, spoolFailed: 0, closed: 0 },
  };
  private readonly clock: Clock;
  private open: Uint8Array[] = [];
  /** Encoded size of the open batch, batch_id field counted at its largest. */
  private openBytes = MAX_BATCH_ID_FIELD_BYTES;
  private timer: TimerHandle | undefined;
  private writing = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly spool: Spool,
    private readonly hooks: BatcherHooks,
    opts: BatcherOptions = {},
  ) {
    this.maxEvents = integer('batch.maxEvents', opts.maxEvents, 1, 1_000_000, DEFAULT_BATCH_MAX_EVENTS);
    this.maxDelay = integer('batch.maxDelay', opts.maxDelay, 1, 60_000, DEFAULT_BATCH_MAX_DELAY);
    this.maxBytes = integer('batch.maxBytes', opts.maxBytes, MIN_BATCH_MAX_BYTES, MAX_BATCH_BYTES, DEFAULT_BATCH_MAX_BYTES);
    this.clock = opts.clock ?? systemClock;
  }

  /** Takes `event` into the open batch (true) or drops it (false). Never waits. */
  submit(event: Event): boolean {
    this.counters.submitted++;
    if (this.closed) return this.drop('closed');
    let bytes: Uint8Array;
    try {
      bytes = Event.encode(event).finish();
    } catch {
      return this.drop('invalid');
    }
    const add = eventFieldBytes(bytes.length);
    if (MAX_BATCH_ID_FIELD_BYTES + add > this.maxBytes) return this.drop('oversize');
    if (this.open.length > 0 && this.openBytes + add > this.maxBytes) this.seal();
    // Only the batcher appends, so what fits now still fits when the batch is sealed.
    if (!this.spool.fits(this.openBytes + add)) return this.drop('spoolFull');
    this.open.push(bytes);
    this.openBytes += add;
    if (this.open.length >= this.maxEvents) this.seal();
    else if (this.open.length === 1) this.timer = this.clock.setTimeout(() => this.seal(), this.maxDelay);
    return true;
  }

  /** Seals the open batch now, if it holds any event. */
  flush(): void {
    this.seal();
  }

  /** Resolves once every sealed batch is durable in the spool (or failed). */
  idle(): Promise<void> {
    if (this.writing === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Seals what is open, waits for the spool, and drops (as 'closed') whatever comes after. */
  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    await this.idle();
  }

  private seal(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.open.length === 0) return;
    const events = this.open;
    this.open = [];
    this.openBytes = MAX_BATCH_ID_FIELD_BYTES;
    let stored: { id: bigint; durable: Promise<void> };
    try {
      stored = this.spool.store(events);
    } catch (e) {
      this.drop('spoolFailed', events.length, e);
      return;
    }
    this.writing++;
    stored.durable
      .then(
        () => {
          this.counters.spooled += events.length;
          this.hooks.onStored(stored.id);
        },
        (e: unknown) => this.drop('spoolFailed', events.length, e),
      )
      .finally(() => {
        if (--this.writing === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  private drop(reason: DropReason, count = 1, error?: unknown): false {
    this.counters.dropped[reason] += count;
    this.hooks.onDrop(reason, count, error);
    return false;
  }
}
