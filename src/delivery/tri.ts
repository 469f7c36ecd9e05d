/**
 * The TS 102 232-1 transport records a delivery link speaks itself (TRIPayload): keep-alive
 * and keep-aliveResponse (clause 6.3), PDU acknowledgement request and response, and how to
 * read what the agency sends back. Records of intercepts come ready-made from the journal.
 */
import { DEFAULT_MAX_DEPTH, ReadLimits } from '../ber/constants';
import { RecordContext, Stamp, decodePsPdu, keepAlivePdu, keepAliveResponsePdu, pduAckRequestPdu } from '../etsi';
import type { TcpAgency } from '../config';

/**
 * LIID carried by the link's own keep-alives and acknowledgement requests: a fixed,
 * non-sensitive marker, never a warrant's LIID (a keep-alive belongs to no intercept).
 */
export const KEEPALIVE_LIID = 'KEEPALIVE';

/** sequenceNumber is INTEGER (0..4294967295): the link's counter wraps to 0 after the top. */
export const SEQUENCE_MODULO = 2 ** 32;

/**
 * Largest PDU accepted from the agency. It only sends transport records (a few dozen bytes;
 * operatorLeaMessage at most ~300), so anything near this is a broken or hostile peer.
 */
export const MAX_INCOMING_PDU_BYTES = 64 * 1024;

export const INCOMING_LIMITS: Readonly<ReadLimits> = Object.freeze({ maxDepth: DEFAULT_MAX_DEPTH, maxPduBytes: MAX_INCOMING_PDU_BYTES });

/** The interfaces a link serves: HI2 carries IRI, HI3 carries CC. */
export type Hi = 'hi2' | 'hi3';

/** What a link needs to know about its agency (a subset of the mediator config's TcpAgency). */
export type LinkAgency = Pick<TcpAgency, 'id' | 'operatorId' | 'networkElementId' | 'timestampFormat' | 'domainIdVersion' | 'keepalive' | 'pduAck'>;

/** The header context of the link's own records: the agency's identifiers, the fixed LIID. */
export function triContext(agency: LinkAgency): RecordContext {
  const ctx: RecordContext = {
    liid: KEEPALIVE_LIID,
    operatorId: agency.operatorId,
    timestampFormat: agency.timestampFormat,
    domainIdVersion: agency.domainIdVersion,
  };
  if (agency.networkElementId !== undefined) ctx.networkElementId = agency.networkElementId;
  return ctx;
}

/** Which request confirms delivery: a keep-alive, or (pduAck agencies) a PDU acknowledgement request. */
export type RequestKind = 'keep-alive' | 'pdu-ack';

export function requestPdu(kind: RequestKind, ctx: RecordContext, seq: number, t: Stamp): Buffer {
  return kind === 'keep-alive' ? keepAlivePdu(ctx, seq, t) : pduAckRequestPdu(ctx, seq, t);
}

export function responsePdu(ctx: RecordContext, seq: number, t: Stamp): Buffer {
  return keepAliveResponsePdu(ctx, seq, t);
}

/** What one PDU from the agency means to the link. */
export type Incoming =
  | { kind: 'keep-alive'; seq: number }
  | { kind: 'response'; answers: RequestKind; seq: number }
  | { kind: 'other' };

/** Decodes one PDU the agency sent. Throws BerError when it is not a valid PS-PDU. */
export function readIncoming(bytes: Uint8Array): Incoming {
  const pdu = decodePsPdu(bytes, INCOMING_LIMITS);
  const seq = pdu.pSHeader.sequenceNumber;
  const payload = pdu.payload as { tRIPayload?: Record<string, unknown> };
  const tri = payload.tRIPayload;
  if (!tri) return { kind: 'other' };
  if ('keep-alive' in tri) return { kind: 'keep-alive', seq };
  if ('keep-aliveResponse' in tri) return { kind: 'response', answers: 'keep-alive', seq };
  if ('pDUAcknowledgementResponse' in tri) return { kind: 'response', answers: 'pdu-ack', seq };
  return { kind: 'other' };
}
