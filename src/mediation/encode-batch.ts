/**
 * A probe's batch → handover records, in two steps. Pure: no I/O, no clock.
 *
 * routeBatch() decides what each event becomes and in which journal (agency × HI), with no
 * numbering yet: a packet matched to a content task becomes an IPCC record for the HI3
 * journal, one per matched task, in the direction of the match (DIRECTION_BOTH: one record,
 * fromTarget); a packet matched to an IRI-only task becomes an IRI-only packet header report
 * (IPIRIPacketReport) for the HI2 journal, holding the packet's IP and transport headers
 * only. That rule is enforced here whatever the probe sends: an IRI-only task never yields a
 * CC record nor a byte of payload. An IRI-only task in summary-only reporting mode
 * (Intercept.reports.mode "summary") gets no header reports at all (counted): its flows are
 * reported by the probe's FlowSummaries, which become packet summary reports on HI2
 * (flow-summary.ts) for IRI-only tasks in a summary mode only (dropped and counted for the
 * others). Application IRI events become, per matched task, EmailIRI (HI2) and, for content
 * tasks only, EmailCC (HI3), or application reports (HI2), as app-iri.ts decides, each in
 * the CIN the match resolves to (a session's or the intercept's own), so IRI-only
 * enforcement holds for them too. Task ids the probe was not given are counted and dropped.
 * A match naming an access session (Match.session_key) carries that session's CIN, as the
 * caller's resolver says; a match of a session that ended before the packet was captured is
 * dropped and counted (design guarantee 1). Identity events become the session IRI the
 * caller decided for them (sessions.ts), in event order, on the agency's HI2 journal.
 *
 * RecordEncoder.encode() then numbers and encodes one journal's records, in order, from that
 * journal's counters (the caller serialises this per journal). A record that cannot be built
 * or journaled (too large, bad time) is counted and dropped *before* it keeps a number, so
 * numbering never has a gap.
 */
import type { Agency, Intercept } from '../config';
import { MAX_RECORD_BYTES } from '../delivery/journal';
import { type RecordContext, type Stamp, type SummaryReport, appReportPdu, cinResetPdu, emailCcPdu, emailIriPdu, ipiriPdu, packetHeaderReportPdu, packetSummaryReportPdu } from '../etsi/build';
import { IpccTemplate } from '../etsi/fast-ipcc';
import type { PayloadDirection } from '../etsi/ps-pdu';
import { MediationError } from '../errors';
import { DEFAULT_REPORT_MODE } from '../config/mediator';
import { type Batch, Direction, type FlowSummary, type IriEvent } from '../gen/lig/v1/ingest';
import { type AppIriCounters, type AppRecord, type PreparedAppEvent, type TaskKind, appRecords, newAppIriCounters, prepareAppEvent } from './app-iri';
import { summaryReport } from './flow-summary';
import { type SessionIri, identityIri } from './identity-iri';
import type { Numbering } from './numbering';
import { headerLength } from './packet-headers';
import { stampOfMicros } from './stamp';

export type Hi = 'hi2' | 'hi3';

/** What a task id means for the probe that sent it: the intercept, and the CIN of its communication. */
export interface ResolvedTask {
  intercept: Intercept;
  cin: number;
}

/** One record to make: everything but its sequence number. */
export interface RoutedRecord {
  kind: 'ipcc' | 'report' | 'ipiri' | 'app' | 'summary';
  liid: string;
  cin: number;
  direction: PayloadDirection;
  stamp: Stamp;
  /** ipcc: the packet; report: its headers (a view, never the payload); ipiri: empty. */
  data: Uint8Array;
  /** ipiri: the session record decided. */
  iri?: SessionIri;
  /** app: the application record (app-iri.ts). */
  app?: AppRecord;
  /** summary: the packet summary report (flow-summary.ts). */
  summary?: SummaryReport;
}

/** Session IRI decided for one event of a batch, for one intercept. */
export interface EventIri extends SessionIri {
  agency: string;
  liid: string;
  cin: number;
}

/** What a match resolves to: its intercept and CIN, undefined (a task the probe was not given) or 'ended' (its session ended before the packet). */
export type Resolution = ResolvedTask | undefined | 'ended';

/** The records of one batch for one journal. */
export interface JournalShare {
  agency: string;
  hi: Hi;
  records: RoutedRecord[];
}

