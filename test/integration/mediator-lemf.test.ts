/**
 * The mediator end to end on loopback, with real components only: journals in a temp dir,
 * delivery over mutual TLS to the reference LEMF, certificates made at test time, and (in the
 * second test) a real probe client over gRPC. What the LEMF stored, exactly as received, is
 * read back: IPCC with the packets byte for byte, the directions of the matches, IRI-only
 * packets as header reports, every stream numbered without a gap. Waits on events only.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Direction, Task_Type, type TaskList } from '../../src/gen/lig/v1/ingest';
import type { Lemf } from '../../src/lemf';
import { batchOf, packetEvent } from '../mediation-fixtures';
import { LIID_CC, LIID_IRI, chainHarness, checkStream, config, lemfHolds, stored, taggedPacket, tasksWhen } from './mediator-helpers';

/** Resolves once `lemf` has received at least `cc` CC and `iri` IRI records of the test LIIDs. */
const lemfHas = (lemf: Lemf, cc: number, iri: number): Promise<void> => lemfHolds(lemf, { [LIID_CC]: { cc }, [LIID_IRI]: { iri } });

const taskOf = (list: TaskList, type: Task_Type) => list.tasks.find((t) => t.type === type)!.taskId;
const DIRECTIONS = [Direction.DIRECTION_FROM_TARGET, Direction.DIRECTION_TO_TARGET, Direction.DIRECTION_BOTH];
const PAYLOAD_DIRECTION: Record<number, string> = { 1: 'fromTarget', 2: 'toTarget', 3: 'fromTarget' };

