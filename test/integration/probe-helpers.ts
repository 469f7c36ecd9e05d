/**
 * Shared by the probe agent tests: the scapy-built capture (test/fixtures/probe_capture.py)
 * with its independently computed expectations, the task lists made from it, an
 * IngestHandler that records every packet it accepts (and can hold accept() back), the
 * events in a comparable form, UDP senders for TZSP and CCC, and the harness of agents and
 * servers every agent test starts and stops alike. Waits on events only.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeCcc } from '../../src/capture/ccc';
import { TZSP_TAG, encodeTzsp } from '../../src/capture/tzsp';
import type { ProbeSource } from '../../src/config/probe';
import { Task_Type, type Batch, type Task, type TaskList } from '../../src/gen/lig/v1/ingest';
import type { IngestHandler } from '../../src/mediation/ingest-handler';
import { IngestServer } from '../../src/mediation/ingest-server';
import { type TestPki, makeTestPki } from '../../src/pki';
import { ProbeAgent, type ProbeAgentOptions } from '../../src/probe/agent';
import { SYSTEM_PYTHON } from '../helpers/scapy';
import { REPO_ROOT } from '../helpers/shared';

export const CAPTURE_SCRIPT = path.join(REPO_ROOT, 'test', 'fixtures', 'probe_capture.py');

/** [task id, direction] */
export type ExpectedMatch = [number, number];

export interface CaptureFrame {
  name: string;
  timeUs: number;
  frame: string;
  origLen: number;
  ip: string | null;
  ipLength: number;
  matches: ExpectedMatch[];
  matchesIpOnly: ExpectedMatch[];
}

export interface CaptureTask {
  taskId: number;
  ips: string[];
  macs: string[];
}

export interface Capture {
  dir: string;
  mixedPcap: string;
  othersPcap: string;
  tasks: CaptureTask[];
  mixed: CaptureFrame[];
  others: CaptureFrame[];
}

/** Writes `n` large target packets (and a non-target frame after each) to `file` with scapy; see probe_capture.py. */
export function buildBulkCapture(file: string, n: number): void {
  const r = spawnSync(SYSTEM_PYTHON, [CAPTURE_SCRIPT, 'bulk', file, String(n)], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`probe_capture.py bulk failed (${r.status}): ${r.stderr}`);
}

/** Builds the capture in `dir` with scapy (the caller checks requireScapy first). */
export function buildCapture(dir: string): Capture {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync(SYSTEM_PYTHON, [CAPTURE_SCRIPT, dir], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`probe_capture.py failed (${r.status}): ${r.stderr}`);
  const e = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { tasks: CaptureTask[]; mixed: CaptureFrame[]; others: CaptureFrame[] };
  return { dir, mixedPcap: path.join(dir, 'mixed.pcap'), othersPcap: path.join(dir, 'others.pcap'), ...e };
}

function ipBytes(text: string): Buffer {
  if (text.includes('.')) return Buffer.from(text.split('.').map(Number));
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}

/** The Task the mediator would send for a capture task. */
export function taskOf(t: CaptureTask): Task {
  return {
    taskId: BigInt(t.taskId),
    type: Task_Type.TYPE_CONTENT,
    targets: [
      ...t.ips.map((p) => {
        const [a, len] = p.split('/') as [string, string];
        return { kind: { $case: 'ip' as const, ip: { address: ipBytes(a), prefixLength: Number(len) } } };
      }),
      ...t.macs.map((m) => ({ kind: { $case: 'mac' as const, mac: Buffer.from(m.replace(/:/g, ''), 'hex') } })),
    ],
  };
}

export function taskListOf(tasks: CaptureTask[], version: bigint): TaskList {
  return { version, tasks: tasks.map(taskOf), sessions: [] };
}

/** A packet event as the tests compare them. */
export interface SeenPacket {
  timeUs: bigint;
  data: string;
  originalLength: number;
  matches: ExpectedMatch[];
}

