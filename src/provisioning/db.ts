/**
 * Opens the warrant database, DATADIR/warrants.db: SQLite (better-sqlite3, synchronous),
 * WAL journal, synchronous=FULL (a commit that returned survives a power cut), foreign keys
 * on, file mode 0600 (SQLite gives its -wal and -shm files the database file's mode).
 *
 * The schema is versioned by the table `schema_migrations` (version, name, applied_at): the
 * migrations of migrations.ts not yet recorded there are applied in order, each in its own
 * transaction with its row. A database that records a version this code does not have (a
 * newer lig wrote it), or another name for a version it has (a different build), is refused
 * with LIG_ERR_STORE_VERSION before anything is changed.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LigError, StoreError } from '../errors';
import { MIGRATIONS, Migration } from './migrations';

export const DATABASE_FILE = 'warrants.db';
/** How long a write waits for a lock another connection holds before failing (default; see openDatabase). */
export const DATABASE_BUSY_TIMEOUT_MS = 5000;

export function databasePath(dataDir: string): string {
  return path.join(dataDir, DATABASE_FILE);
}

/**
 * Opens (creating if needed) and migrates the database. `migrations` is for tests of older or
 * newer code; `busyTimeoutMs` overrides DATABASE_BUSY_TIMEOUT_MS.
 */
export function openDatabase(dataDir: string, migrations: readonly Migration[] = MIGRATIONS, opts: { busyTimeoutMs?: number } = {}): Database.Database {
  checkList(migrations);
  const file = databasePath(dataDir);
  let db: Database.Database;
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Create it with mode 0600 before SQLite does (SQLite would use the umask).
    const fd = fs.openSync(file, 'a', 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
    } finally {
      fs.closeSync(fd);
    }
    db = new Database(file);
  } catch (err) {
    throw new StoreError('LIG_ERR_STORE_IO', `cannot open the warrant database ${file}`, { cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? DATABASE_BUSY_TIMEOUT_MS))}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError('LIG_ERR_STORE_IO', `the warrant database ${file} cannot use WAL (journal_mode is ${String(mode)})`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, file);
    return db;
  } catch (err) {
    db.close();
    throw err instanceof LigError ? err : new StoreError('LIG_ERR_STORE_IO', `cannot prepare the warrant database ${file}`, { cause: err });
  }
}

/** The highest migration recorded in the database (0 for a new one). */
export function schemaVersion(db: Database.Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function migrate(db: Database.Database, migrations: readonly Migration[], file: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
  const applied = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[];
  const latest = migrations.length;
  for (const [i, row] of applied.entries()) {
    if (row.version > latest) {
      throw new StoreError(
        'LIG_ERR_STORE_VERSION',
        `the warrant database ${file} has schema version ${applied[applied.length - 1]!.version}, newer than this lig knows (${latest}): run the lig that wrote it`,
      );
    }
    if (row.version !== i + 1 || row.name !== migrations[i]!.name) {
      throw new StoreError('LIG_ERR_STORE_VERSION', `the warrant database ${file} records migration ${row.version} differently from this lig: it was made by another build`);
    }
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations.slice(applied.length)) {
    db.transaction(() => {
      m.up(db);
      record.run(m.version, m.name, new Date().toISOString());
    })();
  }
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new StoreError('LIG_ERR_STORE_VERSION', `migration list: entry ${i} has version ${m.version}, expected ${i + 1}`);
  });
}
