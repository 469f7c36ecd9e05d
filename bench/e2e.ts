/**
 * End to end on this machine (`npm run bench -- e2e`): a capture of target traffic (made here
 * with lig's pcap writer: E2E_PACKETS Ethernet/IPv4/UDP packets, IMIX sizes, half from and
 * half to the target) replayed through probe -> gRPC (mutual TLS) -> mediator -> journal
 * (fsync) -> TLS (mutual) -> reference LEMF (fsync), all in this process on 127.0.0.1.
 *
 * The probe side is the agent's loop (pcap file source, decode and match, ProbeClient.submit)
 * with one addition: the time each packet is submitted. The LEMF's 'pdu' event (after its
 * group commit) gives the time each record is stored; with one CIN, record k is packet k.
 * Figures: packets/s and Mbit/s of CC (IP bytes), and capture-to-LEMF latency p50/p99, at
 * full speed (latency then includes queueing) and paced at half the speed measured.
 *
 * The baseline, measured in the same run: the same IP packets through a plain node:tls socket
 * pair on loopback (mutual TLS, one write per packet, corked per batch as the probe batches):
 * what moving these bytes costs with nothing else. Printed, never asserted.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { LINKTYPE } from '../src/capture/pcap-format';
import { encodePcapHeader, encodePcapRecord } from '../src/capture/pcap-write';
import { createPacketSource } from '../src/capture/open-source';
import { closeBackend, probeTls, startBackend, type Backend } from '../src/demo/chain';
import type { PduOutcome } from '../src/lemf';
import { makeTestPki } from '../src/pki';
import { ProbeClient } from '../src/probe/client';
import { PacketPipeline } from '../src/probe/pipeline';
import { DEFAULT_BATCH_MAX_EVENTS } from '../src/config/probe';
import { fixed, table, whole } from './measure';

/** Packets in the generated capture (LIG_BENCH_E2E_PACKETS overrides). */
export const E2E_PACKETS = 100_000;
const TARGET = [10, 20, 0, 23];
const SERVER = [198, 51, 100, 7];
/** IMIX: 7 small, 4 medium, 1 large IP packet in every 12. */
const IMIX = [64, 64, 64, 576, 64, 1500, 64, 576, 64, 576, 64, 576];