/** What the agent must send for `frames` when the tasks `taskIds` are in force. */
export function expectedPackets(frames: CaptureFrame[], taskIds: number[], opts: { ipOnly?: boolean } = {}): SeenPacket[] {
  const out: SeenPacket[] = [];
  for (const f of frames) {
    const matches = (opts.ipOnly ? f.matchesIpOnly : f.matches).filter(([t]) => taskIds.includes(t));
    if (matches.length === 0 || f.ip === null) continue;
    out.push({ timeUs: BigInt(f.timeUs), data: f.ip, originalLength: f.ipLength * 2 > f.ip.length ? f.ipLength : 0, matches });
  }
  return out;
}

/** Packets without their times (for sources that time-stamp on arrival). */
export const untimed = (ps: SeenPacket[]) => ps.map(({ timeUs: _t, ...rest }) => rest);

/**
 * The mediator core as the ingest server sees it: one task list per probe (pushed when set),
 * every accepted batch recorded; `hold` keeps accept() pending until release() (never, if
 * it is not called).
 */
export class RecordingHandler extends EventEmitter implements IngestHandler {
  readonly batches: { probe: string; spool: string; batch: Batch }[] = [];
  hold = false;
  private held: (() => void)[] = [];
  private readonly lists = new Map<string, TaskList>();
  private readonly taskListeners = new Set<(probe: string) => void>();

  tasksFor(probe: string): TaskList {
    return this.lists.get(probe) ?? { version: 0n, tasks: [], sessions: [] };
  }

  onTasksChanged(listener: (probe: string) => void): () => void {
    this.taskListeners.add(listener);
    return () => this.taskListeners.delete(listener);
  }

  setTasks(probe: string, list: TaskList): void {
    this.lists.set(probe, list);
    for (const l of this.taskListeners) l(probe);
  }

  accept(probe: string, batch: Batch, spool: string): Promise<void> {
    this.batches.push({ probe, spool, batch });
    this.emit('accept', batch);
    return this.hold ? new Promise<void>((resolve) => this.held.push(resolve)) : Promise.resolve();
  }

  /** Makes every held accept() durable, and stops holding. */
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  /** Every packet event accepted, in order. */
  packets(): SeenPacket[] {
    const out: SeenPacket[] = [];
    for (const { batch } of this.batches) {
      for (const e of batch.events) {
        if (e.kind?.$case !== 'packet') throw new Error(`unexpected ${e.kind?.$case} event`);
        const p = e.kind.packet;
        out.push({ timeUs: e.timeUs, data: Buffer.from(p.data).toString('hex'), originalLength: p.originalLength, matches: p.matches.map((m) => [Number(m.taskId), m.direction]) });
      }
    }
    return out;
  }

  /** Resolves once at least `n` packet events were accepted. */
  waitForPackets(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.packets().length < n) return;
        this.off('accept', check);
        resolve();
      };
      this.on('accept', check);
      check();
    });
  }
}

