/**
 * The audit log's format and its verification; pure (bytes and objects in, no I/O).
 *
 * The log is UTF-8 text, one entry per line, each line terminated by "\n". A line is the
 * canonical JSON of the entry: keys in the fixed order seq, time, actor, role, action,
 * subject, before, after, prev, hash (before/after left out when absent), no whitespace,
 * and inside before/after object keys sorted by UTF-16 code unit, Dates as ISO strings.
 *
 * - `hash` = hex SHA-256 of the line as it would read without its `hash` member, i.e. of the
 *   canonical JSON of every other field: it seals the entry's own content.
 * - `prev` = hex SHA-256 of the previous line's exact bytes, without its "\n" ("0"×64 for
 *   the first entry): it chains each entry to every byte before it.
 * - `seq` = 1, 2, 3, … : line N holds seq N.
 *
 * Verification re-serializes each line and demands the same bytes, so any changed byte is
 * seen: in a value (the hash no longer matches), in the syntax or the hash itself (not
 * canonical, or malformed), in `prev` (sealed by the entry's hash), or in the "\n" between
 * two lines (they merge into one malformed line; the last one missing is a torn tail).
 */
import { createHash } from 'node:crypto';
import { AuditError } from '../errors';
import type { Actor, AuditAnchor, AuditEntry, AuditFailure, AuditVerifyResult } from './types';

/** `prev` of the first entry. */
export const GENESIS_PREV = '0'.repeat(64);
/** Longest line (entry) the log holds, in bytes; longer appends are refused, longer lines malformed. */
export const MAX_AUDIT_ENTRY_BYTES = 1024 * 1024;
/** Deepest nesting of before/after values (refused beyond, which also stops cycles). */
export const MAX_AUDIT_VALUE_DEPTH = 32;

