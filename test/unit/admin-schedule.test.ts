/**
 * WarrantSchedule on a real warrant store and audit log, with a clock the test moves: what is
 * applied is exactly the warrants in force (never a pending one, never before its start or
 * after its end), the timer is set at the next start or end time and re-evaluates there, an
 * overdue warrant expires (state expired, on the audit log), transitions are reported for HI1,
 * and refreshes never overlap.
 */
import { strict as assert } from 'node:assert';
import { ReportMode } from '../../src/gen/lig/v1/ingest';
import { TaskIds, TaskTable } from '../../src/mediation/tasks';
import { AuditLog, WarrantStore, type Warrant } from '../../src/provisioning';
import { type Transition, WarrantSchedule, interceptOf, withWarrants } from '../../src/provisioning/warrant-schedule';
import { ManualClock } from '../helpers/manual-clock';
import { ADMIN, AGENCIES, HOUR, T0, dataDirHooks, spec } from './provisioning-fixtures';

describe('admin: the warrant schedule', () => {
  const h = dataDirHooks();
  let clock: ManualClock;
  let store: WarrantStore;
  let audit: AuditLog;
  let applied: number[][];
  let transitions: string[];
  let schedule: WarrantSchedule | undefined;

  beforeEach(() => {
    clock = new ManualClock(T0);
    const now = () => new Date(clock.now());
    audit = h.track(AuditLog.open(h.dir(), { clock: now }));
    store = h.track(WarrantStore.open(h.dir(), { agencies: AGENCIES, audit, clock: now }));
    applied = [];
    transitions = [];
  });
  afterEach(() => {
    schedule?.close();
    schedule = undefined;
  });

  const start = async () => {
    schedule = await WarrantSchedule.start({
      store,
      clock,
      apply: async (ws: readonly Warrant[]) => {
        applied.push(ws.map((w) => w.id));
      },
      onTransition: (t: Transition) => transitions.push(`${t.kind} ${t.warrant.id}`),
    });
    return schedule;
  };
  /** Lets the refresh a timer started run to its end. */
  const settle = () => new Promise((r) => setImmediate(r));

  it('applies nothing for a pending warrant, and the warrant once activated', async () => {
    const w = store.create(spec(), ADMIN);
    const s = await start();
    assert.deepEqual(applied, [[]], 'the first evaluation applies what is in force: nothing');
    await s.refresh();
    assert.deepEqual(applied, [[]], 'a refresh that changes nothing applies nothing');
    store.activate(w.id, ADMIN);
    await s.refresh();
    assert.deepEqual(applied, [[], [w.id]]);
    assert.deepEqual(transitions, [`activated ${w.id}`]);
    assert.deepEqual(s.inForce.map((x) => x.id), [w.id]);
  });

  it('puts a warrant in force at its start time and out of force at its end time, by its timer', async () => {
    const w = store.create(spec({ startTime: new Date(T0 + HOUR), endTime: new Date(T0 + 3 * HOUR) }), ADMIN);
    store.activate(w.id, ADMIN);
    await start();
    assert.deepEqual(applied, [[]], 'active but before its start: not in force');
    assert.deepEqual(clock.pending(), [HOUR], 'one timer, at the start time');
    clock.advance(HOUR - 1);
    await settle();
    assert.deepEqual(applied, [[]], 'a millisecond before the start: still nothing');
    clock.advance(1);
    await settle();
    assert.deepEqual(applied, [[], [w.id]], 'in force from its start time');
    assert.deepEqual(clock.pending(), [2 * HOUR], 'the next timer is at the end time');
    clock.advance(2 * HOUR);
    await settle();
    assert.deepEqual(applied, [[], [w.id], []], 'out of force at its end time');
    assert.equal(store.get(w.id)!.state, 'expired');
    assert.deepEqual(clock.pending(), [], 'nothing left to wait for');
    assert.deepEqual(transitions, [`activated ${w.id}`, `deactivated ${w.id}`]);
    const expiry = audit.entries().filter((e) => e.action === 'warrant.expire');
    assert.deepEqual(expiry.map((e) => [e.subject, e.actor, e.time]), [[`warrant/${w.id}`, 'mediator', new Date(T0 + 3 * HOUR).toISOString()]]);
  });

  it('expires an overdue warrant at start-up and reports it as leaving force when it had been in force', async () => {
    const a = store.create(spec({ liid: 'A', endTime: new Date(T0 + HOUR) }), ADMIN);
    store.activate(a.id, ADMIN);
    const b = store.create(spec({ liid: 'B', endTime: new Date(T0 + HOUR) }), ADMIN);
    clock.advance(2 * HOUR); // the mediator was down meanwhile
    await start();
    assert.deepEqual(applied, [[]]);
    assert.equal(store.get(a.id)!.state, 'expired');
    assert.equal(store.get(b.id)!.state, 'expired');
    assert.deepEqual(transitions, [`deactivated ${a.id}`], 'a pending warrant was never in force: no notification');
  });

  it('reports a change to a warrant in force as modified, and a stop as leaving force', async () => {
    const w = store.create(spec(), ADMIN);
    store.activate(w.id, ADMIN);
    const s = await start();
    assert.deepEqual(transitions, [], 'what was in force at start-up is the baseline');
    store.modify(w.id, { targets: [{ kind: 'username', username: 'bob' }] }, ADMIN);
    await s.refresh();
    assert.deepEqual(applied, [[w.id], [w.id]], 'the new version is applied');
    store.stop(w.id, ADMIN);
    await s.refresh();
    assert.deepEqual(applied, [[w.id], [w.id], []]);
    assert.deepEqual(transitions, [`modified ${w.id}`, `deactivated ${w.id}`]);
  });

  it('runs one evaluation after the running one for any number of refreshes asked for meanwhile', async () => {
    let release!: () => void;
    let calls = 0;
    const w = store.create(spec(), ADMIN);
    schedule = await WarrantSchedule.start({
      store,
      clock,
      apply: (ws) => {
        calls++;
        applied.push(ws.map((x) => x.id));
        return calls === 2 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
    });
    store.activate(w.id, ADMIN);
    const first = schedule.refresh();
    store.modify(w.id, { endTime: new Date(T0 + 48 * HOUR) }, ADMIN);
    const second = schedule.refresh();
    const third = schedule.refresh();
    assert.equal(second, third, 'refreshes asked for while one runs share the next evaluation');
    release();
    await Promise.all([first, second]);
    assert.equal(calls, 3);
    assert.deepEqual(applied, [[], [w.id], [w.id]]);
    assert.equal(schedule.inForce[0]!.version, store.get(w.id)!.version, 'the last evaluation saw the last change');
  });

  it('an iri-only warrant\'s reporting mode goes into its intercept and the probe\'s task; changing it is a modification applied at once', async () => {
    const w = store.create(spec({ type: 'iri-only', reports: { mode: 'summary', interval: 90_000 } }), ADMIN);
    const c = store.create(spec({ liid: 'CONTENT' }), ADMIN);
    store.activate(w.id, ADMIN);
    store.activate(c.id, ADMIN);
    const intercepts: ReturnType<typeof interceptOf>[][] = [];
    schedule = await WarrantSchedule.start({
      store,
      clock,
      apply: async (ws) => {
        intercepts.push(ws.map(interceptOf));
      },
      onTransition: (t) => transitions.push(`${t.kind} ${t.warrant.id}`),
    });
    assert.deepEqual(intercepts[0]!.map((i) => i.reports), [{ mode: 'summary', interval: 90_000 }, undefined], 'a content warrant\'s intercept has none');
    const ids = await TaskIds.open(h.dir());
    await ids.assign(intercepts[0]!);
    const tasks = (list: ReturnType<typeof interceptOf>[], version: bigint) => new TaskTable(list, ids, version);
    const before = tasks(intercepts[0]!, 1n);
    assert.deepEqual(before.listFor('probe-1').tasks.map((t) => [t.reportMode, t.summaryIntervalSeconds]), [[ReportMode.REPORT_MODE_SUMMARY, 90], [undefined, undefined]]);

    store.modify(w.id, { reports: { mode: 'both', interval: 30_000 } }, ADMIN);
    await schedule.refresh();
    assert.deepEqual(transitions, [`modified ${w.id}`]);
    assert.equal(intercepts.length, 2, 'the new mode is applied');
    assert.deepEqual(intercepts[1]![0]!.reports, { mode: 'both', interval: 30_000 });
    const after = tasks(intercepts[1]!, 2n);
    assert.ok(after.differsFor('probe-1', before), 'the probe is sent a new task list');
    assert.deepEqual([after.listFor('probe-1').tasks[0]!.reportMode, after.listFor('probe-1').tasks[0]!.summaryIntervalSeconds], [ReportMode.REPORT_MODE_BOTH, 30]);
  });

  it('turns a warrant into an intercept, and leaves out one that collides with a static intercept', () => {
    const w = store.create(spec({ probes: ['probe-east'] }), ADMIN);
    const i = interceptOf(w);
    assert.deepEqual(i, { liid: w.liid, agency: w.agency, type: w.type, targets: w.targets, probes: ['probe-east'], window: { until: w.endTime } }, 'not activated: no start to its window');
    const errors: string[] = [];
    const statics = [{ liid: w.liid, agency: w.agency, type: 'iri-only' as const, targets: [{ kind: 'username' as const, username: 'x' }] }];
    const merged = withWarrants(statics, [w], (_l, m) => errors.push(m));
    assert.deepEqual(merged, statics);
    assert.equal(errors.length, 1);
    assert.ok(!errors[0]!.includes(w.liid), 'the log line names the warrant by id, not by LIID');
  });
});
