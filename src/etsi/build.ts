/**
 * Record builders: from what the mediator knows (the intercept, the communication, a sequence
 * number, a time and the event) to the bytes of one PS-PDU. All go through the generic,
 * constraint-checking encoder; `fast-ipcc.ts` is the hot-path twin of `ipccPdu`, proven
 * byte-identical to it.
 */
import { encode } from '../ber/encode';
import { formatGeneralizedTime } from '../ber/writer';
import { EtsiError } from '../errors';
import { IPAddress, liPsDomainId } from './common';
import { EMAIL_OBJIDS, EmailIRI } from './email';
import { Hi1Event, hi1Operation } from './hi1';
import { IP_ACCESS_OBJIDS, IPIRIContents, IP_VERSION, InternetAccessType, PacketReportIndication, PacketReportTrigger, indicationBits } from './ip-access';
import { AppReportInput, appReport } from './app-report';
import {
  DEFAULT_DOMAIN_ID_VERSION,
  IRIType,
  PSHeader,
  PS_PDU,
  Payload,
  PayloadDirection,
  PsPdu,
  TRIPayload,
  TimeStampQualifier,
} from './ps-pdu';

/** What stays the same for every record of one communication of one intercept. */
export interface RecordContext {
  /** Lawful interception identifier, 1..25 octets. Sensitive: never log it. */
  liid: string;
  /** genHeader module version for li-psDomainId; default DEFAULT_DOMAIN_ID_VERSION (40). */
  domainIdVersion?: number;
  authorizationCountryCode?: string;
  /** NetworkIdentifier.operatorIdentifier, 1..16 octets. */
  operatorId: string;
  /** NetworkIdentifier.networkElementIdentifier, 1..16 octets. */
  networkElementId?: string;
  /** Communication identity number; absent only for records outside a communication (keep-alives). */
  cin?: number;
  deliveryCountryCode?: string;
  /** PrintableString 1..8. */
  interceptionPointId?: string;
  /** `microsecond` (MicroSecondTimeStamp, the default) or `generalized` (GeneralizedTime). */
  timestampFormat?: 'microsecond' | 'generalized';
  timeStampQualifier?: TimeStampQualifier;
}

/** A point in time as capture gives it: whole seconds since the epoch and microseconds. */
export interface Stamp {
  seconds: number;
  micros: number;
}

export const stampOf = (d: Date): Stamp => ({ seconds: Math.floor(d.getTime() / 1000), micros: (d.getTime() % 1000) * 1000 });
export const nowStamp = (): Stamp => stampOf(new Date());

/** GeneralizedTime text for a stamp, to the microsecond. */
export function stampText(t: Stamp): string {
  return formatGeneralizedTime(new Date(t.seconds * 1000), t.micros);
}

/** The PSHeader for a record of this context. */
export function psHeader(ctx: RecordContext, sequenceNumber: number, t: Stamp): PSHeader {
  const ni: PSHeader['communicationIdentifier']['networkIdentifier'] = { operatorIdentifier: ctx.operatorId };
  if (ctx.networkElementId !== undefined) ni.networkElementIdentifier = ctx.networkElementId;
  const h: PSHeader = {
    'li-psDomainId': liPsDomainId(ctx.domainIdVersion ?? DEFAULT_DOMAIN_ID_VERSION),
    lawfulInterceptionIdentifier: ctx.liid,
    communicationIdentifier: { networkIdentifier: ni },
    sequenceNumber,
  };
  if (ctx.authorizationCountryCode !== undefined) h.authorizationCountryCode = ctx.authorizationCountryCode;
  if (ctx.cin !== undefined) h.communicationIdentifier.communicationIdentityNumber = ctx.cin;
  if (ctx.deliveryCountryCode !== undefined) h.communicationIdentifier.deliveryCountryCode = ctx.deliveryCountryCode;
  const format = ctx.timestampFormat ?? 'microsecond';
  if (format !== 'microsecond' && format !== 'generalized') {
    throw new EtsiError(`timestampFormat must be "microsecond" or "generalized", not ${JSON.stringify(format)}`);
  }
  if (format === 'generalized') h.timeStamp = stampText(t);
  if (ctx.interceptionPointId !== undefined) h.interceptionPointID = ctx.interceptionPointId;
  if (format === 'microsecond') h.microSecondTimeStamp = { seconds: t.seconds, microSeconds: t.micros };
  if (ctx.timeStampQualifier !== undefined) h.timeStampQualifier = ctx.timeStampQualifier;
  return h;
}

/** Encodes a whole PS-PDU, checking every constraint of the ASN.1. */
export function encodePsPdu(pdu: PsPdu): Buffer {
  return encode(PS_PDU, pdu);
}

function pdu(ctx: RecordContext, seq: number, t: Stamp, payload: Payload): Buffer {
  return encodePsPdu({ pSHeader: psHeader(ctx, seq, t), payload });
}

function needCin(ctx: RecordContext, what: string): void {
  if (ctx.cin === undefined) throw new EtsiError(`${what} needs a communicationIdentityNumber (CIN) in its context`);
}

