/**
 * The delivery guarantee across failures, over real gRPC and mTLS on 127.0.0.1: the mediator
 * restarting mid-stream, the probe restarting with unacknowledged batches in its spool, the
 * spool being replaced, and the spool filling up (events dropped and counted, nothing waits).
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { MIN_MAX_BYTES } from '../../src/delivery/journal';
import type { IngestServer } from '../../src/mediation/ingest-server';
import type { ProbeClient } from '../../src/probe/client';
import { cleanup, next, openProbe, packet, setup, startServer, TestHandler, until, type Setup } from './ingest-helpers';

const range = (from: bigint, to: bigint) => {
  const out: bigint[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
};

describe('ingest: restarts, replaced spools, full spools', function () {
  let s: Setup;
  let n = 0;
  const open: { close(): Promise<void> }[] = [];
  before(async () => {
    s = await setup('lig-ingest-restart-');
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  after(() => cleanup(s));

  async function serve(handler: TestHandler, port = 0): Promise<IngestServer> {
    const server = await startServer(s, handler, {}, port);
    open.push(server);
    return server;
  }
  async function probe(port: number, spoolDir: string, extra: Parameters<typeof openProbe>[2] = {}): Promise<ProbeClient> {
    const p = await openProbe(s, port, { spoolDir, ...extra });
    open.push(p);
    return p;
  }
  const spoolDir = () => path.join(s.tmp, `spool-${++n}`);

  /**
   * Kills the first server inside its 10th accept() (batch 10 becomes durable in the core, its
   * ack is never sent), starts another on the same port with the same core, and lets the
   * probe deliver 30 batches. Returns the ids accept() saw and what the probe had acked.
   */
  async function restartMidStream(core: TestHandler): Promise<{ ids: bigint[]; ackedAtDrop: bigint; callsBefore: number; p: ProbeClient }> {
    const first = await startServer(s, core);
    const port = first.port;
    core.once('accept', function onAccept() {
      if (core.calls.length === 10) void first.close({ force: true });
      else core.once('accept', onAccept);
    });
    const p = await probe(port, spoolDir(), { batch: { maxEvents: 1, maxDelay: 60_000, window: 4 } });
    const dropped = next<Error>(p, 'disconnected');
    for (let i = 0; i < 30; i++) assert.equal(p.submit(packet(1n, Buffer.from(`event ${i}`))), true);
    await dropped;
    const ackedAtDrop = p.stats().lastAcked;
    const callsBefore = core.calls.length;
    await serve(core, port);
    await p.drained();
    assert.equal(p.stats().lastAcked, 30n);
    assert.equal(p.stats().unackedBatches, 0n);
    return { ids: core.ids(), ackedAtDrop, callsBefore, p };
  }

  it('mediator restart mid-stream: the probe reconnects and resends in order what was not acknowledged', async () => {
    const core = new TestHandler();
    const { ids, ackedAtDrop, callsBefore } = await restartMidStream(core);
    assert.ok(ackedAtDrop < 10n, `batch 10's ack was never sent (acked ${ackedAtDrop})`);
    // Before the restart: 1, 2, 3, … in order. After it: from the first unacked batch on, in order.
    assert.deepEqual(ids.slice(0, callsBefore), range(1n, BigInt(callsBefore)));
    assert.deepEqual(ids.slice(callsBefore), range(ackedAtDrop + 1n, 30n));
    // Every batch arrived; the only duplicates are batches the core already held, none acked.
    const seen = new Map<bigint, number>();
    for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    assert.deepEqual([...seen.keys()].sort((a, b) => (a < b ? -1 : 1)), range(1n, 30n));
    const dups = [...seen].filter(([, k]) => k > 1).map(([id]) => id);
    assert.ok(dups.includes(10n), 'batch 10 was durable but unacknowledged, so it came twice');
    for (const id of dups) assert.ok(id > ackedAtDrop && id <= BigInt(callsBefore), `duplicate ${id} is below the durable watermark and above the last ack`);
  });

  it('mediator restart with the core\'s watermark (firstUnacked): no batch reaches accept() twice', async () => {
    const core = new TestHandler();
    const spools = new Set<string>();
    core.firstUnacked = (probe, spool) => {
      spools.add(spool);
      return (core.durable.get(probe) ?? 0n) + 1n;
    };
    const { ids } = await restartMidStream(core);
    assert.deepEqual(ids, range(1n, 30n));
    assert.deepEqual([...spools], [core.spools[0]], 'asked about the probe\'s own spool');
  });

  it('probe restart: the spool\'s unacknowledged batches are sent again and the ids go on', async () => {
    const lost = new TestHandler();
    lost.hold = (_p, id) => id >= 3n; // the mediator dies before batches 3.. are durable
    const first = await startServer(s, lost);
    const port = first.port;
    const dir = spoolDir();
    const p1 = await openProbe(s, port, { spoolDir: dir, batch: { maxEvents: 1, maxDelay: 60_000, window: 8 } });
    for (let i = 1; i <= 5; i++) p1.submit(packet(1n, Buffer.from(`before ${i}`)));
    await lost.waitForCalls(5);
    await until(p1, 'acked', () => p1.stats().lastAcked === 2n);
    await p1.close();
    await first.close({ force: true });

    const core = new TestHandler();
    await serve(core, port);
    const p2 = await probe(port, dir, { batch: { maxEvents: 1, maxDelay: 60_000, window: 8 } });
    assert.equal(p2.stats().lastAcked, 2n);
    assert.equal(p2.stats().unackedBatches, 3n);
    assert.equal(p2.stats().nextBatchId, 6n);
    p2.submit(packet(1n, Buffer.from('after')));
    await p2.drained();
    assert.deepEqual(core.ids(), [3n, 4n, 5n, 6n]);
    const data = core.calls.map((c) => (c.batch.events[0]!.kind as { packet: { data: Buffer } }).packet.data.toString());
    assert.deepEqual(data, ['before 3', 'before 4', 'before 5', 'after']);
  });

  it('probe restart against a mediator that kept its batches: resends are acknowledged, not accepted again', async () => {
    const core = new TestHandler();
    core.hold = (_p, id) => id >= 3n;
    const server = await serve(core);
    const dir = spoolDir();
    const p1 = await openProbe(s, server.port, { spoolDir: dir, batch: { maxEvents: 1, maxDelay: 60_000, window: 8 } });
    for (let i = 1; i <= 5; i++) p1.submit(packet(1n, Buffer.from(`e${i}`)));
    await core.waitForCalls(5);
    await until(p1, 'acked', () => p1.stats().lastAcked === 2n);
    await p1.close();
    core.hold = () => false;
    core.releaseAll(); // durable now, after the stream that sent them is gone
    const p2 = await probe(server.port, dir, { batch: { maxEvents: 1, maxDelay: 60_000, window: 8 } });
    p2.submit(packet(1n, Buffer.from('e6')));
    await p2.drained();
    assert.deepEqual(core.ids(), [1n, 2n, 3n, 4n, 5n, 6n]);
    assert.equal(server.probe('probe-1')!.duplicatesSkipped, 3);
    assert.equal(server.probe('probe-1')!.lastAcked, 6n);
  });

  it('a probe whose spool was replaced numbers from 1 again, and the mediator takes its batches', async () => {
    const core = new TestHandler();
    const server = await serve(core);
    const p1 = await openProbe(s, server.port, { spoolDir: spoolDir() });
    for (let i = 0; i < 3; i++) p1.submit(packet(1n, Buffer.from(`old ${i}`)));
    await p1.drained();
    await p1.close();
    const p2 = await probe(server.port, spoolDir());
    for (let i = 0; i < 2; i++) p2.submit(packet(1n, Buffer.from(`new ${i}`)));
    await p2.drained();
    assert.deepEqual(core.ids(), [1n, 2n, 3n, 1n, 2n]);
    assert.equal(new Set(core.spools.slice(0, 3)).size, 1);
    assert.notEqual(core.spools[3], core.spools[0]);
    assert.equal(server.probe('probe-1')!.duplicatesSkipped, 0);
    assert.match(s.logs.join('\n'), /probe probe-1 uses a new spool/);
  });

  it('spool full: events are dropped and counted at once, never waited for, and spooling resumes', async () => {
    const core = new TestHandler();
    core.hold = () => true;
    const server = await serve(core);
    const p = await probe(server.port, '', { spool: { dir: spoolDir(), maxBytes: MIN_MAX_BYTES }, batch: { maxEvents: 1, maxDelay: 60_000, window: 2 } });
    const marker = 'TARGET-PAYLOAD-';
    const results: boolean[] = [];
    for (let i = 0; i < 200; i++) results.push(p.submit(packet(42n, Buffer.from(marker + 'x'.repeat(1000)))));
    const taken = results.filter((x) => x).length;
    assert.ok(taken > 10 && taken < 200, `took ${taken} of 200`);
    assert.equal(results.indexOf(false), taken, 'takes events until full, then drops every one');
    const st = p.stats();
    assert.equal(st.eventsDropped, 200 - taken);
    assert.equal(st.dropped.spoolFull, 200 - taken);
    assert.equal(st.eventsSubmitted, 200);
    assert.ok(st.spoolBytes <= MIN_MAX_BYTES);
    assert.match(s.logs.join('\n'), /probe-1 warn: captured events are being lost \(spoolFull\)/);
    // Let the mediator take everything: the spool empties and events are taken again.
    core.hold = () => false;
    core.releaseAll();
    await p.drained();
    assert.equal(p.submit(packet(42n, Buffer.from(marker + 'again'))), true);
    await p.drained();
    assert.deepEqual(core.ids(), range(1n, BigInt(taken + 1)), 'no gap in the numbering: a dropped event never became a batch');
    assert.match(s.logs.join('\n'), new RegExp(`probe-1 warn: ${200 - taken} captured event\\(s\\) were lost \\(spoolFull\\)`));
    assert.ok(!s.logs.join('\n').includes(marker), 'no event content in the logs');
  });
});