export const AUDIT_ROLES: readonly Actor['role'][] = ['admin', 'auditor', 'mediator'];
const HEX64 = /^[0-9a-f]{64}$/;
const KEYS = ['seq', 'time', 'actor', 'role', 'action', 'subject', 'before', 'after', 'prev', 'hash'];

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Canonical JSON of plain data: sorted object keys, no whitespace, Dates as ISO strings,
 * properties whose value is undefined left out. Anything else (functions, bigint, symbols,
 * non-finite numbers, class instances, undefined in an array, nesting beyond
 * MAX_AUDIT_VALUE_DEPTH) is refused with LIG_ERR_AUDIT_INVALID.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AuditError('LIG_ERR_AUDIT_INVALID', 'audit values must be finite numbers');
    return JSON.stringify(value);
  }
  if (depth >= MAX_AUDIT_VALUE_DEPTH) {
    throw new AuditError('LIG_ERR_AUDIT_INVALID', `audit values nest deeper than MAX_AUDIT_VALUE_DEPTH (${MAX_AUDIT_VALUE_DEPTH})`);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new AuditError('LIG_ERR_AUDIT_INVALID', 'audit values must not hold an invalid Date');
    return JSON.stringify(value.toISOString());
  }
  if (Array.isArray(value)) {
    return `[${value
      .map((v) => {
        if (v === undefined) throw new AuditError('LIG_ERR_AUDIT_INVALID', 'audit values must not hold undefined in a list');
        return canonicalJson(v, depth + 1);
      })
      .join(',')}]`;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new AuditError('LIG_ERR_AUDIT_INVALID', 'audit values must be plain data (objects, lists, strings, numbers, booleans, null, Dates)');
    }
    const rec = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(rec).sort()) {
      if (rec[k] === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${canonicalJson(rec[k], depth + 1)}`);
    }
    return `{${parts.join(',')}}`;
  }
  throw new AuditError('LIG_ERR_AUDIT_INVALID', `audit values must be plain data, not a ${typeof value}`);
}

/** The canonical JSON of an entry without its hash: what `hash` is the SHA-256 of. */
export function entryBody(e: Omit<AuditEntry, 'hash'>): string {
  let s = `{"seq":${canonicalJson(e.seq)},"time":${canonicalJson(e.time)},"actor":${canonicalJson(e.actor)}`;
  s += `,"role":${canonicalJson(e.role)},"action":${canonicalJson(e.action)},"subject":${canonicalJson(e.subject)}`;
  if (e.before !== undefined) s += `,"before":${canonicalJson(e.before)}`;
  if (e.after !== undefined) s += `,"after":${canonicalJson(e.after)}`;
  return `${s},"prev":${canonicalJson(e.prev)}}`;
}

/** The entry sealed with its hash, and its line (without "\n"). */
export function sealEntry(e: Omit<AuditEntry, 'hash'>): { entry: AuditEntry; line: string } {
  const body = entryBody(e);
  const hash = sha256Hex(body);
  const entry: AuditEntry = { ...e, hash };
  return { entry, line: `${body.slice(0, -1)},"hash":"${hash}"}` };
}

/** A line checked on its own: the entry, or why it is not one (never quoting it). */
export type LineCheck = { entry: AuditEntry } | { reason: 'malformed' | 'altered'; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks one line (without "\n") on its own: well-formed, canonical, and its hash matches. */
export function checkLine(bytes: Uint8Array): LineCheck {
  if (bytes.length > MAX_AUDIT_ENTRY_BYTES) return { reason: 'malformed', message: `is longer than MAX_AUDIT_ENTRY_BYTES (${MAX_AUDIT_ENTRY_BYTES})` };
  let text: string;
  let v: unknown;
  try {
    text = utf8.decode(bytes);
    v = JSON.parse(text);
  } catch {
    return { reason: 'malformed', message: 'is not a line of UTF-8 JSON' };
  }
  const shape = entryShape(v);
  if (typeof shape === 'string') return { reason: 'malformed', message: shape };
  const body = entryBody(shape);
  if (`${body.slice(0, -1)},"hash":"${shape.hash}"}` !== text) {
    return { reason: 'altered', message: 'is not in canonical form (bytes changed)' };
  }
  if (sha256Hex(body) !== shape.hash) return { reason: 'altered', message: 'does not match its hash (contents changed)' };
  return { entry: shape };
}

function entryShape(v: unknown): AuditEntry | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not a JSON object';
  const o = v as Record<string, unknown>;
  if (Object.keys(o).some((k) => !KEYS.includes(k))) return 'has a member that entries do not have';
  if (!Number.isSafeInteger(o['seq']) || (o['seq'] as number) < 1) return 'has no seq (a whole number from 1)';
  for (const k of ['time', 'actor', 'action', 'subject']) if (typeof o[k] !== 'string') return `has no ${k} string`;
  if (!(AUDIT_ROLES as readonly unknown[]).includes(o['role'])) return 'has no known role';
  if (typeof o['prev'] !== 'string' || !HEX64.test(o['prev'])) return 'has no prev (64 lower-case hex digits)';
  if (typeof o['hash'] !== 'string' || !HEX64.test(o['hash'])) return 'has no hash (64 lower-case hex digits)';
  return o as unknown as AuditEntry;
}

/** Where verification starts when it does not start at the first line. */
export interface VerifyFrom {
  /** The seq of the entry just before the first byte given. */
  seq: number;
  /** SHA-256 (hex) of that entry's line. */
  lineHash: string;
}

export interface VerifierOptions {
  anchor?: AuditAnchor;
  from?: VerifyFrom;
  /** Called for each entry that verifies, in order, with the byte offset (from the first byte given) just after its "\n". */
  onEntry?: (entry: AuditEntry, endOffset: number) => void;
}

/**
 * Verifies a log fed in chunks of any size (so a large log streams through in bounded
 * memory), and names the first bad entry. After the first failure it only keeps looking
 * for the missing seq, to tell a removed entry from a reordered one.
 */
export class AuditVerifier {
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  private overlong = false;
  private offset = 0;
  private seq: number;
  private prevLineHash: string;
  private anchorHash: string | undefined;
  private headHash: string | undefined;
  private failure: { entry: number; reason: AuditFailure; message: string } | undefined;
  /** After a later seq where `missing` was due: removed, unless `missing` turns up later. */
  private missing: number | undefined;

  constructor(private readonly opts: VerifierOptions = {}) {
    this.seq = opts.from?.seq ?? 0;
    this.prevLineHash = opts.from?.lineHash ?? GENESIS_PREV;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      let line: Uint8Array;
      if (this.partialBytes === 0) line = piece;
      else {
        this.partial.push(piece);
        line = Buffer.concat(this.partial);
      }
      const overlong = this.overlong;
      this.partial = [];
      this.partialBytes = 0;
      this.overlong = false;
      this.offset += line.length + 1;
      this.line(overlong ? undefined : line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.offset += rest.length;
      if (this.partialBytes + rest.length > MAX_AUDIT_ENTRY_BYTES) {
        // Only the length matters now; keep nothing more.
        this.overlong = true;
        this.partial = [];
      } else if (!this.overlong) this.partial.push(Uint8Array.from(rest));
      this.partialBytes += rest.length;
    }
  }

  /** The verdict once every byte has been pushed. */
  end(): AuditVerifyResult {
    if (this.partialBytes > 0 && !this.failure) {
      this.fail(this.seq + 1, 'truncated', 'its line is not terminated (a torn write, or the log was cut)');
    } else if (this.partialBytes > 0 && this.missing !== undefined && !this.overlong) {
      this.lookFor(Buffer.concat(this.partial));
    }
    if (this.failure) return { ok: false, ...this.failure };
    const a = this.opts.anchor;
    if (a) {
      if (this.seq < a.seq) {
        return this.result(this.seq + 1, 'truncated', `the log ends at entry ${this.seq} but the database has seen entry ${a.seq}: entries were cut from its end`);
      }
      if (this.anchorHash !== undefined && this.anchorHash !== a.hash) {
        return this.result(a.seq, 'altered', 'does not match the hash the database holds for it (rewritten)');
      }
    }
    const head = this.headHash === undefined ? undefined : { seq: this.seq, hash: this.headHash };
    const entries = this.seq - (this.opts.from?.seq ?? 0);
    return { ok: true, entries, ...(head ? { head } : {}), ...(a ? { beyondAnchor: this.seq - a.seq } : {}) };
  }

  private result(entry: number, reason: AuditFailure, message: string): AuditVerifyResult {
    return { ok: false, entry, reason, message: `audit entry ${entry}: ${message}` };
  }

  private fail(entry: number, reason: AuditFailure, message: string): void {
    this.failure = { entry, reason, message: `audit entry ${entry}: ${message}` };
  }

  private line(bytes: Uint8Array | undefined): void {
    if (this.failure) {
      if (this.missing !== undefined && bytes) this.lookFor(bytes);
      return;
    }
    const at = this.seq + 1;
    if (!bytes) return this.fail(at, 'malformed', `is longer than MAX_AUDIT_ENTRY_BYTES (${MAX_AUDIT_ENTRY_BYTES})`);
    const c = checkLine(bytes);
    if (!('entry' in c)) return this.fail(at, c.reason, c.message);
    const e = c.entry;
    if (e.seq < at) return this.fail(at, 'reordered', `the entry here is entry ${e.seq}, which belongs earlier: entries were moved or repeated`);
    if (e.seq > at) {
      this.missing = at;
      return this.fail(at, 'removed', `the entry here is entry ${e.seq}: entries ${at}..${e.seq - 1} are missing`);
    }
    if (e.prev !== this.prevLineHash) {
      // The entry is sealed (its hash covers prev), so the line before it is what changed:
      // rewritten with a recomputed hash. The first entry must follow nothing.
      if (at === 1 || this.opts.from?.seq === at - 1) {
        return this.fail(at, 'altered', 'does not follow the entry before it (its prev differs)');
      }
      return this.fail(at - 1, 'altered', `does not match the hash entry ${at} holds of it (rewritten with its own hash recomputed)`);
    }
    this.seq = at;
    this.prevLineHash = sha256Hex(bytes);
    this.headHash = e.hash;
    if (this.opts.anchor?.seq === at) this.anchorHash = e.hash;
    this.opts.onEntry?.(e, this.offset);
  }

  /** A moved entry turns up later: the gap was a reordering, not a removal. */
  private lookFor(bytes: Uint8Array): void {
    const m = /^\{"seq":(\d{1,16}),/.exec(Buffer.from(bytes.subarray(0, 32)).toString('latin1'));
    if (m && Number(m[1]) === this.missing && this.failure) {
      const at = this.failure.entry;
      this.failure = { entry: at, reason: 'reordered', message: `audit entry ${at}: is out of place (it comes later in the log): entries were reordered` };
      this.missing = undefined;
    }
  }
}

/** Verifies a whole log held in memory; see AuditVerifier. */
export function verifyAudit(text: string | Uint8Array, anchor?: AuditAnchor): AuditVerifyResult {
  const v = new AuditVerifier(anchor ? { anchor } : {});
  v.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  return v.end();
}