// --- TS 102 232-1 transport records -------------------------------------------------------

/** A TRIPayload record: keep-alive, keep-aliveResponse, cINReset, PDU acknowledgements, … */
export function triPdu(ctx: RecordContext, seq: number, t: Stamp, tri: TRIPayload): Buffer {
  return pdu(ctx, seq, t, { tRIPayload: tri });
}
export const keepAlivePdu = (ctx: RecordContext, seq: number, t: Stamp) => triPdu(ctx, seq, t, { 'keep-alive': null });
export const keepAliveResponsePdu = (ctx: RecordContext, seq: number, t: Stamp) => triPdu(ctx, seq, t, { 'keep-aliveResponse': null });
/** cINReset: the sequence numbers of this CIN restart (clause 5.2.4). */
export const cinResetPdu = (ctx: RecordContext, seq: number, t: Stamp) => triPdu(ctx, seq, t, { cINReset: null });
export const pduAckRequestPdu = (ctx: RecordContext, seq: number, t: Stamp) => triPdu(ctx, seq, t, { pDUAcknowledgementRequest: null });
export const pduAckResponsePdu = (ctx: RecordContext, seq: number, t: Stamp) => triPdu(ctx, seq, t, { pDUAcknowledgementResponse: null });

// --- TS 101 671 HI1 notifications (TS 102 232-1 hI1-Operation) -----------------------------

export interface Hi1NotificationOptions {
  /** Notification.target-Information: the target as the warrant names it, printable ASCII, 1..256 characters. Sensitive. */
  targetInformation?: string;
}

/**
 * An HI1 notification to the agency: its warrant was activated, deactivated or modified.
 * Delivered on HI2 like IRI. The notification concerns the warrant, not a communication, so
 * the PSHeader carries no CIN (a `cin` in `ctx` is left out, as for keep-alives); number these
 * PDUs per LIID from 0, a stream of their own (the reference LEMF checks them so). The
 * notification's own timeStamp is the header's time as localTime GeneralizedTime in UTC.
 * ```asn1
 * Payload ::= CHOICE { ..., hI1-Operation [3] HI1-Operation, ... }         -- TS 102 232-1
 * HI1-Operation ::= CHOICE                                                 -- TS 101 671
 * {
 *     liActivated [1] Notification, liDeactivated [2] Notification, liModified [3] Notification,
 *     alarms-indicator [4] Alarm-Indicator, ..., national-HI1-ASN1parameters [5] National-HI1-ASN1parameters
 * }
 * Notification ::= SEQUENCE
 * {
 *     domainID                        [0] OBJECT IDENTIFIER (hi1OperationId) OPTIONAL,  -- not written (FTP only)
 *     lawfulInterceptionIdentifier    [1] LawfulInterceptionIdentifier,                 -- ctx.liid
 *     communicationIdentifier         [2] CommunicationIdentifier OPTIONAL,             -- ctx.operatorId, when 1..5 octets
 *     timeStamp                       [3] TimeStamp,                                    -- localTime { t in UTC, notProvided }
 *     ...,
 *     national-HI1-ASN1parameters     [5] National-HI1-ASN1parameters OPTIONAL,         -- not written
 *     target-Information              [6] OCTET STRING (SIZE (1..256)) OPTIONAL         -- opts.targetInformation
 * }
 * ```
 */
export function hi1NotificationPdu(ctx: RecordContext, seq: number, t: Stamp, op: Hi1Event, opts: Hi1NotificationOptions = {}): Buffer {
  const operation = hi1Operation(op, { liid: ctx.liid, operatorId: ctx.operatorId, time: stampText(t), targetInformation: opts.targetInformation });
  return pdu({ ...ctx, cin: undefined }, seq, t, { 'hI1-Operation': operation });
}

// --- TS 102 232-3 internet access ---------------------------------------------------------

/** An IPCC record carrying one captured IP packet (the hot path: see fast-ipcc.ts). */
export function ipccPdu(ctx: RecordContext, seq: number, t: Stamp, packet: Uint8Array, direction: PayloadDirection): Buffer {
  needCin(ctx, 'IPCC');
  return pdu(ctx, seq, t, {
    cCPayloadSequence: [{
      payloadDirection: direction,
      cCContents: { iPCC: { iPCCObjId: IP_ACCESS_OBJIDS.iPCC, iPCCContents: { iPPackets: packet } } },
    }],
  });
}

/** An IPIRI record (access session BEGIN/CONTINUE/END/REPORT). */
export function ipiriPdu(ctx: RecordContext, seq: number, t: Stamp, iriType: IRIType, contents: IPIRIContents): Buffer {
  needCin(ctx, 'IPIRI');
  return pdu(ctx, seq, t, {
    iRIPayloadSequence: [{ iRIType: iriType, iRIContents: { iPIRI: { iPIRIObjId: IP_ACCESS_OBJIDS.iPIRI, iPIRIContents: contents } } }],
  });
}

