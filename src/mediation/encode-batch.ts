/**
 * A probe's batch → handover records, in two steps. Pure: no I/O, no clock.
 *
 * routeBatch() decides what each event becomes and in which journal (agency × HI), with no
 * numbering yet: a packet matched to a content task becomes an IPCC record for the HI3
 * journal, one per matched task, in the direction of the match (DIRECTION_BOTH: one record,
 * fromTarget); a packet matched to an IRI-only task becomes an IRI-only packet header report
 * (IPIRIPacketReport) for the HI2 journal, holding the packet's IP and transport headers
 * only. That rule is enforced here whatever the probe sends: an IRI-only task never yields a
 * CC record nor a byte of payload. Task ids the probe was not given are counted and dropped.
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
import { type RecordContext, type Stamp, cinResetPdu, ipiriPdu, packetHeaderReportPdu } from '../etsi/build';
import { IpccTemplate } from '../etsi/fast-ipcc';
import type { PayloadDirection } from '../etsi/ps-pdu';
import { MediationError } from '../errors';
import { type Batch, Direction } from '../gen/lig/v1/ingest';
import { type SessionIri, identityIri } from './identity-iri';
import type { Numbering } from './numbering';
import { headerLength } from './packet-headers';

export type Hi = 'hi2' | 'hi3';

/** What a task id means for the probe that sent it: the intercept, and the CIN of its communication. */
export interface ResolvedTask {
  intercept: Intercept;
  cin: number;
}

/** One record to make: everything but its sequence number. */
export interface RoutedRecord {
  kind: 'ipcc' | 'report' | 'ipiri';
  liid: string;
  cin: number;
  direction: PayloadDirection;
  stamp: Stamp;
  /** ipcc: the packet; report: its headers (a view, never the payload); ipiri: empty. */
  data: Uint8Array;
  /** ipiri: the session record decided. */
  iri?: SessionIri;
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
export interface EncodeCounters {
  packets: number;
  /** Matches of known tasks. */
  matches: number;
  /** Matches naming a task this probe was not given (unknown, removed, or another probe's): dropped. */
  unknownTasks: number;
  /** Empty packets, and packets of IRI-only tasks without an IP header to report: dropped. */
  notIp: number;
  /** Application IRI events: not turned into records yet, dropped. */
  unsupportedEvents: number;
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
  return { packets: 0, matches: 0, unknownTasks: 0, notIp: 0, unsupportedEvents: 0, afterSessionEnd: 0, ccRecords: 0, iriRecords: 0, tooLarge: 0, invalid: 0, cinResets: 0 };
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

/** Capture time (µs since the epoch) as a Stamp. */
export function stampOfMicros(us: bigint): Stamp {
  return { seconds: Number(us / 1_000_000n), micros: Number(us % 1_000_000n) };
}

/**
 * Splits `batch` into per-journal shares (keyed `agency/hi`), in event order. `resolve` maps a
 * match (task id, session key, capture time) to its intercept and CIN for the sending probe;
 * `iri` holds the session IRI decided for the batch's identity events, by event index.
 */
export function routeBatch(
  batch: Batch,
  resolve: (taskId: bigint, sessionKey: string, timeUs: bigint) => Resolution,
  c: EncodeCounters,
  iri?: ReadonlyMap<number, readonly EventIri[]>,
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
      if (r.kind === 'ipcc') c.ccRecords++;
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
