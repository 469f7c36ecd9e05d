/**
 * Shared pieces of the LEMF tests: a certificate set and output directory per suite, a LEMF
 * on 127.0.0.1:0, a TLS client standing in for the mediator (writes split at random points,
 * reads and decodes the LEMF's answers) and event waiting (IPv4 packets real enough for tshark:
 * helpers/identity-packets.ts ipv4Udp). No timers: everything waits on events.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { EventEmitter, once } from 'node:events';
import { decodePsPdu, PduFramer, PsPdu } from '../../src/etsi';
import { Lemf, LemfOptions, PduOutcome } from '../../src/lemf';
import { makeTestPki, TestPki } from '../../src/pki';
import type { PemPaths } from '../../src/pki/files';

export { prng } from '../fixtures/capture-golden';

export interface Setup {
  tmp: string;
  pki: TestPki;
  logs: string[];
}

export async function setup(prefix: string): Promise<Setup> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { tmp, pki: await makeTestPki(path.join(tmp, 'pki')), logs: [] };
}

export function startLemf(s: Setup, out: string, extra: Partial<LemfOptions> = {}): Promise<Lemf> {
  return Lemf.start({
    hi2: '127.0.0.1:0',
    hi3: '127.0.0.1:0',
    out,
    ca: s.pki.ca,
    cert: s.pki.lemf.cert,
    key: s.pki.lemf.key,
    log: (line) => s.logs.push(line),
    ...extra,
  });
}

/** A suite's set-up, a LEMF storing into `out` (DIR/out) started on it: what a LEMF suite's before() makes. */
export async function openLemfSuite(prefix: string): Promise<{ s: Setup; out: string; lemf: Lemf }> {
  const s = await setup(prefix);
  const out = path.join(s.tmp, 'out');
  return { s, out, lemf: await startLemf(s, out) };
}

/** A LEMF suite's after(): the LEMF closed (its failure ignored: the tests have judged), the directory removed. */
export async function closeLemfSuite(s: Setup, lemf: Lemf): Promise<void> {
  await lemf.close().catch(() => undefined);
  fs.rmSync(s.tmp, { recursive: true, force: true });
}

/** Resolves when `emitter` has emitted `event` `n` more times; the values, in order. */
export function collect<T>(emitter: EventEmitter, event: string, n: number, filter: (v: T) => boolean = () => true): Promise<T[]> {
  const got: T[] = [];
  return new Promise((resolve) => {
    if (n === 0) return resolve(got);
    const on = (v: T) => {
      if (!filter(v)) return;
      got.push(v);
      if (got.length === n) {
        emitter.off(event, on);
        resolve(got);
      }
    };
    emitter.on(event, on);
  });
}

/** Waits for `n` 'pdu' outcomes from one interface. */
export const pdus = (lemf: Lemf, hi: 'hi2' | 'hi3', n: number) => collect<PduOutcome>(lemf, 'pdu', n, (o) => o.hi === hi);

/** A mediator-side TLS connection: sends bytes, collects the answers as decoded PDUs. */
export class Client extends EventEmitter {
  readonly answers: PsPdu[] = [];
  readonly socket: tls.TLSSocket;
  private readonly framer = new PduFramer();
  closed = false;
  error: NodeJS.ErrnoException | undefined;

  constructor(port: number, opts: tls.ConnectionOptions) {
    super();
    this.socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts });
    this.socket.on('data', (d: Buffer) => {
      for (const p of this.framer.push(d)) {
        const pdu = decodePsPdu(p);
        this.answers.push(pdu);
        this.emit('answer', pdu);
      }
    });
    this.socket.on('error', (e: NodeJS.ErrnoException) => (this.error = e));
    this.socket.on('close', () => {
      this.closed = true;
      this.emit('closed');
    });
  }

  /** Connects with `leaf` (the mediator's by default) and waits for the handshake. */
  static async open(s: Setup, port: number, leaf: PemPaths = s.pki.mediator): Promise<Client> {
    const c = new Client(port, { ca: fs.readFileSync(s.pki.ca), cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) });
    await once(c.socket, 'secureConnect');
    return c;
  }

  /** Writes `bytes` in pieces cut at random points (one TLS record each); resolves when all are handed to TCP. */
  async sendSplit(bytes: Buffer, rnd: () => number, maxPiece = 97): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const n = 1 + Math.floor(rnd() * maxPiece);
      if (!this.socket.write(bytes.subarray(at, at + n))) await once(this.socket, 'drain');
      at += n;
    }
  }

  /** Waits until `n` answers in all have arrived. */
  async answered(n: number): Promise<PsPdu[]> {
    while (this.answers.length < n) await once(this, 'answer');
    return this.answers.slice(0, n);
  }

  async end(): Promise<void> {
    if (this.closed) return;
    const closed = once(this, 'closed');
    this.socket.end();
    await closed;
  }

  async whenClosed(): Promise<void> {
    if (!this.closed) await once(this, 'closed');
  }
}

/** records.jsonl as objects. */
export function readRecords(out: string): Array<Record<string, any>> {
  const text = fs.readFileSync(path.join(out, 'records.jsonl'), 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l));
}
