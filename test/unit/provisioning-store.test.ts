import { strict as assert } from 'node:assert';
import { WarrantError } from '../../src/errors';
import { MEDIATOR_ACTOR, warrantToJson } from '../../src/provisioning';
import type { Actor, AuditLog, Warrant, WarrantStore } from '../../src/provisioning';
import { ADMIN, AUDITOR, HOUR, SECRET_STRINGS, T0, TestClock, dataDirHooks, messagesOf, openBoth, spec } from './provisioning-fixtures';

describe('provisioning: warrant store', () => {
  const h = dataDirHooks();
  let clock: TestClock;
  let audit: AuditLog;
  let store: WarrantStore;
  beforeEach(() => {
    clock = new TestClock();
    ({ audit, store } = openBoth(h, clock));
  });

  /** Asserts `fn` throws a WarrantError with `code` that quotes nothing sensitive, and writes no audit entry. */
  function refused(fn: () => unknown, code: string): void {
    const seq = audit.head?.seq;
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof WarrantError, String(e));
      assert.equal(e.code, code, e.message);
      for (const s of SECRET_STRINGS) assert.ok(!messagesOf(e).includes(s), e.message);
      return true;
    });
    assert.equal(audit.head?.seq, seq, 'a refused change is not audited');
  }

  /** The last audit entry, checked to match the warrant's change. */
  function lastAudit(action: string, actor: Actor, before: Warrant | undefined, after: Warrant): void {
    const e = audit.entries().at(-1)!;
    assert.deepEqual(
      { action: e.action, actor: e.actor, role: e.role, subject: e.subject, before: e.before, after: e.after, time: e.time },
      {
        action,
        actor: actor.name,
        role: actor.role,
        subject: `warrant/${after.id}`,
        before: before && JSON.parse(JSON.stringify(warrantToJson(before))),
        after: JSON.parse(JSON.stringify(warrantToJson(after))),
        time: clock.now().toISOString(),
      },
    );
    assert.deepEqual(store.auditAnchor(), { seq: e.seq, hash: e.hash }, 'the anchor moves with the change');
  }

  it('create: a pending warrant, never active, audited with the warrant after', () => {
    const w = store.create(spec(), ADMIN);
    assert.deepEqual(
      { id: w.id, state: w.state, version: w.version, createdBy: w.createdBy, createdAt: w.createdAt.getTime() },
      { id: 1, state: 'pending', version: 1, createdBy: 'alice', createdAt: T0 },
    );
    assert.deepEqual(store.get(1), w);
    lastAudit('warrant.create', ADMIN, undefined, w);
    assert.equal(audit.entries().at(-1)!.before, undefined);
    assert.deepEqual(store.inForce(), [], 'creation never activates');
    assert.equal(store.create(spec({ liid: 'OTHER' }), ADMIN).id, 2);
  });

  it('create: the LIID is unique per agency, for ever', () => {
    const w = store.create(spec(), ADMIN);
    refused(() => store.create(spec(), ADMIN), 'LIG_ERR_WARRANT_CONFLICT');
    store.stop(w.id, ADMIN);
    refused(() => store.create(spec(), ADMIN), 'LIG_ERR_WARRANT_CONFLICT');
    assert.equal(store.create(spec({ agency: 'bka' }), ADMIN).state, 'pending', 'another agency may use it');
  });

  it('create: invalid specs and actors are refused', () => {
    refused(() => store.create(spec({ endTime: new Date(T0 - 1) }), ADMIN), 'LIG_ERR_WARRANT_INVALID');
    refused(() => store.create(spec({ agency: 'nsa' }), ADMIN), 'LIG_ERR_WARRANT_INVALID');
    refused(() => store.create(spec(), AUDITOR), 'LIG_ERR_WARRANT_FORBIDDEN');
    refused(() => store.create(spec(), MEDIATOR_ACTOR), 'LIG_ERR_WARRANT_FORBIDDEN');
    refused(() => store.create(spec(), { name: '', role: 'admin' }), 'LIG_ERR_WARRANT_INVALID');
    assert.deepEqual(store.list(), []);
  });

  it('activate: pending → active, by a named admin; audited before/after', () => {
    const w = store.create(spec(), ADMIN);
    clock.advance(5000);
    const bob: Actor = { name: 'bob', role: 'admin' };
    const a = store.activate(w.id, bob);
    assert.deepEqual({ state: a.state, version: a.version, by: a.activatedBy, at: a.activatedAt?.getTime() }, { state: 'active', version: 2, by: 'bob', at: T0 + 5000 });
    lastAudit('warrant.activate', bob, w, a);
    assert.deepEqual(store.inForce().map((x) => x.id), [w.id]);
  });

  it('activate: refused when not pending, after the end time, for others than admin, for an unknown id', () => {
    const w = store.create(spec(), ADMIN);
    refused(() => store.activate(w.id, AUDITOR), 'LIG_ERR_WARRANT_FORBIDDEN');
    store.activate(w.id, ADMIN);
    refused(() => store.activate(w.id, ADMIN), 'LIG_ERR_WARRANT_STATE');
    store.stop(w.id, ADMIN);
    refused(() => store.activate(w.id, ADMIN), 'LIG_ERR_WARRANT_STATE');
    const late = store.create(spec({ liid: 'LATE', endTime: new Date(T0 + HOUR) }), ADMIN);
    clock.advance(HOUR);
    refused(() => store.activate(late.id, ADMIN), 'LIG_ERR_WARRANT_STATE');
    store.expireDue();
    refused(() => store.activate(late.id, ADMIN), 'LIG_ERR_WARRANT_STATE');
    refused(() => store.activate(99, ADMIN), 'LIG_ERR_WARRANT_NOT_FOUND');
    refused(() => store.activate(1.5, ADMIN), 'LIG_ERR_WARRANT_NOT_FOUND');
  });

  it('modify: pending and active warrants; every field; audited before/after', () => {
    const w = store.create(spec({ probes: ['p1'] }), ADMIN);
    clock.advance(1000);
    const m1 = store.modify(w.id, { targets: [{ kind: 'mac', mac: '00:11:22:33:44:55' }], compliance: { orderReference: 'ORDER-2' } }, ADMIN, 1);
    assert.deepEqual(m1.targets, [{ kind: 'mac', mac: '00:11:22:33:44:55' }]);
    assert.deepEqual(m1.compliance, { ...w.compliance, orderReference: 'ORDER-2' });
    assert.equal(m1.version, 2);
    lastAudit('warrant.modify', ADMIN, w, m1);
    const a = store.activate(w.id, ADMIN);
    const m2 = store.modify(w.id, { startTime: new Date(T0 + HOUR), endTime: new Date(T0 + 48 * HOUR), probes: null }, ADMIN);
    assert.deepEqual({ start: m2.startTime?.getTime(), end: m2.endTime.getTime(), probes: m2.probes, state: m2.state, version: m2.version }, { start: T0 + HOUR, end: T0 + 48 * HOUR, probes: undefined, state: 'active', version: 4 });
    assert.ok(!('probes' in m2));
    lastAudit('warrant.modify', ADMIN, a, m2);
    assert.deepEqual(store.get(w.id), m2);
  });

  it('reports: an iri-only warrant\'s mode is stored, audited before/after, changed part by part; a content warrant\'s is refused', () => {
    const w = store.create(spec({ type: 'iri-only' }), ADMIN);
    assert.deepEqual(w.reports, { mode: 'headers', interval: 60_000 }, 'the default, stored');
    assert.deepEqual((audit.entries().at(-1)!.after as { reports: unknown }).reports, { mode: 'headers', intervalSeconds: 60 });
    const a = store.activate(w.id, ADMIN);
    const m1 = store.modify(w.id, { reports: { mode: 'summary' } }, ADMIN);
    assert.deepEqual(m1.reports, { mode: 'summary', interval: 60_000 }, 'the interval stays');
    lastAudit('warrant.modify', ADMIN, a, m1);
    const e = audit.entries().at(-1)!;
    assert.deepEqual([(e.before as { reports: unknown }).reports, (e.after as { reports: unknown }).reports], [
      { mode: 'headers', intervalSeconds: 60 },
      { mode: 'summary', intervalSeconds: 60 },
    ]);
    const m2 = store.modify(w.id, { reports: { interval: 15_000 } }, ADMIN);
    assert.deepEqual(m2.reports, { mode: 'summary', interval: 15_000 }, 'the mode stays');
    lastAudit('warrant.modify', ADMIN, m1, m2);
    assert.deepEqual(store.get(w.id), m2);
    assert.deepEqual(store.inForce().map((x) => x.reports), [{ mode: 'summary', interval: 15_000 }]);

    const c = store.create(spec({ liid: 'CONTENT' }), ADMIN);
    refused(() => store.modify(c.id, { reports: { mode: 'summary' } }, ADMIN), 'LIG_ERR_WARRANT_INVALID');
    refused(() => store.create(spec({ liid: 'CONTENT2', reports: { mode: 'summary', interval: 60_000 } }), ADMIN), 'LIG_ERR_WARRANT_INVALID');
    refused(() => store.modify(w.id, { reports: { interval: 500 } }, ADMIN), 'LIG_ERR_WARRANT_INVALID');
    assert.equal(store.get(c.id)?.reports, undefined);
  });

  it('modify: refused for stopped and expired warrants, a stale version, invalid changes, non-admins', () => {
    const w = store.create(spec(), ADMIN);
    refused(() => store.modify(w.id, { compliance: { orderReference: 'x' } }, ADMIN, 7), 'LIG_ERR_WARRANT_CONFLICT');
    refused(() => store.modify(w.id, {}, ADMIN), 'LIG_ERR_WARRANT_INVALID');
    refused(() => store.modify(w.id, { endTime: new Date(T0 - 1) }, ADMIN), 'LIG_ERR_WARRANT_INVALID');
    refused(() => store.modify(w.id, { compliance: { orderReference: 'x' } }, AUDITOR), 'LIG_ERR_WARRANT_FORBIDDEN');
    refused(() => store.modify(42, { compliance: { orderReference: 'x' } }, ADMIN), 'LIG_ERR_WARRANT_NOT_FOUND');
    store.stop(w.id, ADMIN);
    refused(() => store.modify(w.id, { compliance: { orderReference: 'x' } }, ADMIN), 'LIG_ERR_WARRANT_STATE');
    const e = store.create(spec({ liid: 'EXPIRING', endTime: new Date(T0 + HOUR) }), ADMIN);
    store.activate(e.id, ADMIN);
    clock.advance(HOUR);
    refused(() => store.modify(e.id, { endTime: new Date(T0 + 9 * HOUR) }, ADMIN), 'LIG_ERR_WARRANT_STATE');
    store.expireDue();
    refused(() => store.modify(e.id, { endTime: new Date(T0 + 9 * HOUR) }, ADMIN), 'LIG_ERR_WARRANT_STATE');
  });

  it('stop: pending or active → stopped, once, with who and why', () => {
    const p = store.create(spec(), ADMIN);
    const a = store.activate(store.create(spec({ liid: 'ACTIVE' }), ADMIN).id, ADMIN);
    clock.advance(2000);
    const sp = store.stop(p.id, ADMIN);
    assert.deepEqual({ state: sp.state, by: sp.endedBy, at: sp.endedAt?.getTime(), reason: sp.endReason }, { state: 'stopped', by: 'alice', at: T0 + 2000, reason: undefined });
    lastAudit('warrant.stop', ADMIN, p, sp);
    const sa = store.stop(a.id, ADMIN, 'order withdrawn');
    assert.equal(sa.endReason, 'order withdrawn');
    lastAudit('warrant.stop', ADMIN, a, sa);
    assert.deepEqual(store.inForce(), []);
    refused(() => store.stop(p.id, ADMIN), 'LIG_ERR_WARRANT_STATE');
    refused(() => store.stop(a.id, ADMIN), 'LIG_ERR_WARRANT_STATE');
    const x = store.create(spec({ liid: 'X' }), ADMIN);
    refused(() => store.stop(x.id, AUDITOR), 'LIG_ERR_WARRANT_FORBIDDEN');
    refused(() => store.stop(x.id, ADMIN, ''), 'LIG_ERR_WARRANT_INVALID');
    refused(() => store.stop(77, ADMIN), 'LIG_ERR_WARRANT_NOT_FOUND');
    assert.equal(store.get(x.id)?.state, 'pending');
  });

  it('expireDue: pending and active warrants past their end expire, by the mediator; others stay', () => {
    const early = store.activate(store.create(spec({ liid: 'EARLY', endTime: new Date(T0 + HOUR) }), ADMIN).id, ADMIN);
    const pendingEarly = store.create(spec({ liid: 'PENDING', endTime: new Date(T0 + HOUR) }), ADMIN);
    const stopped = store.create(spec({ liid: 'STOPPED', endTime: new Date(T0 + HOUR) }), ADMIN);
    store.stop(stopped.id, ADMIN);
    const late = store.activate(store.create(spec({ liid: 'LATE', endTime: new Date(T0 + 2 * HOUR) }), ADMIN).id, ADMIN);
    assert.deepEqual(store.expireDue(new Date(T0 + HOUR - 1)), []);
    clock.advance(HOUR + 30_000);
    const expired = store.expireDue();
    assert.deepEqual(expired.map((w) => [w.id, w.state, w.endedAt?.getTime(), w.endedBy]), [
      [early.id, 'expired', T0 + HOUR, undefined],
      [pendingEarly.id, 'expired', T0 + HOUR, undefined],
    ]);
    const entries = audit.entries().slice(-2);
    assert.deepEqual(entries.map((e) => [e.action, e.actor, e.role, e.subject]), [
      ['warrant.expire', 'mediator', 'mediator', `warrant/${early.id}`],
      ['warrant.expire', 'mediator', 'mediator', `warrant/${pendingEarly.id}`],
    ]);
    assert.deepEqual(entries[0]!.after, JSON.parse(JSON.stringify(warrantToJson(expired[0]!))));
    assert.deepEqual(store.expireDue(), [], 'once');
    assert.equal(store.get(stopped.id)?.state, 'stopped');
    assert.deepEqual(store.inForce().map((w) => w.id), [late.id]);
    assert.deepEqual(store.list({ state: 'expired' }).map((w) => w.id), [early.id, pendingEarly.id]);
  });

  it('inForce: active and inside the window, start included, end excluded', () => {
    const w = store.create(spec({ startTime: new Date(T0 + HOUR), endTime: new Date(T0 + 2 * HOUR) }), ADMIN);
    store.activate(w.id, ADMIN);
    assert.deepEqual(store.inForce(new Date(T0 + HOUR - 1)), []);
    assert.deepEqual(store.inForce(new Date(T0 + HOUR)).map((x) => x.id), [w.id]);
    assert.deepEqual(store.inForce(new Date(T0 + 2 * HOUR - 1)).map((x) => x.id), [w.id]);
    assert.deepEqual(store.inForce(new Date(T0 + 2 * HOUR)), []);
  });

  it('nextChangeAt: the earliest start of an active warrant or end of a pending or active one, after now', () => {
    assert.equal(store.nextChangeAt(), undefined);
    const a = store.create(spec({ liid: 'A', startTime: new Date(T0 + 3 * HOUR), endTime: new Date(T0 + 10 * HOUR) }), ADMIN);
    assert.equal(store.nextChangeAt()?.getTime(), T0 + 10 * HOUR, 'a pending warrant starts nothing, but expires');
    store.activate(a.id, ADMIN);
    assert.equal(store.nextChangeAt()?.getTime(), T0 + 3 * HOUR);
    const b = store.create(spec({ liid: 'B', endTime: new Date(T0 + 2 * HOUR) }), ADMIN);
    assert.equal(store.nextChangeAt()?.getTime(), T0 + 2 * HOUR);
    assert.equal(store.nextChangeAt(new Date(T0 + 2 * HOUR))?.getTime(), T0 + 3 * HOUR, 'strictly after now');
    assert.equal(store.nextChangeAt(new Date(T0 + 4 * HOUR))?.getTime(), T0 + 10 * HOUR);
    store.stop(b.id, ADMIN);
    store.stop(a.id, ADMIN);
    assert.equal(store.nextChangeAt(), undefined, 'ended warrants change nothing');
  });

  it('list: in id order, by state and agency; a bad state is refused', () => {
    const a = store.create(spec({ liid: 'A' }), ADMIN);
    const b = store.create(spec({ liid: 'B', agency: 'bka' }), ADMIN);
    store.activate(b.id, ADMIN);
    assert.deepEqual(store.list().map((w) => w.id), [a.id, b.id]);
    assert.deepEqual(store.list({ state: 'active' }).map((w) => w.id), [b.id]);
    assert.deepEqual(store.list({ agency: 'fbi' }).map((w) => w.id), [a.id]);
    assert.deepEqual(store.list({ agency: 'bka', state: 'pending' }), []);
    refused(() => store.list({ state: 'gone' as never }), 'LIG_ERR_WARRANT_INVALID');
    assert.equal(store.get(-1), undefined);
  });

  it('every warrant change is in the audit log, and the log verifies against the anchor', () => {
    const w = store.create(spec(), ADMIN);
    store.activate(w.id, ADMIN);
    store.modify(w.id, { endTime: new Date(T0 + 5 * HOUR) }, ADMIN);
    audit.append({ actor: MEDIATOR_ACTOR, action: 'delivery.start', subject: 'agency/fbi' });
    store.stop(w.id, ADMIN);
    const entries = audit.entries();
    assert.deepEqual(entries.map((e) => e.action), ['warrant.create', 'warrant.activate', 'warrant.modify', 'delivery.start', 'warrant.stop']);
    assert.deepEqual(entries.at(-1)!.after, JSON.parse(JSON.stringify(warrantToJson(store.get(w.id)!))));
    assert.deepEqual(store.auditAnchor(), { seq: 5, hash: entries[4]!.hash });
    assert.deepEqual(store.verifyAudit(), { ok: true, entries: 5, head: { seq: 5, hash: entries[4]!.hash }, beyondAnchor: 0 });
    audit.append({ actor: MEDIATOR_ACTOR, action: 'delivery.stop', subject: 'agency/fbi' });
    assert.equal(store.auditAnchor()?.seq, 6, 'others\' entries move the anchor too');
  });

  it('a closed store refuses everything with a typed error', () => {
    store.create(spec(), ADMIN);
    store.close();
    assert.throws(() => store.list(), { code: 'LIG_ERR_STORE_CLOSED' });
    assert.throws(() => store.create(spec({ liid: 'B' }), ADMIN), { code: 'LIG_ERR_STORE_CLOSED' });
    store.close();
    audit.append({ actor: MEDIATOR_ACTOR, action: 'delivery.start', subject: 'agency/fbi' });
  });
});
