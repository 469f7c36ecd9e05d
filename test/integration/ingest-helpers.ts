/**
 * Shared pieces of the ingest tests: certificates made at test time, an IngestHandler that
 * records every call and can hold accept() back, an IngestServer on 127.0.0.1:0, probe
 * clients with their spools in a temp dir, a raw gRPC client that sends arbitrary bytes, and
 * waiting for events. No timers: everything waits on events.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import { Client, credentials, Metadata, status as Status, type ChannelCredentials, type StatusObject } from '@grpc/grpc-js';
import { makeForeignPki, makeTestPki, type TestPki } from '../../src/pki';
import type { PemPaths } from '../../src/pki/files';
import { Batch, Event, ProbeMessage, Task_Type, type TaskList } from '../../src/gen/lig/v1/ingest';
import type { IngestHandler } from '../../src/mediation/ingest-handler';
import { IngestServer } from '../../src/mediation/ingest-server';
import type { IngestLimits } from '../../src/mediation/ingest-limits';
import { ProbeClient, type ProbeClientOptions } from '../../src/probe/client';

export interface Setup {
  tmp: string;
  pki: TestPki;
  foreign: { ca: string; leaf: PemPaths };
  logs: string[];
}

export async function setup(prefix: string): Promise<Setup> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const pki = await makeTestPki(path.join(tmp, 'pki'), { probes: ['probe-1', 'probe-2'] });
  const foreign = await makeForeignPki(path.join(tmp, 'foreign'), { name: 'probe-1' });
  return { tmp, pki, foreign, logs: [] };
}

export function cleanup(s: Setup | undefined): void {
  if (s) fs.rmSync(s.tmp, { recursive: true, force: true });
}

interface Held {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * The mediator core as the server sees it. Records every accept() as `probe:id`; holds
 * accept() back for the ids `hold` selects until release(); emits 'accept' (probe, batch).
 */
export class TestHandler extends EventEmitter implements IngestHandler {
  readonly calls: { probe: string; batch: Batch }[] = [];
  /** Most accept() calls pending at once. */
  maxPending = 0;
  hold: (probe: string, id: bigint) => boolean = () => false;
  firstUnacked?: (probe: string, spool: string) => bigint;
  /** The spool id each accept() was given, in call order. */
  readonly spools: string[] = [];
  private pending = 0;
  private readonly held = new Map<string, Held>();
  private readonly lists = new Map<string, TaskList>();
  private readonly taskListeners = new Set<(probe: string) => void>();

  /** Durable watermark per probe (what accept resolved for, contiguously from the start). */
  readonly durable = new Map<string, bigint>();

  tasksFor(probe: string): TaskList {
    return this.lists.get(probe) ?? { version: 0n, tasks: [], sessions: [] };
  }

  onTasksChanged(listener: (probe: string) => void): () => void {
    this.taskListeners.add(listener);
    return () => this.taskListeners.delete(listener);
  }

  setTasks(probe: string, taskIds: bigint[]): TaskList {
    const version = (this.lists.get(probe)?.version ?? 0n) + 1n;
    const list: TaskList = {
      version,
      tasks: taskIds.map((taskId) => ({ taskId, type: Task_Type.TYPE_CONTENT, targets: [{ kind: { $case: 'ip', ip: { address: Buffer.from([10, 0, 0, Number(taskId)]), prefixLength: 32 } } }] })),
      sessions: [],
    };
    this.lists.set(probe, list);
    for (const l of this.taskListeners) l(probe);
    return list;
  }

  accept(probe: string, batch: Batch, spool: string): Promise<void> {
    this.calls.push({ probe, batch });
    this.spools.push(spool);
    this.pending++;
    this.maxPending = Math.max(this.maxPending, this.pending);
    const done = () => {
      this.pending--;
      const d = this.durable.get(probe) ?? 0n;
      if (batch.batchId > d) this.durable.set(probe, batch.batchId);
    };
    this.emit('accept', probe, batch);
    if (!this.hold(probe, batch.batchId)) {
      done();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.held.set(`${probe}:${batch.batchId}`, {
        resolve: () => (done(), resolve()),
        reject: (e) => (this.pending--, reject(e)),
      });
    });
  }

  /** Resolves the held accept() of `probe` for `id`. */
  release(probe: string, id: bigint): void {
    const h = this.held.get(`${probe}:${id}`);
    if (!h) throw new Error(`accept ${probe}:${id} is not held`);
    this.held.delete(`${probe}:${id}`);
    h.resolve();
  }

  releaseAll(): void {
    for (const key of [...this.held.keys()]) {
      const h = this.held.get(key)!;
      this.held.delete(key);
      h.resolve();
    }
  }

  rejectHeld(probe: string, id: bigint, e: unknown): void {
    const h = this.held.get(`${probe}:${id}`)!;
    this.held.delete(`${probe}:${id}`);
    h.reject(e);
  }

  /** Batch ids accept() saw for `probe`, in call order. */
  ids(probe = 'probe-1'): bigint[] {
    return this.calls.filter((c) => c.probe === probe).map((c) => c.batch.batchId);
  }

  /** Resolves once accept() has been called `n` times in all for `probe`. */
  waitForCalls(n: number, probe = 'probe-1'): Promise<void> {
    return until(this, 'accept', () => this.ids(probe).length >= n);
  }
}

