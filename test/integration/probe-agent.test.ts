/**
 * The probe agent end to end over real gRPC and mutual TLS on 127.0.0.1, with certificates
 * made at test time and an IngestHandler that records what it accepts. The capture is built
 * by scapy, and what must be intercepted of it is computed there, independently of lig's
 * matcher. Checked: exactly the targets' packets arrive (byte-identical IP packets, capture
 * times, directions, hairpin, two tasks on one address, a packet cut by the snap length),
 * nothing of other subscribers; a task update mid-run changes what is matched; the same
 * traffic as TZSP and as PacketCable CCC datagrams gives the same packets; batches left
 * unacknowledged by a stopped probe are sent again by the next one from its spool.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MatchedCccSource } from '../../src/probe/agent-source';
import type { ProbeAgent } from '../../src/probe/agent';
import { IngestServer } from '../../src/mediation/ingest-server';
import { requireScapy } from '../helpers/scapy';
import { eventually } from './ingest-helpers';
import {
  type Capture,
  RecordingHandler,
  agentHarness,
  buildBulkCapture,
  buildCapture,
  cccDatagrams,
  expectedPackets,
  sendDatagrams,
  taskListOf,
  tzspDatagrams,
  untimed,
} from './probe-helpers';

const ALL_TASKS = [1, 2, 3, 4];
/** What must never appear in a log line: the capture's target addresses. */
const TARGET_TEXT = ['10.0.0.7', '10.0.0.8', '2001:db8:7', '10.0.1.', '02:00:00:00:00:33'];

