/**
 * `lig audit verify`: checks the audit log's hash chain, naming the first entry that was
 * altered, removed or reordered, and (with the anchor the warrant database keeps) a log cut
 * short.
 *
 *   lig audit verify --file DATADIR/audit.log [--json]
 *       offline, on the file; the anchor is read (read-only) from DATADIR/warrants.db beside
 *       it when that exists
 *   lig audit verify [--admin HOST:PORT] (--certs DIR [--name NAME] | --ca … --cert … --key …) [--json]
 *       through the admin API: the mediator sends the log's bytes and its anchor, and the
 *       check runs here, so a mediator cannot vouch for its own log
 *
 * Exit 0 when it verifies; 1 when it does not (LIG_ERR_AUDIT_BROKEN, naming the entry) or
 * cannot be read; 2 for usage. Entries are never printed: they hold warrant data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { AuditError, StoreError, UsageError } from '../errors';
import { DATABASE_FILE } from '../provisioning/db';
import { verifyAudit } from '../provisioning/audit-chain';
import { verifyAuditFile } from '../provisioning/audit-log';
import type { AuditAnchor, AuditVerifyResult } from '../provisioning/types';
import { ADMIN_FLAGS, withAdminClient } from './admin-flags';
import { type FlagSpec, parseSubcommandFlags, str } from './args';
import type { Command } from './command';

const FLAGS: Record<string, FlagSpec> = {
  file: { value: true, help: 'verify this audit log file (DATADIR/audit.log) offline, instead of through the admin API' },
  ...ADMIN_FLAGS,
  json: { help: 'print the outcome as JSON' },
  help: { help: 'show this help' },
};

const SYNOPSIS = 'lig audit verify [--file DATADIR/audit.log | --admin HOST:PORT --certs DIR [--name NAME]] [--json]';

export const command: Command = {
  summary: 'verify the audit log\'s hash chain, offline (--file) or through the admin API (verify)',
  run: async (argv, io) => {
    const p = parseSubcommandFlags(argv, 'verify', FLAGS, SYNOPSIS, io.out);
    if (!p) return 0;
    const file = str(p, 'file');
    let result: AuditVerifyResult;
    let anchor: AuditAnchor | undefined;
    let source: string;
    if (file !== undefined) {
      const adminFlag = Object.keys(ADMIN_FLAGS).find((f) => p.flags[f] !== undefined);
      if (adminFlag) throw new UsageError(`--${adminFlag} cannot be combined with --file (it verifies the file offline)`);
      const db = path.join(path.dirname(file), DATABASE_FILE);
      anchor = fs.existsSync(db) ? readAnchor(db) : undefined;
      result = verifyAuditFile(file, anchor);
      source = anchor ? `${file} (anchor from ${db})` : `${file} (no warrants.db beside it: a log cut short after its last entry goes unnoticed)`;
    } else {
      const copy = await withAdminClient(p, (c) => c.auditLog());
      anchor = copy.anchor && { seq: Number(copy.anchor.seq), hash: copy.anchor.hash };
      result = verifyAudit(copy.text, anchor);
      source = `the mediator's audit log (${copy.text.length} bytes${anchor ? '' : ', no anchor yet'})`;
    }
    if (p.flags.json === true) {
      io.out(JSON.stringify({ ...result, anchor: anchor ?? null }, null, 2));
      return result.ok ? 0 : 1;
    }
    if (!result.ok) {
      throw new AuditError('LIG_ERR_AUDIT_BROKEN', `${source} does not verify: entry ${result.entry} ${result.reason}: ${result.message}`, { entry: result.entry });
    }
    const head = result.head ? `, last entry ${result.head.seq}` : '';
    const beyond = anchor ? `; it reaches the anchor (entry ${anchor.seq})${result.beyondAnchor ? ` and ${result.beyondAnchor} more` : ''}` : '';
    io.out(`audit log verified: ${result.entries} entr${result.entries === 1 ? 'y' : 'ies'}, hash chain intact${head}${beyond}`);
    io.out(`source: ${source}`);
    return 0;
  },
};

/** The anchor (seq and hash of the last audit entry the database saw), read-only; undefined when it has none. */
function readAnchor(file: string): AuditAnchor | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
    return row && { seq: row.seq, hash: row.hash };
  } catch (e) {
    throw new StoreError('LIG_ERR_STORE_IO', `cannot read the audit anchor from ${file}: ${e instanceof Error ? e.message : 'error'}`, { cause: e });
  } finally {
    db?.close();
  }
}
