/**
 * DATADIR/sessions.json, the durable form of the session table (sessions.ts): its JSON shape
 * and a strict reading of it. A file that does not have this shape is refused with
 * MEDIATION_STATE, never silently replaced: its CINs are referenced by records already
 * journaled.
 *
 * ```
 * { "version": 1, "nextEndId": "3",
 *   "intercepts": [{ "agency", "liid", "open": [{ "cin", "lastUs", "facts" }], "ended": [{ "key", "cin", "endUs" }] }],
 *   "applied": [[probe, spool, "batch id"]],
 *   "replays": [{ "probe", "spool", "batch", "effects": [{ "index", "agency", "liid", "cin", "step", "facts", "atUs", "cause" }] }],
 *   "pendingEnds": [{ "id", "agency", "liid", "cin", "step", "facts", "atUs", "cause" }] }
 * ```
 */
import { IRI_STEPS, type SessionFacts, type SessionIri } from './identity-iri';
import { MAX_CIN } from './numbering';
import { damaged } from './state-file';

export const SESSIONS_FILE_VERSION = 1;

export interface StoredOpen {
  cin: number;
  /** Capture time of the last event that updated the session (µs, decimal). */
  lastUs: string;
  facts: SessionFacts;
}

/** A session that ended, kept so that late packets and events are recognised. */
export interface StoredEnded {
  key: string;
  cin: number;
  endUs: string;
}

export interface StoredIntercept {
  agency: string;
  liid: string;
  open: StoredOpen[];
  ended: StoredEnded[];
}

/** One IRI record a batch made: `index` is the event's position in the batch. */
export interface Effect extends SessionIri {
  index: number;
  agency: string;
  liid: string;
  cin: number;
}

export interface StoredReplay {
  probe: string;
  spool: string;
  batch: string;
  effects: Effect[];
}

/** An IRI-END endOfInterceptionWithSessionActive decided and not yet known durable in its journal. */
export interface PendingEnd extends SessionIri {
  id: string;
  agency: string;
  liid: string;
  cin: number;
}

export interface SessionsFile {
  version: number;
  nextEndId: string;
  intercepts: StoredIntercept[];
  applied: [probe: string, spool: string, batch: string][];
  replays: StoredReplay[];
  pendingEnds: PendingEnd[];
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isDec = (v: unknown): v is string => typeof v === 'string' && /^\d{1,20}$/.test(v);
const isHex = (v: unknown, ...lengths: number[]): boolean => typeof v === 'string' && (v === '' || (lengths.includes(v.length) && /^[0-9a-f]*$/.test(v)));
const isCin = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_CIN;
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function isFacts(v: unknown): v is SessionFacts {
  if (!isObj(v)) return false;
  return (
    isStr(v.key) &&
    (v.source === 'radius' || v.source === 'dhcp') &&
    isStr(v.username) &&
    isHex(v.mac, 12) &&
    isHex(v.ipv4, 8) &&
    isHex(v.ipv6, 32) &&
    typeof v.ipv6Length === 'number' &&
    Number.isInteger(v.ipv6Length) &&
    v.ipv6Length >= 0 &&
    v.ipv6Length <= 128 &&
    isHex(v.nasIp, 8, 32) &&
    isStr(v.nasIdentifier) &&
    isDec(v.startUs) &&
    typeof v.leaseSeconds === 'number' &&
    Number.isInteger(v.leaseSeconds) &&
    v.leaseSeconds >= 0 &&
    v.leaseSeconds <= 0xffffffff &&
    isDec(v.leaseFromUs) &&
    isDec(v.octetsIn) &&
    isDec(v.octetsOut)
  );
}

function isIri(v: Record<string, unknown>): boolean {
  return IRI_STEPS.includes(v.step as never) && isFacts(v.facts) && isDec(v.atUs) && typeof v.cause === 'number' && Number.isInteger(v.cause) && v.cause >= 0;
}

const isRef = (v: Record<string, unknown>) => isStr(v.agency) && isStr(v.liid) && isCin(v.cin);

/** The table in `raw` (parsed JSON of `file`); throws MEDIATION_STATE when it is not one. */
export function readSessionsFile(raw: unknown, file: string): SessionsFile {
  const bad = (what: string) => damaged(file, what);
  if (!isObj(raw) || raw.version !== SESSIONS_FILE_VERSION) throw bad(`expected version ${SESSIONS_FILE_VERSION}`);
  if (!isDec(raw.nextEndId)) throw bad('nextEndId is not a decimal string');
  for (const k of ['intercepts', 'applied', 'replays', 'pendingEnds']) if (!Array.isArray(raw[k])) throw bad(`${k} is not a list`);
  const intercepts = raw.intercepts as unknown[];
  for (const i of intercepts) {
    if (!isObj(i) || !isStr(i.agency) || !isStr(i.liid) || !Array.isArray(i.open) || !Array.isArray(i.ended)) throw bad('an intercept is not { agency, liid, open, ended }');
    for (const o of i.open as unknown[]) if (!isObj(o) || !isCin(o.cin) || !isDec(o.lastUs) || !isFacts(o.facts)) throw bad('an open session is not { cin, lastUs, facts }');
    for (const e of i.ended as unknown[]) if (!isObj(e) || !isStr(e.key) || !isCin(e.cin) || !isDec(e.endUs)) throw bad('an ended session is not { key, cin, endUs }');
  }
  for (const a of raw.applied as unknown[]) {
    if (!Array.isArray(a) || a.length !== 3 || !isStr(a[0]) || !isStr(a[1]) || !isDec(a[2])) throw bad('an applied watermark is not [probe, spool, id]');
  }
  for (const r of raw.replays as unknown[]) {
    if (!isObj(r) || !isStr(r.probe) || !isStr(r.spool) || !isDec(r.batch) || !Array.isArray(r.effects)) throw bad('a replay is not { probe, spool, batch, effects }');
    for (const e of r.effects as unknown[]) {
      if (!isObj(e) || !isRef(e) || !isIri(e) || typeof e.index !== 'number' || !Number.isSafeInteger(e.index) || e.index < 0) throw bad('a replayed effect is malformed');
    }
  }
  for (const p of raw.pendingEnds as unknown[]) {
    if (!isObj(p) || !isDec(p.id) || !isRef(p) || !isIri(p)) throw bad('a pending end is malformed');
  }
  return raw as unknown as SessionsFile;
}
