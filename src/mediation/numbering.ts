/**
 * CINs and sequence numbers (TS 102 232-1 clause 5.2.4 and 6.2.3).
 *
 * A communication of an intercept has a CIN (communicationIdentityNumber), shared by its IRI
 * and its CC. Each (LIID, CIN) numbers its IRI records and, separately, its CC records from
 * 0 without gaps. IRI and CC go to different journals (HI2, HI3), so:
 *
 * - CIN allocations live in CinRegistry, persisted in DATADIR/cins.json *before* a CIN is
 *   used, so both journals (and every restart) agree on it. They cannot live in a journal's
 *   state: a crash between the HI2 and the HI3 append would let the two allocate apart.
 * - Sequence counters live in Numbering, one per journal, saved in the journal's state with
 *   every append (see journal-channel.ts), so after a crash they match exactly the records
 *   that survived: no gap, no number used twice.
 *
 * An intercept has one communication of its own (INTERCEPT_COMMUNICATION: its IP-target
 * records), others named by their callers (submitIri), and one per access session of its
 * target. A session's CIN comes from allocateFresh(): a new number every time, with no name
 * kept here (the session table, sessions.json, keeps which session has which CIN), so a
 * session key seen again after its end gets a new CIN and cins.json does not grow with every
 * session. Numbering counts any number of CINs per LIID.
 */
import * as path from 'node:path';
import { MediationError } from '../errors';
import { damaged, readStateFile, writeStateFile } from './state-file';

/** sequenceNumber is INTEGER (0..4294967295); after it, numbering wraps to 0 behind a cINReset. */
export const MAX_SEQUENCE_NUMBER = 4294967295;
/** communicationIdentityNumber is INTEGER (0..4294967295); lig allocates from 1. */
export const MAX_CIN = 4294967295;
/** The one communication of an intercept until access sessions get CINs of their own. */
export const INTERCEPT_COMMUNICATION = 'intercept';
export const CINS_FILE = 'cins.json';
const FILE_VERSION = 1;

interface StoredLiid {
  agency: string;
  liid: string;
  /** The next CIN to allocate for this LIID. */
  next: number;
  /** communication → CIN. */
  cins: Record<string, number>;
}

const key = (agency: string, liid: string) => `${agency}\u0000${liid}`;

/** Persisted CIN allocations: (agency, LIID, communication) → CIN, unique per LIID, never reused. */
export class CinRegistry {
  private readonly liids = new Map<string, StoredLiid>();
  private chain: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** Loads DATADIR/cins.json (none yet: empty). Throws MEDIATION_STATE when it is damaged. */
  static async open(dataDir: string): Promise<CinRegistry> {
    const r = new CinRegistry(path.join(dataDir, CINS_FILE));
    const raw = await readStateFile(r.file);
    if (raw === undefined) return r;
    const v = raw as { version?: unknown; liids?: unknown };
    if (v.version !== FILE_VERSION || !Array.isArray(v.liids)) throw damaged(r.file, `expected version ${FILE_VERSION} and a list of LIIDs`);
    for (const e of v.liids as StoredLiid[]) {
      const ok =
        typeof e?.agency === 'string' &&
        typeof e.liid === 'string' &&
        isCin(e.next - 1) &&
        e.cins !== null &&
        typeof e.cins === 'object' &&
        Object.values(e.cins).every((c) => isCin(c) && c < e.next);
      if (!ok || r.liids.has(key(e.agency, e.liid))) throw damaged(r.file, 'a LIID entry is not { agency, liid, next, cins }, or is listed twice');
      r.liids.set(key(e.agency, e.liid), { agency: e.agency, liid: e.liid, next: e.next, cins: { ...e.cins } });
    }
    return r;
  }

  /** The CIN of a communication, if allocated. */
  get(agency: string, liid: string, communication = INTERCEPT_COMMUNICATION): number | undefined {
    return this.liids.get(key(agency, liid))?.cins[communication];
  }

  /**
   * Allocates a CIN to every communication given that has none, and resolves once the
   * allocations are durable (only then may records carry them).
   */
  allocate(wanted: readonly { agency: string; liid: string; communication?: string }[]): Promise<void> {
    let added = false;
    for (const w of wanted) {
      const k = key(w.agency, w.liid);
      let e = this.liids.get(k);
      if (!e) this.liids.set(k, (e = { agency: w.agency, liid: w.liid, next: 1, cins: {} }));
      const c = w.communication ?? INTERCEPT_COMMUNICATION;
      if (e.cins[c] !== undefined) continue;
      if (e.next > MAX_CIN) throw new MediationError('LIG_ERR_MEDIATION_STATE', `every CIN of a LIID of agency ${w.agency} is used`);
      e.cins[c] = e.next++;
      added = true;
    }
    if (!added) return this.chain;
    return this.write();
  }