describe('mediator end to end (journals, TLS delivery, reference LEMF)', function () {
  const chain = chainHarness('lig-mediator-e2e-');
  const { logs } = chain;

  it('batches accepted through the handler reach the LEMF as IPCC and header reports, byte for byte, numbered without gaps', async () => {
    const { s } = chain;
    const out = path.join(s.tmp, 'out-1');
    const filesDir = path.join(s.tmp, 'files-1');
    const lemf = await chain.lemf(out);
    const mediator = await chain.mediator(config(s, lemf, { dataDir: path.join(s.tmp, 'data-1'), filesDir }));
    assert.ok(mediator.ingestAddress!.port > 0);
    const tasks = mediator.handler.tasksFor('probe-1');
    assert.equal(tasks.tasks.length, 3);
    const cc = taskOf(tasks, Task_Type.TYPE_CONTENT);
    const iri = taskOf(tasks, Task_Type.TYPE_IRI_ONLY);
    const filesTask = tasks.tasks.filter((t) => t.type === Task_Type.TYPE_CONTENT).map((t) => t.taskId).find((id) => id !== cc)!;
    // which content task is which is not visible to a probe: tell them apart by what arrives
    const sent: { tag: string; direction: Direction }[] = [];
    const accepted: Promise<void>[] = [];
    for (let b = 1; b <= 10; b++) {
      const events = [];
      for (let k = 0; k < 20; k++) {
        const tag = `batch ${b} packet ${k}`;
        const direction = DIRECTIONS[(b + k) % 3]!;
        sent.push({ tag, direction });
        events.push(packetEvent(taggedPacket(tag), [[cc, direction], [iri, direction], [filesTask, direction]], 1_700_000_000_000_000n + BigInt(b * 1000 + k)));
      }
      accepted.push(mediator.handler.accept('probe-1', batchOf(BigInt(b), events), 'spool-1'));
    }
    await Promise.all(accepted);
    await lemfHas(lemf, 200, 200);
    const sink = mediator.sink('files-1')!;
    await sink.whenWritten('hi3', mediator.journal('files-1', 'hi3')!.durable);
    // whenWritten can resolve while the sink is still saving its state, before its counters
    // move: a rotation check goes through the sink's loop after that commit has finished
    await sink.checkRotation();
    assert.equal(sink.stats.written.packets, 200);
    const status = mediator.status();
    await chain.stop();

    // Which LIID got which content task does not matter: the tcp agency's CC stream is one of them.
    const ccRecs = checkStream(stored(out, 'hi3').filter((r) => r.liid === LIID_CC));
    assert.equal(ccRecs.length, 200);
    ccRecs.forEach((r, k) => {
      assert.deepEqual(Buffer.from(r.data!), taggedPacket(sent[k]!.tag), `CC ${k}: the packet, byte for byte`);
      assert.equal(r.direction, PAYLOAD_DIRECTION[sent[k]!.direction], `CC ${k}: direction`);
      assert.equal(r.cin, ccRecs[0]!.cin);
    });
    const iriRecs = checkStream(stored(out, 'hi2').filter((r) => r.liid === LIID_IRI));
    assert.equal(iriRecs.length, 200);
    iriRecs.forEach((r, k) => {
      assert.deepEqual(Buffer.from(r.data!), taggedPacket(sent[k]!.tag).subarray(0, 28), `IRI ${k}: IP and UDP headers only`);
      assert.equal(r.direction, PAYLOAD_DIRECTION[sent[k]!.direction]);
    });
    assert.equal(stored(out, 'hi3').filter((r) => r.liid !== LIID_CC).length, 0, 'the files agency\'s intercept went to its files only');
    const lea = status.agencies.find((a) => a.id === 'lea-1')!;
    assert.deepEqual(lea.journals.map((j) => j.hi), ['hi2', 'hi3']);
    assert.equal(lea.journals.find((j) => j.hi === 'hi3')!.counters.records, 200);
    assert.ok(lea.links!.every((l) => l.status === 'connected'));
    assert.equal(status.counters.unknownTasks, 0);
    assert.ok(!logs.join('\n').includes('LIID-IT'), 'no LIID in the logs');
  });

  it('a real probe over gRPC: tasks pushed, batches acknowledged once durable, records at the LEMF', async () => {
    const { s } = chain;
    const out = path.join(s.tmp, 'out-2');
    const lemf = await chain.lemf(out);
    const mediator = await chain.mediator(config(s, lemf, { dataDir: path.join(s.tmp, 'data-2') }));
    const { port } = mediator.ingestAddress!;
    const probe = await chain.probe(port, { spoolDir: path.join(s.tmp, 'spool-2'), maxEvents: 7 });
    const tasks = await tasksWhen(probe);
    assert.equal(tasks.tasks.length, 2);
    const cc = taskOf(tasks, Task_Type.TYPE_CONTENT);
    const iri = taskOf(tasks, Task_Type.TYPE_IRI_ONLY);
    const n = 100;
    for (let k = 0; k < n; k++) {
      const time = 1_700_000_000_000_000n + BigInt(k);
      assert.ok(probe.submit(packetEvent(taggedPacket(`grpc ${k}`), [[cc, DIRECTIONS[k % 3]!], [iri, Direction.DIRECTION_TO_TARGET]], time)));
    }
    await probe.drained();
    assert.equal(probe.stats().lastAcked, probe.stats().lastStored);
    await lemfHas(lemf, n, n);
    const p1 = mediator.status().probes.find((p) => p.name === 'probe-1')!;
    assert.equal(p1.connected, true);
    assert.ok(p1.batchesAccepted >= Math.ceil(n / 7));
    await chain.stop();
    const ccRecs = checkStream(stored(out, 'hi3').filter((r) => r.liid === LIID_CC));
    assert.deepEqual(ccRecs.map((r) => Buffer.from(r.data!).subarray(28).toString()), Array.from({ length: n }, (_, k) => `grpc ${k}`));
    assert.deepEqual(ccRecs.map((r) => r.direction), Array.from({ length: n }, (_, k) => PAYLOAD_DIRECTION[DIRECTIONS[k % 3]!]));
    assert.equal(checkStream(stored(out, 'hi2').filter((r) => r.liid === LIID_IRI)).length, n);
    assert.ok(!logs.join('\n').includes('LIID-IT'), 'no LIID in the logs');
  });

  it('probe-2 is not given the intercept restricted to probe-1, and its matches of it are dropped', async () => {
    const { s } = chain;
    const out = path.join(s.tmp, 'out-3');
    const lemf = await chain.lemf(out);
    const mediator = await chain.mediator(config(s, lemf, { dataDir: path.join(s.tmp, 'data-3') }), { ingest: false, log: () => undefined });
    const l1 = mediator.handler.tasksFor('probe-1');
    const l2 = mediator.handler.tasksFor('probe-2');
    assert.deepEqual(l2.tasks.map((t) => t.type), [Task_Type.TYPE_CONTENT]);
    const iri = taskOf(l1, Task_Type.TYPE_IRI_ONLY);
    await mediator.handler.accept('probe-2', batchOf(1n, [packetEvent(taggedPacket('x'), [[iri, 1]])]), 'spool');
    assert.equal(mediator.status().counters.unknownTasks, 1);
    assert.equal(mediator.journal('lea-1', 'hi2')!.durable, 0n);
  });
});
