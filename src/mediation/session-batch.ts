/**
 * The session side of accept(): what a probe's batch does to the session table, and the
 * hand-back of open sessions in the probes' task lists.
 *
 * decideSessions() applies the batch's identity events to the table once (sessions.ts), or,
 * for a batch at or below the table's watermark of that probe spool (a resend), takes the IRI
 * the batch made the first time. It returns that IRI by event index, the durability steps the
 * batch's records must wait for (new CINs in cins.json, the table in sessions.json) and which
 * intercepts' open sessions changed. resolveMatch() gives a packet's match its CIN.
 */
import type { Intercept } from '../config';
import { type Batch, IdentityEvent_Source, type Session } from '../gen/lig/v1/ingest';
import type { EventIri, Resolution } from './encode-batch';
import { identityProblem } from './identity-iri';
import type { CinRegistry } from './numbering';
import type { Effect, SessionCounters, SessionTable } from './sessions';
import { type TaskTable, interceptKey } from './tasks';

export interface SessionDecision {
  /** The session IRI of the batch, by event index. */
  iri: Map<number, EventIri[]>;
  /** What must be durable before any record of the batch is handed over. */
  ready: Promise<unknown>[];
  /** interceptKey()s whose open sessions changed (the probes watching them are told). */
  openChanged: Set<string>;
  /** The batch was applied now (false: a resend, its kept IRI made again). */
  fresh: boolean;
}

/** Counters the decision moves: the table's, and unknownTasks for identity events naming tasks the probe was not given. */
export type DecisionCounters = SessionCounters & { unknownTasks: number };

/** True when the batch holds an identity event. */
export function hasIdentity(batch: Batch): boolean {
  return batch.events.some((e) => e.kind?.$case === 'identity');
}

/** Applies `batch` of (probe, spool) to `sessions` (see the file comment). */
export function decideSessions(
  probe: string,
  spool: string,
  batch: Batch,
  table: TaskTable,
  sessions: SessionTable,
  cins: CinRegistry,
  c: DecisionCounters,
): SessionDecision {
  const d: SessionDecision = { iri: new Map(), ready: [], openChanged: new Set(), fresh: false };
  let effects: Effect[];
  if (batch.batchId <= sessions.appliedThrough(probe, spool)) {
    effects = (sessions.replay(probe, spool, batch.batchId) ?? []).filter((e) => table.entry(e.agency, e.liid) !== undefined);
    if (effects.length > 0) c.replayedBatches++;
    const saving = sessions.saving();
    if (saving) d.ready.push(saving);
  } else {
    d.fresh = true;
    effects = [];
    batch.events.forEach((ev, index) => {
      if (ev.kind?.$case !== 'identity') return;
      const id = ev.kind.identity;
      c.identityEvents++;
      if (identityProblem(id) !== undefined) {
        c.badIdentityEvents++;
        return;
      }
      for (const taskId of new Set(id.taskIds)) {
        const e = table.resolve(probe, taskId);
        if (!e) {
          c.unknownTasks++;
          continue;
        }
        const ref = { agency: e.intercept.agency, liid: e.intercept.liid };
        const newCin = () => {
          const a = cins.allocateFresh(ref.agency, ref.liid);
          d.ready.push(a.durable);
          return a.cin;
        };
        const r = sessions.apply(ref, id, ev.timeUs, newCin, c);
        for (const e of r.effects) effects.push({ ...e, index });
        if (r.openChanged) d.openChanged.add(interceptKey(ref.agency, ref.liid));
      }
    });
    sessions.markApplied(probe, spool, batch.batchId, effects, c);
    d.ready.push(sessions.save());
  }
  for (const { index, ...e } of effects) {
    let list = d.iri.get(index);
    if (!list) d.iri.set(index, (list = []));
    list.push(e);
  }
  return d;
}

/**
 * A packet match of `intercept` → its CIN: the intercept's own for an IP target (no session
 * key), the session's for a session key, 'ended' after the end of its session. A session key
 * the mediator never saw start gets the intercept's own CIN (counted in unknownSessions):
 * the target's traffic is never dropped for want of an IRI-BEGIN.
 */
export function resolveMatch(intercept: Intercept, ownCin: number | undefined, key: string, timeUs: bigint, sessions: SessionTable, c: { unknownSessions: number }): Resolution {
  if (ownCin === undefined) return undefined;
  if (key === '') return { intercept, cin: ownCin };
  const r = sessions.resolvePacket(intercept, key, timeUs);
  if (r === 'ended') return 'ended';
  if (r === undefined) {
    c.unknownSessions++;
    return { intercept, cin: ownCin };
  }
  return { intercept, cin: r };
}

const SOURCE = { radius: IdentityEvent_Source.SOURCE_RADIUS, dhcp: IdentityEvent_Source.SOURCE_DHCP } as const;

/** The open sessions of the intercepts `probe` watches, as its task list hands them back. */
export function handBack(probe: string, table: TaskTable, sessions: SessionTable): Session[] {
  const out: Session[] = [];
  for (const e of table.watchedBy(probe)) {
    for (const o of sessions.openOf(e.intercept)) {
      const f = o.facts;
      out.push({
        taskId: e.taskId,
        sessionKey: f.key,
        ipv4: Buffer.from(f.ipv4, 'hex'),
        ipv6Prefix: Buffer.from(f.ipv6, 'hex'),
        ipv6PrefixLength: f.ipv6 ? f.ipv6Length : 0,
        username: f.username,
        mac: Buffer.from(f.mac, 'hex'),
        source: SOURCE[f.source],
      });
    }
  }
  return out;
}
