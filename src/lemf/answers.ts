/**
 * The LEMF's answers to the transport records of TS 102 232-1 (clause 6.3 and annex on PDU
 * acknowledgement): keep-alive → keep-aliveResponse, pDUAcknowledgementRequest →
 * pDUAcknowledgementResponse, optionRequest → optionResponse. Each answer's PSHeader repeats
 * the request's (LIID, communication identifier with CIN, sequence number) with a fresh time
 * stamp in the request's own format, so the sender can tell which request it answers. Pure.
 */
import { Stamp, encodePsPdu, stampText } from '../etsi/build';
import { PSHeader, PsPdu, TRIPayload } from '../etsi/ps-pdu';

/** What an answer is for, for counters and events. */
export type AnswerKind = 'keep-alive' | 'pdu-ack' | 'option';

export interface Answer {
  kind: AnswerKind;
  bytes: Buffer;
}

/**
 * The request's header with a fresh time stamp: every component lig knows is kept (extension
 * additions from modules outside lig's profile, e.g. cINExtension, cannot be re-encoded and are
 * left out). Both time stamp forms are renewed when both were sent; with neither, a
 * microSecondTimeStamp is added.
 */
export function answerHeader(req: PSHeader, now: Stamp): PSHeader {
  const ci = req.communicationIdentifier;
  const ni = ci.networkIdentifier;
  const h: PSHeader = {
    'li-psDomainId': req['li-psDomainId'],
    lawfulInterceptionIdentifier: req.lawfulInterceptionIdentifier,
    communicationIdentifier: {
      networkIdentifier: {
        operatorIdentifier: ni.operatorIdentifier,
        ...(ni.networkElementIdentifier !== undefined ? { networkElementIdentifier: ni.networkElementIdentifier } : {}),
      },
      ...(ci.communicationIdentityNumber !== undefined ? { communicationIdentityNumber: ci.communicationIdentityNumber } : {}),
      ...(ci.deliveryCountryCode !== undefined ? { deliveryCountryCode: ci.deliveryCountryCode } : {}),
    },
    sequenceNumber: req.sequenceNumber,
  };
  if (req.authorizationCountryCode !== undefined) h.authorizationCountryCode = req.authorizationCountryCode;
  if (req.timeStamp !== undefined) h.timeStamp = stampText(now);
  if (req.interceptionPointID !== undefined) h.interceptionPointID = req.interceptionPointID;
  if (req.microSecondTimeStamp !== undefined || req.timeStamp === undefined) h.microSecondTimeStamp = { seconds: now.seconds, microSeconds: now.micros };
  return h;
}

function answer(kind: AnswerKind, req: PsPdu, now: Stamp, tri: TRIPayload): Answer {
  return { kind, bytes: encodePsPdu({ pSHeader: answerHeader(req.pSHeader, now), payload: { tRIPayload: tri } }) };
}

/**
 * The answer a received PDU calls for, if any. `ackPdus` false declines PDU acknowledgement:
 * requests for it go unanswered and an optionRequest for it is answered with it declined.
 * Options lig does not know are left out of the response (they cannot be named back).
 */
export function answerFor(req: PsPdu, now: Stamp, ackPdus: boolean): Answer | undefined {
  const payload = req.payload as Record<string, unknown>;
  const tri = payload.tRIPayload as Record<string, unknown> | undefined;
  if (!tri) return undefined;
  if ('keep-alive' in tri) return answer('keep-alive', req, now, { 'keep-aliveResponse': null });
  if ('pDUAcknowledgementRequest' in tri) return ackPdus ? answer('pdu-ack', req, now, { pDUAcknowledgementResponse: null }) : undefined;
  const optReq = tri.optionRequest as { requestedOptions?: Array<Record<string, unknown>> } | undefined;
  if (optReq) {
    const asked = (optReq.requestedOptions ?? []).some((o) => 'pDUAcknowledgement' in o);
    const ack = asked ? [{ pDUAcknowledgement: null }] : [];
    return answer('option', req, now, {
      optionResponse: { acceptedOptions: ackPdus ? ack : [], declinedOptions: ackPdus ? [] : ack },
    });
  }
  return undefined;
}
