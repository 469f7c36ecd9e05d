/**
 * One probe's ingest stream, from Hello to its end: checks what the probe sends, passes new
 * batches to the mediator core in order, acknowledges them cumulatively once they are durable,
 * pushes task lists, and pauses reading while too much is being accepted.
 *
 * Ordering rules (see proto/lig/v1/ingest.proto): Hello first; then batch ids follow each
 * other without gaps, the first one being Hello's first_unacked_batch when that is not 0.
 * Batches at or below the probe's durable watermark (what this process saw accepted, or what
 * the core reports through firstUnacked) are acknowledged without calling accept() again.
 * A probe that claims to hold nothing unacknowledged yet sends such a batch restarted its
 * numbering: accepting it would drop it as a duplicate, so the stream is refused instead.
 *
 * Backpressure: while limits.maxAcceptingBatches / maxAcceptingBytes are being accepted the
 * call is paused. grpc-js still fills the call's object buffer (its readable high-water mark,
 * 16 messages) before it stops reading HTTP/2 and flow control holds the probe back, so a
 * probe's memory on the mediator is bounded by those limits plus 16 × maxMessageBytes.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { IngestError } from '../errors';
import type { Batch, Hello, MediatorMessage } from '../gen/lig/v1/ingest';
import type { IngestHandler } from './ingest-handler';
import { decodeProbeMessage, type IngestLimits } from './ingest-limits';

/** What the server remembers of a probe across its streams (see ProbeState for the public view). */
export interface ProbeRecord {
  name: string;
  connected: boolean;
  /** When the current stream started, or when the last one ended. */
  since: Date | undefined;
  /** New batches made durable by the core (duplicates not counted), since the server started. */
  batchesAccepted: number;
  /** When the last of those was made durable; undefined: none since the server started. */
  lastBatchAt: Date | undefined;
  /** Batches acknowledged without accept() because they were already durable. */
  duplicatesSkipped: number;
  /** Last batch id acknowledged to the probe; 0n: none yet. */
  lastAcked: bigint;
  /** Highest batch id of spool `spool` known durable with every one before it; 0n: none known. */
  durableThrough: bigint;
  /** The spool id of the probe's current or last stream (batch ids are numbered per spool). */
  spool: string | undefined;
  softwareVersion: string;
  sourceKind: string;
  /** Batches of the current stream being accepted now, and whether reading is paused for them. */
  accepting: number;
  paused: boolean;
  /** Remote address of the current or last stream. */
  peer: string;
  /** Streams opened since the server started. */
  streams: number;
  lastError: { code: string; message: string } | undefined;
  session: IngestSession | undefined;
}

export type IngestCall = ServerDuplexStream<Buffer, MediatorMessage>;

export interface SessionDeps {
  handler: IngestHandler;
  limits: IngestLimits;
  /** Called once when the stream is over; `error` is why, if it failed. */
  onEnd: (session: IngestSession, error: unknown) => void;
  /** Ends the call with the status mapped from `error` (status.ts). */
  fail: (call: IngestCall, error: unknown) => void;
  log: (level: 'warn' | 'info', message: string) => void;
}

interface Pending {
  id: bigint;
  bytes: number;
  done: boolean;
}

export class IngestSession {
  /** Resolves once no accept() of this session is pending any more and the stream is over. */
  readonly settled: Promise<void>;
  private resolveSettled!: () => void;
  private state: 'hello' | 'open' | 'over' = 'hello';
  private hello: Hello | undefined;
  private lastId: bigint | undefined;
  private readonly queue: Pending[] = [];
  private accepting = 0;
  private acceptingBytes = 0;
  private paused = false;
  private tasksDue = false;
  private ackDue: bigint | undefined;
  private awaitingDrain = false;
  private endError: unknown;
  private failed = false;

  constructor(
    readonly call: IngestCall,
    readonly record: ProbeRecord,
    private readonly deps: SessionDeps,
  ) {
    this.settled = new Promise((r) => (this.resolveSettled = r));
    call.on('cancelled', () => this.over());
    call.on('close', () => this.over());
    call.on('error', () => this.over());
    // Nothing is read until start(): the previous stream's accepts must settle first.
    call.pause();
  }

