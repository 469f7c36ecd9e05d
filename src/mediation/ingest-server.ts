/**
 * The mediator's gRPC ingest server (IngestService): probes connect over mutually
 * authenticated TLS only; a probe is whoever its certificate (issued by lig's CA, OU role
 * "probe") says it is, never what it sends. Each stream is an IngestSession; a probe has at
 * most one, and a new stream from it replaces (cancels) the old one. What the probes send is
 * handed to an IngestHandler (the mediator core); every refusal is a typed error, turned into
 * a gRPC status in status.ts only.
 *
 * Events: 'stream' (probe: string) when a probe's stream is admitted, 'streamEnd' (probe,
 * error | undefined) when it is over, 'refused' (error, identity | undefined) when a client
 * is turned away after the handshake (no lig identity, not a probe). Clients without a certificate from lig's CA
 * never get that far: the TLS handshake refuses them.
 */
import { EventEmitter } from 'node:events';
import { Server, type ServiceDefinition } from '@grpc/grpc-js';
import { IngestError, isLigError } from '../errors';
import { IngestServiceService } from '../gen/lig/v1/ingest';
import type { Identity, TlsMaterial, TlsMaterialPaths } from '../pki';
import type { Endpoint } from '../config';
import type { IngestHandler } from './ingest-handler';
import { resolveIngestLimits, type IngestLimits } from './ingest-limits';
import { IngestSession, type IngestCall, type ProbeRecord } from './ingest-session';
import { callerOf, listenMtls, serverTls } from './mtls-server';
import { toStatus } from './status';

/** How long close() lets streams deliver their final status before cutting connections. */
export const CLOSE_GRACE_MS = 5_000;
/** HTTP/2 keep-alive pings to probes, so a vanished probe is noticed. */
export const SERVER_KEEPALIVE_MS = 30_000;
export const SERVER_KEEPALIVE_TIMEOUT_MS = 10_000;

export type IngestLogLevel = 'error' | 'warn' | 'info' | 'debug';
/** Where the server reports what happens; messages name probes, never targets or LIIDs. */
export type IngestLog = (level: IngestLogLevel, message: string) => void;

const stderrLog: IngestLog = (level, message) => {
  if (level === 'error' || level === 'warn') process.stderr.write(`lig mediator: ${level}: ${message}\n`);
};

export interface IngestServerOptions {
  /** Where to listen; port 0 picks a free port (see `port`). */
  listen: Endpoint;
  /** The mediator's CA, certificate and key (paths, checked by loadTlsMaterial, or already loaded). */
  tls: TlsMaterialPaths | TlsMaterial;
  handler: IngestHandler;
  limits?: Partial<IngestLimits>;
  log?: IngestLog;
}

/** What `lig probe list` shows of a probe. No key material, no targets. */
export type ProbeState = Omit<ProbeRecord, 'session'> & {
  /** Messages received on its stream and not read yet (held back while paused). */
  queued: number;
};

/** The service as registered: requests stay bytes so that decoding failures become typed errors here. */
const SERVICE: ServiceDefinition = {
  stream: {
    ...IngestServiceService.stream,
    requestDeserialize: (bytes: Buffer): Buffer => bytes,
  },
};

