/**
 * The core's guarantee on real journals (no network): a batch resent after a crash makes no
 * record twice and numbering continues without a gap, also when the crash came between the
 * appends of one batch to two journals; another spool's batches are new batches; a full
 * journal holds accept() back until delivery frees room, or fails it after the bound without
 * leaving a hole.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal, type JournalOptions } from '../../src/delivery/journal';
import { decodeFrame } from '../../src/delivery/journal/framing';
import { isLigError } from '../../src/errors';
import type { Hi } from '../../src/mediation/encode-batch';
import { MediationHandler } from '../../src/mediation/handler';
import { JournalChannel } from '../../src/mediation/journal-channel';
import { CinRegistry } from '../../src/mediation/numbering';
import { TaskIds } from '../../src/mediation/tasks';
import { agencyTcp, batchOf, intercept, ipv4, packetEvent, readRecord } from '../mediation-fixtures';

const INTERCEPTS = [intercept('LIID-CC', 'content'), intercept('LIID-IRI', 'iri-only')];

/** The core over journals in `dir`, as the mediator assembles it (without delivery or gRPC). */
class Core {
  private constructor(
    readonly handler: MediationHandler,
    readonly journals: Record<Hi, Journal>,
    readonly channels: Record<Hi, JournalChannel>,
    readonly taskIds: TaskIds,
  ) {}

  static async open(dir: string, jopts: JournalOptions = {}, roomWaitMs?: number): Promise<Core> {
    const taskIds = await TaskIds.open(dir);
    const cins = await CinRegistry.open(dir);
    const journals = { hi2: await Journal.open(path.join(dir, 'hi2'), jopts), hi3: await Journal.open(path.join(dir, 'hi3'), jopts) };
    const channels = { hi2: new JournalChannel(journals.hi2, 'lea-1/hi2', roomWaitMs), hi3: new JournalChannel(journals.hi3, 'lea-1/hi3', roomWaitMs) };
    const handler = await MediationHandler.create({ agencies: [agencyTcp()], intercepts: INTERCEPTS, taskIds, cins, channel: (_a, hi) => channels[hi] });
    return new Core(handler, journals, channels, taskIds);
  }

  task(liid: string): bigint {
    return this.taskIds.get('lea-1', liid)!;
  }

  /** Batch `id`: `n` packets, each unique (batch id and index in its payload), matching both intercepts. */
  batch(id: number, n = 3) {
    const events = Array.from({ length: n }, (_, k) =>
      packetEvent(ipv4('udp', Buffer.from(`batch ${id} packet ${k}`)).bytes, [
        [this.task('LIID-CC'), 1],
        [this.task('LIID-IRI'), 2],
      ]),
    );
    return batchOf(BigInt(id), events);
  }

  async close(): Promise<void> {
    await this.journals.hi2.close();
    await this.journals.hi3.close();
  }
}

/** Resolves once `cond` holds, checking after each turn of the event loop (no timers). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

/** Every record of a journal, decoded. */
async function contents(j: Journal) {
  const out = [];
  for (let from = j.confirmed + 1n; ; ) {
    const got = await j.read(from, { maxRecords: 1000 });
    if (got.length === 0) return out;
    out.push(...got.map((r) => readRecord(r.data)));
    from = got.at(-1)!.index + 1n;
  }
}

/** Asserts sequence numbers 0..n-1 in order and the CC payloads of batches `ids` (3 packets each), each once. */
async function expectJournals(core: Core, ids: number[], n = 3): Promise<void> {
  const cc = await contents(core.journals.hi3);
  const iri = await contents(core.journals.hi2);
  assert.deepEqual(cc.map((r) => r.seq), cc.map((_, k) => k), 'CC numbered without gaps');
  assert.deepEqual(iri.map((r) => r.seq), iri.map((_, k) => k), 'IRI numbered without gaps');
  const want = ids.flatMap((id) => Array.from({ length: n }, (_, k) => `batch ${id} packet ${k}`));
  assert.deepEqual(cc.map((r) => Buffer.from(r.data!).subarray(28).toString()), want, 'every packet once, in order');
  assert.equal(iri.length, want.length);
  assert.ok(iri.every((r) => r.data!.length === 28), 'IRI: headers only');
}

