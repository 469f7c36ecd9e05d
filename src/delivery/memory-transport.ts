/**
 * In-memory transport: a pair of connected ends that behave like a socket where it matters
 * to delivery logic (ordered bytes, asynchronous delivery, backpressure with 'drain', close
 * seen by both ends), so links are unit-tested without sockets. Not for production use: it
 * carries no authentication; the mediator only ever builds TLS transports.
 */
import { EventEmitter } from 'node:events';
import { DeliveryError } from '../errors';
import { Connection, MAX_IN_FLIGHT_BYTES, Transport } from './transport';

export interface MemoryConnectionOptions {
  /** Bytes written and not yet received by the other end at which write() returns false. */
  highWaterMark?: number;
  remote?: string;
}

/** One end of an in-memory pair (see memoryPair). */
export class MemoryConnection extends EventEmitter implements Connection {
  readonly remote: string;
  readonly highWaterMark: number;
  /** Written bytes, counted as they are written (for tests). */
  bytesWritten = 0;
  writes = 0;
  private peer!: MemoryConnection;
  /** Chunks written by the peer and not yet handed to this end's 'data' listeners. */
  private inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  private paused = false;
  private scheduled = false;
  private needDrain = false;
  private destroyed = false;
  private closeEmitted = false;

  constructor(opts: MemoryConnectionOptions = {}) {
    super();
    this.highWaterMark = opts.highWaterMark ?? MAX_IN_FLIGHT_BYTES;
    this.remote = opts.remote ?? 'memory';
  }

  /** @internal Pairs two ends; use memoryPair(). */
  static link(a: MemoryConnection, b: MemoryConnection): void {
    a.peer = b;
    b.peer = a;
  }

  get closed(): boolean {
    return this.destroyed;
  }

  /** Bytes this end wrote that the other end has not yet received. */
  get buffered(): number {
    return this.peer.inboxBytes;
  }

  write(bytes: Uint8Array): boolean {
    if (this.destroyed || this.peer.destroyed) return false;
    this.writes++;
    this.bytesWritten += bytes.length;
    this.peer.inbox.push(Uint8Array.from(bytes));
    this.peer.inboxBytes += bytes.length;
    this.peer.schedule();
    const ok = this.peer.inboxBytes < this.highWaterMark;
    if (!ok) {
      this.needDrain = true;
      this.emit('full');
    }
    return ok;
  }

  /** Stops receiving: what the peer writes stays buffered (its write() returns false when full). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  destroy(err?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.inbox = [];
    this.inboxBytes = 0;
    setImmediate(() => {
      if (err) this.emit('error', err);
      this.emitClose();
    });
    // The other end still receives what was already sent to it (unless paused), then sees the close.
    this.peer.schedule(true);
  }

  private schedule(peerGone = false): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
      if (peerGone || this.peer.destroyed) this.closeFromPeer();
    });
  }

  private flush(): void {
    if (this.destroyed || this.paused || this.inbox.length === 0) return;
    const chunks = this.inbox;
    this.inbox = [];
    this.inboxBytes = 0;
    for (const c of chunks) {
      if (this.destroyed) return;
      this.emit('data', c);
    }
    if (this.peer.needDrain && !this.peer.destroyed) {
      this.peer.needDrain = false;
      this.peer.emit('drain');
    }
  }

  private closeFromPeer(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.inbox = [];
    this.inboxBytes = 0;
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  }
}

/** Two connected ends: what one writes, the other receives. */
export function memoryPair(opts: { a?: MemoryConnectionOptions; b?: MemoryConnectionOptions } = {}): [MemoryConnection, MemoryConnection] {
  const a = new MemoryConnection(opts.a);
  const b = new MemoryConnection(opts.b);
  MemoryConnection.link(a, b);
  return [a, b];
}

/**
 * A transport whose connect() makes a pair and hands the far end to the test (through
 * accept(), or the 'connection' event with (far, near) as it is made); while `refusing` is
 * set, connect() fails with CONNECT.
 */
export class MemoryTransport extends EventEmitter implements Transport {
  readonly remote: string;
  refusing = false;
  /** Options for the near end (the one the link writes to). */
  clientOptions: MemoryConnectionOptions;
  connects = 0;
  private accepted: MemoryConnection[] = [];
  private waiting: ((c: MemoryConnection) => void)[] = [];

  constructor(opts: { remote?: string; highWaterMark?: number } = {}) {
    super();
    this.remote = opts.remote ?? 'memory';
    this.clientOptions = { remote: this.remote, highWaterMark: opts.highWaterMark };
  }

  async connect(signal?: AbortSignal): Promise<Connection> {
    signal?.throwIfAborted();
    this.connects++;
    if (this.refusing) throw new DeliveryError('LIG_ERR_DELIVERY_CONNECT', `${this.remote}: connection refused (in-memory transport)`, { peerCode: 'ECONNREFUSED' });
    const [near, far] = memoryPair({ a: this.clientOptions, b: { remote: 'mediator' } });
    const w = this.waiting.shift();
    if (w) w(far);
    else this.accepted.push(far);
    this.emit('connection', far, near);
    return near;
  }

  /** The far end of the next connection made (already made, or the next one). */
  accept(): Promise<MemoryConnection> {
    const c = this.accepted.shift();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
