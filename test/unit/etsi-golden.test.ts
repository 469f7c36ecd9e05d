/**
 * Golden vectors for every record kind lig emits (TS 102 232-1/-2/-3), with bytes assembled by
 * hand from the ASN.1, not by the schema encoder: each TLV carries its field name, so a
 * reviewer can hold the bytes against the standard. For each kind: the builder writes exactly
 * these bytes, decoding them gives the values written out below, and encoding those values
 * gives the bytes again.
 *
 * All modules are DEFINITIONS IMPLICIT TAGS: a tagged component replaces its universal tag,
 * except a CHOICE, which keeps its own alternative's tag inside an explicit one (X.680 31.2.7).
 */
import { strict as assert } from 'node:assert';
import { psHeader } from '../../src/etsi/build';
import {
  RecordContext,
  Stamp,
  cinResetPdu,
  decodePsPdu,
  emailCcPdu,
  emailIriPdu,
  encodePsPdu,
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

/** Hex with `//` comments and any whitespace. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

// --- the record context every vector uses ------------------------------------------------------

const T: Stamp = { seconds: 1_700_000_000, micros: 123_456 }; // 2023-11-14T22:13:20.123456Z
const SEQ = 128;
const CTX: RecordContext = {
  liid: 'LIID-42', operatorId: 'OP', networkElementId: 'NE1', cin: 66051, authorizationCountryCode: 'DE',
  deliveryCountryCode: 'DE', interceptionPointId: 'IP1', timeStampQualifier: 'timeOfInterception',
};
/** Keep-alives and acknowledgements belong to no communication: no CIN. */
const NO_CIN: RecordContext = { ...CTX, cin: undefined };
const GENERALIZED: RecordContext = { ...CTX, timestampFormat: 'generalized' };

// PSHeader with a CIN and a MicroSecondTimeStamp: 69 content octets.
const HEADER = `
  a1 45                                       // [1] pSHeader PSHeader
    80 07 04 00 02 02 05 01 28                //   [0] li-psDomainId OBJECT IDENTIFIER {0 4 0 2 2 5 1 40}; 0*40+4, then one octet per arc
    81 07 4c 49 49 44 2d 34 32                //   [1] lawfulInterceptionIdentifier "LIID-42"
    82 02 44 45                               //   [2] authorizationCountryCode PrintableString "DE"
    a3 14                                     //   [3] communicationIdentifier CommunicationIdentifier
      a0 09                                   //     [0] networkIdentifier NetworkIdentifier
        80 02 4f 50                           //       [0] operatorIdentifier "OP"
        81 03 4e 45 31                        //       [1] networkElementIdentifier "NE1"
      81 03 01 02 03                          //     [1] communicationIdentityNumber 66051
      82 02 44 45                             //     [2] deliveryCountryCode "DE"
    84 02 00 80                               //   [4] sequenceNumber 128 (00 first: 80 alone is -128)
    86 03 49 50 31                            //   [6] interceptionPointID "IP1"
    a7 0b                                     //   [7] microSecondTimeStamp MicroSecondTimeStamp
      80 04 65 53 f1 00                       //     [0] seconds 1700000000
      81 03 01 e2 40                          //     [1] microSeconds 123456
    88 01 01                                  //   [8] timeStampQualifier timeOfInterception(1)
`;
// The same without communicationIdentityNumber: 64 content octets.
const HEADER_NO_CIN = `
  a1 40                                       // [1] pSHeader PSHeader
    80 07 04 00 02 02 05 01 28                //   [0] li-psDomainId {0 4 0 2 2 5 1 40}
    81 07 4c 49 49 44 2d 34 32                //   [1] lawfulInterceptionIdentifier "LIID-42"
    82 02 44 45                               //   [2] authorizationCountryCode "DE"
    a3 0f                                     //   [3] communicationIdentifier
      a0 09                                   //     [0] networkIdentifier
        80 02 4f 50                           //       [0] operatorIdentifier "OP"
        81 03 4e 45 31                        //       [1] networkElementIdentifier "NE1"
      82 02 44 45                             //     [2] deliveryCountryCode "DE"
    84 02 00 80                               //   [4] sequenceNumber 128
    86 03 49 50 31                            //   [6] interceptionPointID "IP1"
    a7 0b                                     //   [7] microSecondTimeStamp
      80 04 65 53 f1 00                       //     [0] seconds 1700000000
      81 03 01 e2 40                          //     [1] microSeconds 123456
    88 01 01                                  //   [8] timeStampQualifier timeOfInterception(1)
`;
// With a GeneralizedTime [5] instead of the MicroSecondTimeStamp [7]: 80 content octets.
const HEADER_GENERALIZED = `
  a1 50                                       // [1] pSHeader PSHeader
    80 07 04 00 02 02 05 01 28                //   [0] li-psDomainId {0 4 0 2 2 5 1 40}
    81 07 4c 49 49 44 2d 34 32                //   [1] lawfulInterceptionIdentifier "LIID-42"
    82 02 44 45                               //   [2] authorizationCountryCode "DE"
    a3 14                                     //   [3] communicationIdentifier
      a0 09                                   //     [0] networkIdentifier
        80 02 4f 50                           //       [0] operatorIdentifier "OP"
        81 03 4e 45 31                        //       [1] networkElementIdentifier "NE1"
      81 03 01 02 03                          //     [1] communicationIdentityNumber 66051
      82 02 44 45                             //     [2] deliveryCountryCode "DE"
    84 02 00 80                               //   [4] sequenceNumber 128
    85 16 32 30 32 33 31 31 31 34 32 32 31 33 //   [5] timeStamp GeneralizedTime "20231114221320.123456Z"
          32 30 2e 31 32 33 34 35 36 5a
    86 03 49 50 31                            //   [6] interceptionPointID "IP1"
    88 01 01                                  //   [8] timeStampQualifier timeOfInterception(1)
`;

// IPv4 + TCP SYN, 40 octets: 192.0.2.1:1234 -> 198.51.100.7:80 (checksums left zero).
const PACKET = `
  45 00 00 28 00 01 40 00 40 06 00 00 c0 00 02 01 c6 33 64 07
  04 d2 00 50 00 00 00 01 00 00 00 00 50 02 ff ff 00 00 00 00
`;
const ALICE = '61 6c 69 63 65'; // "alice"
const GT_BEGIN = '32 30 32 33 31 31 31 34 32 32 31 33 32 30 5a'; // "20231114221320Z"
const GT_END = '32 30 32 33 31 31 31 34 32 33 31 33 32 30 5a'; // "20231114231320Z"

// --- the expected decoded values, written out (not taken from the builders) -------------------

function header(kind: 'cin' | 'noCin' | 'generalized'): Record<string, unknown> {
  const ci: Record<string, unknown> = { networkIdentifier: { operatorIdentifier: bytes('OP'), networkElementIdentifier: bytes('NE1') } };
  if (kind !== 'noCin') ci.communicationIdentityNumber = 66051;
  ci.deliveryCountryCode = 'DE';
  const h: Record<string, unknown> = {
    'li-psDomainId': '0.4.0.2.2.5.1.40', lawfulInterceptionIdentifier: bytes('LIID-42'), authorizationCountryCode: 'DE',
    communicationIdentifier: ci, sequenceNumber: 128, interceptionPointID: 'IP1', timeStampQualifier: 'timeOfInterception',
  };
  if (kind === 'generalized') h.timeStamp = '20231114221320.123456Z';
  else h.microSecondTimeStamp = { seconds: 1700000000, microSeconds: 123456 };
  return h;
}

const v4 = (a: string, assignment?: string): Record<string, unknown> => ({
  'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: Buffer.from(a.split('.').map(Number)) }, ...(assignment ? { 'iP-assignment': assignment } : {}),
});
const tri = (alt: string) => ({ tRIPayload: { [alt]: null } });
const ipcc = (direction: string) => ({
  cCPayloadSequence: [{ payloadDirection: direction, cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: hex(PACKET) } } } }],
});
const ipiri = (iRIType: string, contents: Record<string, unknown>) => ({
  iRIPayloadSequence: [{ iRIType, iRIContents: { iPIRI: { iPIRIObjId: '5.3.20.1', iPIRIContents: contents } } }],
});
const session = { targetUsername: bytes('alice'), internetAccessType: 'wirelessLAN', iPVersion: 'iPV4' };

