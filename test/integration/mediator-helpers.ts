/**
 * Shared by the mediator integration tests: certificates made at test time, a reference
 * LEMF on 127.0.0.1:0, a mediator config (YAML, through the real loader) pointing at it, the
 * mediator and probe clients the tests start alike, the unique packets the tests send and a
 * reading of what the LEMF stored (DIR/hi2.ber and DIR/hi3.ber, exactly as received).
 * Nothing here waits on time: only on events.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type MediatorConfig, parseMediatorConfig } from '../../src/config';
import { decodeStream } from '../../src/etsi';
import type { TaskList } from '../../src/gen/lig/v1/ingest';
import { Lemf, RAW_FILES } from '../../src/lemf';
import { Mediator, type MediatorOptions } from '../../src/mediation/mediator';
import { type TestPki, makeTestPki } from '../../src/pki';
import { ProbeClient } from '../../src/probe/client';
import { ipv4Udp } from '../helpers/identity-packets';
import { oracleDecode } from '../helpers/oracle';
import { readRecord, type ReadRecord } from '../mediation-fixtures';
import { until } from './ingest-helpers';

export const LIID_CC = 'LIID-IT-CC';
export const LIID_IRI = 'LIID-IT-IRI';

export interface Setup {
  tmp: string;
  pki: TestPki;
}

export async function setup(prefix: string): Promise<Setup> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const pki = await makeTestPki(path.join(tmp, 'pki'), { probes: ['probe-1', 'probe-2'] });
  return { tmp, pki };
}

export function startLemf(s: Setup, out: string): Promise<Lemf> {
  return Lemf.start({ hi2: '127.0.0.1:0', hi3: '127.0.0.1:0', out, ca: s.pki.ca, cert: s.pki.lemf.cert, key: s.pki.lemf.key });
}

/** How configYaml writes a mediator: its data directory, optionally a files agency, ingest port, journal size and intercepts. */
export interface ConfigOptions {
  dataDir: string;
  filesDir?: string;
  port?: number;
  journalBytes?: string;
  /** The intercepts (YAML list items, "  - { liid: … }" lines) instead of the test ones (LIID_CC, LIID_IRI, and the files agency's). */
  intercepts?: string;
}

/** The YAML of a mediator with one tcp agency (the LEMF) and, optionally, a files agency. */
export function configYaml(s: Setup, lemf: { hi2: string; hi3: string }, o: ConfigOptions): string {
  const files = o.filesDir
    ? `
  - id: files-1
    country: US
    delivery: files
    operatorId: OPERATOR-F
    files: { dir: ${JSON.stringify(o.filesDir)} }`
    : '';
  const filesIntercept = o.filesDir
    ? `
  - { liid: LIID-IT-FILES, agency: files-1, type: content, targets: [{ ip: 203.0.113.5 }] }`
    : '';
  return `
dataDir: ${JSON.stringify(o.dataDir)}
ingest:
  listen: 127.0.0.1:${o.port ?? 0}
  tls: { ca: ${JSON.stringify(s.pki.ca)}, cert: ${JSON.stringify(s.pki.mediator.cert)}, key: ${JSON.stringify(s.pki.mediator.key)} }
limits: { journalBytes: ${o.journalBytes ?? '64MiB'}, segmentBytes: 1MiB, maxMessageBytes: 1MiB }
agencies:
  - id: lea-1
    country: DE
    delivery: tcp
    operatorId: OPERATOR-1
    networkElementId: mediator-1
    hi2: { address: ${JSON.stringify(lemf.hi2)} }
    hi3: { address: ${JSON.stringify(lemf.hi3)} }
    tls: { ca: ${JSON.stringify(s.pki.ca)}, cert: ${JSON.stringify(s.pki.mediator.cert)}, key: ${JSON.stringify(s.pki.mediator.key)}, servername: localhost }
    keepalive: { interval: 1s, wait: 10s }${files}
intercepts:
${o.intercepts?.replace(/^\n+|\s+$/g, '') ?? `  - { liid: ${LIID_CC}, agency: lea-1, type: content, targets: [{ ip: 192.0.2.7 }] }
  - { liid: ${LIID_IRI}, agency: lea-1, type: iri-only, targets: [{ ip: 198.51.100.9 }], probes: [probe-1] }${filesIntercept}`}
log: { level: warn }
`;
}