/** What encoding did, for status and logs (no LIIDs). */
export interface EncodeCounters extends AppIriCounters {
  packets: number;
  /** Matches of known tasks. */
  matches: number;
  /** Matches naming a task this probe was not given (unknown, removed, or another probe's): dropped. */
  unknownTasks: number;
  /** Empty packets, and packets of IRI-only tasks without an IP header to report: dropped. */
  notIp: number;
  /** Events lig makes no record of (an unknown kind; an IriEvent without a single field or content): dropped. */
  unsupportedEvents: number;
  /** FlowSummary events received. */
  flowSummaries: number;
  /** FlowSummaries for a content task, or an IRI-only task reporting headers only: dropped. */
  summariesNotWanted: number;
  /** FlowSummaries with an unspecified or unknown trigger: dropped. */
  badSummaries: number;
  /** Packets of IRI-only tasks in summary-only mode: no header report made. */
  headerReportsSuppressed: number;
  /** Matches naming a session that ended before the packet was captured: dropped (guarantee 1). */
  afterSessionEnd: number;
  ccRecords: number;
  iriRecords: number;
  /** Records over the journal's MAX_RECORD_BYTES: dropped. */
  tooLarge: number;
  /** Records the encoder refused (e.g. a capture time outside what the PDU can carry): dropped. */
  invalid: number;
  /** Numbering wrapped after MAX_SEQUENCE_NUMBER: a cINReset record was sent first. */
  cinResets: number;
}

export function newEncodeCounters(): EncodeCounters {
  return {
    ...newAppIriCounters(), packets: 0, matches: 0, unknownTasks: 0, notIp: 0, unsupportedEvents: 0, flowSummaries: 0, summariesNotWanted: 0,
    badSummaries: 0, headerReportsSuppressed: 0, afterSessionEnd: 0, ccRecords: 0, iriRecords: 0, tooLarge: 0, invalid: 0, cinResets: 0,
  };
}

/** The payload direction of a match (DIRECTION_BOTH: one record, from the target). */
export function directionOf(d: Direction): PayloadDirection {
  switch (d) {
    case Direction.DIRECTION_FROM_TARGET:
    case Direction.DIRECTION_BOTH:
      return 'fromTarget';
    case Direction.DIRECTION_TO_TARGET:
      return 'toTarget';
    default:
      return 'indeterminate';
  }
}

/** The user name an application report names for a match's access session (undefined: not known). */
export type SessionUser = (intercept: Intercept, sessionKey: string) => string | undefined;

/**
 * Splits `batch` into per-journal shares (keyed `agency/hi`), in event order. `resolve` maps a
 * match (task id, session key, capture time) to its intercept and CIN for the sending probe;
 * `iri` holds the session IRI decided for the batch's identity events, by event index;
 * `sessionUser` names a match's session in application reports.
 */
export function routeBatch(
  batch: Batch,
  resolve: (taskId: bigint, sessionKey: string, timeUs: bigint) => Resolution,
  c: EncodeCounters,
  iri?: ReadonlyMap<number, readonly EventIri[]>,
  sessionUser?: SessionUser,
): Map<string, JournalShare> {
  const shares = new Map<string, JournalShare>();
  const add = (agency: string, hi: Hi, r: RoutedRecord) => {
    const k = `${agency}/${hi}`;
    let s = shares.get(k);
    if (!s) shares.set(k, (s = { agency, hi, records: [] }));
    s.records.push(r);
  };
  batch.events.forEach((ev, index) => {
    const kind = ev.kind;
    if (kind?.$case === 'identity') {
      for (const r of iri?.get(index) ?? []) {
        const { agency, liid, cin, ...rest } = r;
        add(agency, 'hi2', { kind: 'ipiri', liid, cin, direction: 'indeterminate', stamp: stampOfMicros(BigInt(r.atUs)), data: EMPTY, iri: rest });
      }
      return;
    }
    if (kind?.$case === 'iri') {
      routeApp(kind.iri, ev.timeUs, resolve, c, add, sessionUser);
      return;
    }
    if (kind?.$case === 'flowSummary') {
      routeSummary(kind.flowSummary, ev.timeUs, resolve, c, add);
      return;
    }
    if (kind?.$case !== 'packet') {
      c.unsupportedEvents++;
      return;
    }
    c.packets++;
    const { matches, data } = kind.packet;
    const stamp = stampOfMicros(ev.timeUs);
    const seen = new Set<bigint>();
    let headers: Uint8Array | undefined;
    for (const m of matches) {
      if (seen.has(m.taskId)) continue; // one record per task, whatever the probe repeats
      seen.add(m.taskId);
      const t = resolve(m.taskId, m.sessionKey, ev.timeUs);
      if (t === undefined) {
        c.unknownTasks++;
        continue;
      }
      if (t === 'ended') {
        c.afterSessionEnd++;
        continue;
      }
      c.matches++;
      const { intercept, cin } = t;
      const direction = directionOf(m.direction);
      if (intercept.type === 'content') {
        if (data.length === 0) {
          c.notIp++;
          continue;
        }
        add(intercept.agency, 'hi3', { kind: 'ipcc', liid: intercept.liid, cin, direction, stamp, data });
      } else {
        if ((intercept.reports?.mode ?? DEFAULT_REPORT_MODE) === 'summary') {
          c.headerReportsSuppressed++;
          continue;
        }
        headers ??= data.subarray(0, headerLength(data));
        if (headers.length === 0) {
          c.notIp++;
          continue;
        }
        add(intercept.agency, 'hi2', { kind: 'report', liid: intercept.liid, cin, direction, stamp, data: headers });
      }
    }
  });
  return shares;
}

