/**
 * The access sessions of the targets of username and MAC intercepts, as the mediator knows
 * them: per intercept, its open sessions (facts and CIN) and the recently ended ones, durable
 * in DATADIR/sessions.json (sessions-file.ts; atomic writes, coalesced).
 *
 * Each session is one communication with its own CIN (CinRegistry.allocateFresh), so its IRI
 * and CC are told apart from the target's other sessions; a session key seen again after its
 * end is a new session with a new CIN.
 *
 * What apply() decides for an event:
 * - start (RADIUS Start, DHCP bind): a new session, IRI-BEGIN accessAccept. For a session
 *   already open (two probes see the same RADIUS) nothing: a duplicate.
 * - active (SESSION_ACTIVE), or an interim for a session not open: a new session, IRI-BEGIN
 *   startOfInterceptionWithSessionActive.
 * - interim for an open session: IRI-CONTINUE, unless it repeats the last update (same
 *   counters, within INTERIM_DUPLICATE_WINDOW_US of it: the same accounting seen twice).
 * - stop (RADIUS Stop, DHCP release or expiry): IRI-END accessEnd, and the session is
 *   remembered as ended. The stop of a session never seen (the probe missed its start and
 *   interims) still gives its IRI: IRI-BEGIN startOfInterceptionWithSessionActive, then
 *   IRI-END; a second copy of a stop, nothing.
 * - an event for a key at or before the end of its last session is late: ignored.
 *
 * Resends. A batch's decisions are made once: the batch's records are handed to the journals
 * only after the table including its changes is durable (see handler.ts), and the table
 * keeps, per probe spool, the highest batch applied and the IRI each recent batch made
 * (replays). A batch at or below that watermark changes nothing again: its kept IRI is made
 * again (each journal skips it if it already holds the batch), so a batch resent after a
 * crash neither loses its IRI-BEGIN nor makes a second one. A replay is forgotten once its
 * batch is durable.
 *
 * A packet's session (resolvePacket): the earliest ended session of that key whose end is
 * at or after the packet's capture time, else the open one; a packet captured after the end
 * of every session of its key, with none open, is 'ended' (design guarantee 1: the address
 * may already be another subscriber's). A key never seen: undefined (the caller uses the
 * intercept's own CIN and counts it: the target's traffic is never dropped for want of an
 * IRI-BEGIN).
 */
import * as path from 'node:path';
import type { IdentityEvent } from '../gen/lig/v1/ingest';
import { MAX_SPOOLS_PER_PROBE } from './channel-state';
import { type SessionFacts, factsOf, stepOfKind } from './identity-iri';
import { readStateFile, writeStateFile } from './state-file';
import { type Effect, type PendingEnd, SESSIONS_FILE_VERSION, type SessionsFile, type StoredEnded, type StoredOpen, readSessionsFile } from './sessions-file';

export type { Effect, PendingEnd } from './sessions-file';

export const SESSIONS_FILE = 'sessions.json';
/** Open sessions per intercept; a new one beyond this is refused (counted). A target rarely has more than a few. */
export const MAX_OPEN_SESSIONS_PER_INTERCEPT = 256;
/** Ended sessions remembered per intercept (for late packets and events); the oldest is forgotten. */
export const MAX_ENDED_SESSIONS_PER_INTERCEPT = 256;
/** Batches whose IRI is kept for a resend; the oldest is forgotten (counted). */
export const MAX_REPLAY_BATCHES = 1024;
/** An interim with the same counters as the last update, this close to it, is that update seen twice. */
export const INTERIM_DUPLICATE_WINDOW_US = 2_000_000n;
/** The `once` origin of the IRI-END records of intercepts removed mid-session (submitIri). */
export const SESSION_END_ORIGIN = 'sessions';

/** Which intercept: agency and LIID. */
export interface InterceptRef {
  agency: string;
  liid: string;
}

/** What the table did, for status (no LIIDs, no targets). */
export interface SessionCounters {
  identityEvents: number;
  /** Events without a usable session key, source or kind: dropped. */
  badIdentityEvents: number;
  sessionsBegun: number;
  /** Sessions begun as startOfInterceptionWithSessionActive. */
  sessionsActive: number;
  sessionsContinued: number;
  sessionsEnded: number;
  /** IRI-END endOfInterceptionWithSessionActive decided (intercepts removed mid-session). */
  interceptionEnds: number;
  /** Starts of open sessions, repeated interims and stops: the same event seen twice. */
  duplicateIdentity: number;
  /** Events for a session after its end: ignored. */
  lateIdentity: number;
  /** New sessions over MAX_OPEN_SESSIONS_PER_INTERCEPT: refused. */
  sessionsRefused: number;
  /** Resent batches whose kept IRI was made again. */
  replayedBatches: number;
  /** Replays forgotten over MAX_REPLAY_BATCHES before their batch was durable. */
  replaysDropped: number;
}

