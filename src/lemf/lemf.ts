/**
 * The reference LEMF: the agency's end of HI2 (IRI) and HI3 (CC). Two TLS servers that admit
 * only clients with a certificate from the agency's trusted CA; every connection's PS-PDUs are
 * stored as received, decoded, checked and answered (see receive.ts).
 *
 * Order is what makes an answer mean something: the mediator takes a keep-alive response (or
 * a PDU acknowledgement) as confirmation of everything it sent before, and then forgets it.
 * So all received data is processed in one queue, in arrival order, in batches; after a
 * batch that calls for answers the output files are synced and state.json saved, and only
 * then do the answers go out (a group commit: one fsync round serves every answer of the batch).
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PDU_BYTES, ReadLimits } from '../ber/constants';
import { BerError, LemfError, LigError } from '../errors';
import { nowStamp } from '../etsi/build';
import { identityOf, loadTlsMaterial, type TlsMaterial } from '../pki';
import { ListenAddress, formatAddress, parseListenAddress } from './address';
import { ConnectionFramer } from './framing';
import { PduOutcome, Receiver } from './receive';
import { SequenceTracker } from './sequence';
import { LemfState, STATE_VERSION, emptyCounters, loadState, saveState, writeFileAtomic } from './state';
import { Hi, OUTPUT_DIR_MODE, OutputStore } from './store';
import { Summary, summarize } from './summary';

/** Bytes received on one connection and not yet processed before reading from it pauses. */
export const MAX_QUEUED_BYTES_PER_CONNECTION = 4 * 1024 * 1024;
export const SUMMARY_FILE = 'summary.json';

export interface LemfOptions {
  /** `ADDR:PORT` (port 0: any free port) or { host, port }. */
  hi2: string | ListenAddress;
  hi3: string | ListenAddress;
  /** Output directory (created when absent). */
  out: string;
  /** PEM files: the CA that issues the mediators' client certificates, and the LEMF's own certificate and key. */
  ca: string;
  cert: string;
  key: string;
  /** Answer pDUAcknowledgementRequest and accept the option (default true). */
  ackPdus?: boolean;
  /** Largest PDU accepted (default DEFAULT_MAX_PDU_BYTES); a larger one breaks the connection's framing. */
  maxPduBytes?: number;
  /** Info-level log lines. They name interfaces, connections and peers, never LIIDs or key material. */
  log?: (line: string) => void;
}

export interface ConnectionEvent {
  hi: Hi;
  conn: number;
  remote: string;
  /** The client certificate's CN (and lig role when it has one). */
  peer: string;
}

export interface RefusalEvent {
  hi: Hi;
  remote: string;
  reason: string;
}

export interface LemfStats extends Summary {
  openConnections: number;
}

interface Conn {
  id: number;
  hi: Hi;
  socket: tls.TLSSocket;
  framer: ConnectionFramer;
  queued: number;
  writeBlocked: boolean;
}

type Work = { conn: Conn; chunk: Buffer } | { conn: Conn; end: true };

interface Batch {
  outcomes: Array<{ conn: Conn; outcome: PduOutcome }>;
  breaking: Conn[];
}

export class Lemf extends EventEmitter {
  private readonly servers = new Map<Hi, tls.Server>();
  private readonly sockets = new Set<Socket>();
  /** Remote address of each raw socket, read on accept: a refused socket may be gone when the refusal is reported. */
  private readonly remotes = new WeakMap<Socket, string>();
  private readonly conns = new Set<Conn>();
  private readonly queue: Work[] = [];
  private pumping: Promise<void> | undefined;
  private closing: Promise<Summary> | undefined;
  private failure: LigError | undefined;
  private readonly bound: Record<Hi, ListenAddress> = { hi2: { host: '', port: 0 }, hi3: { host: '', port: 0 } };
  private readonly receiver: Receiver;
  private readonly limits: ReadLimits;

  private constructor(
    private readonly opts: LemfOptions,
    private readonly tlsMaterial: TlsMaterial,
    private readonly store: OutputStore,
    private readonly state: LemfState,
    private readonly tracker: SequenceTracker,
  ) {
    super();
    this.limits = { maxDepth: DEFAULT_MAX_DEPTH, maxPduBytes: opts.maxPduBytes ?? DEFAULT_MAX_PDU_BYTES };
    this.receiver = new Receiver(store, tracker, state.counters, { ackPdus: opts.ackPdus ?? true, limits: this.limits, now: nowStamp });
  }

