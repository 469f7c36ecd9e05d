/**
 * The probe's link to the mediator: one gRPC stream (IngestService.Stream) over mutually
 * authenticated TLS, kept up for as long as the probe runs.
 *
 * Captured events go through submit() into the Batcher, which stores numbered batches in the
 * Spool (a Journal). The link sends Hello, then the spooled batches in order, at most `window`
 * unacknowledged at a time; an Ack confirms the spool up to its id. When the stream fails the
 * link reconnects with capped, jittered backoff (delivery/backoff.ts) and sends again every
 * batch after the last Ack, so the mediator may see a batch twice, never miss one. Task lists
 * from the mediator are emitted as they come.
 *
 * The mediator is verified like any lig peer: its chain to lig's CA, the name it is dialled
 * by (or tls.servername), and the role in its certificate, which must be `mediator`.
 *
 * Events: 'tasks' (TaskList), 'connected', 'disconnected' (ProbeError), 'acked' (id: bigint),
 * 'stored' (id: bigint), 'dropped' (reason, count). No 'error' event: see stats().lastError.
 */
import { EventEmitter } from 'node:events';
import { Client, credentials, status as Status, type ChannelCredentials, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { ConfigError, ProbeError, isLigError } from '../errors';
import { IngestServiceService, MediatorMessage, ProbeMessage, type Event, type TaskList } from '../gen/lig/v1/ingest';
import { checkMediatorIdentity, loadTlsMaterial, type TlsMaterial, type TlsMaterialPaths } from '../pki';
import type { Endpoint } from '../config';
import { DEFAULT_BATCH_WINDOW } from '../config/probe';
import { Backoff } from '../delivery/backoff';
import { systemClock, type Clock, type TimerHandle } from '../delivery/clock';
import { Batcher, type BatcherOptions, type DropReason } from './batcher';
import { Spool, probeMessageOfBatch, type SpoolOptions } from './spool';

export { DEFAULT_BATCH_WINDOW };
/** HTTP/2 keep-alive pings, so a dead path to the mediator is noticed without traffic. */
export const CLIENT_KEEPALIVE_MS = 20_000;
export const CLIENT_KEEPALIVE_TIMEOUT_MS = 10_000;
/** Trailing metadata key the mediator sends its lig error code in (mediation/status.ts). */
const LIG_ERROR_CODE_KEY = 'lig-error-code';
const STREAM_PATH = IngestServiceService.stream.path;

export type ProbeLogLevel = 'error' | 'warn' | 'info' | 'debug';
/** Where the client reports; messages never carry event contents, targets or key material. */
export type ProbeLog = (level: ProbeLogLevel, message: string) => void;

const stderrLog: ProbeLog = (level, message) => {
  if (level === 'error' || level === 'warn') process.stderr.write(`lig probe: ${level}: ${message}\n`);
};

export interface ProbeClientOptions {
  mediator: { address: Endpoint; tls: (TlsMaterialPaths | TlsMaterial) & { servername?: string } };
  spool: SpoolOptions;
  batch?: BatcherOptions & { window?: number };
  /** What the probe captures from ("pcap", "if", "tzsp", "ccc"), told to the mediator in Hello. */
  sourceKind: string;
  softwareVersion?: string;
  log?: ProbeLog;
  clock?: Clock;
  backoff?: { initialMs?: number; maxMs?: number; random?: () => number };
}

export interface ProbeStats {
  /** Captured events lost (every reason). Non-zero means the interception is incomplete. */
  eventsDropped: number;
  dropped: Record<DropReason, number>;
  eventsSubmitted: number;
  eventsSpooled: number;
  connected: boolean;
  /** When the current stream came up, or the last one ended. */
  since: Date | undefined;
  reconnects: number;
  lastError: { code: string; message: string } | undefined;
  /** Next batch id; last id stored, sent and acknowledged. */
  nextBatchId: bigint;
  lastStored: bigint;
  lastSent: bigint;
  lastAcked: bigint;
  unackedBatches: bigint;
  spoolBytes: number;
  spoolMaxBytes: number;
}

interface Link {
  client: Client;
  call: ClientDuplexStream<Buffer, Buffer>;
  /** The next batch id to send on this stream. */
  next: bigint;
  up: boolean;
  blocked: boolean;
  over: boolean;
}

export class ProbeClient extends EventEmitter {
  readonly window: number;
  private readonly batcher: Batcher;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly log: ProbeLog;
  private readonly creds: ChannelCredentials;
  private readonly target: string;
  private readonly channelOptions: Record<string, string | number>;
  private link: Link | undefined;
  private timer: TimerHandle | undefined;
  private acked: bigint;
  private lastSent: bigint;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;
  private latestTasks: TaskList | undefined;
  private since: Date | undefined;
  private reconnects = 0;
  private lastError: ProbeStats['lastError'];
  private loss: { reason: DropReason; count: number } | undefined;
  /** Attempts are failing since the last stream that came up (later failures log at debug). */
  private failing = false;
  private drainWaiters: { upTo: bigint; resolve: () => void; reject: (e: unknown) => void }[] = [];

  private constructor(
    private readonly spool: Spool,
    private readonly opts: ProbeClientOptions,
    tls: TlsMaterial,
  ) {
    super();
    this.window = opts.batch?.window ?? DEFAULT_BATCH_WINDOW;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? stderrLog;
    this.backoff = new Backoff(opts.backoff);
    this.batcher = new Batcher(spool, { onStored: (id) => this.onStored(id), onDrop: (r, n, e) => this.onDrop(r, n, e) }, { ...opts.batch, clock: this.clock });
    this.acked = this.lastSent = spool.acked;
    const servername = opts.mediator.tls.servername;
    this.creds = credentials.createSsl(tls.ca, tls.key, tls.cert, { checkServerIdentity: checkMediatorIdentity });
    const { host, port } = opts.mediator.address;
    this.target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.channelOptions = {
      'grpc.keepalive_time_ms': CLIENT_KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': CLIENT_KEEPALIVE_TIMEOUT_MS,
      // The spool is the retry buffer, and the backoff here the only reconnect schedule.
      'grpc.enable_retries': 0,
      'grpc.use_local_subchannel_pool': 1,
      ...(servername ? { 'grpc.ssl_target_name_override': servername, 'grpc.default_authority': servername } : {}),
    };
  }

  /** Checks the TLS material, opens the spool and starts connecting. */
  static async open(opts: ProbeClientOptions): Promise<ProbeClient> {
    const window = opts.batch?.window ?? DEFAULT_BATCH_WINDOW;
    if (!Number.isSafeInteger(window) || window < 1 || window > 1024) throw new ConfigError('batch.window', `must be an integer between 1 and 1024, got ${window}`);
    const tls = 'leaf' in opts.mediator.tls ? opts.mediator.tls : loadTlsMaterial(opts.mediator.tls);
    const spool = await Spool.open(opts.spool);
    try {
      const client = new ProbeClient(spool, opts, tls);
      client.connect();
      return client;
    } catch (e) {
      await spool.close();
      throw e;
    }
  }

  /** Hands a captured event over; false when it was dropped (and counted). Never waits. */
  submit(event: Event): boolean {
    const ok = this.batcher.submit(event);
    if (ok && this.loss) this.endLoss();
    return ok;
  }

  /** Seals the open batch now instead of after batch.maxDelay. */
  flush(): void {
    this.batcher.flush();
  }

  /** The latest task list received, if any. */
  get tasks(): TaskList | undefined {
    return this.latestTasks;
  }

  /** Resolves once everything submitted so far is acknowledged by the mediator. */
  async drained(): Promise<void> {
    this.batcher.flush();
    await this.batcher.idle();
    const upTo = this.spool.stored;
    if (this.acked >= upTo) return;
    if (this.closed) throw new ProbeError('LIG_ERR_PROBE_CLOSED', 'the probe client is closed');
    await new Promise<void>((resolve, reject) => this.drainWaiters.push({ upTo, resolve, reject }));
  }

  stats(): ProbeStats {
    const c = this.batcher.counters;
    const s = this.spool.stats;
    return {
      eventsDropped: Object.values(c.dropped).reduce((a, b) => a + b, 0),
      dropped: { ...c.dropped },
      eventsSubmitted: c.submitted,
      eventsSpooled: c.spooled,
      connected: this.link?.up ?? false,
      since: this.since,
      reconnects: this.reconnects,
      lastError: this.lastError && { ...this.lastError },
      nextBatchId: this.spool.nextId,
      lastStored: this.spool.stored,
      lastSent: this.lastSent,
      lastAcked: this.acked,
      unackedBatches: this.spool.stored - this.acked,
      spoolBytes: s.diskBytes,
      spoolMaxBytes: s.maxBytes,
    };
  }

  /** Stores the open batch, ends the stream and closes the spool; unacknowledged batches stay in it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.batcher.close();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.link) this.endLink(this.link, new ProbeError('LIG_ERR_PROBE_CLOSED', 'the probe client was closed'));
    const closed = new ProbeError('LIG_ERR_PROBE_CLOSED', 'the probe client was closed before everything was acknowledged');
    for (const w of this.drainWaiters.splice(0)) w.reject(closed);
    await this.spool.close();
  }

  // --- the stream --------------------------------------------------------------------------

  private connect(): void {
    this.timer = undefined;
    if (this.closed) return;
    const client = new Client(this.target, this.creds, this.channelOptions);
    const call = client.makeBidiStreamRequest(STREAM_PATH, (b: Buffer) => b, (b: Buffer) => b);
    const link: Link = { client, call, next: this.acked + 1n, up: false, blocked: false, over: false };
    this.link = link;
    call.on('data', (bytes: Buffer) => this.onMessage(link, bytes));
    call.on('error', (e: Error & Partial<StatusObject>) => this.endLink(link, streamError(e)));
    call.on('status', (s: StatusObject) => {
      if (s.code === Status.OK) this.endLink(link, new ProbeError('LIG_ERR_PROBE_STREAM', 'the mediator ended the stream', { grpcCode: s.code }));
    });
    const first = this.spool.stored > this.acked ? this.acked + 1n : 0n;
    const hello = ProbeMessage.encode({
      body: { $case: 'hello', hello: { softwareVersion: this.opts.softwareVersion ?? '', sourceKind: this.opts.sourceKind, firstUnackedBatch: first, spoolId: this.spool.id } },
    }).finish();
    call.write(Buffer.from(hello));
    void this.pump();
  }

  private onMessage(link: Link, bytes: Buffer): void {
    if (link.over) return;
    let msg: MediatorMessage;
    try {
      msg = MediatorMessage.decode(bytes);
    } catch {
      return this.endLink(link, new ProbeError('LIG_ERR_PROBE_PROTOCOL', `the mediator sent ${bytes.length} bytes that are not a MediatorMessage`));
    }
    if (!link.up) {
      link.up = true;
      this.failing = false;
      this.since = new Date();
      this.backoff.reset();
      this.log('info', `connected to the mediator at ${this.target}`);
      this.emit('connected');
    }
    const body = msg.body;
    if (body?.$case === 'tasks') {
      this.latestTasks = body.tasks;
      this.emit('tasks', body.tasks);
    } else if (body?.$case === 'ack') {
      const id = body.ack.batchId;
      if (id >= link.next) {
        return this.endLink(link, new ProbeError('LIG_ERR_PROBE_PROTOCOL', `the mediator acknowledged batch ${id}, which was not sent (last sent: ${link.next - 1n})`));
      }
      if (id > this.acked) this.onAck(id);
    }
  }

  private onAck(id: bigint): void {
    this.acked = id;
    this.spool.ack(id).catch((e: unknown) => this.log('error', `cannot release acknowledged batches from the spool: ${describe(e)}`));
    for (const w of this.drainWaiters) if (w.upTo <= id) w.resolve();
    this.drainWaiters = this.drainWaiters.filter((w) => w.upTo > id);
    this.emit('acked', id);
    void this.pump();
  }

  private endLink(link: Link, error: ProbeError): void {
    if (link.over) return;
    link.over = true;
    link.call.cancel();
    link.client.close();
    if (this.link !== link) return;
    this.link = undefined;
    if (link.up) this.since = new Date();
    if (this.closed) return;
    this.lastError = { code: error.remoteCode ?? error.code, message: error.message };
    const level = link.up || !this.failing ? 'warn' : 'debug';
    this.failing = !link.up;
    this.log(level, `${link.up ? 'stream to' : 'cannot connect to'} the mediator at ${this.target}: ${error.message}; retrying`);
    this.emit('disconnected', error);
    this.reconnects++;
    this.timer = this.clock.setTimeout(() => this.connect(), this.backoff.next());
  }

  /** Sends stored batches after the last one sent on the current link, within the window. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const link = this.link;
        while (link && link === this.link && !link.over && !link.blocked) {
          const room = BigInt(this.window) - (link.next - 1n - this.acked);
          const available = this.spool.stored - link.next + 1n;
          const n = room < available ? room : available;
          if (n <= 0n) break;
          const batches = await this.spool.read(link.next, Number(n));
          if (link !== this.link || link.over) break;
          for (const b of batches) {
            const more = link.call.write(probeMessageOfBatch(b.bytes));
            link.next = b.id + 1n;
            if (b.id > this.lastSent) this.lastSent = b.id;
            if (!more) {
              link.blocked = true;
              link.call.once('drain', () => {
                link.blocked = false;
                void this.pump();
              });
              break;
            }
          }
        }
      } while (this.pumpAgain);
    } catch (e) {
      if (this.closed) return;
      const err = isLigError(e) ? e : new ProbeError('LIG_ERR_PROBE_SPOOL', `reading the spool failed: ${describe(e)}`, { cause: e });
      this.log('error', `cannot send spooled batches: ${err.message}`);
      if (this.link) this.endLink(this.link, new ProbeError('LIG_ERR_PROBE_SPOOL', err.message, { cause: err }));
    } finally {
      this.pumping = false;
    }
  }

  // --- the batcher -------------------------------------------------------------------------

  private onStored(id: bigint): void {
    this.emit('stored', id);
    void this.pump();
  }

  private onDrop(reason: DropReason, count: number, error: unknown): void {
    if (this.loss && this.loss.reason !== reason) this.endLoss();
    if (!this.loss) {
      this.loss = { reason, count: 0 };
      const s = this.spool.stats;
      const why = error === undefined ? '' : `: ${describe(error)}`;
      this.log(reason === 'spoolFailed' ? 'error' : 'warn', `captured events are being lost (${reason}${why}); spool ${s.diskBytes} of ${s.maxBytes} bytes, ${s.unackedBatches} batches unacknowledged`);
    }
    this.loss.count += count;
    this.emit('dropped', reason, count);
  }

  private endLoss(): void {
    const l = this.loss!;
    this.loss = undefined;
    this.log('warn', `${l.count} captured event(s) were lost (${l.reason}); ${this.stats().eventsDropped} lost since start`);
  }
}

function streamError(e: Error & Partial<StatusObject>): ProbeError {
  const remote = e.metadata?.get(LIG_ERROR_CODE_KEY)[0];
  const code = typeof e.code === 'number' ? e.code : undefined;
  const name = code === undefined ? 'error' : Status[code] ?? String(code);
  return new ProbeError('LIG_ERR_PROBE_STREAM', `${name}: ${e.details ?? e.message}`, {
    grpcCode: code,
    remoteCode: typeof remote === 'string' ? remote : undefined,
  });
}

function describe(e: unknown): string {
  return isLigError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e);
}
