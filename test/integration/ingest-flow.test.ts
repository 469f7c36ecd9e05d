/**
 * Probe → mediator over real gRPC and mTLS on 127.0.0.1: batches arrive intact and in order,
 * are acknowledged only once accept() resolved for them and every batch before, reading
 * pauses while too much is being accepted, and each probe gets only its own task list.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { JournalError } from '../../src/errors';
import { Batch, Event, type TaskList } from '../../src/gen/lig/v1/ingest';
import type { IngestServer } from '../../src/mediation/ingest-server';
import type { ProbeClient } from '../../src/probe/client';
import {
  batchBytes,
  cleanup,
  eventually,
  helloBytes,
  next,
  openProbe,
  packet,
  probeCreds,
  rawClient,
  setup,
  startServer,
  TestHandler,
  until,
  writeFlushed,
  type Setup,
} from './ingest-helpers';

describe('ingest: batches, acks, backpressure, tasks', function () {
  let s: Setup;
  let spools = 0;
  const open: { close(): Promise<void> }[] = [];
  before(async () => {
    s = await setup('lig-ingest-flow-');
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  after(() => cleanup(s));

  async function serve(handler: TestHandler, limits = {}): Promise<IngestServer> {
    const server = await startServer(s, handler, limits);
    open.push(server);
    return server;
  }
  async function probe(server: IngestServer, name: string, extra: Parameters<typeof openProbe>[2] = {}): Promise<ProbeClient> {
    const p = await openProbe(s, server.port, { name, spoolDir: path.join(s.tmp, `${name}-${++spools}`), ...extra });
    open.push(p);
    return p;
  }

  it('delivers every event intact, in batches numbered 1, 2, 3, …, and acknowledges them all', async () => {
    const handler = new TestHandler();
    const server = await serve(handler);
    const p = await probe(server, 'probe-1', { batch: { maxEvents: 3, maxDelay: 60_000, window: 2 } });
    const sent: Event[] = [];
    for (let i = 0; i < 20; i++) {
      const e = packet(BigInt(1 + (i % 3)), Buffer.from(`payload ${i}`), 1_700_000_000_000_000n + BigInt(i));
      sent.push(e);
      assert.equal(p.submit(e), true);
    }
    await p.drained();
    // 20 events, 3 per batch: 7 batches, the last one sealed by drained()'s flush.
    assert.deepEqual(handler.ids(), [1n, 2n, 3n, 4n, 5n, 6n, 7n]);
    const got = handler.calls.flatMap((c) => c.batch.events);
    assert.deepEqual(got.map((e) => Event.toJSON(e)), sent.map((e) => Event.toJSON(e)));
    const st = p.stats();
    assert.equal(st.lastAcked, 7n);
    assert.equal(st.unackedBatches, 0n);
    assert.equal(st.eventsDropped, 0);
    assert.equal(st.eventsSpooled, 20);
    const ps = server.probe('probe-1')!;
    assert.equal(ps.connected, true);
    assert.ok(ps.since instanceof Date);
    assert.equal(ps.batchesAccepted, 7);
    assert.equal(ps.lastAcked, 7n);
    assert.equal(ps.sourceKind, 'pcap');
  });

  it('acknowledges nothing before accept() resolved, then cumulatively and in order', async () => {
    const handler = new TestHandler();
    handler.hold = (_p, id) => id === 1n;
    const server = await serve(handler);
    const p = await probe(server, 'probe-1');
    const acks: bigint[] = [];
    p.on('acked', (id: bigint) => acks.push(id));
    const first = next<TaskList>(p, 'tasks');
    handler.setTasks('probe-1', [1n]);
    p.submit(packet(1n, Buffer.from('one')));
    p.submit(packet(1n, Buffer.from('two')));
    await first;
    await handler.waitForCalls(2);
    // accept(2) has resolved, accept(1) has not; the server's reaction to accept(2) runs before
    // the next turn of the event loop. Anything it sent then arrives before the next task list
    // on the same stream, so once that list is here an early ack would be too.
    await new Promise(setImmediate);
    assert.equal(server.probe('probe-1')!.lastAcked, 0n);
    const barrier = next<TaskList>(p, 'tasks', (t) => t.version === 2n);
    handler.setTasks('probe-1', [1n, 2n]);
    await barrier;
    assert.deepEqual(acks, []);
    assert.equal(p.stats().lastAcked, 0n);
    const acked = next<bigint>(p, 'acked');
    handler.release('probe-1', 1n);
    assert.equal(await acked, 2n, 'one cumulative ack for batches 1 and 2');
    assert.deepEqual(acks, [2n]);
  });

  it('pauses reading while maxAcceptingBatches are being accepted, and resumes as they complete', async () => {
    const handler = new TestHandler();
    handler.hold = () => true;
    const server = await serve(handler, { maxAcceptingBatches: 2 });
    const client = rawClient(server.port, probeCreds(s, s.pki.probe));
    open.push({ close: async () => client.close() });
    const call = client.makeBidiStreamRequest('/lig.v1.IngestService/Stream', (b: Buffer) => b, (b: Buffer) => b);
    call.on('error', () => undefined);
    await writeFlushed(call, helloBytes());
    for (let id = 1n; id <= 8n; id++) await writeFlushed(call, batchBytes(id));
    // Wait until all 8 batches are at the server, passed to accept() or held back unread.
    const state = () => server.probe('probe-1');
    await eventually(() => handler.ids().length + (state()?.queued ?? 0) === 8);
    assert.deepEqual(handler.ids(), [1n, 2n], 'nothing read past two batches being accepted');
    assert.equal(state()!.queued, 6);
    assert.equal(state()!.paused, true);
    assert.equal(state()!.accepting, 2);
    for (let id = 1n; id <= 6n; id++) {
      handler.release('probe-1', id);
      await handler.waitForCalls(Number(id) + 2);
      assert.equal(state()!.queued, 6 - Number(id), 'one more batch read for each one accepted');
    }
    handler.releaseAll();
    assert.deepEqual(handler.ids(), [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    assert.equal(handler.maxPending, 2, 'never more than maxAcceptingBatches accept() calls outstanding');
    call.cancel();
  });

  it('ends the stream with the mapped status when accept() rejects, and the probe resends the batch', async () => {
    const handler = new TestHandler();
    let failOnce = true;
    handler.hold = (_p, id) => id === 2n && failOnce;
    const server = await serve(handler);
    const p = await probe(server, 'probe-1');
    p.submit(packet(1n, Buffer.from('a')));
    p.submit(packet(1n, Buffer.from('b')));
    await handler.waitForCalls(2);
    const down = next<Error & { grpcCode?: number; remoteCode?: string }>(p, 'disconnected');
    failOnce = false;
    handler.rejectHeld('probe-1', 2n, new JournalError('LIG_ERR_JOURNAL_FULL', 'journal full'));
    const e = await down;
    assert.equal(e.grpcCode, 8 /* RESOURCE_EXHAUSTED */);
    assert.equal(e.remoteCode, 'LIG_ERR_JOURNAL_FULL');
    await p.drained();
    assert.deepEqual(handler.ids(), [1n, 2n, 2n], 'batch 2 again after the reconnect, batch 1 not');
  });

  it('sends each probe only its own tasks, and pushes updates to that probe alone', async () => {
    const handler = new TestHandler();
    handler.setTasks('probe-1', [1n, 2n]);
    handler.setTasks('probe-2', [7n]);
    const server = await serve(handler);
    const lists: Record<string, TaskList[]> = { 'probe-1': [], 'probe-2': [] };
    const p1 = await probe(server, 'probe-1');
    p1.on('tasks', (t: TaskList) => lists['probe-1']!.push(t));
    const p2 = await probe(server, 'probe-2');
    p2.on('tasks', (t: TaskList) => lists['probe-2']!.push(t));
    await until(p1, 'tasks', () => lists['probe-1']!.length === 1);
    await until(p2, 'tasks', () => lists['probe-2']!.length === 1);
    const ids = (t: TaskList) => t.tasks.map((x) => x.taskId);
    assert.deepEqual(ids(lists['probe-1']![0]!), [1n, 2n]);
    assert.deepEqual(ids(lists['probe-2']![0]!), [7n]);
    // An update for probe-1, then one for probe-2: had the first gone to probe-2 as well, it
    // would have reached probe-2 before the second did.
    handler.setTasks('probe-1', [2n, 3n]);
    handler.setTasks('probe-2', [7n, 8n]);
    await until(p1, 'tasks', () => lists['probe-1']!.length === 2);
    await until(p2, 'tasks', () => lists['probe-2']!.length === 2);
    assert.deepEqual(lists['probe-1']!.map(ids), [[1n, 2n], [2n, 3n]]);
    assert.deepEqual(lists['probe-2']!.map(ids), [[7n], [7n, 8n]]);
    assert.deepEqual(p1.tasks && ids(p1.tasks), [2n, 3n]);
    // Batches are told apart by the certificate, whatever the events say.
    p2.submit(packet(1n, Buffer.from('from two')));
    await p2.drained();
    assert.deepEqual(handler.calls.map((c) => c.probe), ['probe-2']);
    assert.deepEqual(Batch.toJSON(handler.calls[0]!.batch), Batch.toJSON({ batchId: 1n, events: [packet(1n, Buffer.from('from two'))] }));
  });
});