export function startServer(s: Setup, handler: IngestHandler, limits: Partial<IngestLimits> = {}, port = 0): Promise<IngestServer> {
  return IngestServer.listen({
    listen: { host: '127.0.0.1', port },
    tls: { ca: s.pki.ca, cert: s.pki.mediator.cert, key: s.pki.mediator.key },
    handler,
    limits,
    log: (level, m) => s.logs.push(`mediator ${level}: ${m}`),
  });
}

export function openProbe(s: Setup, port: number, opts: Partial<ProbeClientOptions> & { name?: string; cert?: PemPaths; spoolDir?: string } = {}): Promise<ProbeClient> {
  const name = opts.name ?? 'probe-1';
  const cert = opts.cert ?? s.pki.probes[name]!;
  return ProbeClient.open({
    mediator: { address: { host: '127.0.0.1', port }, tls: { ca: s.pki.ca, cert: cert.cert, key: cert.key } },
    spool: { dir: opts.spoolDir ?? path.join(s.tmp, `spool-${name}`) },
    sourceKind: 'pcap',
    softwareVersion: 'test',
    backoff: { initialMs: 5, maxMs: 50 },
    log: (level, m) => s.logs.push(`${name} ${level}: ${m}`),
    ...opts,
    batch: { maxEvents: 1, maxDelay: 60_000, window: 4, ...opts.batch },
  });
}

/** A packet event matching task `task`, carrying `data`. */
export function packet(task: bigint, data: Buffer, timeUs = 1_700_000_000_000_000n): Event {
  return { timeUs, kind: { $case: 'packet', packet: { matches: [{ taskId: task, direction: 1, sessionKey: '' }], data, originalLength: 0 } } };
}

/** Resolves when `emitter` emits `event` and `pred` holds (checked at once, then on each event). */
export function until(emitter: EventEmitter, event: string, pred: (...args: any[]) => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (pred()) return resolve();
    const on = (...args: any[]) => {
      if (!pred(...args)) return;
      emitter.off(event, on);
      resolve();
    };
    emitter.on(event, on);
  });
}

/** Resolves once `pred` holds, checking it every few milliseconds (for state without an event). */
export async function eventually(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 2));
}

/** Resolves with the next `event` from `emitter` whose first argument satisfies `pred`. */
export function next<T>(emitter: EventEmitter, event: string, pred: (v: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const on = (v: T) => {
      if (!pred(v)) return;
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}

export function probeCreds(s: Setup, leaf?: PemPaths, ca = s.pki.ca): ChannelCredentials {
  const read = (p: string) => fs.readFileSync(p);
  return leaf ? credentials.createSsl(read(ca), read(leaf.key), read(leaf.cert)) : credentials.createSsl(read(ca));
}

/** What a raw stream got back: the messages (raw bytes) and the final status. */
export interface RawOutcome {
  messages: Buffer[];
  status: StatusObject;
}

/**
 * Opens a stream with `creds`, writes `frames` (raw message bytes, no encoding), and resolves
 * with the final status once the server ends the stream. `keepOpen` leaves the client side
 * open (the server must end it).
 */
export function rawStream(port: number, creds: ChannelCredentials, frames: Buffer[], opts: { keepOpen?: boolean; onMessage?: (b: Buffer, call: { end(): void }) => void } = {}): Promise<RawOutcome> {
  const client = new Client(`127.0.0.1:${port}`, creds, { 'grpc.enable_retries': 0, 'grpc.use_local_subchannel_pool': 1 });
  const call = client.makeBidiStreamRequest('/lig.v1.IngestService/Stream', (b: Buffer) => b, (b: Buffer) => b, new Metadata());
  const messages: Buffer[] = [];
  return new Promise((resolve) => {
    call.on('data', (b: Buffer) => {
      messages.push(b);
      opts.onMessage?.(b, call);
    });
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) => {
      client.close();
      resolve({ messages, status });
    });
    for (const f of frames) call.write(f);
    if (!opts.keepOpen) call.end();
  });
}

/** A raw client (one HTTP/2 connection) with the probe's certificate, for streams of raw bytes. */
export function rawClient(port: number, creds: ChannelCredentials): Client {
  return new Client(`127.0.0.1:${port}`, creds, { 'grpc.enable_retries': 0, 'grpc.use_local_subchannel_pool': 1 });
}

/** Writes `bytes` on `call` and resolves once grpc-js handed them to the connection. */
export function writeFlushed(call: { write(b: Buffer, cb: (e?: Error | null) => void): boolean }, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => call.write(bytes, (e) => (e ? reject(e) : resolve())));
}

export function helloBytes(firstUnacked = 0n, spoolId = 'raw-spool'): Buffer {
  return Buffer.from(ProbeMessage.encode({ body: { $case: 'hello', hello: { softwareVersion: 'raw', sourceKind: 'pcap', firstUnackedBatch: firstUnacked, spoolId } } }).finish());
}

export function batchBytes(id: bigint, events: Event[] = [packet(1n, Buffer.from('x'))]): Buffer {
  return Buffer.from(ProbeMessage.encode({ body: { $case: 'batch', batch: { batchId: id, events } } }).finish());
}

export { Status };
