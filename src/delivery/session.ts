/**
 * One connection's worth of delivery: from the first unconfirmed record of the journal, write
 * records in order, honouring backpressure; after each burst (and when the journal goes idle)
 * send a confirming request — a keep-alive, or a PDU acknowledgement request for agencies
 * that acknowledge PDUs — and confirm the records written before it once the agency answers
 * it. Also keeps the connection alive (TS 102 232-1 keep-alives when idle, a deadline on every
 * answer) and answers the agency's own keep-alives.
 *
 * A record is never confirmed because it was written: only an answer to a request written
 * after it proves the agency has it. A session ends once (connection lost, deadline missed,
 * protocol error, journal failure, or stop()) and is not reused: the link makes a new one.
 */
import { stampOf } from '../etsi';
import { DeliveryError, LigError } from '../errors';
import { PduFramer } from '../etsi/stream';
import type { Journal } from './journal';
import type { Clock, TimerHandle } from './clock';
import type { Connection } from './transport';
import { INCOMING_LIMITS, Incoming, RequestKind, SEQUENCE_MODULO, readIncoming, requestPdu, responsePdu } from './tri';
import type { RecordContext } from '../etsi';

/** What delivery needs of a journal (the Journal class provides it). */
export type DeliveryJournal = Pick<Journal, 'read' | 'waitFor' | 'confirm' | 'confirmed' | 'durable' | 'stats'>;

/** Counters a link keeps across its connections (see LinkState). */
export interface LinkCounters {
  recordsSent: number;
  bytesSent: number;
  /** Keep-alives and PDU acknowledgement requests sent. */
  keepalivesSent: number;
  /** Of those, answered by the agency with the matching response. */
  keepalivesAnswered: number;
  /** Keep-alives the agency sent (each answered with a keep-aliveResponse). */
  keepalivesReceived: number;
  /** Responses matching no outstanding request (ignored). */
  unmatchedResponses: number;
  /** Other PDUs from the agency (ignored). */
  ignoredPdus: number;
}

export interface SessionTuning {
  /** A confirming request follows at most this many records ... */
  confirmEveryRecords: number;
  /** ... or this many record bytes. */
  confirmEveryBytes: number;
  /** Unanswered requests at which writing pauses until an answer comes. */
  maxOutstanding: number;
}

export interface SessionOptions {
  journal: DeliveryJournal;
  clock: Clock;
  /** Header context of the link's own records (the fixed keep-alive LIID). */
  ctx: RecordContext;
  keepalive: { interval: number; wait: number };
  /** The request sent after bursts: 'pdu-ack' for agencies that acknowledge PDUs. */
  confirmKind: RequestKind;
  tuning: SessionTuning;
  counters: LinkCounters;
  /** The agency has every record up to `upTo` (called in order, never for less than before). */
  onConfirmed(upTo: bigint): void;
}

interface Outstanding {
  seq: number;
  kind: RequestKind;
  /** Last record index written before the request. */
  upTo: bigint;
  sentAt: number;
}

const EMPTY = new Uint8Array(0);

export class Session {
  /** Last sequence number used on this connection (its own counter: the first request is 1). */
  private seq = 0;
  private readonly outstanding: Outstanding[] = [];
  private sentUpTo: bigint;
  private sinceRecords = 0;
  private sinceBytes = 0;
  private needDrain = false;
  private wake: (() => void) | undefined;
  private lastWrite: number;
  private idleTimer: TimerHandle | undefined;
  private waitTimer: TimerHandle | undefined;
  private readonly abort = new AbortController();
  private readonly framer = new PduFramer(INCOMING_LIMITS);
  private reason: Error | undefined;
  private resolveEnd!: (reason: Error) => void;
  private readonly ended: Promise<Error>;

  constructor(
    private readonly conn: Connection,
    private readonly o: SessionOptions,
  ) {
    this.sentUpTo = o.journal.confirmed;
    this.lastWrite = o.clock.now();
    this.ended = new Promise((resolve) => (this.resolveEnd = resolve));
  }

  /** Starts delivering; resolves with the reason once the session has ended. */
  run(): Promise<Error> {
    this.conn.on('data', this.onData);
    this.conn.on('drain', this.onDrain);
    this.conn.on('error', this.onError);
    this.conn.on('close', this.onClose);
    this.armIdle(this.o.keepalive.interval);
    this.pump().catch((e: unknown) => this.end(e instanceof Error ? e : new Error(String(e))));
    return this.ended;
  }

  /** Ends the session now (the link is closing) and destroys the connection. */
  stop(reason: Error): void {
    this.end(reason);
  }

  /** Requests written and not yet answered. */
  get unanswered(): number {
    return this.outstanding.length;
  }

  // --- writing ---------------------------------------------------------------------------

  private async pump(): Promise<void> {
    const { journal, tuning } = this.o;
    let next = this.sentUpTo + 1n;
    while (!this.reason) {
      if (this.needDrain || this.outstanding.length >= tuning.maxOutstanding) {
        await this.sleep();
        continue;
      }
      const records = await journal.read(next, { maxRecords: tuning.confirmEveryRecords, maxBytes: tuning.confirmEveryBytes });
      if (this.reason) return;
      if (records.length === 0) {
        // The journal went idle: have what was written so far confirmed, then wait for more.
        if (this.sinceRecords > 0) this.request(this.o.confirmKind);
        await journal.waitFor(next, this.abort.signal).catch((e: unknown) => {
          if (!this.reason) throw e;
        });
        continue;
      }
      for (const r of records) {
        if (this.reason) return;
        this.send(r.data);
        this.o.counters.recordsSent++;
        this.o.counters.bytesSent += r.data.length;
        this.sentUpTo = r.index;
        next = r.index + 1n;
        this.sinceRecords++;
        this.sinceBytes += r.data.length;
        if (this.sinceRecords >= tuning.confirmEveryRecords || this.sinceBytes >= tuning.confirmEveryBytes) this.request(this.o.confirmKind);
        while (this.needDrain && !this.reason) await this.sleep();
      }
    }
  }