describe('probe agent (capture → match → gRPC/mTLS → mediator)', function () {
  before(function () {
    requireScapy(this);
  });
  const h = agentHarness('lig-probe-agent-', () => TARGET_TEXT);
  const { logs, servers, server, agent } = h;
  let cap: Capture;
  before(() => {
    cap = buildCapture(path.join(h.tmp, 'capture'));
  });

  /**
   * Resolves once the agent has processed `frames` frames and the handler holds every event it
   * submitted for them: comparing then shows a wrong result as a failure, not a wait.
   */
  async function settled(a: ProbeAgent, handler: RecordingHandler, frames: number): Promise<void> {
    await eventually(() => a.stats().frames >= frames);
    await handler.waitForPackets(a.stats().eventsSubmitted);
  }

  it('a pcap replay sends exactly the targets\' packets, byte for byte, and ends once all is acknowledged', async () => {
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', taskListOf(cap.tasks, 1n));
    const s = await server(handler);
    const a = await agent(s.port, { kind: 'pcap', file: cap.mixedPcap });
    const end = await a.done;
    assert.deepEqual(end, { reason: 'ended', drained: true, unackedBatches: 0n });

    const expected = expectedPackets(cap.mixed, ALL_TASKS);
    assert.deepEqual(handler.packets(), expected);
    // the cases the capture was built to hold are all among them
    const names = new Set(cap.mixed.filter((f) => f.matches.length > 0).map((f) => f.name));
    for (const n of ['v4-hairpin', 'v6-hairpin', 'mac-from', 'mac-to', 'pppoe-to', 'qinq-from', 'padded', 'truncated', 'fragment-2']) assert.ok(names.has(n), n);
    assert.ok(expected.some((p) => p.matches.some(([, d]) => d === 3)), 'a hairpin (BOTH) match');
    assert.ok(expected.some((p) => p.matches.length === 2), 'a packet of two tasks');
    assert.ok(expected.some((p) => p.originalLength > 0), 'a packet cut by the snap length');
    const others = new Set(cap.mixed.filter((f) => f.matches.length === 0 && f.ip).map((f) => f.ip));
    assert.ok(others.size >= 20);
    assert.ok(handler.packets().every((p) => !others.has(p.data)), 'nothing of other subscribers');

    const st = a.stats();
    assert.equal(st.state, 'stopped');
    assert.equal(st.frames, cap.mixed.length);
    assert.equal(st.undecodable, cap.mixed.filter((f) => f.ip === null).length);
    assert.equal(st.undecodableBy['not-ip'], 1);
    assert.equal(st.decoded, cap.mixed.length - st.undecodable);
    assert.equal(st.matched, expected.length);
    assert.equal(st.eventsSubmitted, expected.length);
    assert.equal(st.eventsDropped, 0);
    assert.equal(st.truncated, 1);
    assert.equal(st.batchesAcked, BigInt(handler.batches.length));
    assert.equal(st.tasks, 4);
  });

  it('a pcap replay waits for the first task list before reading, and can be stopped while it waits', async () => {
    // A port where no mediator listens yet.
    const gone = await server(new RecordingHandler());
    const port = gone.port;
    await gone.close({ force: true });
    servers.pop();
    const a = await agent(port, { kind: 'pcap', file: cap.mixedPcap });
    await eventually(() => logs.some((l) => l.includes('cannot connect to the mediator')));
    assert.equal(a.stats().state, 'waiting-for-tasks');
    assert.equal(a.stats().frames, 0, 'nothing is read without a task list');
    // The mediator comes up with the list: the table is in force before the first frame.
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', taskListOf(cap.tasks.filter((t) => t.taskId === 2), 1n));
    const s = await IngestServer.listen({ listen: { host: '127.0.0.1', port }, tls: { ca: h.pki.ca, cert: h.pki.mediator.cert, key: h.pki.mediator.key }, handler, log: () => undefined });
    servers.push(s);
    assert.deepEqual(await a.done, { reason: 'ended', drained: true, unackedBatches: 0n });
    assert.deepEqual(handler.packets(), expectedPackets(cap.mixed, [2]));
    assert.equal(a.stats().frames, cap.mixed.length);

    // With no mediator again, a replay waiting for its list stops at once when told.
    await s.close({ force: true });
    const b = await agent(port, { kind: 'pcap', file: cap.othersPcap });
    assert.equal(b.stats().state, 'waiting-for-tasks');
    assert.deepEqual(await b.stop(), { reason: 'stopped', drained: true, unackedBatches: 0n });
    assert.equal(b.stats().state, 'stopped');
    assert.equal(b.stats().frames, 0);
  });

  it('a task update mid-run changes what is matched, at once and for every later packet', async () => {
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', taskListOf(cap.tasks.filter((t) => t.taskId === 1), 1n));
    const s = await server(handler);
    const a = await agent(s.port, { kind: 'tzsp', listen: { host: '127.0.0.1', port: 0 } });
    const src = (await a.capturing()) as unknown as { address(): { port: number } };
    if (a.tasks?.version !== 1n) await new Promise((r) => a.once('tasks', r));
    const port = src.address().port;

    const first = untimed(expectedPackets(cap.mixed, [1]));
    await sendDatagrams(port, tzspDatagrams(cap.mixed));
    await settled(a, handler, cap.mixed.length);
    assert.deepEqual(untimed(handler.packets()), first);

    const applied = new Promise((r) => a.once('tasks', r));
    handler.setTasks('probe-1', taskListOf(cap.tasks.filter((t) => t.taskId !== 1), 2n));
    await applied;
    assert.equal(a.tasks?.version, 2n);
    const second = untimed(expectedPackets(cap.mixed, [2, 3, 4]));
    await sendDatagrams(port, tzspDatagrams(cap.mixed));
    await settled(a, handler, 2 * cap.mixed.length);
    assert.deepEqual(untimed(handler.packets()), [...first, ...second]);
    assert.ok(second.every((p) => p.matches.every(([t]) => t !== 1)) && second.length > 0);

    const end = await a.stop();
    assert.equal(end.reason, 'stopped');
    assert.equal(end.drained, true);
    assert.equal(a.stats().frames, 2 * cap.mixed.length);
  });

  it('the same traffic as TZSP datagrams gives the same packets as the pcap source', async () => {
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', taskListOf(cap.tasks, 1n));
    const s = await server(handler);
    const a = await agent(s.port, { kind: 'tzsp', listen: { host: '127.0.0.1', port: 0 } });
    const src = (await a.capturing()) as unknown as { address(): { port: number } };
    if (!a.tasks) await new Promise((r) => a.once('tasks', r));
    const expected = untimed(expectedPackets(cap.mixed, ALL_TASKS));
    await sendDatagrams(src.address().port, tzspDatagrams(cap.mixed));
    await settled(a, handler, cap.mixed.length);
    await a.stop();
    assert.deepEqual(untimed(handler.packets()), expected);
    assert.equal(a.stats().frames, cap.mixed.length);
    assert.equal(a.stats().source?.dropped, 0);
  });

  it('CCC datagrams go through the matcher: the targets\' packets (with the header time), whatever the CCCID, and nothing else', async () => {
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', taskListOf(cap.tasks, 1n));
    const s = await server(handler);
    const a = await agent(s.port, { kind: 'ccc', listen: { host: '127.0.0.1', port: 0 } }, { sourceOptions: { cccHeader: 12, cccTime: 'header' } });
    const src = await a.capturing();
    assert.ok(src instanceof MatchedCccSource);
    if (!a.tasks) await new Promise((r) => a.once('tasks', r));
    // The element sends the targets' traffic under one CCCID and, wrongly, others' under another.
    const datagrams = cccDatagrams(cap.mixed, (f) => (f.matchesIpOnly.length > 0 ? 0x1001 : 0x2002));
    // CCC carries IP packets only: no MAC, so the MAC target is not matched; everything else is.
    const expected = expectedPackets(cap.mixed, ALL_TASKS, { ipOnly: true });
    await sendDatagrams(src.address().port, datagrams);
    await settled(a, handler, datagrams.length);
    await a.stop();
    assert.deepEqual(handler.packets(), expected);
    const pcapSet = expectedPackets(cap.mixed, ALL_TASKS).filter((p) => p.matches.every(([t]) => t !== 3));
    assert.deepEqual(expected, pcapSet, 'the pcap source\'s packets, less the MAC target\'s');
    const st = a.stats();
    assert.deepEqual(st.ccc, { cccids: 2, datagrams: datagrams.length });
    assert.equal(st.frames, datagrams.length);
  });

  it('a pcap replay bigger than the spool waits for acknowledgements instead of dropping', async () => {
    const n = 1000;
    const file = path.join(h.tmp, 'bulk.pcap');
    buildBulkCapture(file, n);
    const handler = new RecordingHandler();
    handler.hold = true;
    handler.setTasks('probe-1', taskListOf(cap.tasks, 1n));
    const s = await server(handler);
    // 1000 packets of 1,400 octets: about three times what this spool holds.
    const spoolMax = 512 * 1024;
    const a = await agent(s.port, { kind: 'pcap', file }, { spool: { dir: fs.mkdtempSync(path.join(h.tmp, 'spool-')), maxBytes: spoolMax }, batch: { maxEvents: 32, maxDelay: 5 } });
    const pacing = () => logs.some((l) => l.includes('the spool is nearly full'));
    await eventually(() => pacing() || a.stats().eventsDropped > 0 || a.stats().state === 'draining' || a.stats().state === 'stopped');
    const paused = a.stats();
    assert.ok(pacing(), 'the replay says it waits');
    assert.ok(paused.frames < 2 * n, 'the replay waits');
    assert.equal(paused.eventsDropped, 0);
    handler.release();
    const end = await a.done;
    assert.deepEqual(end, { reason: 'ended', drained: true, unackedBatches: 0n });
    const got = handler.packets();
    assert.equal(got.length, n);
    assert.deepEqual(
      got.map((p) => Buffer.from(p.data, 'hex').subarray(28, 42).toString()),
      Array.from({ length: n }, (_, k) => `bulk ${String(k).padStart(8, '0')} `),
    );
    const st = a.stats();
    assert.equal(st.eventsDropped, 0);
    assert.equal(st.frames, 2 * n);
    assert.equal(st.matched, n);
  });

  it('batches a stopped probe left unacknowledged are sent again, from the spool, by the next start', async () => {
    const holding = new RecordingHandler();
    holding.hold = true;
    holding.setTasks('probe-1', taskListOf(cap.tasks, 1n));
    const s1 = await server(holding);
    const spoolDir = path.join(h.tmp, 'spool-restart');
    const a = await agent(s1.port, { kind: 'pcap', file: cap.mixedPcap }, { spoolDir });
    const expected = expectedPackets(cap.mixed, ALL_TASKS);
    await settled(a, holding, cap.mixed.length);
    const end = await a.stop({ drainMs: 0 });
    assert.equal(end.reason, 'ended');
    assert.equal(end.drained, false);
    assert.equal(end.unackedBatches, BigInt(holding.batches.length));
    await s1.close({ force: true });

    // A new mediator; the new probe replays only others' traffic, so all it sends is what the first one left.
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', taskListOf(cap.tasks, 1n));
    const s2 = await server(handler);
    const b = await agent(s2.port, { kind: 'pcap', file: cap.othersPcap }, { spoolDir });
    assert.deepEqual(await b.done, { reason: 'ended', drained: true, unackedBatches: 0n });
    assert.deepEqual(handler.packets(), expected);
    assert.deepEqual(handler.batches.map((x) => x.batch.batchId), holding.batches.map((x) => x.batch.batchId));
    assert.deepEqual(new Set(handler.batches.map((x) => x.spool)), new Set(holding.batches.map((x) => x.spool)));
    assert.equal(b.stats().matched, 0);
    assert.equal(b.stats().batchesAcked, end.unackedBatches);
  });
});
