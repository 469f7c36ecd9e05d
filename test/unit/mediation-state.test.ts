/**
 * The mediator's identifiers and counters: task ids (stable across restarts, opaque, only
 * the probe's own tasks), CINs (allocated once, durable, unique per LIID), sequence counters
 * and watermarks (the journal state: round trip, rollback, damaged input refused).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isLigError } from '../../src/errors';
import { TaskList } from '../../src/gen/lig/v1/ingest';
import { ChannelState, MAX_SPOOLS_PER_PROBE } from '../../src/mediation/channel-state';
import { CINS_FILE, CinRegistry, MAX_SEQUENCE_NUMBER, Numbering } from '../../src/mediation/numbering';
import { TASKS_FILE, TaskIds, TaskTable } from '../../src/mediation/tasks';
import { intercept } from '../mediation-fixtures';

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isLigError(e) && e.code === code);
}

describe('mediation: numbering and journal state', () => {
  it('Numbering: counts per (LIID, CIN) from 0, gives numbers back, rolls back, wraps', () => {
    const n = new Numbering();
    assert.deepEqual([n.take('A', 1), n.take('A', 1), n.take('A', 2), n.take('B', 1)].map((x) => x.seq), [0, 1, 0, 0]);
    const t = n.take('A', 1);
    n.untake('A', 1, t);
    assert.equal(n.take('A', 1).seq, 2);
    n.begin();
    n.take('A', 1);
    n.take('C', 7);
    n.rollback();
    assert.equal(n.peek('A', 1), 3);
    assert.equal(n.peek('C', 7), 0);
    assert.deepEqual(n.toJSON().find(([l]) => l === 'C'), undefined, 'a rolled-back key leaves no trace');
    n.set('W', 1, MAX_SEQUENCE_NUMBER);
    assert.deepEqual(n.take('W', 1), { seq: MAX_SEQUENCE_NUMBER, reset: false });
    const w = n.take('W', 1);
    assert.deepEqual(w, { seq: 0, reset: true });
    n.untake('W', 1, w);
    assert.deepEqual(n.take('W', 1), { seq: 0, reset: true });
    const back = Numbering.fromJSON(JSON.parse(JSON.stringify(n.toJSON())))!;
    assert.equal(back.peek('A', 1), 3);
    assert.equal(back.peek('W', 1), 1);
    for (const bad of [{}, [['A', 1]], [['A', -1, 0]], [['A', 1, 2 ** 33]], [[1, 1, 1]]]) assert.equal(Numbering.fromJSON(bad), undefined);
  });

  it('ChannelState: round-trips counters and watermarks, forgets the oldest spools, rolls back', () => {
    const s = new ChannelState();
    s.begin();
    s.numbering.take('LIID-1', 3);
    s.advance('probe-1', 'spool-a', 7n);
    s.commit();
    for (let k = 0; k < MAX_SPOOLS_PER_PROBE; k++) {
      s.begin();
      s.advance('probe-2', `spool-${k}`, BigInt(k + 1));
      s.commit();
    }
    s.begin();
    s.advance('probe-2', 'spool-0', 100n); // most recently used again
    s.advance('probe-2', 'spool-new', 1n);
    s.commit();
    const back = ChannelState.decode(s.encode(), 'test');
    assert.equal(back.watermark('probe-1', 'spool-a'), 7n);
    assert.equal(back.watermark('probe-1', 'spool-b'), 0n);
    assert.equal(back.watermark('probe-2', 'spool-0'), 100n);
    assert.equal(back.watermark('probe-2', 'spool-new'), 1n);
    assert.equal(back.watermark('probe-2', 'spool-1'), 0n, 'the least recently used spool was forgotten');
    assert.equal(back.numbering.peek('LIID-1', 3), 1);
    back.begin();
    back.numbering.take('LIID-1', 3);
    back.advance('probe-1', 'spool-a', 8n);
    back.advance('probe-3', 'x', 1n);
    back.rollback();
    assert.equal(back.watermark('probe-1', 'spool-a'), 7n);
    assert.equal(back.numbering.peek('LIID-1', 3), 1);
    for (const bad of ['', 'null', '{"v":2,"seq":[],"wm":{}}', '{"v":1,"seq":[],"wm":{"p":[["s",7]]}}', '{"v":1,"wm":{}}']) {
      assert.throws(() => ChannelState.decode(Buffer.from(bad), 'lea/hi2'), (e: unknown) => isLigError(e) && e.code === 'LIG_ERR_MEDIATION_STATE');
    }
  });
});

describe('mediation: task ids and CINs in the data directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-mediation-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('task ids are stable across restarts, distinct, opaque, and never reused', async () => {
    const list = [intercept('LIID-A', 'content'), intercept('LIID-B', 'iri-only'), intercept('LIID-A', 'content', 'lea-2')];
    const ids = await TaskIds.open(dir);
    await ids.assign(list);
    const first = list.map((i) => ids.get(i.agency, i.liid)!);
    assert.equal(new Set(first.map(String)).size, 3);
    assert.ok(first.every((id) => id > 0n && id < 1n << 63n));
    assert.equal((fs.statSync(path.join(dir, TASKS_FILE)).mode & 0o777).toString(8), '600');
    const again = await TaskIds.open(dir);
    await again.assign([...list, intercept('LIID-C', 'content')]);
    assert.deepEqual(list.map((i) => again.get(i.agency, i.liid)), first);
    assert.ok(!first.includes(again.get('lea-1', 'LIID-C')!));
    fs.writeFileSync(path.join(dir, TASKS_FILE), '{"version":1,"tasks":[{"agency":"a","liid":"b","id":"x"}]}');
    await rejectsCode(TaskIds.open(dir), 'LIG_ERR_MEDIATION_STATE');
    fs.writeFileSync(path.join(dir, TASKS_FILE), '{"version":1,"tasks":[');
    await rejectsCode(TaskIds.open(dir), 'LIG_ERR_MEDIATION_STATE');
  });

  it('a probe gets only its tasks, never a LIID; task ids resolve only for the probes given them', async () => {
    const all = intercept('LIID-SECRET-ALL', 'content');
    const only2 = intercept('LIID-SECRET-P2', 'iri-only', 'lea-1', ['probe-2']);
    const ids = await TaskIds.open(dir);
    await ids.assign([all, only2]);
    const table = new TaskTable([all, only2], ids, 1n);
    const l1 = table.listFor('probe-1');
    const l2 = table.listFor('probe-2');
    assert.deepEqual(l1.tasks.map((t) => t.taskId), [ids.get('lea-1', 'LIID-SECRET-ALL')]);
    assert.deepEqual(l2.tasks.map((t) => [t.taskId, t.type]).sort(), [
      [ids.get('lea-1', 'LIID-SECRET-ALL'), 1],
      [ids.get('lea-1', 'LIID-SECRET-P2'), 2],
    ].sort());
    assert.deepEqual(l1.tasks[0]!.targets, [{ kind: { $case: 'ip', ip: { address: Buffer.from([192, 0, 2, 7]), prefixLength: 32 } } }]);
    for (const l of [l1, l2]) {
      const bytes = Buffer.from(TaskList.encode(l).finish());
      assert.ok(!bytes.includes('LIID-SECRET') && !bytes.includes('lea-1'), 'no LIID or agency on the wire');
    }
    const p2task = ids.get('lea-1', 'LIID-SECRET-P2')!;
    assert.equal(table.resolve('probe-1', p2task), undefined);
    assert.equal(table.resolve('probe-2', p2task)?.intercept.liid, 'LIID-SECRET-P2');
    assert.equal(table.resolve('probe-1', 12345n), undefined);
    const next = new TaskTable([all], ids, 2n);
    assert.equal(next.differsFor('probe-1', table), false);
    assert.equal(next.differsFor('probe-2', table), true);
  });

  it('CINs are allocated once per communication, durable, distinct per LIID, and survive restarts', async () => {
    const r = await CinRegistry.open(dir);
    await r.allocate([intercept('L1', 'content'), intercept('L2', 'content'), intercept('L1', 'content', 'lea-2')]);
    await r.allocate([{ agency: 'lea-1', liid: 'L1', communication: 'session-9' }]);
    const got = [r.get('lea-1', 'L1'), r.get('lea-1', 'L2'), r.get('lea-2', 'L1'), r.get('lea-1', 'L1', 'session-9')];
    assert.deepEqual(got, [1, 1, 1, 2]);
    const again = await CinRegistry.open(dir);
    await again.allocate([intercept('L1', 'content')]);
    assert.deepEqual([again.get('lea-1', 'L1'), again.get('lea-1', 'L1', 'session-9')], [1, 2]);
    await again.allocate([{ agency: 'lea-1', liid: 'L1', communication: 'session-10' }]);
    assert.equal(again.get('lea-1', 'L1', 'session-10'), 3);
    fs.writeFileSync(path.join(dir, CINS_FILE), '{"version":1,"liids":[{"agency":"a","liid":"b","next":2,"cins":{"x":5}}]}');
    await rejectsCode(CinRegistry.open(dir), 'LIG_ERR_MEDIATION_STATE');
  });
});