/** The configYaml of a mediator delivering to `lemf`. */
export function lemfConfigYaml(s: Setup, lemf: Lemf, o: ConfigOptions): string {
  const a = (x: { host: string; port: number }) => `${x.host}:${x.port}`;
  return configYaml(s, { hi2: a(lemf.addresses.hi2), hi3: a(lemf.addresses.hi3) }, o);
}

/** The configYaml mediator delivering to `lemf`, through the real loader. */
export function config(s: Setup, lemf: Lemf, o: ConfigOptions): MediatorConfig {
  return parseMediatorConfig(lemfConfigYaml(s, lemf, o), 'test.yaml');
}

/**
 * A mediator on `c` that retries delivery quickly (tests wait on events, not on back-off),
 * logging "level: message" into `logs`; `opts` override.
 */
export function startMediator(c: MediatorConfig, logs: string[], opts: MediatorOptions = {}): Promise<Mediator> {
  return Mediator.start(c, { deliveryTuning: { backoffInitialMs: 50, backoffMaxMs: 500 }, log: (level, m) => logs.push(`${level}: ${m}`), ...opts });
}

/**
 * A probe client as `name` (probe-1 unless told) to the mediator at 127.0.0.1:`port`,
 * spooling in `spoolDir`: a batch goes at `maxEvents` events (never by time), reconnects are
 * quick, and its lines go to `logs` as "probe level: message" (nowhere without `logs`).
 */
export function openProbeClient(s: Setup, port: number, o: { spoolDir: string; name?: string; maxEvents?: number; logs?: string[] }): Promise<ProbeClient> {
  const leaf = s.pki.probes[o.name ?? 'probe-1']!;
  return ProbeClient.open({
    mediator: { address: { host: '127.0.0.1', port }, tls: { ca: s.pki.ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } },
    spool: { dir: o.spoolDir },
    sourceKind: 'pcap',
    batch: { maxEvents: o.maxEvents ?? 4, maxDelay: 60_000 },
    backoff: { initialMs: 5, maxMs: 50 },
    log: (level, m) => o.logs?.push(`probe ${level}: ${m}`),
  });
}

/** The end-to-end mediator tests' loopback chain: see chainHarness. */
export interface Chain {
  /** Certificates and the suite's temporary directory (set before the first test). */
  readonly s: Setup;
  /** The log lines of the mediators and probe clients started through the chain (kept for the whole suite). */
  readonly logs: string[];
  /** A reference LEMF storing into `out` (startLemf). */
  lemf(out: string): Promise<Lemf>;
  /** A mediator on `c` (startMediator, logging into `logs`). */
  mediator(c: MediatorConfig, opts?: MediatorOptions): Promise<Mediator>;
  /** A probe client to 127.0.0.1:`port` (openProbeClient, logging into `logs`). */
  probe(port: number, o: { spoolDir: string; name?: string; maxEvents?: number }): Promise<ProbeClient>;
  /** Closes the probe clients, mediators and LEMFs started so far, in that order: what the LEMFs stored is then whole. */
  stop(): Promise<void>;
}

/**
 * Registers, on the calling describe, what the end-to-end mediator tests set up alike:
 * certificates in a temporary directory (before; removed after), and after each test every
 * probe client, mediator and LEMF the test started through the chain closed.
 */
export function chainHarness(tmpPrefix: string): Chain {
  let setUp: Setup | undefined;
  const logs: string[] = [];
  const probes: ProbeClient[] = [];
  const mediators: Mediator[] = [];
  const lemfs: Lemf[] = [];
  before(async () => {
    setUp = await setup(tmpPrefix);
  });
  after(() => setUp && fs.rmSync(setUp.tmp, { recursive: true, force: true }));
  afterEach(async () => {
    for (const p of probes.splice(0)) await p.close();
    for (const m of mediators.splice(0)) await m.close();
    for (const l of lemfs.splice(0)) await l.close().catch(() => undefined);
  });
  const track = async <T>(list: T[], started: Promise<T>): Promise<T> => {
    const x = await started;
    list.push(x);
    return x;
  };
  return {
    get s() {
      return setUp!;
    },
    logs,
    lemf: (out) => track(lemfs, startLemf(setUp!, out)),
    mediator: (c, opts) => track(mediators, startMediator(c, logs, opts)),
    probe: (port, o) => track(probes, openProbeClient(setUp!, port, { ...o, logs })),
    async stop() {
      for (const p of probes.splice(0)) await p.close();
      for (const m of mediators.splice(0)) await m.close();
      for (const l of lemfs.splice(0)) await l.close();
    },
  };
}