  /**
   * A new CIN for `liid`, used by nothing before and never again; `durable` resolves once
   * the allocation is in cins.json (only then may a record carry it).
   */
  allocateFresh(agency: string, liid: string): { cin: number; durable: Promise<void> } {
    const e = this.entry(agency, liid);
    if (e.next > MAX_CIN) throw new MediationError('LIG_ERR_MEDIATION_STATE', `every CIN of a LIID of agency ${agency} is used`);
    const cin = e.next++;
    return { cin, durable: this.write() };
  }

  /**
   * Makes sure `cin` of `liid` is never allocated again (a CIN kept elsewhere, e.g. by a
   * session whose allocation may not have reached cins.json before a crash). Resolves once
   * that is durable; at once when it already was.
   */
  reserve(agency: string, liid: string, cin: number): Promise<void> {
    const e = this.entry(agency, liid);
    if (cin < e.next) return this.chain;
    e.next = cin + 1;
    return this.write();
  }

  private entry(agency: string, liid: string): StoredLiid {
    const k = key(agency, liid);
    let e = this.liids.get(k);
    if (!e) this.liids.set(k, (e = { agency, liid, next: 1, cins: {} }));
    return e;
  }

  private write(): Promise<void> {
    const snapshot = { version: FILE_VERSION, liids: [...this.liids.values()].map((e) => ({ ...e, cins: { ...e.cins } })) };
    const write = this.chain.then(() => writeStateFile(this.file, snapshot));
    this.chain = write.catch(() => undefined);
    return write;
  }
}

function isCin(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_CIN;
}

/** The sequence number a record gets, and whether numbering wrapped (a cINReset must precede it). */
export interface Numbered {
  seq: number;
  reset: boolean;
}

/**
 * Sequence counters of one journal: (LIID, CIN) → the next number. Changes are made inside
 * begin() … commit() / rollback(), so an append that does not happen leaves no trace.
 */
export class Numbering {
  private readonly next = new Map<string, number>();
  private undo: Map<string, number | undefined> | undefined;

  /** The next number for (liid, cin) and advances it; wraps after MAX_SEQUENCE_NUMBER. */
  take(liid: string, cin: number): Numbered {
    const k = `${liid}\u0000${cin}`;
    const n = this.next.get(k);
    if (this.undo && !this.undo.has(k)) this.undo.set(k, n);
    const wrap = (n ?? 0) > MAX_SEQUENCE_NUMBER;
    const seq = wrap ? 0 : (n ?? 0);
    this.next.set(k, seq + 1);
    return { seq, reset: wrap };
  }

  /** Gives back the number `n` that the last take() for (liid, cin) returned: it is taken next again. */
  untake(liid: string, cin: number, n: Numbered): void {
    this.next.set(`${liid}\u0000${cin}`, n.reset ? MAX_SEQUENCE_NUMBER + 1 : n.seq);
  }

  /** The number take() would give next (0 for a new key). */
  peek(liid: string, cin: number): number {
    const n = this.next.get(`${liid}\u0000${cin}`) ?? 0;
    return n > MAX_SEQUENCE_NUMBER ? 0 : n;
  }

  begin(): void {
    this.undo = new Map();
  }

  commit(): void {
    this.undo = undefined;
  }

  rollback(): void {
    if (!this.undo) return;
    for (const [k, v] of this.undo) (v === undefined ? this.next.delete(k) : this.next.set(k, v));
    this.undo = undefined;
  }

  /** Plain data for the journal state: [liid, cin, next] triples. */
  toJSON(): [string, number, number][] {
    return [...this.next].map(([k, n]) => {
      const at = k.lastIndexOf('\u0000');
      return [k.slice(0, at), Number(k.slice(at + 1)), n];
    });
  }

  /** Rebuilds counters from toJSON() output; undefined if it is not that shape. */
  static fromJSON(v: unknown): Numbering | undefined {
    if (!Array.isArray(v)) return undefined;
    const n = new Numbering();
    for (const e of v as unknown[]) {
      if (!Array.isArray(e) || e.length !== 3) return undefined;
      const [liid, cin, next] = e as [unknown, unknown, unknown];
      if (typeof liid !== 'string' || !isCin(cin) || typeof next !== 'number' || !Number.isSafeInteger(next) || next < 0 || next > MAX_SEQUENCE_NUMBER + 1) {
        return undefined;
      }
      n.next.set(`${liid}\u0000${cin}`, next);
    }
    return n;
  }

  /** Sets the next number of a key (tests, and restoring state). */
  set(liid: string, cin: number, next: number): void {
    this.next.set(`${liid}\u0000${cin}`, next);
  }
}