export function newSessionCounters(): SessionCounters {
  return {
    identityEvents: 0, badIdentityEvents: 0, sessionsBegun: 0, sessionsActive: 0, sessionsContinued: 0, sessionsEnded: 0,
    interceptionEnds: 0, duplicateIdentity: 0, lateIdentity: 0, sessionsRefused: 0, replayedBatches: 0, replaysDropped: 0,
  };
}

/** An open session. */
export interface OpenSession {
  cin: number;
  facts: SessionFacts;
  lastUs: bigint;
}

interface Ended {
  key: string;
  cin: number;
  endUs: bigint;
}

interface InterceptSessions {
  ref: InterceptRef;
  open: Map<string, OpenSession>;
  /** Ended sessions, oldest first, and the same by key. */
  ended: Ended[];
  endedByKey: Map<string, Ended[]>;
}

/** What apply() decided: the IRI to make (if any), and whether the open sessions changed. */
export interface Applied {
  effects: Omit<Effect, 'index'>[];
  openChanged: boolean;
}

const ikey = (r: InterceptRef) => `${r.agency}\u0000${r.liid}`;
const rkey = (probe: string, spool: string, batch: bigint) => `${probe}\u0000${spool}\u0000${batch}`;

export class SessionTable {
  private readonly intercepts = new Map<string, InterceptSessions>();
  private readonly applied = new Map<string, [spool: string, id: bigint][]>();
  private readonly replays = new Map<string, { probe: string; spool: string; batch: bigint; effects: Effect[] }>();
  private pending: PendingEnd[] = [];
  private nextEndId = 1n;
  private writing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  /** `file` undefined: kept in memory only (see inMemory()). */
  private constructor(readonly file: string | undefined) {}

  /** A table that is never written: for cores that take no identity events (tests). Not durable. */
  static inMemory(): SessionTable {
    return new SessionTable(undefined);
  }

  /** Loads DATADIR/sessions.json (none yet: empty). Throws MEDIATION_STATE when it is damaged. */
  static async open(dataDir: string): Promise<SessionTable> {
    const file = path.join(dataDir, SESSIONS_FILE);
    const t = new SessionTable(file);
    const raw = await readStateFile(file);
    if (raw === undefined) return t;
    const f = readSessionsFile(raw, file);
    t.nextEndId = BigInt(f.nextEndId);
    for (const i of f.intercepts) {
      const s = t.entry(i);
      for (const o of i.open) s.open.set(o.facts.key, { cin: o.cin, facts: o.facts, lastUs: BigInt(o.lastUs) });
      for (const e of i.ended) t.remember(s, { key: e.key, cin: e.cin, endUs: BigInt(e.endUs) });
    }
    for (const [probe, spool, id] of f.applied) t.markApplied(probe, spool, BigInt(id), []);
    for (const r of f.replays) t.replays.set(rkey(r.probe, r.spool, BigInt(r.batch)), { probe: r.probe, spool: r.spool, batch: BigInt(r.batch), effects: r.effects });
    t.pending = f.pendingEnds;
    return t;
  }

  // --- identity events -------------------------------------------------------------------

  /** Highest batch of (probe, spool) whose identity events were applied; 0n when none. */
  appliedThrough(probe: string, spool: string): bigint {
    return this.applied.get(probe)?.find(([s]) => s === spool)?.[1] ?? 0n;
  }

  /** The IRI batch `batch` of (probe, spool) made, if it is still kept. */
  replay(probe: string, spool: string, batch: bigint): Effect[] | undefined {
    return this.replays.get(rkey(probe, spool, batch))?.effects;
  }

