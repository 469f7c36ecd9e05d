import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { AuditError, StoreError } from '../../src/errors';
import { AuditLog, WarrantStore, databasePath, verifyAuditFile, warrantToJson } from '../../src/provisioning';
import type { AuditEntry } from '../../src/provisioning';
import { sealEntry } from '../../src/provisioning/audit-chain';
import { spawnTsx } from '../helpers/tsx-process';
import { ADMIN, AGENCIES, HOUR, SECRET_STRINGS, T0, TestClock, dataDirHooks, openBoth, spec } from './provisioning-fixtures';

describe('provisioning: store and audit log agree (write order, reconcile on open)', () => {
  const h = dataDirHooks();
  let clock: TestClock;
  beforeEach(() => {
    clock = new TestClock();
  });
  const logFile = () => path.join(h.dir(), 'audit.log');
  const reopenStore = (audit: AuditLog) => h.track(WarrantStore.open(h.dir(), { agencies: AGENCIES, audit, clock: clock.now }));

  /** Asserts opening the store fails with LIG_ERR_AUDIT_BROKEN naming `entry`, quoting nothing sensitive. */
  function refusesOpen(entry: number): void {
    const audit = h.track(AuditLog.open(h.dir(), { clock: clock.now }));
    assert.throws(
      () => WarrantStore.open(h.dir(), { agencies: AGENCIES, audit, clock: clock.now }),
      (e: unknown) => {
        assert.ok(e instanceof AuditError, String(e));
        assert.equal(e.code, 'LIG_ERR_AUDIT_BROKEN');
        assert.equal(e.entry, entry, e.message);
        assert.match(e.message, new RegExp(`^audit entry ${entry}: `));
        for (const s of SECRET_STRINGS) assert.ok(!e.message.includes(s), e.message);
        return true;
      },
    );
  }

  /** A store with three warrants in various states; everything closed after. */
  function history(): { list: ReturnType<WarrantStore['list']>; anchor: ReturnType<WarrantStore['auditAnchor']> } {
    const { audit, store } = openBoth(h, clock);
    const a = store.create(spec({ liid: 'A' }), ADMIN);
    store.activate(a.id, ADMIN);
    store.modify(a.id, { endTime: new Date(T0 + 30 * HOUR) }, ADMIN);
    const b = store.create(spec({ liid: 'B', endTime: new Date(T0 + HOUR) }), ADMIN);
    store.stop(store.create(spec({ liid: 'C' }), ADMIN).id, ADMIN, 'withdrawn');
    const d = store.create(spec({ liid: 'D', type: 'iri-only', reports: { mode: 'both', interval: 30_000 } }), ADMIN);
    store.modify(d.id, { reports: { mode: 'summary' } }, ADMIN);
    store.create(spec({ liid: 'E', type: 'iri-only' }), ADMIN);
    clock.advance(HOUR);
    store.expireDue();
    assert.equal(store.get(b.id)?.state, 'expired');
    const out = { list: store.list(), anchor: store.auditAnchor() };
    store.close();
    audit.close();
    return out;
  }

  it('a commit that fails after the audit entry stops the store; reopening applies the change from the log', () => {
    const { audit, store } = openBoth(h, clock, { busyTimeoutMs: 0 });
    const w = store.create(spec(), ADMIN);
    const other = new Database(databasePath(h.dir()));
    other.exec('BEGIN IMMEDIATE');
    assert.throws(() => store.activate(w.id, ADMIN), (e: StoreError) => e instanceof StoreError && e.code === 'LIG_ERR_STORE_IO');
    other.exec('ROLLBACK');
    other.close();
    assert.equal(audit.entries().at(-1)?.action, 'warrant.activate', 'the entry was written first');
    assert.equal(store.get(w.id)?.state, 'pending', 'the row was not');
    assert.throws(() => store.stop(w.id, ADMIN), { code: 'LIG_ERR_STORE_CLOSED' });
    store.close();
    const again = reopenStore(audit);
    const active = again.get(w.id)!;
    assert.deepEqual({ state: active.state, version: active.version, by: active.activatedBy }, { state: 'active', version: 2, by: 'alice' });
    assert.deepEqual(again.auditAnchor(), { seq: 2, hash: audit.head!.hash });
    assert.equal(again.stop(w.id, ADMIN).version, 3);
    assert.equal(again.verifyAudit().ok, true);
  });

  it('a process killed between the audit entry and the commit: the log is one ahead, and open rolls it forward', async () => {
    const child = spawnTsx(['test/unit/provisioning-crash-child.ts', h.dir()], ['ignore', 'pipe', 'inherit']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    assert.deepEqual({ code, signal, out }, { code: null, signal: 'SIGKILL', out: '' });
    const db = new Database(databasePath(h.dir()), { readonly: true });
    const anchor = db.prepare('SELECT seq FROM audit_head').get() as { seq: number };
    const row = db.prepare('SELECT state, version FROM warrants WHERE id = 1').get();
    db.close();
    const audit = h.track(AuditLog.open(h.dir(), { clock: clock.now }));
    assert.equal(audit.repairedBytes, 0);
    assert.deepEqual({ anchor: anchor.seq, log: audit.head?.seq, row }, { anchor: 2, log: 3, row: { state: 'active', version: 2 } });
    assert.equal(verifyAuditFile(logFile(), { seq: 2, hash: audit.entries()[1]!.hash }).ok, true, 'one ahead of the anchor verifies');
    const store = reopenStore(audit);
    const w = store.get(1)!;
    assert.deepEqual({ state: w.state, version: w.version, reason: w.endReason }, { state: 'stopped', version: 3, reason: 'crash test' });
    assert.equal(store.auditAnchor()?.seq, 3);
    assert.deepEqual(store.verifyAudit(), { ok: true, entries: 3, head: audit.head && { seq: 3, hash: audit.head.hash }, beyondAnchor: 0 });
  });

  it('a lost database is rebuilt from the log', () => {
    const before = history();
    for (const f of fs.readdirSync(h.dir())) if (f.startsWith('warrants.db')) fs.rmSync(path.join(h.dir(), f));
    const audit = h.track(AuditLog.open(h.dir(), { clock: clock.now }));
    const store = reopenStore(audit);
    assert.deepEqual(store.list(), before.list);
    assert.deepEqual(store.list().map((w) => w.reports), [undefined, undefined, undefined, { mode: 'summary', interval: 30_000 }, { mode: 'headers', interval: 60_000 }]);
    assert.deepEqual(store.auditAnchor(), before.anchor);
  });

  it('an iri-only warrant recorded before warrants had a reporting mode rolls forward with headers every 60 s; a content one with a mode is refused', () => {
    const { audit, store } = openBoth(h, clock);
    const w = store.create(spec({ liid: 'OLD', type: 'iri-only' }), ADMIN);
    store.close();
    for (const f of fs.readdirSync(h.dir())) if (f.startsWith('warrants.db')) fs.rmSync(path.join(h.dir(), f));
    // The entry as an older lig wrote it, then a change by this one.
    const old = warrantToJson({ ...w, id: 2, liid: 'OLDER' });
    delete old['reports'];
    audit.appendThen({ actor: ADMIN, action: 'warrant.create', subject: 'warrant/2', after: old }, undefined);
    audit.close();
    const again = h.track(AuditLog.open(h.dir(), { clock: clock.now }));
    const s = reopenStore(again);
    assert.deepEqual(s.get(2)?.reports, { mode: 'headers', interval: 60_000 });
    assert.deepEqual(s.get(1)?.reports, { mode: 'headers', interval: 60_000 });
    s.close();
    const content = warrantToJson({ ...w, id: 3, liid: 'CONTENT', type: 'content' });
    assert.deepEqual(content['reports'], { mode: 'headers', intervalSeconds: 60 });
    again.appendThen({ actor: ADMIN, action: 'warrant.create', subject: 'warrant/3', after: content }, undefined);
    again.close();
    refusesOpen(3);
  });

  it('a torn tail cut on open does not upset the store', () => {
    const before = history();
    fs.appendFileSync(logFile(), '{"seq":99,"time":"20');
    const audit = h.track(AuditLog.open(h.dir(), { clock: clock.now }));
    assert.ok(audit.repairedBytes > 0);
    const store = reopenStore(audit);
    assert.deepEqual(store.list(), before.list);
    assert.equal(store.auditAnchor()?.seq, before.anchor!.seq + 1, 'the repair entry is anchored');
    assert.equal(store.verifyAudit().ok, true);
  });

  it('a log cut behind the anchor is refused, naming the first missing entry', () => {
    const { anchor } = history();
    const text = fs.readFileSync(logFile(), 'utf8').split('\n');
    fs.writeFileSync(logFile(), `${text.slice(0, anchor!.seq - 2).join('\n')}\n`);
    refusesOpen(anchor!.seq - 1);
  });

  it('a lost log is refused while the database has an anchor', () => {
    history();
    fs.rmSync(logFile());
    refusesOpen(1);
  });

  it('a log rewritten at the anchor (hash recomputed) is refused', () => {
    const { anchor } = history();
    const text = fs.readFileSync(logFile(), 'utf8').split('\n');
    const last = JSON.parse(text[anchor!.seq - 1]!) as Record<string, unknown>;
    delete last['hash'];
    text[anchor!.seq - 1] = sealEntry({ ...(last as unknown as Omit<AuditEntry, 'hash'>), subject: 'warrant/1' }).line;
    fs.writeFileSync(logFile(), text.join('\n'));
    refusesOpen(anchor!.seq);
  });

  it('a warrant change after the anchor without a warrant in it is refused, nothing applied (other warrant.* actions are no changes)', () => {
    const { audit, store } = openBoth(h, clock);
    const w = store.create(spec(), ADMIN);
    store.close();
    audit.append({ actor: ADMIN, action: 'warrant.note', subject: 'warrant/1', after: { not: 'a warrant' } });
    audit.appendThen({ actor: ADMIN, action: 'warrant.modify', subject: 'warrant/1', after: { not: 'a warrant' } }, undefined);
    audit.close();
    refusesOpen(3);
    const db = new Database(databasePath(h.dir()), { readonly: true });
    assert.deepEqual(db.prepare('SELECT version FROM warrants').all(), [{ version: w.version }]);
    db.close();
  });
});