/** Resolves with the probe's task list once `cond` holds for it (at once if it does already, else on its 'tasks' events). */
export async function tasksWhen(p: ProbeClient, cond: (l: TaskList) => boolean = () => true): Promise<TaskList> {
  await until(p, 'tasks', () => p.tasks !== undefined && cond(p.tasks));
  return p.tasks!;
}

/** Resolves once the LEMF holds at least the given numbers of CC and IRI records of each LIID (waits on its 'pdu' events). */
export function lemfHolds(lemf: Lemf, want: Record<string, { cc?: number; iri?: number }>): Promise<void> {
  return until(lemf, 'pdu', () =>
    Object.entries(want).every(([liid, w]) => {
      const got = lemf.summary().records[liid];
      return (got?.cc ?? 0) >= (w.cc ?? 0) && (got?.iri ?? 0) >= (w.iri ?? 0);
    }),
  );
}

/** An IPv4/UDP packet whose payload names it: `tag`. 28 bytes of headers, then the tag. */
export function taggedPacket(tag: string): Buffer {
  return ipv4Udp('192.0.2.7', '198.51.100.9', 5353, 53, Buffer.from(tag));
}

/** The intercept records the LEMF stored on `hi`, in arrival order (keep-alives left out). */
export function stored(out: string, hi: 'hi2' | 'hi3'): ReadRecord[] {
  const file = path.join(out, RAW_FILES[hi]);
  if (!fs.existsSync(file)) return [];
  const recs: ReadRecord[] = [];
  for (const e of decodeStream(fs.readFileSync(file))) {
    if (e.error) throw e.error;
    const r = readRecord(e.bytes);
    if (r.kind === 'cc' || r.kind === 'iri') recs.push(r);
  }
  return recs;
}

/** Asserts the etsi-oracle decodes both streams the LEMF stored in `out` (skips, or fails under CI, without it). */
export async function oracleAccepts(ctx: Mocha.Context, out: string): Promise<void> {
  for (const hi of ['hi2', 'hi3'] as const) {
    const o = await oracleDecode(ctx, path.join(out, RAW_FILES[hi]));
    assert.ok(o.ok, `${hi}: ${o.stderr}`);
  }
}

/** What tells two records apart: time, direction and bytes (the tests give each packet its own time). */
const recordKey = (r: ReadRecord) => `${r.seconds}.${r.micros}|${r.direction}|${Buffer.from(r.data!).toString('hex')}`;

/**
 * Checks one (LIID, CIN) stream as the LEMF got it: numbers run 0..n-1 without a gap, a
 * number seen twice (a delivery resend) carries the same bytes, no record appears under two
 * numbers. Returns the records by number.
 */
export function checkStream(recs: ReadRecord[]): ReadRecord[] {
  const bySeq = new Map<number, ReadRecord>();
  const seqOf = new Map<string, number>();
  for (const r of recs) {
    const key = recordKey(r);
    const had = bySeq.get(r.seq);
    if (had && recordKey(had) !== key) throw new Error(`sequence number ${r.seq} carries two different records`);
    const s = seqOf.get(key);
    if (s !== undefined && s !== r.seq) throw new Error(`one record under two numbers: ${s} and ${r.seq}`);
    bySeq.set(r.seq, r);
    seqOf.set(key, r.seq);
  }
  const n = bySeq.size;
  const out: ReadRecord[] = [];
  for (let k = 0; k < n; k++) {
    const r = bySeq.get(k);
    if (!r) throw new Error(`gap: sequence number ${k} is missing (${n} numbers seen)`);
    out.push(r);
  }
  return out;
}