  /**
   * Applies identity event `ev` (captured at `timeUs`) to the sessions of intercept `ref`.
   * `newCin` gives a new session its CIN. Returns the IRI to make and whether the open
   * sessions changed (the probes' hand-back). Call identityProblem() first.
   */
  apply(ref: InterceptRef, ev: IdentityEvent, timeUs: bigint, newCin: () => number, c: SessionCounters): Applied {
    const s = this.entry(ref);
    const key = ev.sessionKey;
    const open = s.open.get(key);
    const step = stepOfKind(ev.kind);
    const lastEnd = s.endedByKey.get(key)?.at(-1);
    const none: Applied = { effects: [], openChanged: false };
    const at = timeUs.toString();
    if (lastEnd && timeUs <= lastEnd.endUs) {
      // of a session that has ended: a stop seen twice, or anything else late
      if (step === 'stop') c.duplicateIdentity++;
      else c.lateIdentity++;
      return none;
    }
    if (open === undefined) {
      if (step === 'stop' && lastEnd) {
        c.duplicateIdentity++; // a second probe's copy of a stop, captured a little later
        return none;
      }
      if (s.open.size >= MAX_OPEN_SESSIONS_PER_INTERCEPT) {
        c.sessionsRefused++;
        return none;
      }
      const facts = factsOf(ev, timeUs);
      const cin = newCin();
      const begin = step === 'start';
      if (begin) c.sessionsBegun++;
      else c.sessionsActive++;
      const opened = { ...ref, cin, step: begin ? ('begin' as const) : ('active' as const), facts, atUs: at, cause: 0 };
      if (step !== 'stop') {
        s.open.set(key, { cin, facts, lastUs: timeUs });
        return { effects: [opened], openChanged: true };
      }
      // the stop of a session never seen: its IRI all the same (BEGIN session-active, END)
      this.remember(s, { key, cin, endUs: timeUs });
      c.sessionsEnded++;
      return { effects: [opened, { ...opened, step: 'end', cause: ev.terminateCause }], openChanged: false };
    }
    if (step === 'start' || step === 'active') {
      c.duplicateIdentity++;
      return none;
    }
    if (step === 'interim') {
      const o = open;
      const facts = factsOf(ev, timeUs, o.facts);
      const same = facts.octetsIn === o.facts.octetsIn && facts.octetsOut === o.facts.octetsOut;
      const near = timeUs >= o.lastUs ? timeUs - o.lastUs <= INTERIM_DUPLICATE_WINDOW_US : o.lastUs - timeUs <= INTERIM_DUPLICATE_WINDOW_US;
      if (same && near) {
        c.duplicateIdentity++;
        return none;
      }
      const moved = facts.ipv4 !== o.facts.ipv4 || facts.ipv6 !== o.facts.ipv6 || facts.ipv6Length !== o.facts.ipv6Length;
      o.facts = facts;
      if (timeUs > o.lastUs) o.lastUs = timeUs;
      c.sessionsContinued++;
      return { effects: [{ ...ref, cin: o.cin, step: 'continue', facts, atUs: at, cause: 0 }], openChanged: moved };
    }
    // stop
    const facts = factsOf(ev, timeUs, open.facts);
    s.open.delete(key);
    this.remember(s, { key, cin: open.cin, endUs: timeUs });
    c.sessionsEnded++;
    return { effects: [{ ...ref, cin: open.cin, step: 'end', facts, atUs: at, cause: ev.terminateCause }], openChanged: true };
  }

  /**
   * Records that batch `batch` of (probe, spool) was applied and made `effects` (kept for a
   * resend while not empty).
   */
  markApplied(probe: string, spool: string, batch: bigint, effects: Effect[], c?: SessionCounters): void {
    const spools = this.applied.get(probe) ?? [];
    const rest = spools.filter(([s]) => s !== spool);
    this.applied.set(probe, [[spool, batch] as [string, bigint], ...rest].slice(0, MAX_SPOOLS_PER_PROBE));
    if (effects.length === 0) return;
    this.replays.set(rkey(probe, spool, batch), { probe, spool, batch, effects });
    while (this.replays.size > MAX_REPLAY_BATCHES) {
      this.replays.delete(this.replays.keys().next().value!);
      if (c) c.replaysDropped++;
    }
  }

  /** Batch `batch` of (probe, spool) is durable: its replay is no longer needed (persisted with the next save). */
  forgetReplay(probe: string, spool: string, batch: bigint): void {
    this.replays.delete(rkey(probe, spool, batch));
  }

  // --- packets and hand-back ---------------------------------------------------------------

  /** The CIN of the session `key` of `ref` that a packet captured at `timeUs` belongs to (see the file comment). */
  resolvePacket(ref: InterceptRef, key: string, timeUs: bigint): number | 'ended' | undefined {
    const s = this.intercepts.get(ikey(ref));
    if (!s) return undefined;
    const ended = s.endedByKey.get(key);
    if (ended) {
      let best: Ended | undefined;
      for (const e of ended) if (timeUs <= e.endUs && (!best || e.endUs < best.endUs)) best = e;
      if (best) return best.cin;
    }
    const o = s.open.get(key);
    if (o) return o.cin;
    return ended ? 'ended' : undefined;
  }

  /** How many sessions are open (all intercepts). */
  openCount(): number {
    let n = 0;
    for (const s of this.intercepts.values()) n += s.open.size;
    return n;
  }