export class IngestServer extends EventEmitter {
  readonly limits: IngestLimits;
  private readonly records = new Map<string, ProbeRecord>();
  private readonly unsubscribe: () => void;
  private readonly log: IngestLog;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly handler: IngestHandler,
    limits: IngestLimits,
    readonly host: string,
    readonly port: number,
    log: IngestLog,
  ) {
    super();
    this.limits = limits;
    this.log = log;
    this.unsubscribe = handler.onTasksChanged((probe) => this.records.get(probe)?.session?.pushTasks());
  }

  /** Loads the TLS material, binds and starts serving. */
  static async listen(opts: IngestServerOptions): Promise<IngestServer> {
    const limits = resolveIngestLimits(opts.limits);
    const tls = serverTls(opts.tls);
    const server = new Server({
      'grpc.max_receive_message_length': limits.maxMessageBytes,
      'grpc.keepalive_time_ms': SERVER_KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': SERVER_KEEPALIVE_TIMEOUT_MS,
    });
    let self: IngestServer | undefined;
    server.addService(SERVICE, { stream: (call: IngestCall) => self!.onStream(call) });
    const port = await listenMtls(server, opts.listen, tls, (message, cause) => new IngestError('LIG_ERR_INGEST_LISTEN', message, { cause }));
    self = new IngestServer(server, opts.handler, limits, opts.listen.host, port, opts.log ?? stderrLog);
    return self;
  }

  /** Every probe seen since the server started, connected or not. */
  probes(): ProbeState[] {
    return [...this.records.values()].map(snapshot);
  }

  probe(name: string): ProbeState | undefined {
    const r = this.records.get(name);
    return r && snapshot(r);
  }

  /**
   * Stops: ends every stream with UNAVAILABLE and shuts the server down (cutting connections
   * after CLOSE_GRACE_MS, or at once with `force`). Accepts in flight are not waited for.
   */
  close(opts: { force?: boolean } = {}): Promise<void> {
    if (!this.closing) {
      this.unsubscribe();
      const gone = new IngestError('LIG_ERR_INGEST_UNAVAILABLE', 'the mediator is shutting down');
      if (opts.force) {
        this.server.forceShutdown();
        this.closing = Promise.resolve();
      } else {
        for (const r of this.records.values()) r.session?.fail(gone);
        this.closing = new Promise((resolve) => {
          const timer = setTimeout(() => this.server.forceShutdown(), CLOSE_GRACE_MS);
          this.server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    return this.closing;
  }

  // --- streams -----------------------------------------------------------------------------

  private onStream(call: IngestCall): void {
    if (this.closing) return this.refuse(call, new IngestError('LIG_ERR_INGEST_UNAVAILABLE', 'the mediator is shutting down'));
    let name: string;
    let id: Identity | undefined;
    try {
      id = callerOf(call);
      if (id.role !== 'probe') throw new IngestError('LIG_ERR_INGEST_NOT_PROBE', `a ${id.role} certificate (CN ${id.name}) cannot open a probe stream`);
      name = id.name;
    } catch (e) {
      return this.refuse(call, e, id);
    }
    const record = this.records.get(name) ?? this.newRecord(name);
    const previous = record.session;
    const session = new IngestSession(call, record, {
      handler: this.handler,
      limits: this.limits,
      fail: failCall,
      log: this.log,
      onEnd: (s, err) => this.onEnd(s, err),
    });
    record.session = session;
    record.accepting = 0;
    record.paused = false;
    record.connected = true;
    record.since = new Date();
    record.streams++;
    record.peer = call.getPeer();
    if (previous) previous.fail(new IngestError('LIG_ERR_INGEST_REPLACED', `probe ${name} opened a new stream; this one is replaced`, { probe: name }));
    this.log('info', `probe ${name} connected from ${record.peer}`);
    this.emit('stream', name);
    session.start(previous ? previous.settled : Promise.resolve());
  }

  private onEnd(session: IngestSession, error: unknown): void {
    const record = session.record;
    if (record.session === session) {
      record.session = undefined;
      record.connected = false;
      record.since = new Date();
    }
    if (error !== undefined) {
      record.lastError = isLigError(error) ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: 'internal error' };
      const level = isLigError(error) && (error.code === 'LIG_ERR_INGEST_REPLACED' || error.code === 'LIG_ERR_INGEST_UNAVAILABLE') ? 'info' : 'warn';
      this.log(level, `probe ${record.name}: stream ended: ${record.lastError.message} [${record.lastError.code}]`);
    } else {
      this.log('info', `probe ${record.name} disconnected`);
    }
    this.emit('streamEnd', record.name, error);
  }

  private refuse(call: IngestCall, error: unknown, who?: Identity): void {
    const why = isLigError(error) ? `${error.message} [${error.code}]` : 'internal error';
    this.log('warn', `refused a stream from ${call.getPeer()}: ${why}`);
    failCall(call, error);
    this.emit('refused', error, who);
  }

  private newRecord(name: string): ProbeRecord {
    const r: ProbeRecord = {
      name,
      connected: false,
      since: undefined,
      batchesAccepted: 0,
      lastBatchAt: undefined,
      duplicatesSkipped: 0,
      lastAcked: 0n,
      durableThrough: 0n,
      spool: undefined,
      accepting: 0,
      paused: false,
      softwareVersion: '',
      sourceKind: '',
      peer: '',
      streams: 0,
      lastError: undefined,
      session: undefined,
    };
    this.records.set(name, r);
    return r;
  }
}

/** Ends `call` with the status for `error` (grpc-js sends an 'error' object as the status). */
function failCall(call: IngestCall, error: unknown): void {
  if (call.destroyed) return;
  const s = toStatus(error);
  call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
}

function snapshot(r: ProbeRecord): ProbeState {
  const { session, ...rest } = r;
  return { ...rest, lastError: rest.lastError && { ...rest.lastError }, queued: session?.queued ?? 0 };
}