describe('mediation: resends and crashes on real journals', () => {
  let dir: string;
  let core: Core | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-mediation-dedup-'));
  });
  afterEach(async () => {
    await core?.close();
    core = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a batch resent, in the same run or after a restart, makes no record twice; numbering goes on', async () => {
    core = await Core.open(dir);
    for (let id = 1; id <= 5; id++) await core.handler.accept('probe-1', core.batch(id), 'spool-a');
    for (let id = 3; id <= 5; id++) await core.handler.accept('probe-1', core.batch(id), 'spool-a');
    assert.equal(core.channels.hi3.counters.duplicateBatches, 3);
    await core.close();
    core = await Core.open(dir);
    for (let id = 2; id <= 7; id++) await core.handler.accept('probe-1', core.batch(id), 'spool-a');
    await expectJournals(core, [1, 2, 3, 4, 5, 6, 7]);
  });

  it('a crash between the two journals of one batch: the resend fills in the missing one, same numbers', async () => {
    core = await Core.open(dir);
    for (let id = 1; id <= 4; id++) await core.handler.accept('probe-1', core.batch(id), 'spool-a');
    await core.close();
    core = undefined;
    // Cut batch 4's append (records and state) off the HI3 journal, as a crash before its fsync would.
    const seg = path.join(dir, 'hi3', fs.readdirSync(path.join(dir, 'hi3')).filter((n) => n.endsWith('.seg')).sort().at(-1)!);
    const bytes = fs.readFileSync(seg);
    let at = 16;
    const starts: number[] = [];
    let inTxn = false;
    while (at < bytes.length) {
      const r = decodeFrame(bytes, at);
      assert.equal(r.kind, 'frame');
      if (r.kind !== 'frame') break;
      if (r.type === 'txn' && !inTxn) starts.push(at);
      inTxn = r.type === 'txn';
      at += r.size;
    }
    fs.writeFileSync(seg, bytes.subarray(0, starts.at(-1)! + 5)); // torn inside batch 4's first record
    core = await Core.open(dir);
    assert.equal(core.journals.hi3.durable, 9n, 'batch 4 is gone from HI3');
    assert.equal(core.journals.hi2.durable, 12n, 'and still in HI2');
    for (let id = 4; id <= 5; id++) await core.handler.accept('probe-1', core.batch(id), 'spool-a');
    assert.equal(core.channels.hi2.counters.duplicateBatches, 1);
    assert.equal(core.channels.hi3.counters.duplicateBatches, 0);
    await expectJournals(core, [1, 2, 3, 4, 5]);
  });

  it('batches of a new spool are new batches, even with the ids of the old one', async () => {
    core = await Core.open(dir);
    await core.handler.accept('probe-1', core.batch(1), 'spool-a');
    await core.handler.accept('probe-1', core.batch(2), 'spool-a');
    await core.handler.accept('probe-1', core.batch(1), 'spool-b');
    await core.handler.accept('probe-2', core.batch(2), 'spool-a');
    const cc = await contents(core.journals.hi3);
    assert.equal(cc.length, 12);
    assert.deepEqual(cc.map((r) => r.seq), cc.map((_, k) => k));
  });

  it('new intercepts get a task id and a CIN; only probes whose list changed are told; removed tasks drop', async () => {
    core = await Core.open(dir);
    const told: string[] = [];
    core.handler.onTasksChanged((p) => told.push(p));
    core.handler.tasksFor('probe-1');
    core.handler.tasksFor('probe-2');
    const ccTask = core.task('LIID-CC');
    await core.handler.setIntercepts([intercept('LIID-CC', 'content'), intercept('LIID-NEW', 'content', 'lea-1', ['probe-2'])]);
    assert.deepEqual(told, ['probe-1', 'probe-2'], 'both lost the IRI-only task; probe-2 also got the new one');
    assert.equal(core.task('LIID-CC'), ccTask, 'a kept intercept keeps its task id');
    assert.deepEqual(core.handler.tasksFor('probe-1').tasks.map((t) => t.taskId), [ccTask]);
    assert.equal(core.handler.tasksFor('probe-2').tasks.length, 2);
    assert.equal(core.handler.tasksFor('probe-2').version, 2n);
    told.length = 0;
    await core.handler.setIntercepts([intercept('LIID-CC', 'content'), intercept('LIID-NEW', 'content', 'lea-1', ['probe-2'])]);
    assert.deepEqual(told, [], 'nothing changed: nobody is told');
    await core.handler.accept('probe-1', core.batch(1), 'spool-a'); // also matches the removed IRI-only task
    assert.equal(core.handler.counters.unknownTasks, 3);
    assert.equal(core.journals.hi2.durable, 0n);
    assert.equal(core.journals.hi3.durable, 3n);
  });

  it('many batches in flight at once are journaled in call order and resolve once durable', async () => {
    core = await Core.open(dir);
    const accepted = Array.from({ length: 40 }, (_, k) => core!.handler.accept('probe-1', core!.batch(k + 1), 'spool-a'));
    await Promise.all(accepted);
    await expectJournals(core, Array.from({ length: 40 }, (_, k) => k + 1));
    assert.ok(core.journals.hi3.stats.syncs < 40, 'appends shared fsyncs');
  });

  it('a full journal holds accept() back until delivery frees room, then goes on', async () => {
    core = await Core.open(dir, { maxBytes: 80 * 1024, segmentBytes: 4096 });
    const j = core.journals.hi3;
    let id = 1;
    while (j.hasRoom(16 * 1024)) await core.handler.accept('probe-1', core.batch(id++, 20), 'spool-a');
    let done = false;
    const held = core.handler.accept('probe-1', core.batch(id, 200), 'spool-a').then(() => (done = true));
    await until(() => core!.channels.hi3.counters.roomWaits === 1);
    assert.equal(done, false, 'waiting for room');
    await j.confirm(j.durable); // delivery confirms everything
    await core.journals.hi2.confirm(core.journals.hi2.durable);
    await held;
    const cc = await contents(j);
    assert.equal(cc.length, 200);
    assert.equal(cc[0]!.seq, (id - 1) * 20, 'numbering went on across the wait');
  });

  it('when room does not come in time: JOURNAL_FULL, later batches of the spool fail too, the resend leaves no gap', async () => {
    core = await Core.open(dir, { maxBytes: 80 * 1024, segmentBytes: 4096 }, 50);
    const j = core.journals.hi3;
    let id = 1;
    while (j.hasRoom(16 * 1024)) await core.handler.accept('probe-1', core.batch(id++, 20), 'spool-a');
    const full = id;
    const a = core.handler.accept('probe-1', core.batch(full, 200), 'spool-a');
    const b = core.handler.accept('probe-1', core.batch(full + 1, 2), 'spool-a');
    const isFull = (e: unknown) => isLigError(e) && e.code === 'LIG_ERR_JOURNAL_FULL';
    await assert.rejects(a, isFull);
    await assert.rejects(b, isFull);
    assert.equal(core.channels.hi3.counters.roomTimeouts, 1);
    await j.confirm(j.durable);
    await core.journals.hi2.confirm(core.journals.hi2.durable);
    // The probe resends from the failed batch.
    await core.handler.accept('probe-1', core.batch(full, 200), 'spool-a');
    await core.handler.accept('probe-1', core.batch(full + 1, 2), 'spool-a');
    const cc = await contents(j);
    assert.equal(cc.length, 202);
    assert.deepEqual(cc.map((r) => r.seq), cc.map((_, k) => (full - 1) * 20 + k));
    assert.deepEqual(cc.map((r) => Buffer.from(r.data!).subarray(28).toString()).slice(-2), [`batch ${full + 1} packet 0`, `batch ${full + 1} packet 1`]);
  });
});