  /**
   * Sends a keep-alive or PDU acknowledgement request now, whatever the backpressure: it
   * waits behind at most the connection's bounded buffer, never behind the backlog.
   */
  private request(kind: RequestKind): void {
    const now = this.o.clock.now();
    this.seq = (this.seq + 1) % SEQUENCE_MODULO;
    this.outstanding.push({ seq: this.seq, kind, upTo: this.sentUpTo, sentAt: now });
    this.sinceRecords = 0;
    this.sinceBytes = 0;
    this.send(requestPdu(kind, this.o.ctx, this.seq, stampOf(new Date(now))));
    this.o.counters.keepalivesSent++;
    if (this.outstanding.length === 1) this.armWait();
  }

  private send(bytes: Uint8Array): void {
    this.lastWrite = this.o.clock.now();
    if (!this.conn.write(bytes)) this.needDrain = true;
  }

  /** Waits until drain, an answer, or the end. */
  private sleep(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  // --- timers ----------------------------------------------------------------------------

  /** Sends a keep-alive whenever nothing was written for keepalive.interval. */
  private armIdle(ms: number): void {
    this.idleTimer = this.o.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.reason) return;
      const interval = this.o.keepalive.interval;
      const quiet = this.o.clock.now() - this.lastWrite;
      if (quiet >= interval) {
        this.request('keep-alive');
        this.armIdle(interval);
      } else {
        this.armIdle(interval - quiet);
      }
    }, ms);
  }

  /** The deadline of the oldest unanswered request: keepalive.wait after it was sent. */
  private armWait(): void {
    if (this.waitTimer !== undefined) this.o.clock.clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    const oldest = this.outstanding[0];
    if (!oldest) return;
    const wait = this.o.keepalive.wait;
    const ms = Math.max(0, oldest.sentAt + wait - this.o.clock.now());
    this.waitTimer = this.o.clock.setTimeout(() => {
      this.waitTimer = undefined;
      const what = oldest.kind === 'keep-alive' ? 'keep-aliveResponse' : 'pDUAcknowledgementResponse';
      this.end(new DeliveryError('LIG_ERR_DELIVERY_KEEPALIVE_TIMEOUT', `${this.conn.remote}: no ${what} to sequence number ${oldest.seq} within ${wait} ms`));
    }, ms);
  }

  // --- reading ---------------------------------------------------------------------------

  private readonly onData = (chunk: Uint8Array): void => {
    if (this.reason) return;
    try {
      const pdus = this.framer.push(chunk);
      for (const bytes of pdus) {
        this.handle(readIncoming(bytes));
        if (this.reason) return;
      }
      // a bad header after the PDUs just handled throws on the next push: find it now
      if (pdus.length > 0 && this.framer.pending > 0) this.framer.push(EMPTY);
    } catch (e) {
      if (!(e instanceof LigError)) throw e;
      this.end(new DeliveryError('LIG_ERR_DELIVERY_PROTOCOL', `${this.conn.remote}: the agency sent an invalid PDU: ${e.message}`, { cause: e }));
    }
  };

  private handle(m: Incoming): void {
    const c = this.o.counters;
    if (m.kind === 'keep-alive') {
      c.keepalivesReceived++;
      this.send(responsePdu(this.o.ctx, m.seq, stampOf(new Date(this.o.clock.now()))));
    } else if (m.kind === 'response') {
      const i = this.outstanding.findIndex((o) => o.seq === m.seq && o.kind === m.answers);
      if (i < 0) {
        c.unmatchedResponses++;
        return;
      }
      const answered = this.outstanding[i]!;
      // In-order delivery: an answer to a request also stands for any earlier one left unanswered.
      this.outstanding.splice(0, i + 1);
      c.keepalivesAnswered++;
      this.armWait();
      this.o.onConfirmed(answered.upTo);
      this.wakeUp();
    } else {
      c.ignoredPdus++;
    }
  }

  private readonly onDrain = (): void => {
    this.needDrain = false;
    this.wakeUp();
  };

  private readonly onError = (err: Error): void => this.end(err);

  private readonly onClose = (): void => {
    this.end(new DeliveryError('LIG_ERR_DELIVERY_CLOSED', `${this.conn.remote}: the connection was closed`));
  };

  private end(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    if (this.idleTimer !== undefined) this.o.clock.clearTimeout(this.idleTimer);
    if (this.waitTimer !== undefined) this.o.clock.clearTimeout(this.waitTimer);
    this.idleTimer = this.waitTimer = undefined;
    this.abort.abort(reason);
    this.wakeUp();
    this.conn.off('data', this.onData);
    this.conn.off('drain', this.onDrain);
    this.conn.off('close', this.onClose);
    // keep an 'error' listener: a late error from a destroyed socket must not go unhandled
    this.conn.off('error', this.onError);
    this.conn.on('error', ignore);
    this.conn.destroy();
    this.resolveEnd(reason);
  }
}

function ignore(): void {}