interface Vector {
  name: string;
  build: () => Buffer;
  golden: string;
  value: { pSHeader: Record<string, unknown>; payload: Record<string, unknown> };
}

const VECTORS: Vector[] = [
  {
    name: 'keep-alive',
    build: () => keepAlivePdu(NO_CIN, SEQ, T),
    golden: `30 48 ${HEADER_NO_CIN}
      a2 04        // [2] payload Payload (a CHOICE: explicit tag)
        a2 02      //   [2] tRIPayload TRIPayload (a CHOICE: explicit tag)
          83 00    //     [3] keep-alive NULL`,
    value: { pSHeader: header('noCin'), payload: tri('keep-alive') },
  },
  {
    name: 'keep-aliveResponse',
    build: () => keepAliveResponsePdu(NO_CIN, SEQ, T),
    golden: `30 48 ${HEADER_NO_CIN}
      a2 04        // [2] payload
        a2 02      //   [2] tRIPayload
          84 00    //     [4] keep-aliveResponse NULL`,
    value: { pSHeader: header('noCin'), payload: tri('keep-aliveResponse') },
  },
  {
    name: 'cINReset',
    build: () => cinResetPdu(CTX, SEQ, T),
    golden: `30 4d ${HEADER}
      a2 04        // [2] payload
        a2 02      //   [2] tRIPayload
          87 00    //     [7] cINReset NULL`,
    value: { pSHeader: header('cin'), payload: tri('cINReset') },
  },
  {
    name: 'pDUAcknowledgementRequest',
    build: () => pduAckRequestPdu(NO_CIN, SEQ, T),
    golden: `30 48 ${HEADER_NO_CIN}
      a2 04        // [2] payload
        a2 02      //   [2] tRIPayload
          8c 00    //     [12] pDUAcknowledgementRequest NULL`,
    value: { pSHeader: header('noCin'), payload: tri('pDUAcknowledgementRequest') },
  },
  {
    name: 'pDUAcknowledgementResponse',
    build: () => pduAckResponsePdu(NO_CIN, SEQ, T),
    golden: `30 48 ${HEADER_NO_CIN}
      a2 04        // [2] payload
        a2 02      //   [2] tRIPayload
          8d 00    //     [13] pDUAcknowledgementResponse NULL`,
    value: { pSHeader: header('noCin'), payload: tri('pDUAcknowledgementResponse') },
  },
  {
    name: 'IPCC with a MicroSecondTimeStamp',
    build: () => ipccPdu(CTX, SEQ, T, hex(PACKET), 'fromTarget'),
    golden: `30 81 86 ${HEADER}           // PS-PDU, 134 content octets (long form)
      a2 3d                               // [2] payload
        a1 3b                             //   [1] cCPayloadSequence SEQUENCE OF CCPayload
          30 39                           //     CCPayload
            80 01 00                      //       [0] payloadDirection fromTarget(0)
            a2 34                         //       [2] cCContents CCContents (CHOICE: explicit)
              a2 32                       //         [2] iPCC IPCC
                80 04 05 03 14 02         //           [0] iPCCObjId RELATIVE-OID {5 3 20 2}
                a1 2a                     //           [1] iPCCContents IPCCContents (CHOICE: explicit)
                  80 28 ${PACKET}         //             [0] iPPackets OCTET STRING`,
    value: { pSHeader: header('cin'), payload: ipcc('fromTarget') },
  },
  {
    name: 'IPCC with a GeneralizedTime',
    build: () => ipccPdu(GENERALIZED, SEQ, T, hex(PACKET), 'toTarget'),
    golden: `30 81 91 ${HEADER_GENERALIZED}
      a2 3d                               // [2] payload
        a1 3b                             //   [1] cCPayloadSequence
          30 39                           //     CCPayload
            80 01 01                      //       [0] payloadDirection toTarget(1)
            a2 34                         //       [2] cCContents
              a2 32                       //         [2] iPCC
                80 04 05 03 14 02         //           [0] iPCCObjId {5 3 20 2}
                a1 2a                     //           [1] iPCCContents
                  80 28 ${PACKET}         //             [0] iPPackets`,
    value: { pSHeader: header('generalized'), payload: ipcc('toTarget') },
  },
  {
    name: 'IPIRI BEGIN (target address, NAS address, WLAN location, authentication)',
    build: () => ipiriPdu(CTX, SEQ, T, 'iRI-Begin', {
      accessEventType: 'accessAccept', targetUsername: 'alice', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4',
      targetIPAddress: ipAddress('192.0.2.10', 'dynamic'), startTime: '20231114221320Z', pOPIPAddress: ipAddress('192.0.2.254'),
      authenticationType: 'radiusAAA', location: { wlanLocationAttributes: { wlanAPMACAddress: hex('02005e005301') } },
    }),
    golden: `30 81 a9 ${HEADER}
      a2 60                               // [2] payload
        a0 5e                             //   [0] iRIPayloadSequence SEQUENCE OF IRIPayload
          30 5c                           //     IRIPayload
            80 01 01                      //       [0] iRIType iRI-Begin(1)
            a2 57                         //       [2] iRIContents IRIContents (CHOICE: explicit)
              a2 55                       //         [2] iPIRI IPIRI
                80 04 05 03 14 01         //           [0] iPIRIObjId RELATIVE-OID {5 3 20 1}
                a1 4d                     //           [1] iPIRIContents IPIRIContents
                  80 01 01                //             [0] accessEventType accessAccept(1)
                  81 05 ${ALICE}          //             [1] targetUsername "alice"
                  82 01 05                //             [2] internetAccessType wirelessLAN(5)
                  83 01 01                //             [3] iPVersion iPV4(1)
                  a4 0e                   //             [4] targetIPAddress IPAddress
                    81 01 00              //               [1] iP-type iPV4(0)
                    a2 06                 //               [2] iP-value IP-value (CHOICE: explicit)
                      81 04 c0 00 02 0a   //                 [1] iPBinaryAddress 192.0.2.10
                    83 01 02              //               [3] iP-assignment dynamic(2)
                  8a 0f ${GT_BEGIN}       //             [10] startTime "20231114221320Z"
                  b3 0b                   //             [19] pOPIPAddress IPAddress (the NAS)
                    81 01 00              //               [1] iP-type iPV4(0)
                    a2 06                 //               [2] iP-value
                      81 04 c0 00 02 fe   //                 [1] iPBinaryAddress 192.0.2.254
                  96 01 02                //             [22] authenticationType radiusAAA(2)
                  b8 0a                   //             [24] location Location
                    a2 08                 //               [2] wlanLocationAttributes WlanLocationAttributes
                      80 06 02 00 5e 00 53 01 //             [0] wlanAPMACAddress`,
    value: {
      pSHeader: header('cin'),
      payload: ipiri('iRI-Begin', {
        accessEventType: 'accessAccept', ...session, targetIPAddress: v4('192.0.2.10', 'dynamic'), startTime: '20231114221320Z',
        pOPIPAddress: v4('192.0.2.254'), authenticationType: 'radiusAAA', location: { wlanLocationAttributes: { wlanAPMACAddress: hex('02005e005301') } },
      }),
    },
  },
  {
    name: 'IPIRI CONTINUE (octet counters, one at 2^64-1)',
    build: () => ipiriPdu(CTX, SEQ, T, 'iRI-Continue', {
      accessEventType: 'interimUpdate', targetUsername: 'alice', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4',
      octetsReceived: 5_000_000_000, octetsTransmitted: 18446744073709551615n,
    }),
    golden: `30 7e ${HEADER}
      a2 35                               // [2] payload
        a0 33                             //   [0] iRIPayloadSequence
          30 31                           //     IRIPayload
            80 01 03                      //       [0] iRIType iRI-Continue(3)
            a2 2c                         //       [2] iRIContents
              a2 2a                       //         [2] iPIRI
                80 04 05 03 14 01         //           [0] iPIRIObjId {5 3 20 1}
                a1 22                     //           [1] iPIRIContents
                  80 01 06                //             [0] accessEventType interimUpdate(6)
                  81 05 ${ALICE}          //             [1] targetUsername "alice"
                  82 01 05                //             [2] internetAccessType wirelessLAN(5)
                  83 01 01                //             [3] iPVersion iPV4(1)
                  8d 05 01 2a 05 f2 00    //             [13] octetsReceived 5000000000
                  8e 09 00 ff ff ff ff ff ff ff ff // [14] octetsTransmitted 18446744073709551615 (00 first: positive)`,
    value: {
      pSHeader: header('cin'),
      payload: ipiri('iRI-Continue', { accessEventType: 'interimUpdate', ...session, octetsReceived: 5000000000, octetsTransmitted: 18446744073709551615n }),
    },
  },
  {
    name: 'IPIRI END (endTime, endReason)',
    build: () => ipiriPdu(CTX, SEQ, T, 'iRI-End', {
      accessEventType: 'accessEnd', targetUsername: 'alice', internetAccessType: 'wirelessLAN', iPVersion: 'iPV4',
      endTime: '20231114231320Z', endReason: 'regularLogoff',
    }),
    golden: `30 81 80 ${HEADER}                // PS-PDU, exactly 128 content octets: long form
      a2 37                               // [2] payload
        a0 35                             //   [0] iRIPayloadSequence
          30 33                           //     IRIPayload
            80 01 02                      //       [0] iRIType iRI-End(2)
            a2 2e                         //       [2] iRIContents
              a2 2c                       //         [2] iPIRI
                80 04 05 03 14 01         //           [0] iPIRIObjId {5 3 20 1}
                a1 24                     //           [1] iPIRIContents
                  80 01 08                //             [0] accessEventType accessEnd(8)
                  81 05 ${ALICE}          //             [1] targetUsername "alice"
                  82 01 05                //             [2] internetAccessType wirelessLAN(5)
                  83 01 01                //             [3] iPVersion iPV4(1)
                  8b 0f ${GT_END}         //             [11] endTime "20231114231320Z"
                  8c 01 01                //             [12] endReason regularLogoff(1)`,
    value: {
      pSHeader: header('cin'),
      payload: ipiri('iRI-End', { accessEventType: 'accessEnd', ...session, endTime: '20231114231320Z', endReason: 'regularLogoff' }),
    },
  },
  {
    name: 'IRI-only packet header report',
    build: () => packetHeaderReportPdu(CTX, SEQ, T, hex(PACKET), 'toTarget'),
    golden: `30 81 8b ${HEADER}
      a2 42                               // [2] payload
        a0 40                             //   [0] iRIPayloadSequence
          30 3e                           //     IRIPayload
            80 01 04                      //       [0] iRIType iRI-Report(4)
            a2 36                         //       [2] iRIContents
              b4 34                       //         [20] iPIRIPacketReport IPIRIPacketReport
                80 04 05 03 14 04         //           [0] iPIRIPacketReportObjId {5 3 20 4}
                a1 2c                     //           [1] report PacketReport (CHOICE: explicit)
                  a1 2a                   //             [1] header PacketReportHeader
                    81 28 ${PACKET}       //               [1] header OCTET STRING
            86 01 01                      //       [6] payloadDirection toTarget(1)`,
    value: {
      pSHeader: header('cin'),
      payload: {
        iRIPayloadSequence: [{
          iRIType: 'iRI-Report', payloadDirection: 'toTarget',
          iRIContents: { iPIRIPacketReport: { iPIRIPacketReportObjId: '5.3.20.4', report: { header: { header: hex(PACKET) } } } },
        }],
      },
    },
  },
  {
    name: 'IRI-only packet summary report (named-bit indications)',
    build: () => packetSummaryReportPdu(CTX, SEQ, T, {
      header: hex(PACKET), indications: ['zeroedTCPChecksum', 'zeroedIPv4HeaderChecksum'], trigger: 'flowEnd',
      packetCount: 12, byteCount: 1500, first: { seconds: 1_700_000_000, micros: 0 }, last: { seconds: 1_700_000_001, micros: 500_000 },
    }),
    golden: `30 81 bb ${HEADER}
      a2 72                               // [2] payload
        a0 70                             //   [0] iRIPayloadSequence
          30 6e                           //     IRIPayload
            80 01 04                      //       [0] iRIType iRI-Report(4)
            a2 69                         //       [2] iRIContents
              b4 67                       //         [20] iPIRIPacketReport
                80 04 05 03 14 04         //           [0] iPIRIPacketReportObjId {5 3 20 4}
                a1 5f                     //           [1] report
                  a2 5d                   //             [2] summary PacketReportSummary
                    81 28 ${PACKET}       //               [1] header
                    82 03 05 10 20        //               [2] indications: 5 unused bits; bit 3 (0x10), bit 10 (0x20)
                    83 01 02              //               [3] trigger flowEnd(2)
                    84 01 0c              //               [4] packetCount 12
                    85 02 05 dc           //               [5] byteCount 1500
                    86 0f ${GT_BEGIN}     //               [6] firstTimestamp "20231114221320Z"
                    87 11 32 30 32 33 31 31 31 34 32 32 31 33 32 31 2e 35 5a // [7] lastTimestamp "20231114221321.5Z"`,
    value: {
      pSHeader: header('cin'),
      payload: {
        iRIPayloadSequence: [{
          iRIType: 'iRI-Report',
          iRIContents: {
            iPIRIPacketReport: {
              iPIRIPacketReportObjId: '5.3.20.4',
              report: {
                summary: {
                  header: hex(PACKET), indications: { bytes: hex('1020'), unusedBits: 5 }, trigger: 'flowEnd', packetCount: 12,
                  byteCount: 1500, firstTimestamp: '20231114221320Z', lastTimestamp: '20231114221321.5Z',
                },
              },
            },
          },
        }],
      },
    },
  },
  {
    name: 'EmailIRI',
    build: () => emailIriPdu(CTX, SEQ, T, 'iRI-Report', {
      eventType: 'e-mail-send', 'client-Address': ipAddress('192.0.2.10'), 'server-Address': ipAddress('198.51.100.25'),
      'client-Port': 49152, 'server-Port': 25, 'server-Octets-Sent': 250, 'client-Octets-Sent': 1024, 'protocol-ID': 'smtp',
      'e-mail-Sender': 'a@example.org', 'e-mail-Recipients': ['b@example.net'], status: 'operation-succeeded',
      'total-Recipient-Count': 1, aAAInformation: { aSMTPAAAInformation: { username: 'alice', authMethod: 'cramMD5', aAAResult: 'aAASucceeded' } },
    }),
    golden: `30 81 c1 ${HEADER}
      a2 78                               // [2] payload
        a0 76                             //   [0] iRIPayloadSequence
          30 74                           //     IRIPayload
            80 01 04                      //       [0] iRIType iRI-Report(4)
            a2 6f                         //       [2] iRIContents
              a1 6d                       //         [1] emailIRI EmailIRI
                80 04 05 02 14 01         //           [0] emailIRIObjId RELATIVE-OID {5 2 20 1}
                81 01 01                  //           [1] eventType e-mail-send(1)
                a2 0b                     //           [2] client-Address IPAddress
                  81 01 00                //             [1] iP-type iPV4(0)
                  a2 06 81 04 c0 00 02 0a //             [2] iP-value [1] iPBinaryAddress 192.0.2.10
                a3 0b                     //           [3] server-Address IPAddress
                  81 01 00                //             [1] iP-type iPV4(0)
                  a2 06 81 04 c6 33 64 19 //             [2] iP-value [1] iPBinaryAddress 198.51.100.25
                84 03 00 c0 00            //           [4] client-Port 49152
                85 01 19                  //           [5] server-Port 25
                86 02 00 fa               //           [6] server-Octets-Sent 250
                87 02 04 00               //           [7] client-Octets-Sent 1024
                88 01 01                  //           [8] protocol-ID smtp(1)
                89 0d 61 40 65 78 61 6d 70 6c 65 2e 6f 72 67 // [9] e-mail-Sender "a@example.org"
                aa 0f                     //           [10] e-mail-Recipients E-mail-Address-List
                  0c 0d 62 40 65 78 61 6d 70 6c 65 2e 6e 65 74 // UTF8String "b@example.net"
                8b 01 03                  //           [11] status operation-succeeded(3)
                8c 01 01                  //           [12] total-Recipient-Count 1
                b0 0f                     //           [16] aAAInformation AAAInformation (CHOICE: explicit)
                  a1 0d                   //             [1] aSMTPAAAInformation
                    80 05 ${ALICE}        //               [0] username "alice"
                    81 01 02              //               [1] authMethod cramMD5(2)
                    84 01 03              //               [4] aAAResult aAASucceeded(3)`,
    value: {
      pSHeader: header('cin'),
      payload: {
        iRIPayloadSequence: [{
          iRIType: 'iRI-Report',
          iRIContents: {
            emailIRI: {
              emailIRIObjId: '5.2.20.1', eventType: 'e-mail-send', 'client-Address': v4('192.0.2.10'), 'server-Address': v4('198.51.100.25'),
              'client-Port': 49152, 'server-Port': 25, 'server-Octets-Sent': 250, 'client-Octets-Sent': 1024, 'protocol-ID': 'smtp',
              'e-mail-Sender': 'a@example.org', 'e-mail-Recipients': ['b@example.net'], status: 'operation-succeeded',
              'total-Recipient-Count': 1, aAAInformation: { aSMTPAAAInformation: { username: 'alice', authMethod: 'cramMD5', aAAResult: 'aAASucceeded' } },
            },
          },
        }],
      },
    },
  },
  {
    name: 'EmailCC',
    build: () => emailCcPdu(CTX, SEQ, T, 'fromTarget', 'application', bytes('Subject: hi\r\n\r\nhello\r\n')),
    golden: `30 75 ${HEADER}
      a2 2c                               // [2] payload
        a1 2a                             //   [1] cCPayloadSequence
          30 28                           //     CCPayload
            80 01 00                      //       [0] payloadDirection fromTarget(0)
            a2 23                         //       [2] cCContents
              a1 21                       //         [1] emailCC EmailCC
                80 04 05 02 14 02         //           [0] emailCCObjId RELATIVE-OID {5 2 20 2}
                81 01 02                  //           [1] email-Format application(2)
                82 16 53 75 62 6a 65 63 74 3a 20 68 69 0d 0a 0d 0a 68 65 6c 6c 6f 0d 0a // [2] content`,
    value: {
      pSHeader: header('cin'),
      payload: {
        cCPayloadSequence: [{
          payloadDirection: 'fromTarget',
          cCContents: { emailCC: { emailCCObjId: '5.2.20.2', 'email-Format': 'application', content: bytes('Subject: hi\r\n\r\nhello\r\n') } },
        }],
      },
    },
  },
];

