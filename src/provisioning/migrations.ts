/**
 * The warrant database's schema, as numbered migrations applied in order, each once, each in
 * its own transaction together with its row in `schema_migrations` (db.ts). A migration is
 * never edited once released: a schema change is a new one at the end of the list.
 *
 * Times are whole milliseconds since the epoch (UTC), durations whole milliseconds; targets,
 * probes are JSON text.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** 1, 2, 3, … in list order. */
  version: number;
  /** Short and stable: a database that recorded another name for this version is refused. */
  name: string;
  up: (db: Database.Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'warrants and audit head',
    up: (db) =>
      db.exec(`
        CREATE TABLE warrants (
          id INTEGER PRIMARY KEY,
          liid TEXT NOT NULL,
          agency TEXT NOT NULL,
          country TEXT NOT NULL,
          type TEXT NOT NULL CHECK (type IN ('content', 'iri-only')),
          targets TEXT NOT NULL,
          start_time INTEGER,
          end_time INTEGER NOT NULL,
          order_reference TEXT NOT NULL,
          issuing_authority TEXT NOT NULL,
          presenting_officer TEXT NOT NULL,
          responsible_employee TEXT NOT NULL,
          probes TEXT,
          state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'stopped', 'expired')),
          version INTEGER NOT NULL CHECK (version >= 1),
          created_at INTEGER NOT NULL,
          created_by TEXT NOT NULL,
          activated_at INTEGER,
          activated_by TEXT,
          ended_at INTEGER,
          ended_by TEXT,
          UNIQUE (agency, liid)
        ) STRICT;
        -- The anchor of the audit log: the last entry this database has seen (see warrant-store.ts).
        CREATE TABLE audit_head (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          seq INTEGER NOT NULL,
          hash TEXT NOT NULL,
          offset INTEGER NOT NULL
        ) STRICT;
      `),
  },
  {
    version: 2,
    name: 'stop reason and state index',
    up: (db) =>
      db.exec(`
        ALTER TABLE warrants ADD COLUMN end_reason TEXT;
        CREATE INDEX warrants_by_state ON warrants (state, end_time);
      `),
  },
  {
    version: 3,
    name: 'reporting mode of iri-only warrants',
    // The mode and summary interval (milliseconds) of an iri-only warrant; NULL for content
    // ones. Warrants made before carry the config's defaults of the time written out here
    // (headers, 60 s), so that a later change of those defaults does not change them.
    up: (db) =>
      db.exec(`
        ALTER TABLE warrants ADD COLUMN report_mode TEXT CHECK (report_mode IN ('headers', 'summary', 'both'));
        ALTER TABLE warrants ADD COLUMN summary_interval_ms INTEGER CHECK (summary_interval_ms > 0);
        UPDATE warrants SET report_mode = 'headers', summary_interval_ms = 60000 WHERE type = 'iri-only';
      `),
  },
];