  /** The open sessions of `ref`. */
  openOf(ref: InterceptRef): OpenSession[] {
    return [...(this.intercepts.get(ikey(ref))?.open.values() ?? [])];
  }

  /** Every CIN the table holds, with its intercept (to reserve them in the CIN registry at start). */
  cins(): { agency: string; liid: string; cin: number }[] {
    const out: { agency: string; liid: string; cin: number }[] = [];
    for (const s of this.intercepts.values()) {
      for (const o of s.open.values()) out.push({ ...s.ref, cin: o.cin });
      for (const e of s.ended) out.push({ ...s.ref, cin: e.cin });
    }
    for (const r of this.replays.values()) for (const e of r.effects) out.push({ agency: e.agency, liid: e.liid, cin: e.cin });
    for (const p of this.pending) out.push({ agency: p.agency, liid: p.liid, cin: p.cin });
    return out;
  }

  // --- intercepts removed -------------------------------------------------------------------

  /**
   * Ends the sessions of every intercept `keep` says no to: each open session gets a pending
   * IRI-END endOfInterceptionWithSessionActive at `atUs`, and the intercept is forgotten.
   * Returns the ends decided now.
   */
  endIntercepts(keep: (ref: InterceptRef) => boolean, atUs: bigint, c: SessionCounters): PendingEnd[] {
    const out: PendingEnd[] = [];
    for (const [k, s] of this.intercepts) {
      if (keep(s.ref)) continue;
      for (const o of s.open.values()) {
        out.push({ id: (this.nextEndId++).toString(), ...s.ref, cin: o.cin, step: 'endOfInterception', facts: o.facts, atUs: atUs.toString(), cause: 0 });
        c.interceptionEnds++;
      }
      this.intercepts.delete(k);
    }
    this.pending.push(...out);
    return out;
  }

  /** Ends decided and not yet known durable, in id order. */
  pendingEnds(): readonly PendingEnd[] {
    return this.pending;
  }

  /** End `id` is durable in its journal (persisted with the next save). */
  endDelivered(id: string): void {
    this.pending = this.pending.filter((p) => p.id !== id);
  }

  // --- persistence ----------------------------------------------------------------------------

  /**
   * Makes the table as it is now durable: resolves once a write started after this call
   * has finished (writes are coalesced: one at a time, the next with everything since).
   */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.writing) return this.write();
    const queued = this.writing.catch(() => undefined).then(() => {
      this.queued = undefined;
      return this.write();
    });
    this.queued = queued;
    return queued;
  }

  /** Resolves once every save() so far has finished (undefined when none is under way). */
  saving(): Promise<void> | undefined {
    return this.queued ?? this.writing;
  }

  private write(): Promise<void> {
    const w = this.file === undefined ? Promise.resolve() : writeStateFile(this.file, this.toJSON());
    this.writing = w;
    const done = () => {
      if (this.writing === w) this.writing = undefined;
    };
    w.then(done, done);
    return w;
  }

  private toJSON(): SessionsFile {
    return {
      version: SESSIONS_FILE_VERSION,
      nextEndId: this.nextEndId.toString(),
      intercepts: [...this.intercepts.values()].map((s) => ({
        ...s.ref,
        open: [...s.open.values()].map((o): StoredOpen => ({ cin: o.cin, lastUs: o.lastUs.toString(), facts: o.facts })),
        ended: s.ended.map((e): StoredEnded => ({ key: e.key, cin: e.cin, endUs: e.endUs.toString() })),
      })),
      applied: [...this.applied].flatMap(([probe, spools]) => spools.map(([spool, id]) => [probe, spool, id.toString()] as [string, string, string])),
      replays: [...this.replays.values()].map((r) => ({ probe: r.probe, spool: r.spool, batch: r.batch.toString(), effects: r.effects })),
      pendingEnds: this.pending,
    };
  }

  private entry(ref: InterceptRef): InterceptSessions {
    const k = ikey(ref);
    let s = this.intercepts.get(k);
    if (!s) this.intercepts.set(k, (s = { ref: { agency: ref.agency, liid: ref.liid }, open: new Map(), ended: [], endedByKey: new Map() }));
    return s;
  }

  private remember(s: InterceptSessions, e: Ended): void {
    s.ended.push(e);
    let list = s.endedByKey.get(e.key);
    if (!list) s.endedByKey.set(e.key, (list = []));
    list.push(e);
    while (s.ended.length > MAX_ENDED_SESSIONS_PER_INTERCEPT) {
      const old = s.ended.shift()!;
      const l = s.endedByKey.get(old.key)!;
      l.splice(l.indexOf(old), 1);
      if (l.length === 0) s.endedByKey.delete(old.key);
    }
  }
}
