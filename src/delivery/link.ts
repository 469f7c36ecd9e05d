/**
 * DeliveryLink: the delivery of one agency's HI2 or HI3 journal, for as long as the mediator
 * runs. It connects through its Transport, runs a Session per connection, confirms in the
 * journal what the agency has confirmed, and after any failure reconnects with capped,
 * jittered exponential backoff, resuming from the first unconfirmed record (the agency may
 * see a record twice, never miss one).
 *
 * Events (for tests and observers): 'connected', 'answered' (upTo: bigint; a keep-alive or
 * PDU acknowledgement answered), 'confirmed' (index: bigint; released in the journal),
 * 'disconnected' (reason: Error), 'connectFailed' (reason: Error), 'backoff' (delayMs: number),
 * 'closed'.
 * There is no 'error' event: failures show in state().lastError.
 */
import { EventEmitter } from 'node:events';
import { ConfigError, DeliveryError, JournalError, LigError } from '../errors';
import { Backoff, INITIAL_BACKOFF_MS, MAX_BACKOFF_MS } from './backoff';
import { Clock, TimerHandle, systemClock } from './clock';
import { DeliveryJournal, LinkCounters, Session, SessionTuning } from './session';
import type { Transport } from './transport';
import { Hi, LinkAgency, triContext } from './tri';

/** A confirming request follows at most this many records ... */
export const CONFIRM_EVERY_RECORDS = 512;
/** ... or this many bytes of records (and always when the journal goes idle). */
export const CONFIRM_EVERY_BYTES = 128 * 1024;
/** Unanswered confirming requests at which the link stops writing until one is answered. */
export const MAX_OUTSTANDING_REQUESTS = 64;

export type LinkStatus = 'connecting' | 'connected' | 'backoff' | 'closed';

/** What a link shows of itself. Carries no key material and no LIID. */
export interface LinkState extends LinkCounters {
  agency: string;
  hi: Hi;
  /** Where it delivers, HOST:PORT. */
  remote: string;
  status: LinkStatus;
  /** Why the last connection failed or ended, if it did. */
  lastError: { code: string; message: string } | undefined;
  /** Records in the journal not yet confirmed by the agency. */
  backlogRecords: number;
  /** Their size on disk (journal frames). */
  backlogBytes: number;
  /** Journal index of the last record the agency confirmed (0n: none yet). */
  lastConfirmed: bigint;
  /** When the current connection was established; undefined when not connected. */
  connectedSince: Date | undefined;
  /** Connections lost or attempts failed, each followed by a reconnect (unless closed). */
  reconnects: number;
}

export interface LinkOptions {
  agency: LinkAgency;
  hi: Hi;
  journal: DeliveryJournal;
  transport: Transport;
  clock?: Clock;
  /** Uniform in [0, 1) for backoff jitter; Math.random by default. */
  random?: () => number;
  tuning?: Partial<SessionTuning & { backoffInitialMs: number; backoffMaxMs: number }>;
}

export class DeliveryLink extends EventEmitter {
  readonly agency: string;
  readonly hi: Hi;
  private readonly o: LinkOptions;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly tuning: SessionTuning;
  private readonly counters: LinkCounters = {
    recordsSent: 0,
    bytesSent: 0,
    keepalivesSent: 0,
    keepalivesAnswered: 0,
    keepalivesReceived: 0,
    unmatchedResponses: 0,
    ignoredPdus: 0,
  };
  private status: LinkStatus = 'closed';
  private lastError: LinkState['lastError'];
  private connectedSince: Date | undefined;
  private reconnects = 0;
  private lastConfirmed: bigint;
  private session: Session | undefined;
  private running: Promise<void> | undefined;
  private closing = false;
  private readonly abort = new AbortController();
  private sleepTimer: TimerHandle | undefined;
  private wakeSleep: (() => void) | undefined;
  private confirmChain: Promise<void> = Promise.resolve();
  private confirmTarget = 0n;

  constructor(opts: LinkOptions) {
    super();
    this.o = opts;
    this.agency = opts.agency.id;
    this.hi = opts.hi;
    this.clock = opts.clock ?? systemClock;
    const t = opts.tuning ?? {};
    this.tuning = {
      confirmEveryRecords: positive('confirmEveryRecords', t.confirmEveryRecords ?? CONFIRM_EVERY_RECORDS),
      confirmEveryBytes: positive('confirmEveryBytes', t.confirmEveryBytes ?? CONFIRM_EVERY_BYTES),
      maxOutstanding: positive('maxOutstanding', t.maxOutstanding ?? MAX_OUTSTANDING_REQUESTS),
    };
    this.backoff = new Backoff({ initialMs: t.backoffInitialMs ?? INITIAL_BACKOFF_MS, maxMs: t.backoffMaxMs ?? MAX_BACKOFF_MS, random: opts.random });
    this.lastConfirmed = this.confirmTarget = opts.journal.confirmed;
  }