const EMPTY = new Uint8Array(0);

type Add = (agency: string, hi: Hi, r: RoutedRecord) => void;
type Resolve = (taskId: bigint, sessionKey: string, timeUs: bigint) => Resolution;

/** The resolved matches of an event, one per task id (the probe may repeat one), unknown and ended ones counted. */
function* resolved(matches: readonly { taskId: bigint; sessionKey: string; direction: Direction }[], timeUs: bigint, resolve: Resolve, c: EncodeCounters) {
  const seen = new Set<bigint>();
  for (const m of matches) {
    if (seen.has(m.taskId)) continue;
    seen.add(m.taskId);
    const t = resolve(m.taskId, m.sessionKey, timeUs);
    if (t === undefined) c.unknownTasks++;
    else if (t === 'ended') c.afterSessionEnd++;
    else {
      c.matches++;
      yield { m, t };
    }
  }
}

/** An application IRI event → its records for each matched task (app-iri.ts), each task getting what its kind may receive. */
function routeApp(ev: IriEvent, timeUs: bigint, resolve: Resolve, c: EncodeCounters, add: Add, sessionUser?: SessionUser): void {
  c.iriEvents++;
  if (Object.keys(ev.fields ?? {}).length === 0 && (ev.content?.length ?? 0) === 0) {
    c.unsupportedEvents++; // nothing to report
    return;
  }
  const stamp = stampOfMicros(timeUs);
  const prepared = new Map<TaskKind, PreparedAppEvent | undefined>();
  for (const { m, t } of resolved(ev.matches, timeUs, resolve, c)) {
    const { intercept, cin } = t;
    const kind: TaskKind = intercept.type === 'content' ? 'content' : 'iri-only';
    if (!prepared.has(kind)) prepared.set(kind, prepareAppEvent(ev, kind, c));
    const p = prepared.get(kind);
    if (!p) continue;
    const user = m.sessionKey !== '' ? sessionUser?.(intercept, m.sessionKey) : undefined;
    for (const r of appRecords(p, { direction: m.direction, sessionKey: m.sessionKey, ...(user !== undefined ? { sessionUser: user } : {}) }, c)) {
      if (r.kind === 'emailCc' && intercept.type !== 'content') continue; // never CC for an IRI-only task (app-iri.ts makes none either)
      add(intercept.agency, r.kind === 'emailCc' ? 'hi3' : 'hi2', { kind: 'app', liid: intercept.liid, cin, direction: directionOf(m.direction), stamp, data: EMPTY, app: r });
    }
  }
}

/** A FlowSummary → a packet summary report for each matched IRI-only task in a summary mode. */
function routeSummary(s: FlowSummary, timeUs: bigint, resolve: Resolve, c: EncodeCounters, add: Add): void {
  c.flowSummaries++;
  const stamp = stampOfMicros(timeUs);
  let report: ReturnType<typeof summaryReport> | undefined;
  for (const { t } of resolved(s.matches, timeUs, resolve, c)) {
    const { intercept, cin } = t;
    if (intercept.type !== 'iri-only' || (intercept.reports?.mode ?? DEFAULT_REPORT_MODE) === 'headers') {
      c.summariesNotWanted++;
      continue;
    }
    report ??= summaryReport(s);
    if (report === 'trigger') {
      c.badSummaries++;
      return;
    }
    if (report === 'notIp') {
      c.notIp++;
      return;
    }
    add(intercept.agency, 'hi2', { kind: 'summary', liid: intercept.liid, cin, direction: 'indeterminate', stamp, data: EMPTY, summary: report });
  }
}