/** Writes the capture; returns the IP packets' total bytes. */
function makeCapture(file: string, n: number): number {
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  try {
    fs.writeSync(fd, encodePcapHeader(LINKTYPE.ETHERNET, 65535));
    const chunk: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      const size = IMIX[k % IMIX.length]!;
      const f = Buffer.alloc(14 + size, k & 0xff);
      f.writeUInt16BE(0x0800, 12);
      const up = k % 2 === 0;
      f.set([0x45, 0], 14);
      f.writeUInt16BE(size, 16);
      f.writeUInt16BE(k & 0xffff, 18);
      f.set([0x40, 0, 64, 17], 20);
      f.writeUInt16BE(0, 24);
      f.set(up ? TARGET : SERVER, 26);
      f.set(up ? SERVER : TARGET, 30);
      f.writeUInt16BE(up ? 40000 : 443, 34);
      f.writeUInt16BE(up ? 443 : 40000, 36);
      f.writeUInt16BE(size - 20, 38);
      f.writeUInt32BE(k, 42);
      bytes += size;
      chunk.push(encodePcapRecord(1_717_243_200 + Math.floor(k / 1000), (k % 1000) * 1000, f));
      if (chunk.length === 1024 || k === n - 1) fs.writeSync(fd, Buffer.concat(chunk.splice(0)));
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

interface Timings {
  /** performance.now() per packet, at submit and at the LEMF. */
  sent: Float64Array;
  received: Float64Array;
  bytes: number;
}

interface Result {
  packets: number;
  seconds: number;
  bytes: number;
  p50ms: number;
  p99ms: number;
}

function summarise(t: Timings, n: number): Result {
  let last = 0;
  const lat = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    lat[k] = t.received[k]! - t.sent[k]!;
    last = Math.max(last, t.received[k]!);
  }
  lat.sort();
  return { packets: n, seconds: (last - t.sent[0]!) / 1000, bytes: t.bytes, p50ms: lat[Math.floor(n * 0.5)]!, p99ms: lat[Math.min(n - 1, Math.floor(n * 0.99))]! };
}

/** Stops a run whose records stop arriving at the LEMF for this long (a stall is reported, not waited out). */
export const STALL_MS = 30_000;

/**
 * Resolves when the LEMF has stored all `n` CC records, noting when each was stored; rejects
 * when none arrives for STALL_MS, saying how far it got and what `why()` tells.
 */
function lemfTimes(b: Backend, received: Float64Array, n: number, why: () => string): Promise<void> {
  let seen = 0;
  let lastSeen = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let on: ((o: PduOutcome) => void) | undefined;
  return new Promise<void>((resolve, reject) => {
    on = (o: PduOutcome) => {
      const h = o.pdu?.pSHeader;
      if (!h || o.hi !== 'hi3' || o.duplicate || !o.pdu?.payload || !('cCPayloadSequence' in o.pdu.payload)) return;
      received[Number(h.sequenceNumber)] = lastSeen = performance.now();
      if (++seen === n) resolve();
    };
    b.lemf.on('pdu', on);
    timer = setInterval(() => {
      if (performance.now() - lastSeen > STALL_MS) reject(new Error(`stalled: ${seen} of ${n} records at the LEMF, none for ${STALL_MS / 1000} s; ${why()}`));
    }, 1000);
  }).finally(() => {
    clearInterval(timer);
    b.lemf.off('pdu', on!);
  });
}

/**
 * One replay through the chain: `rate` packets/s, or as fast as it goes (undefined). Only
 * the first `n` packets of the capture are sent.
 */
async function throughChain(work: string, capture: string, n: number, rate: number | undefined): Promise<Timings> {
  const dir = fs.mkdtempSync(path.join(work, 'run-'));
  const b = await startBackend({ work: dir, out: path.join(dir, 'lemf'), liid: 'BENCH-E2E', targets: [TARGET.join('.')], journalBytes: '1GiB' });
  const client = await ProbeClient.open({
    mediator: { address: b.ingest, tls: probeTls(b.pki) },
    spool: { dir: path.join(dir, 'spool'), maxBytes: 1024 * 2 ** 20 },
    sourceKind: 'pcap',
    log: () => undefined,
  });
  try {
    const tasks = client.tasks ?? (await once(client, 'tasks'))[0];
    const pipeline = new PacketPipeline(tasks.tasks);
    const src = createPacketSource({ kind: 'pcap', file: capture }, { rate: 'max' });
    const t: Timings = { sent: new Float64Array(n), received: new Float64Array(n), bytes: 0 };
    const why = () => {
      const c = client.stats();
      const j = b.mediator.status().agencies[0]?.journals.find((x) => x.hi === 'hi3');
      return `probe: batch ${c.lastAcked} of ${c.lastStored} acknowledged${c.lastError ? ` (${c.lastError.code}: ${c.lastError.message})` : ''}; mediator: ${j?.counters.records ?? 0} records journaled, ${j?.backlogRecords ?? 0} unconfirmed`;
    };
    const stored = lemfTimes(b, t.received, n, why);
    stored.catch(() => undefined); // awaited below; a stall while still submitting must not go unhandled
    await src.start();
    let k = 0;
    const t0 = performance.now();
    while (k < n) {
      if (rate !== undefined) {
        const wait = t0 + (k / rate) * 1000 - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      let frames = src.take(rate === undefined ? DEFAULT_BATCH_MAX_EVENTS : Math.max(1, Math.ceil(rate / 1000)));
      if (frames.length === 0) {
        const f = await src.next();
        if (!f) throw new Error(`the capture ended after ${k} of ${n} packets`);
        frames = [f];
      }
      for (const f of frames) {
        if (k === n) break;
        const e = pipeline.process(f);
        if (!e || e.kind?.$case !== 'packet') throw new Error(`packet ${k} of the capture did not match the target`);
        t.bytes += e.kind.packet.data.length;
        t.sent[k] = performance.now();
        if (!client.submit(e)) throw new Error(`the probe dropped packet ${k}: ${JSON.stringify(client.stats().dropped)}`);
        k++;
      }
      if (rate === undefined) await new Promise((r) => setImmediate(r));
    }
    await src.stop();
    client.flush();
    await stored;
    return t;
  } finally {
    await client.close();
    await closeBackend(b);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The same IP packets through a node:tls client/server pair with the same certificates. */
async function throughTls(work: string, capture: string, n: number): Promise<Timings> {
  const pkiDir = fs.mkdtempSync(path.join(work, 'tls-'));
  const pki = await makeTestPki(pkiDir);
  const read = (p: string) => fs.readFileSync(p);
  const packets: Buffer[] = [];
  const src = createPacketSource({ kind: 'pcap', file: capture }, { rate: 'max' });
  await src.start();
  while (packets.length < n) {
    const f = await src.next();
    if (!f) break;
    packets.push(Buffer.from(f.data.subarray(14)));
  }
  await src.stop();
  const ends = new Float64Array(packets.length);
  let total = 0;
  packets.forEach((p, k) => (ends[k] = total += p.length));
  const t: Timings = { sent: new Float64Array(packets.length), received: new Float64Array(packets.length), bytes: total };
  const server = tls.createServer({ ca: read(pki.ca), cert: read(pki.lemf.cert), key: read(pki.lemf.key), requestCert: true, rejectUnauthorized: true });
  const done = new Promise<void>((resolve) => {
    server.on('secureConnection', (s) => {
      let got = 0;
      let k = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        const now = performance.now();
        while (k < ends.length && ends[k]! <= got) t.received[k++] = now;
        if (got === total) resolve();
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const c = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: read(pki.ca), cert: read(pki.mediator.cert), key: read(pki.mediator.key) });
  await once(c, 'secureConnect');
  for (let k = 0; k < packets.length; ) {
    c.cork();
    const stop = Math.min(packets.length, k + DEFAULT_BATCH_MAX_EVENTS);
    let room = true;
    for (; k < stop; k++) {
      t.sent[k] = performance.now();
      room = c.write(packets[k]!);
    }
    c.uncork();
    if (!room) await once(c, 'drain');
  }
  await done;
  c.end();
  server.close();
  fs.rmSync(pkiDir, { recursive: true, force: true });
  return t;
}

export async function benchE2e(): Promise<string[]> {
  const n = Number(process.env.LIG_BENCH_E2E_PACKETS ?? E2E_PACKETS);
  if (!Number.isSafeInteger(n) || n < 1000) throw new Error(`LIG_BENCH_E2E_PACKETS must be a whole number of at least 1000, got ${process.env.LIG_BENCH_E2E_PACKETS}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-bench-e2e-'));
  try {
    const capture = path.join(work, 'target.pcap');
    const ipBytes = makeCapture(capture, n);
    const raw = summarise(await throughTls(work, capture, n), n);
    const full = summarise(await throughChain(work, capture, n, undefined), n);
    const half = Math.max(100, Math.floor(full.packets / full.seconds / 2));
    // a paced run of about three seconds (at most the whole capture)
    const pacedN = Math.min(n, Math.max(1000, half * 3));
    const paced = summarise(await throughChain(work, capture, pacedN, half), pacedN);
    const rawPps = raw.packets / raw.seconds;
    const row = (name: string, r: Result, ratio: boolean) => {
      const pps = r.packets / r.seconds;
      return [name, whole(pps), fixed((r.bytes * 8) / r.seconds / 1e6), fixed(r.p50ms, 2), fixed(r.p99ms, 2), ratio ? `${fixed(pps / rawPps, 3)}x` : '-'];
    };
    return [
      `e2e: ${whole(n)} packets of target traffic (IMIX, ${whole(ipBytes / n)} B average IP packet), probe -> gRPC mTLS -> mediator -> journal -> TLS -> LEMF, on 127.0.0.1`,
      ...table(['path', 'packets/s', 'Mbit/s CC', 'p50 ms', 'p99 ms', 'vs raw TLS'], [
        row('raw node:tls pipe (baseline)', raw, true),
        row('lig, full speed', full, true),
        row(`lig, paced at ${whole(half)}/s`, paced, false),
      ]),
      'latency: from submit on the probe to stored (fsynced) at the LEMF; at full speed it includes queueing',
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