/** What an application report says besides the report itself (see appReportPdu). */
export interface AppReportIri {
  /** The session's username when the target's flow belongs to an access session; else empty. */
  targetUsername: Uint8Array | string;
  internetAccessType: InternetAccessType;
  iPVersion: keyof typeof IP_VERSION;
  /** The target's end of the flow, when known. */
  targetIPAddress?: IPAddress;
  report: AppReportInput;
}

/**
 * An application report: an IPIRI IRI-REPORT, accessEventType interimUpdate ("intermediate
 * status report on service status or usage", TS 102 232-3), carrying what the probe recognised
 * in one flow of the target (a web request, a TLS server name, a DNS exchange, an XMPP or
 * BitTorrent event) in lig's national parameter (src/etsi/app-report.ts):
 * ```asn1
 * IPIRIContents ::= SEQUENCE {
 *     accessEventType [0] interimUpdate, targetUsername [1] OCTET STRING, internetAccessType [2] ...,
 *     iPVersion [3] ..., targetIPAddress [4] IPAddress OPTIONAL, ...,
 *     nationalIPIRIParameters [20] NationalIPIRIParameters { countryCode "US", ligApplicationReport [10] ... } }
 * ```
 * Limits of the report throw EtsiLimitError (see appReport()).
 */
export function appReportPdu(ctx: RecordContext, seq: number, t: Stamp, a: AppReportIri): Buffer {
  const contents: IPIRIContents = {
    accessEventType: 'interimUpdate',
    targetUsername: a.targetUsername,
    internetAccessType: a.internetAccessType,
    iPVersion: a.iPVersion,
  };
  if (a.targetIPAddress) contents.targetIPAddress = a.targetIPAddress;
  contents.nationalIPIRIParameters = appReport(a.report);
  return ipiriPdu(ctx, seq, t, 'iRI-Report', contents);
}

/** An IRI-only packet header report (clause 6.2.5): the packet's headers, never its payload. */
export function packetHeaderReportPdu(ctx: RecordContext, seq: number, t: Stamp, headers: Uint8Array, direction?: PayloadDirection): Buffer {
  needCin(ctx, 'IPIRIPacketReport');
  return pdu(ctx, seq, t, {
    iRIPayloadSequence: [{
      iRIType: 'iRI-Report',
      iRIContents: { iPIRIPacketReport: { iPIRIPacketReportObjId: IP_ACCESS_OBJIDS.iPIRIPacketReport, report: { header: { header: headers } } } },
      ...(direction ? { payloadDirection: direction } : {}),
    }],
  });
}

export interface SummaryReport {
  /** The headers of the flow's first packet, with fields zeroed as `indications` say. */
  header: Uint8Array;
  indications: readonly PacketReportIndication[];
  trigger: PacketReportTrigger;
  packetCount?: number | bigint;
  byteCount?: number | bigint;
  first?: Stamp;
  last?: Stamp;
}

/** An IRI-only packet summary report (clause 6.2.5): counts per flow. */
export function packetSummaryReportPdu(ctx: RecordContext, seq: number, t: Stamp, s: SummaryReport): Buffer {
  needCin(ctx, 'IPIRIPacketReport');
  const summary: Record<string, unknown> = { header: s.header, indications: indicationBits(s.indications), trigger: s.trigger };
  if (s.packetCount !== undefined) summary.packetCount = s.packetCount;
  if (s.byteCount !== undefined) summary.byteCount = s.byteCount;
  if (s.first) summary.firstTimestamp = stampText(s.first);
  if (s.last) summary.lastTimestamp = stampText(s.last);
  return pdu(ctx, seq, t, {
    iRIPayloadSequence: [{
      iRIType: 'iRI-Report',
      iRIContents: { iPIRIPacketReport: { iPIRIPacketReportObjId: IP_ACCESS_OBJIDS.iPIRIPacketReport, report: { summary } } },
    }],
  });
}

// --- TS 102 232-2 e-mail --------------------------------------------------------------------

/** An EmailIRI record; `contents` without its ObjId. */
export function emailIriPdu(ctx: RecordContext, seq: number, t: Stamp, iriType: IRIType, contents: Omit<EmailIRI, 'emailIRIObjId'>): Buffer {
  needCin(ctx, 'EmailIRI');
  return pdu(ctx, seq, t, {
    iRIPayloadSequence: [{ iRIType: iriType, iRIContents: { emailIRI: { emailIRIObjId: EMAIL_OBJIDS.emailIRI, ...contents } } }],
  });
}

/** An EmailCC record: the message as sent (`application`) or the IP packets (`ip-packet`). */
export function emailCcPdu(
  ctx: RecordContext, seq: number, t: Stamp, direction: PayloadDirection, format: 'ip-packet' | 'application', content: Uint8Array,
): Buffer {
  needCin(ctx, 'EmailCC');
  return pdu(ctx, seq, t, {
    cCPayloadSequence: [{
      payloadDirection: direction,
      cCContents: { emailCC: { emailCCObjId: EMAIL_OBJIDS.emailCC, 'email-Format': format, content } },
    }],
  });
}

export type { IPAddress };