/** The PS-PDU of an application record. */
function appPdu(ctx: RecordContext, seq: number, t: Stamp, r: AppRecord): Uint8Array {
  switch (r.kind) {
    case 'emailIri':
      return emailIriPdu(ctx, seq, t, 'iRI-Report', r.contents);
    case 'emailCc':
      return emailCcPdu(ctx, seq, t, r.direction, 'application', r.content);
    case 'appReport':
      return appReportPdu(ctx, seq, t, r.report);
  }
}

/** Numbers and encodes records; keeps one RecordContext and IpccTemplate per communication. */
export class RecordEncoder {
  private readonly agencies: Map<string, Agency>;
  private readonly contexts = new Map<string, RecordContext>();
  private readonly templates = new Map<string, IpccTemplate>();

  constructor(
    agencies: readonly Agency[],
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {
    this.agencies = new Map(agencies.map((a) => [a.id, a]));
  }

  /** The records of one journal share, numbered from `numbering` (advanced only for records returned). */
  encode(share: JournalShare, numbering: Numbering, c: EncodeCounters): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const r of share.records) {
      const n = numbering.take(r.liid, r.cin);
      let pdu: Uint8Array;
      let reset: Uint8Array | undefined;
      try {
        const ctx = this.contextFor(share.agency, r.liid, r.cin);
        if (r.kind === 'ipcc') pdu = this.template(share.agency, ctx).encode(n.seq, r.stamp, r.data, r.direction);
        else if (r.kind === 'report') pdu = packetHeaderReportPdu(ctx, n.seq, r.stamp, r.data, r.direction);
        else if (r.kind === 'app') pdu = appPdu(ctx, n.seq, r.stamp, r.app!);
        else if (r.kind === 'summary') pdu = packetSummaryReportPdu(ctx, n.seq, r.stamp, r.summary!);
        else {
          const { iriType, contents } = identityIri(r.iri!.step, r.iri!.facts, BigInt(r.iri!.atUs), r.iri!.cause);
          pdu = ipiriPdu(ctx, n.seq, r.stamp, iriType, contents);
        }
        if (n.reset) reset = cinResetPdu(ctx, 0, r.stamp);
      } catch {
        numbering.untake(r.liid, r.cin, n);
        c.invalid++;
        continue;
      }
      if (pdu.length > this.maxRecordBytes) {
        numbering.untake(r.liid, r.cin, n);
        c.tooLarge++;
        continue;
      }
      if (reset) {
        out.push(reset);
        c.cinResets++;
      }
      out.push(pdu);
      if (r.kind === 'ipcc' || r.app?.kind === 'emailCc') c.ccRecords++;
      else c.iriRecords++;
    }
    return out;
  }

  /** The RecordContext of one communication (kept: the same object every time). Throws for an unknown agency. */
  contextFor(agencyId: string, liid: string, cin: number): RecordContext {
    const k = `${agencyId}\u0000${liid}\u0000${cin}`;
    let ctx = this.contexts.get(k);
    if (!ctx) {
      const a = this.agencies.get(agencyId);
      if (!a) throw new MediationError('LIG_ERR_MEDIATION_NO_AGENCY', `no agency ${agencyId} is configured`);
      ctx = {
        liid,
        cin,
        operatorId: a.operatorId,
        authorizationCountryCode: a.country,
        timestampFormat: a.timestampFormat,
        domainIdVersion: a.domainIdVersion,
      };
      if (a.networkElementId !== undefined) ctx.networkElementId = a.networkElementId;
      this.contexts.set(k, ctx);
    }
    return ctx;
  }

  private template(agencyId: string, ctx: RecordContext): IpccTemplate {
    const k = `${agencyId}\u0000${ctx.liid}\u0000${ctx.cin}`;
    let t = this.templates.get(k);
    if (!t) this.templates.set(k, (t = new IpccTemplate(ctx)));
    return t;
  }
}