  get probe(): string {
    return this.record.name;
  }

  /** Messages received from the probe and not read yet (what a paused stream holds back). */
  get queued(): number {
    return this.call.readableLength;
  }

  /** Starts reading once `after` (the previous stream's `settled`) resolves. */
  start(after: Promise<void>): void {
    void after.then(() => {
      if (this.state === 'over') return;
      this.call.on('data', (bytes: Buffer) => this.onMessage(bytes));
      this.call.on('end', () => this.onHalfClose());
      this.call.resume();
    });
  }

  /** Sends the probe its current task list (coalesced: only the latest is sent). */
  pushTasks(): void {
    this.tasksDue = true;
    this.flush();
  }

  /** Ends the stream with the status for `error`. Accepts in flight still update the record. */
  fail(error: unknown): void {
    if (this.failed || this.ended) return;
    this.failed = true;
    this.endError = error;
    this.state = 'over';
    this.call.pause();
    this.call.removeAllListeners('data');
    this.deps.fail(this.call, error);
    this.over();
  }

  // --- receiving -------------------------------------------------------------------------

  private onMessage(bytes: Buffer): void {
    if (this.state === 'over') return;
    try {
      const m = decodeProbeMessage(bytes, this.deps.limits, this.probe);
      if (this.state === 'hello') {
        if (m.kind !== 'hello') throw this.error('LIG_ERR_INGEST_MALFORMED', `probe ${this.probe} sent a batch before Hello`);
        this.onHello(m.hello);
      } else {
        if (m.kind !== 'batch') throw this.error('LIG_ERR_INGEST_MALFORMED', `probe ${this.probe} sent a second Hello`);
        this.onBatch(m.batch, bytes.length);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private onHello(hello: Hello): void {
    this.hello = hello;
    const r = this.record;
    r.softwareVersion = hello.softwareVersion.slice(0, 64);
    r.sourceKind = hello.sourceKind.slice(0, 16);
    if (r.spool !== hello.spoolId) {
      // Another spool numbers from 1 again: what was durable of the last one says nothing here.
      if (r.spool !== undefined) this.deps.log('warn', `probe ${this.probe} uses a new spool; its batch numbering starts again`);
      r.spool = hello.spoolId;
      r.durableThrough = 0n;
      r.lastAcked = 0n;
    }
    const first = this.deps.handler.firstUnacked?.(this.probe, hello.spoolId);
    if (first !== undefined && first - 1n > r.durableThrough) r.durableThrough = first - 1n;
    this.state = 'open';
    this.pushTasks();
  }

  private onBatch(batch: Batch, bytes: number): void {
    const id = batch.batchId;
    const r = this.record;
    const h = this.hello!.firstUnackedBatch;
    if (this.lastId === undefined) {
      if (h !== 0n && id !== h) {
        throw this.error('LIG_ERR_INGEST_BATCH_ORDER', `probe ${this.probe} said its first unacked batch is ${h} but sent ${id} first`);
      }
      if (h === 0n && id <= r.durableThrough) {
        throw this.error('LIG_ERR_INGEST_BATCH_REPLAY', `probe ${this.probe} holds nothing unacknowledged but sent batch ${id}; the mediator already holds its batches up to ${r.durableThrough}`);
      }
    } else if (id !== this.lastId + 1n) {
      throw this.error('LIG_ERR_INGEST_BATCH_ORDER', `probe ${this.probe} sent batch ${id} after batch ${this.lastId}`);
    }
    this.lastId = id;
    if (id <= r.durableThrough) {
      r.duplicatesSkipped++;
      this.queue.push({ id, bytes: 0, done: true });
      this.advance();
      return;
    }
    const p: Pending = { id, bytes, done: false };
    this.queue.push(p);
    this.accepting++;
    this.acceptingBytes += bytes;
    this.record.accepting = this.accepting;
    let accepted: Promise<void>;
    try {
      accepted = this.deps.handler.accept(this.probe, batch, r.spool!);
    } catch (e) {
      accepted = Promise.reject(e);
    }
    accepted.then(
      () => this.onAccepted(p),
      (e: unknown) => this.onRejected(p, e),
    );
    if (this.accepting >= this.deps.limits.maxAcceptingBatches || this.acceptingBytes >= this.deps.limits.maxAcceptingBytes) {
      this.paused = this.record.paused = true;
      this.call.pause();
    }
  }

  private onHalfClose(): void {
    if (this.state === 'over') return;
    this.state = 'over';
    // The probe is done sending: answer with OK once what it sent is acknowledged.
    void this.drained().then(() => {
      if (!this.failed && !this.call.destroyed) this.call.end();
    });
  }

  // --- accepting and acknowledging ---------------------------------------------------------

  private onAccepted(p: Pending): void {
    p.done = true;
    this.release(p);
    this.record.batchesAccepted++;
    this.record.lastBatchAt = new Date();
    this.advance();
  }

  private onRejected(p: Pending, e: unknown): void {
    this.release(p);
    // Nothing at or after p is acknowledged: the probe resends it on its next stream.
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.length = i;
    this.fail(e);
    this.maybeSettled();
  }

  private release(p: Pending): void {
    this.accepting--;
    this.acceptingBytes -= p.bytes;
    if (this.record.session === this) this.record.accepting = this.accepting;
    if (this.paused && this.state === 'open' && this.accepting < this.deps.limits.maxAcceptingBatches && this.acceptingBytes < this.deps.limits.maxAcceptingBytes) {
      this.paused = false;
      if (this.record.session === this) this.record.paused = false;
      this.call.resume();
    }
  }

  /** Moves the durable watermark over every leading completed batch and acknowledges it. */
  private advance(): void {
    let upTo: bigint | undefined;
    while (this.queue.length > 0 && this.queue[0]!.done) upTo = this.queue.shift()!.id;
    if (upTo !== undefined) {
      if (upTo > this.record.durableThrough) this.record.durableThrough = upTo;
      this.ackDue = upTo;
      this.flush();
    }
    this.maybeSettled();
  }

  // --- sending -----------------------------------------------------------------------------

  /** Writes what is due, latest task list first, honouring write() returning false. */
  private flush(): void {
    while (!this.awaitingDrain && this.hello !== undefined && !this.call.destroyed && !this.failed) {
      let msg: MediatorMessage;
      if (this.tasksDue) {
        this.tasksDue = false;
        try {
          msg = { body: { $case: 'tasks', tasks: this.deps.handler.tasksFor(this.probe) } };
        } catch (e) {
          this.fail(e);
          return;
        }
      } else if (this.ackDue !== undefined) {
        msg = { body: { $case: 'ack', ack: { batchId: this.ackDue } } };
        this.record.lastAcked = this.ackDue;
        this.ackDue = undefined;
      } else {
        return;
      }
      if (!this.call.write(msg)) {
        this.awaitingDrain = true;
        this.call.once('drain', () => {
          this.awaitingDrain = false;
          this.flush();
        });
      }
    }
  }

  // --- the end -----------------------------------------------------------------------------

  private ended = false;
  private drainWaiters: (() => void)[] = [];

  private drained(): Promise<void> {
    if (this.accepting === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  /** The stream is gone (or going): stop, and tell the server once. */
  private over(): void {
    if (this.state !== 'over') this.state = 'over';
    if (!this.ended) {
      this.ended = true;
      this.deps.onEnd(this, this.endError);
    }
    this.maybeSettled();
  }

  private maybeSettled(): void {
    if (this.accepting !== 0) return;
    for (const w of this.drainWaiters.splice(0)) w();
    if (this.ended) this.resolveSettled();
  }

  private error(code: 'LIG_ERR_INGEST_MALFORMED' | 'LIG_ERR_INGEST_BATCH_ORDER' | 'LIG_ERR_INGEST_BATCH_REPLAY', message: string): IngestError {
    return new IngestError(code, message, { probe: this.probe });
  }
}