  /** Checks the TLS files, opens (or continues) the output directory, and listens on HI2 and HI3. */
  static async start(opts: LemfOptions): Promise<Lemf> {
    const hi2 = typeof opts.hi2 === 'string' ? parseListenAddress(opts.hi2, '--hi2') : opts.hi2;
    const hi3 = typeof opts.hi3 === 'string' ? parseListenAddress(opts.hi3, '--hi3') : opts.hi3;
    const material = loadTlsMaterial({ ca: opts.ca, cert: opts.cert, key: opts.key });
    try {
      fs.mkdirSync(opts.out, { recursive: true, mode: OUTPUT_DIR_MODE });
    } catch (e) {
      throw new LemfError('LIG_ERR_LEMF_OUTPUT', `cannot create it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { path: opts.out });
    }
    const saved = loadState(opts.out);
    const store = await OutputStore.open(opts.out, saved?.committed);
    const state: LemfState = saved ?? { version: STATE_VERSION, sequences: {}, counters: emptyCounters(), committed: {} };
    const lemf = new Lemf(opts, material, store, state, new SequenceTracker(state.sequences));
    try {
      await lemf.commit();
      await lemf.listen('hi2', hi2);
      await lemf.listen('hi3', hi3);
    } catch (e) {
      await lemf.shutdown();
      await store.close().catch(() => undefined);
      throw e;
    }
    return lemf;
  }

  /** The addresses HI2 and HI3 listen on (the real ports when 0 was asked for). */
  get addresses(): Readonly<Record<Hi, ListenAddress>> {
    return { hi2: { ...this.bound.hi2 }, hi3: { ...this.bound.hi3 } };
  }

  summary(): Summary {
    return summarize(this.state.counters, this.tracker.missing());
  }

  stats(): LemfStats {
    return { ...this.summary(), openConnections: this.conns.size };
  }

  /**
   * Stops listening, closes every connection, processes what was received, syncs the files,
   * saves state.json and writes summary.json. Rejects with the I/O failure if one stopped the
   * LEMF before.
   */
  close(): Promise<Summary> {
    this.closing ??= (async () => {
      await this.shutdown();
      if (this.failure) {
        await this.store.close().catch(() => undefined);
        throw this.failure;
      }
      await this.commit();
      const summary = this.summary();
      await writeFileAtomic(this.opts.out, SUMMARY_FILE, JSON.stringify(summary, null, 2) + '\n');
      await this.store.close();
      return summary;
    })();
    return this.closing;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private listen(hi: Hi, at: ListenAddress): Promise<void> {
    const m = this.tlsMaterial;
    const server = tls.createServer({ ca: m.ca, cert: m.cert, key: m.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    this.servers.set(hi, server);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      this.remotes.set(s, remoteOf(s));
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: tls.TLSSocket) => this.accept(hi, s));
    server.on('tlsClientError', (err: NodeJS.ErrnoException, s: tls.TLSSocket) => {
      const reason = String(s.authorizationError ?? err.code ?? err.message);
      // node:tls keeps the raw socket as _parent (not public API; the TLS socket's own address is the fallback)
      const raw = (s as unknown as { _parent?: Socket })._parent;
      const remote = (raw && this.remotes.get(raw)) ?? remoteOf(s);
      this.state.counters.refusals++;
      this.log(`${hi}: refused a connection from ${remote}: ${reason}`);
      this.emit('refused', { hi, remote, reason } satisfies RefusalEvent);
    });
    return new Promise((resolve, reject) => {
      let listening = false;
      server.on('error', (e: NodeJS.ErrnoException) => {
        // after start-up (e.g. EMFILE on accept): logged, the server goes on
        if (listening) this.log(`${hi}: ${e.code ?? e.message}`);
        else reject(new LemfError('LIG_ERR_LEMF_LISTEN', `${hi} cannot listen on ${formatAddress(at)}: ${e.code ?? e.message}`, { cause: e }));
      });
      server.listen(at.port, at.host, () => {
        listening = true;
        const a = server.address() as AddressInfo;
        this.bound[hi] = { host: a.address, port: a.port };
        resolve();
      });
    });
  }

  private accept(hi: Hi, socket: tls.TLSSocket): void {
    if (this.closing || this.failure) {
      socket.destroy();
      return;
    }
    const conn: Conn = {
      id: ++this.state.counters.connections,
      hi,
      socket,
      framer: new ConnectionFramer(this.limits),
      queued: 0,
      writeBlocked: false,
    };
    this.conns.add(conn);
    socket.setNoDelay(true);
    const remote = remoteOf(socket);
    const peer = peerOf(socket);
    this.log(`${hi} conn ${conn.id}: connected from ${remote} (${peer})`);
    this.emit('connection', { hi, conn: conn.id, remote, peer } satisfies ConnectionEvent);
    socket.on('data', (chunk: Buffer) => {
      conn.queued += chunk.length;
      if (conn.queued > MAX_QUEUED_BYTES_PER_CONNECTION) socket.pause();
      this.enqueue({ conn, chunk });
    });
    socket.on('drain', () => {
      conn.writeBlocked = false;
      this.resumeIfRoom(conn);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => this.log(`${hi} conn ${conn.id}: ${e.code ?? e.message}`));
    socket.on('close', () => {
      this.conns.delete(conn);
      this.enqueue({ conn, end: true });
    });
  }

  private resumeIfRoom(conn: Conn): void {
    if (!conn.writeBlocked && conn.queued <= MAX_QUEUED_BYTES_PER_CONNECTION / 2 && conn.socket.isPaused()) conn.socket.resume();
  }

  private enqueue(w: Work): void {
    this.queue.push(w);
    if (!this.pumping && !this.failure) this.pumping = this.pump().finally(() => (this.pumping = undefined));
  }

  /** Processes the queue in batches until it is empty (one pump at a time). */
  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch: Batch = { outcomes: [], breaking: [] };
        for (const w of this.queue.splice(0)) this.work(w, batch);
        const answers = batch.outcomes.filter((o) => o.outcome.answer);
        if (answers.length > 0) await this.commit();
        else await this.store.flush();
        for (const { outcome } of batch.outcomes) this.emit('pdu', outcome);
        for (const { conn, outcome } of answers) this.send(conn, outcome);
        for (const c of batch.breaking) c.socket.end(() => c.socket.destroy());
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private work(w: Work, batch: Batch): void {
    const c = w.conn;
    const note = (outcome: PduOutcome) => {
      batch.outcomes.push({ conn: c, outcome });
      if (outcome.error) this.log(`${c.hi} conn ${c.id}: ${outcome.error.code} at offset ${outcome.offset} of ${c.hi}.ber: ${outcome.error.message}`);
      if (outcome.gap) this.log(`${c.hi} conn ${c.id}: sequence gap, numbers ${outcome.gap.from}..${outcome.gap.to} missing`);
      if (outcome.duplicate) this.log(`${c.hi} conn ${c.id}: duplicate PDU dropped (offset ${outcome.offset} of ${c.hi}.ber)`);
    };
    if ('end' in w) {
      const rest = c.framer.rest();
      if (rest) note(this.receiver.truncated(c.hi, c.id, rest, new BerError('LIG_ERR_BER_TRUNCATED', `the connection ended inside a PDU (${rest.length} bytes)`)));
      this.log(`${c.hi} conn ${c.id}: closed`);
      this.emit('closed', { hi: c.hi, conn: c.id });
      return;
    }
    c.queued -= w.chunk.length;
    if (c.framer.broken) {
      this.receiver.raw(c.hi, w.chunk); // stays paused: it is being closed
      return;
    }
    this.resumeIfRoom(c);
    const framed = c.framer.push(w.chunk);
    for (const p of framed.pdus) note(this.receiver.pdu(c.hi, c.id, p));
    if (framed.bad) {
      note(this.receiver.unframed(c.hi, c.id, framed.bad.bytes, framed.bad.error));
      c.socket.pause();
      batch.breaking.push(c);
    }
  }

  private send(conn: Conn, outcome: PduOutcome): void {
    const s = conn.socket;
    if (s.destroyed || !s.writable) return;
    if (!s.write(outcome.answer!.bytes)) {
      conn.writeBlocked = true;
      s.pause();
    }
    this.emit('answered', { hi: conn.hi, conn: conn.id, kind: outcome.answer!.kind, sequenceNumber: outcome.pdu!.pSHeader.sequenceNumber });
  }

  /** Syncs the output files, then saves state.json covering them. */
  private async commit(): Promise<void> {
    await this.store.sync();
    this.state.sequences = this.tracker.toJSON();
    this.state.committed = this.store.lengths();
    await saveState(this.opts.out, this.state);
  }

  /** An output failure: nothing more is received or answered. */
  private fail(e: unknown): void {
    this.failure = e instanceof LigError ? e : new LemfError('LIG_ERR_LEMF_IO', String((e as Error)?.message ?? e), { cause: e });
    this.log(`stopped: ${this.failure.message}`);
    for (const s of this.sockets) s.destroy();
    for (const server of this.servers.values()) server.close();
    if (this.listenerCount('error') > 0) this.emit('error', this.failure);
  }

  /** Stops the servers, closes every connection and waits until the queue is processed. */
  private async shutdown(): Promise<void> {
    const closed = [...this.servers.values()].map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())));
    const ended = [...this.conns].map((c) => new Promise<void>((resolve) => (c.socket.closed ? resolve() : c.socket.once('close', () => resolve()))));
    for (const s of this.sockets) s.destroy();
    await Promise.all([...closed, ...ended]);
    while (this.pumping) await this.pumping;
  }
}

function remoteOf(s: Socket): string {
  return s.remoteAddress === undefined ? 'an unknown address' : formatAddress({ host: s.remoteAddress, port: s.remotePort ?? 0 });
}

/** The client certificate's name, for logs: `CN=x, role` for lig certificates, else the CN. */
function peerOf(s: tls.TLSSocket): string {
  const cert = s.getPeerCertificate();
  try {
    const id = identityOf(cert);
    return `CN=${id.name}, ${id.role}`;
  } catch {
    const cn = cert?.subject?.CN;
    return cn === undefined ? 'no CN' : `CN=${String(cn)}`;
  }
}
