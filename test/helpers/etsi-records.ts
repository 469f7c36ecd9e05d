/**
 * One PS-PDU of every record kind lig emits, built with lig's own builders: the inputs of the
 * hostile-input tests (cut, flipped, framed in chunks) and the seeds of scripts/fuzz-etsi.ts.
 * The golden and conformance tests keep their own values, which their expected bytes and XER
 * are written against.
 */
import {
  RecordContext,
  Stamp,
  cinResetPdu,
  emailCcPdu,
  emailIriPdu,
  ipAddress,
  ipccPdu,
  ipiriPdu,
  keepAliveResponsePdu,
  keepAlivePdu,
  packetHeaderReportPdu,
  packetSummaryReportPdu,
  pduAckRequestPdu,
  pduAckResponsePdu,
} from '../../src/etsi';

/** IPv4 + UDP, 32 octets (checksums zero), ending in deadbeef. */
export const UDP_PACKET = Buffer.from('4500002000004000401100000a0000010a000002d431003500000000deadbeef', 'hex');

/** The context of everyKind() unless told otherwise: a CIN and every optional header field but the country of authorisation. */
export const RECORD_CONTEXT: RecordContext = { liid: 'LIID-7', operatorId: 'OP', networkElementId: 'NE', cin: 3, deliveryCountryCode: 'FR', interceptionPointId: 'P1' };
export const RECORD_STAMP: Stamp = { seconds: 1_700_000_000, micros: 654_321 };

/**
 * One PDU of every kind, named, in this order: keep-alive, keep-aliveResponse, cINReset,
 * pDUAcknowledgementRequest, pDUAcknowledgementResponse, IPCC (microsecond), IPCC
 * (GeneralizedTime), IPIRI BEGIN, CONTINUE and END, packet header report, packet summary
 * report, EmailIRI, EmailCC; sequence numbers 0..13 among them. Keep-alives and
 * acknowledgements go without the CIN.
 */
export function everyKind(ctx: RecordContext = RECORD_CONTEXT, t: Stamp = RECORD_STAMP): Array<[string, Buffer]> {
  const ka: RecordContext = { ...ctx, cin: undefined };
  const gt: RecordContext = { ...ctx, timestampFormat: 'generalized', timeStampQualifier: ctx.timeStampQualifier ?? 'timeOfInterception' };
  const packet = UDP_PACKET;
  return [
    ['keep-alive', keepAlivePdu(ka, 1, t)],
    ['keep-aliveResponse', keepAliveResponsePdu(ka, 2, t)],
    ['cINReset', cinResetPdu(ctx, 0, t)],
    ['pDUAcknowledgementRequest', pduAckRequestPdu(ka, 3, t)],
    ['pDUAcknowledgementResponse', pduAckResponsePdu(ka, 4, t)],
    ['IPCC (microsecond)', ipccPdu(ctx, 5, t, packet, 'fromTarget')],
    ['IPCC (GeneralizedTime)', ipccPdu(gt, 6, t, packet, 'toTarget')],
    ['IPIRI BEGIN', ipiriPdu(ctx, 7, t, 'iRI-Begin', {
      accessEventType: 'accessAccept', targetUsername: 'bob', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4andV6',
      targetIPAddress: ipAddress('100.64.1.2', 'dynamic', 32), additionalIPAddress: ipAddress('2001:db8::', 'dynamic', 56),
      startTime: '20231114221320Z', pOPIPAddress: ipAddress('192.0.2.1'), authenticationType: 'dhcpAAA',
      location: { wlanLocationAttributes: { wlanAPMACAddress: Buffer.from('02005e005301', 'hex') } },
    })],
    ['IPIRI CONTINUE', ipiriPdu(ctx, 8, t, 'iRI-Continue', {
      accessEventType: 'interimUpdate', targetUsername: 'bob', internetAccessType: 'lAN', iPVersion: 'iPV4', octetsReceived: 2 ** 40, octetsTransmitted: 18446744073709551615n,
    })],
    ['IPIRI END', ipiriPdu(ctx, 9, t, 'iRI-End', {
      accessEventType: 'accessEnd', targetUsername: 'bob', internetAccessType: 'lAN', iPVersion: 'iPV4', endTime: '20231114231320Z', endReason: 'leaseExpired',
    })],
    ['packet header report', packetHeaderReportPdu(ctx, 10, t, packet.subarray(0, 28), 'fromTarget')],
    ['packet summary report', packetSummaryReportPdu(ctx, 11, t, {
      header: packet.subarray(0, 28), indications: ['zeroedIPv4Flags', 'zeroedUDPLength'], trigger: 'flowPacketCount', packetCount: 1000, byteCount: 2 ** 33, first: t, last: t,
    })],
    ['EmailIRI', emailIriPdu(ctx, 12, t, 'iRI-Report', {
      eventType: 'e-mail-receive', 'client-Address': ipAddress('192.0.2.7'), 'server-Octets-Sent': 10, 'client-Octets-Sent': 20, 'protocol-ID': 'pop3',
      'e-mail-Sender': 'x@example.org', 'e-mail-Recipients': ['y@example.net', 'z@example.net'], status: 'operation-succeeded',
      aAAInformation: { pOP3AAAInformation: { username: 'bob', aAAResult: 'aAASucceeded' } },
    })],
    ['EmailCC', emailCcPdu(ctx, 13, t, 'fromTarget', 'ip-packet', packet)],
  ];
}