/**
 * Where the TLV at `at` ends, checking that every constructed element's children fill it
 * exactly. Deliberately separate from src/ber: it checks the hand-made lengths on its own.
 * (Short tags and lengths up to two octets are all these vectors use.)
 */
function tlvEnd(b: Buffer, at: number): number {
  const id = b[at]!;
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    assert.ok(n >= 1 && n <= 2, `length form at ${at}`);
    len = n === 1 ? b[p]! : (b[p]! << 8) | b[p + 1]!;
    p += n;
  }
  const end = p + len;
  assert.ok(end <= b.length, `element at ${at} runs past the end`);
  if (id & 0x20) {
    while (p < end) p = tlvEnd(b, p);
    assert.equal(p, end, `children of the element at ${at} overrun it`);
  }
  return end;
}

/** Byte strings as hex, so values compare whatever their Buffer/Uint8Array flavour. */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

describe('etsi golden vectors (bytes assembled by hand from the ASN.1)', () => {
  for (const v of VECTORS) {
    describe(v.name, () => {
      const golden = hex(v.golden);

      it('the golden bytes are one well-formed PDU (the hand-made lengths add up)', () => {
        assert.equal(golden[0], 0x30);
        assert.equal(tlvEnd(golden, 0), golden.length);
      });

      it('the builder writes exactly the golden bytes', () => {
        assert.equal(v.build().toString('hex'), golden.toString('hex'));
      });

      it('decoding gives the values back', () => {
        assert.deepStrictEqual(norm(decodePsPdu(golden)), norm(v.value));
      });

      it('encoding the values gives the golden bytes', () => {
        assert.equal(encodePsPdu(v.value as never).toString('hex'), golden.toString('hex'));
      });

      it('encode(decode(bytes)) is the bytes again', () => {
        assert.equal(encodePsPdu(decodePsPdu(golden)).toString('hex'), golden.toString('hex'));
      });
    });
  }
});

describe('record context checks', () => {
  it('refuses an unknown timestampFormat instead of leaving the timestamp out', () => {
    const ctx = { liid: 'X', operatorId: 'op', cin: 1, timestampFormat: 'seconds' as never };
    assert.throws(() => psHeader(ctx, 0, { seconds: 1, micros: 0 }), (e: unknown) => (e as { code?: string }).code === 'LIG_ERR_ETSI_INVALID');
  });
});