/** Sends `datagrams` to 127.0.0.1:`port`, one after another (each once the previous is handed to the kernel). */
export async function sendDatagrams(port: number, datagrams: Uint8Array[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  try {
    for (const d of datagrams) await new Promise<void>((resolve, reject) => s.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  } finally {
    s.close();
  }
}

/** The frames as TZSP datagrams (Ethernet), with the ORIGINAL_LENGTH tag on cut frames. */
export function tzspDatagrams(frames: CaptureFrame[]): Uint8Array[] {
  return frames.map((f) => {
    const data = Buffer.from(f.frame, 'hex');
    const tags = data.length < f.origLen ? Buffer.from([TZSP_TAG.ORIGINAL_LENGTH, 2, f.origLen >> 8, f.origLen & 0xff]) : undefined;
    return encodeTzsp(data, { tags });
  });
}

/** Seconds from 1900 to 1970 (NTP to Unix). */
const NTP_UNIX = 2_208_988_800;

/**
 * The frames' IP packets as 12-octet-header CCC datagrams carrying the capture time (NTP),
 * under `cccidOf(frame)`: what a network element sends, including packets it should not have.
 */
export function cccDatagrams(frames: CaptureFrame[], cccidOf: (f: CaptureFrame) => number): Uint8Array[] {
  return frames
    .filter((f) => f.ip !== null)
    .map((f) => {
      const us = f.timeUs % 1_000_000;
      const fraction = Math.ceil((us * 2 ** 32) / 1_000_000);
      return encodeCcc(cccidOf(f), Buffer.from(f.ip!, 'hex'), { form: 12, ntpSeconds: Math.floor(f.timeUs / 1_000_000) + NTP_UNIX, ntpFraction: fraction });
    });
}

/** The probe agent tests' loopback set-up: see agentHarness. */
export interface AgentHarness {
  /** The suite's temporary directory (removed after it). */
  readonly tmp: string;
  /** Certificates for the mediator and probe-1, made at test time. */
  readonly pki: TestPki;
  /** The log lines of the servers and agents of the current test. */
  readonly logs: string[];
  /** Servers stopped after the test (a test that stops one itself takes it out). */
  readonly servers: IngestServer[];
  /** An IngestServer on 127.0.0.1 (port 0 unless told) for `handler`, logging into `logs`. */
  server(handler: IngestHandler, port?: number): Promise<IngestServer>;
  /**
   * A ProbeAgent as probe-1 sending to 127.0.0.1:`port` (its own spool directory unless
   * `spoolDir`; batches of 4; status lines off), logging into `logs`; `opts` override.
   */
  agent(port: number, source: ProbeSource, opts?: Partial<ProbeAgentOptions> & { spoolDir?: string; servername?: string }): Promise<ProbeAgent>;
}

/**
 * Registers, on the calling describe, what the probe agent tests set up alike: a temporary
 * directory and certificates (before: hooks registered earlier, such as a requireScapy, run
 * first), and after each test every agent and server stopped, then no log line may hold any
 * of `secrets()` (the targets' names and addresses) and the lines are cleared.
 */
export function agentHarness(tmpPrefix: string, secrets: () => readonly string[]): AgentHarness {
  let tmp = '';
  let pki: TestPki | undefined;
  const logs: string[] = [];
  const servers: IngestServer[] = [];
  const agents: ProbeAgent[] = [];
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    pki = await makeTestPki(path.join(tmp, 'pki'), { probes: ['probe-1'] });
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop({ drainMs: 0 }).catch(() => undefined);
    for (const s of servers.splice(0)) await s.close({ force: true });
    const leaked = logs.filter((l) => secrets().some((t) => l.includes(t)));
    assert.deepEqual(leaked, [], 'no target in the logs');
    logs.length = 0;
  });
  const h: AgentHarness = {
    get tmp() {
      return tmp;
    },
    get pki() {
      return pki!;
    },
    logs,
    servers,
    async server(handler, port = 0) {
      const s = await IngestServer.listen({
        listen: { host: '127.0.0.1', port },
        tls: { ca: h.pki.ca, cert: h.pki.mediator.cert, key: h.pki.mediator.key },
        handler,
        log: (level, m) => logs.push(`mediator ${level}: ${m}`),
      });
      servers.push(s);
      return s;
    },
    async agent(port, source, { spoolDir, servername, ...opts } = {}) {
      const leaf = h.pki.probes['probe-1']!;
      const a = await ProbeAgent.start({
        source,
        mediator: { address: { host: '127.0.0.1', port }, tls: { ca: h.pki.ca, cert: leaf.cert, key: leaf.key, ...(servername ? { servername } : {}) } },
        spool: { dir: spoolDir ?? fs.mkdtempSync(path.join(tmp, 'spool-')) },
        batch: { maxEvents: 4, maxDelay: 5 },
        backoff: { initialMs: 5, maxMs: 50 },
        statusIntervalMs: 0,
        log: (level, m) => logs.push(`probe ${level}: ${m}`),
        ...opts,
      });
      agents.push(a);
      return a;
    },
  };
  return h;
}