  /** Starts connecting and delivering (once; a closed link is not restarted). */
  start(): void {
    if (this.running || this.closing) return;
    this.running = this.loop();
  }

  /** Stops: ends the connection, waits for confirms in flight. The journal stays open. */
  async close(): Promise<void> {
    this.closing = true;
    const reason = new DeliveryError('LIG_ERR_DELIVERY_CLOSED', `${this.where()}: the link was closed`);
    this.abort.abort(reason);
    this.session?.stop(reason);
    this.wakeSleep?.();
    await this.running;
    await this.confirmChain;
    this.status = 'closed';
  }

  state(): LinkState {
    const stats = this.o.journal.stats;
    return {
      agency: this.agency,
      hi: this.hi,
      remote: this.o.transport.remote,
      status: this.status,
      lastError: this.lastError && { ...this.lastError },
      backlogRecords: Number(stats.pendingRecords),
      backlogBytes: stats.pendingBytes,
      lastConfirmed: this.lastConfirmed,
      connectedSince: this.connectedSince,
      reconnects: this.reconnects,
      ...this.counters,
    };
  }

  // --- the connection loop ---------------------------------------------------------------

  private async loop(): Promise<void> {
    while (!this.closing) {
      this.status = 'connecting';
      let conn;
      try {
        conn = await this.o.transport.connect(this.abort.signal);
      } catch (e) {
        if (this.closing) break;
        this.noteError(e);
        this.emit('connectFailed', e);
        await this.pause();
        continue;
      }
      if (this.closing) {
        conn.destroy();
        break;
      }
      this.status = 'connected';
      this.connectedSince = new Date(this.clock.now());
      const session = new Session(conn, {
        journal: this.o.journal,
        clock: this.clock,
        ctx: triContext(this.o.agency),
        keepalive: this.o.agency.keepalive,
        confirmKind: this.o.agency.pduAck ? 'pdu-ack' : 'keep-alive',
        tuning: this.tuning,
        counters: this.counters,
        onConfirmed: (upTo) => this.confirm(upTo),
      });
      this.session = session;
      const ended = session.run();
      this.emit('connected');
      const reason = await ended;
      this.session = undefined;
      this.connectedSince = undefined;
      if (this.closing) break;
      this.noteError(reason);
      this.emit('disconnected', reason);
      if (reason instanceof JournalError) {
        // reconnecting cannot help: the journal is closed or failed
        this.closing = true;
        break;
      }
      await this.pause();
    }
    this.status = 'closed';
    this.emit('closed');
  }

  /** Waits out the next backoff delay (cut short by close()). */
  private pause(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.status = 'backoff';
    this.reconnects++;
    const delay = this.backoff.next();
    this.emit('backoff', delay);
    return new Promise((resolve) => {
      this.wakeSleep = () => {
        if (this.sleepTimer !== undefined) this.clock.clearTimeout(this.sleepTimer);
        this.sleepTimer = this.wakeSleep = undefined;
        resolve();
      };
      this.sleepTimer = this.clock.setTimeout(() => this.wakeSleep?.(), delay);
    });
  }

  /** The agency has everything up to `upTo`: release it in the journal, in order. */
  private confirm(upTo: bigint): void {
    // an answered request proves the connection works: start backoff from the bottom again
    this.backoff.reset();
    this.emit('answered', upTo);
    if (upTo <= this.confirmTarget) return;
    this.confirmTarget = upTo;
    this.confirmChain = this.confirmChain.then(async () => {
      try {
        await this.o.journal.confirm(upTo);
      } catch (e) {
        this.noteError(e);
        this.session?.stop(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (upTo > this.lastConfirmed) {
        this.lastConfirmed = upTo;
        this.emit('confirmed', upTo);
      }
    });
  }

  private noteError(e: unknown): void {
    this.lastError = e instanceof LigError ? { code: e.code, message: e.message } : { code: 'LIG_ERR_DELIVERY_CLOSED', message: `${this.where()}: ${String((e as Error)?.message ?? e)}` };
  }

  private where(): string {
    return `agency ${this.agency} ${this.hi.toUpperCase()} (${this.o.transport.remote})`;
  }
}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`delivery.${name}`, 'must be a positive integer');
  return v;
}
