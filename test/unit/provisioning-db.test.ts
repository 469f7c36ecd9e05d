import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../src/errors';
import { AuditLog, MIGRATIONS, WarrantStore, databasePath, openDatabase, schemaVersion } from '../../src/provisioning';
import type { Migration } from '../../src/provisioning';
import { ADMIN, AGENCIES, TestClock, dataDirHooks, spec } from './provisioning-fixtures';

const columns = (db: Database.Database) => (db.prepare('PRAGMA table_info(warrants)').all() as { name: string }[]).map((c) => c.name);

describe('provisioning: warrant database and migrations', () => {
  const h = dataDirHooks();

  it('creates warrants.db with mode 0600, WAL and foreign keys, at the latest schema', () => {
    const db = h.track(openDatabase(h.dir()));
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL');
    db.prepare('INSERT INTO audit_head (id, seq, hash, offset) VALUES (1, 1, ?, 10)').run('0'.repeat(64));
    for (const name of fs.readdirSync(h.dir())) {
      assert.equal(fs.statSync(path.join(h.dir(), name)).mode & 0o777, 0o600, `${name} (the -wal and -shm files too)`);
    }
    assert.ok(fs.existsSync(`${databasePath(h.dir())}-wal`));
    const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(recorded, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('a version 1 database opened by the latest code runs version 2 and after, keeping its rows', () => {
    const v1 = openDatabase(h.dir(), MIGRATIONS.slice(0, 1));
    assert.equal(schemaVersion(v1), 1);
    assert.ok(!columns(v1).includes('end_reason'));
    v1.prepare(
      `INSERT INTO warrants (id, liid, agency, country, type, targets, end_time, order_reference, issuing_authority, presenting_officer,
       responsible_employee, state, version, created_at, created_by) VALUES (1, 'L1', 'fbi', 'US', 'content', '[]', 5, 'o', 'i', 'p', 'r', 'pending', 1, 1, 'alice')`,
    ).run();
    v1.close();
    const v2 = h.track(openDatabase(h.dir()));
    assert.equal(schemaVersion(v2), MIGRATIONS.length);
    assert.ok(columns(v2).includes('end_reason'));
    assert.deepEqual(v2.prepare('SELECT id, liid, end_reason FROM warrants').all(), [{ id: 1, liid: 'L1', end_reason: null }]);
    assert.ok((v2.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).some((i) => i.name === 'warrants_by_state'));
    v2.close();
    const again = h.track(openDatabase(h.dir()));
    assert.equal(schemaVersion(again), MIGRATIONS.length, 'nothing runs twice');
  });

  it('version 3 gives the iri-only warrants made before it the reporting mode of the time (headers, 60 s), content ones none', () => {
    const v2 = openDatabase(h.dir(), MIGRATIONS.slice(0, 2));
    assert.ok(!columns(v2).includes('report_mode'));
    const insert = v2.prepare(
      `INSERT INTO warrants (id, liid, agency, country, type, targets, end_time, order_reference, issuing_authority, presenting_officer,
       responsible_employee, state, version, created_at, created_by) VALUES (?, ?, 'fbi', 'US', ?, '[]', 5, 'o', 'i', 'p', 'r', 'pending', 1, 1, 'alice')`,
    );
    insert.run(1, 'L1', 'iri-only');
    insert.run(2, 'L2', 'content');
    v2.close();
    const v3 = h.track(openDatabase(h.dir()));
    assert.equal(schemaVersion(v3), 3);
    assert.deepEqual(v3.prepare('SELECT id, report_mode, summary_interval_ms FROM warrants ORDER BY id').all(), [
      { id: 1, report_mode: 'headers', summary_interval_ms: 60_000 },
      { id: 2, report_mode: null, summary_interval_ms: null },
    ]);
    assert.throws(() => v3.prepare("UPDATE warrants SET report_mode = 'everything' WHERE id = 1").run(), /CHECK constraint/);
    assert.throws(() => v3.prepare('UPDATE warrants SET summary_interval_ms = 0 WHERE id = 1').run(), /CHECK constraint/);
  });

  it('a database from the future is refused, untouched', () => {
    const future: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'from the future', up: (db) => db.exec('CREATE TABLE later (x INTEGER)') }];
    openDatabase(h.dir(), future).close();
    const before = fs.readFileSync(databasePath(h.dir()));
    assert.throws(
      () => openDatabase(h.dir()),
      (e: StoreError) => e instanceof StoreError && e.code === 'LIG_ERR_STORE_VERSION' && e.message.includes(`version ${MIGRATIONS.length + 1}`),
    );
    assert.ok(fs.readFileSync(databasePath(h.dir())).equals(before));
    const audit = h.track(AuditLog.open(h.dir()));
    assert.throws(() => WarrantStore.open(h.dir(), { agencies: AGENCIES, audit }), { code: 'LIG_ERR_STORE_VERSION' });
  });

  it('a database whose migration history differs from the code (another build) is refused', () => {
    openDatabase(h.dir(), [MIGRATIONS[0]!, { ...MIGRATIONS[1]!, name: 'something else' }]).close();
    assert.throws(() => openDatabase(h.dir()), { code: 'LIG_ERR_STORE_VERSION' });
  });

  it('a failing migration leaves the database at the version before it', () => {
    const broken: Migration[] = [MIGRATIONS[0]!, { version: 2, name: 'broken', up: (db) => db.exec('ALTER TABLE warrants ADD COLUMN x TEXT; SELECT * FROM no_such_table') }];
    assert.throws(() => openDatabase(h.dir(), broken), { code: 'LIG_ERR_STORE_IO' });
    const db = h.track(openDatabase(h.dir(), MIGRATIONS.slice(0, 1)));
    assert.equal(schemaVersion(db), 1);
    assert.ok(!columns(db).includes('x'));
  });

  it('a migration list not numbered 1..n is refused', () => {
    assert.throws(() => openDatabase(h.dir(), [MIGRATIONS[1]!]), { code: 'LIG_ERR_STORE_VERSION' });
  });

  it('a file that is not a database is a typed error', () => {
    fs.writeFileSync(databasePath(h.dir()), 'this is not sqlite, not at all, '.repeat(100));
    assert.throws(() => openDatabase(h.dir()), (e: StoreError) => e instanceof StoreError && e.code === 'LIG_ERR_STORE_IO');
  });

  it('warrants survive a reopen exactly, with the stop reason of version 2 and the reporting mode of version 3', () => {
    const clock = new TestClock();
    const audit = h.track(AuditLog.open(h.dir(), { clock: clock.now }));
    const store = WarrantStore.open(h.dir(), { agencies: AGENCIES, audit, clock: clock.now });
    const a = store.create(spec({ startTime: new Date(clock.t + 1000), probes: ['p1'] }), ADMIN);
    store.activate(a.id, ADMIN);
    const b = store.create(spec({ liid: 'SECOND', agency: 'bka', type: 'iri-only', reports: { mode: 'summary', interval: 90_000 } }), ADMIN);
    store.stop(b.id, ADMIN, 'order withdrawn');
    const c = store.create(spec({ liid: 'THIRD', type: 'iri-only' }), ADMIN);
    const before = store.list();
    store.close();
    const again = h.track(WarrantStore.open(h.dir(), { agencies: AGENCIES, audit, clock: clock.now }));
    assert.deepEqual(again.list(), before);
    assert.equal(again.get(b.id)?.endReason, 'order withdrawn');
    assert.deepEqual(again.get(b.id)?.reports, { mode: 'summary', interval: 90_000 });
    assert.deepEqual(again.get(c.id)?.reports, { mode: 'headers', interval: 60_000 }, 'the defaults, stored');
    assert.equal(again.get(a.id)?.reports, undefined, 'a content warrant has none');
  });
});
