/**
 * What the LEMF remembers between runs, in DIR/state.json: the sequence state of every stream,
 * the counters, and the committed length of each output file it may cut back (records.jsonl
 * and the pcaps). It is written atomically (temporary file, fsync, rename, fsync of the
 * directory) each time the LEMF confirms data to the mediator, after the files themselves are
 * synced; so after a crash the files are cut back to what state.json covers, and the mediator
 * resends the rest (it had no confirmation for it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LemfError } from '../errors';
import { StreamState } from './sequence';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;
/** Gaps listed one by one in the state and summary; beyond this only counted. */
export const MAX_LISTED_GAPS = 10_000;

/** Records written for one LIID (duplicates excluded). */
export interface LiidCounts {
  /** The LIID as summaries show it (text, or hex: and its bytes). */
  label: string;
  iri: number;
  cc: number;
  /** IP packets written to the LIID's pcap. */
  ccPackets: number;
  /** HI1 notifications by HI1-Operation alternative (liActivated, liDeactivated, liModified, …); absent until the first. */
  hi1?: Record<string, number>;
}

/** A jump in a stream's sequence numbers: `from`..`to` (inclusive) were not received then. */
export interface GapRecord {
  liid: string;
  cin: number | null;
  kind: 'IRI' | 'CC' | 'HI1';
  from: number;
  to: number;
  hi: 'hi2' | 'hi3';
  conn: number;
}

export interface Counters {
  /** By LIID bytes in hex. */
  records: Record<string, LiidCounts>;
  pdus: number;
  gaps: number;
  gapList: GapRecord[];
  /** Sequence numbers that filled a gap after it was counted. */
  late: number;
  duplicates: number;
  decodeErrors: number;
  /** Connections that ended inside a PDU. */
  truncated: number;
  keepAlivesAnswered: number;
  pduAcksAnswered: number;
  optionsAnswered: number;
  connections: number;
  refusals: number;
}

export interface LemfState {
  version: number;
  sequences: Record<string, StreamState>;
  counters: Counters;
  /** Output file (relative to DIR) → length covered by this state. */
  committed: Record<string, number>;
}

export function emptyCounters(): Counters {
  return {
    records: {}, pdus: 0, gaps: 0, gapList: [], late: 0, duplicates: 0, decodeErrors: 0, truncated: 0,
    keepAlivesAnswered: 0, pduAcksAnswered: 0, optionsAnswered: 0, connections: 0, refusals: 0,
  };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a parsed state.json is not one, or undefined when it is. */
function invalid(s: unknown): string | undefined {
  if (!isObject(s)) return 'it is not a JSON object';
  if (s.version !== STATE_VERSION) return `its version is ${JSON.stringify(s.version)}, this LEMF reads version ${STATE_VERSION}`;
  if (!isObject(s.sequences) || !isObject(s.counters) || !isObject(s.committed)) return 'sequences, counters or committed is missing';
  for (const [k, v] of Object.entries(s.sequences)) {
    if (!isObject(v) || !isCount(v.next) || !Array.isArray(v.open)) return `sequences["${k}"] is malformed`;
    if (!v.open.every((r) => Array.isArray(r) && r.length === 2 && isCount(r[0]) && isCount(r[1]) && r[0] <= r[1])) return `sequences["${k}"].open is malformed`;
  }
  const c = s.counters;
  for (const k of Object.keys(emptyCounters()) as Array<keyof Counters>) {
    if (k === 'records') {
      if (!isObject(c.records)) return 'counters.records is malformed';
      for (const r of Object.values(c.records)) {
        if (!isObject(r) || typeof r.label !== 'string' || !isCount(r.iri) || !isCount(r.cc) || !isCount(r.ccPackets)) return 'counters.records is malformed';
        if (r.hi1 !== undefined && (!isObject(r.hi1) || !Object.values(r.hi1).every(isCount))) return 'counters.records is malformed';
      }
    } else if (k === 'gapList') {
      if (!Array.isArray(c.gapList)) return 'counters.gapList is malformed';
    } else if (!isCount(c[k])) return `counters.${k} is malformed`;
  }
  for (const [k, v] of Object.entries(s.committed)) {
    if (!isCount(v) || path.isAbsolute(k) || k.split(/[\\/]/).includes('..')) return `committed["${k}"] is malformed`;
  }
  return undefined;
}

/** The saved state of `dir`, or undefined when it has none. Throws LIG_ERR_LEMF_STATE when it is damaged. */
export function loadState(dir: string): LemfState | undefined {
  const file = path.join(dir, STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LemfError('LIG_ERR_LEMF_OUTPUT', `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { path: file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LemfError('LIG_ERR_LEMF_STATE', 'it is not valid JSON', { path: file });
  }
  const why = invalid(parsed);
  if (why) throw new LemfError('LIG_ERR_LEMF_STATE', why, { path: file });
  return parsed as LemfState;
}

/** Writes `name` in `dir` atomically and durably: a temporary file, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
  const file = path.join(dir, name);
  const tmp = `${file}.tmp`;
  try {
    const fh = await fs.promises.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
    const d = await fs.promises.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch (e) {
    throw new LemfError('LIG_ERR_LEMF_IO', `cannot write it (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { path: file, cause: e });
  }
}

export function saveState(dir: string, state: LemfState): Promise<void> {
  return writeFileAtomic(dir, STATE_FILE, JSON.stringify(state));
}
