/**
 * ETSI TS 102 232-3 (IPAccessPDU, version 20): IRI and CC for internet access.
 * Each schema below carries the ASN.1 it implements; lig's profile is asn1/LIG-IPAccessPDU.asn.
 */
import { bits, choice, enumerated, f, gtime, int, nul, octets, opt, roid, seq, seqOf, utf8 } from '../ber/schema';
import { NATIONAL_IPIRI_PARAMETERS, NationalIPIRIParameters } from './app-report';
import { IPAddress, IP_ADDRESS, LOCATION, Location, utf8Upto } from './common';

/** `iPAccessPDUObjId RELATIVE-OID ::= {li-ps(5) iPAccess(3) version20(20)}` */
export const IP_ACCESS_VERSION = 20;
const base = `5.3.${IP_ACCESS_VERSION}`;
/** ObjIds of the module (RELATIVE-OID, relative to lawfulInterceptDomainId). */
export const IP_ACCESS_OBJIDS = {
  iPIRI: `${base}.1`,
  iPCC: `${base}.2`,
  iPIRIOnly: `${base}.3`,
  iPIRIPacketReport: `${base}.4`,
} as const;

const u64 = int(0, 18446744073709551615n);

// ---------------------------------------------------------------------------------------------
/**
 * ```asn1
 * IPCC ::= SEQUENCE
 * {
 *     iPCCObjId           [0] RELATIVE-OID,
 *     iPCCContents        [1] IPCCContents
 * }
 * IPCCContents ::= CHOICE
 * {
 *     iPPackets           [0] OCTET STRING,
 *     ...,
 *     iPTruncatedPacket   [1] IPTruncatedPacket
 * }
 * IPTruncatedPacket ::= SEQUENCE
 * {
 *     truncatedPacket     [0] OCTET STRING,
 *     originalLength      [1] INTEGER OPTIONAL,
 *     ...
 * }
 * ```
 */
export const IPCC = seq('IPCC', [
  f('iPCCObjId', 0, roid),
  f('iPCCContents', 1, choice('IPCCContents', [
    f('iPPackets', 0, octets()),
    f('iPTruncatedPacket', 1, seq('IPTruncatedPacket', [
      f('truncatedPacket', 0, octets()),
      opt('originalLength', 1, int(0)),
    ], true)),
  ], true)),
]);

export interface IPCC {
  iPCCObjId: string;
  iPCCContents: { iPPackets: Uint8Array } | { iPTruncatedPacket: { truncatedPacket: Uint8Array; originalLength?: number } };
}

// ---------------------------------------------------------------------------------------------
export const ACCESS_EVENT_TYPE = {
  accessAttempt: 0, accessAccept: 1, accessReject: 2, accessFailed: 3, sessionStart: 4, sessionEnd: 5,
  interimUpdate: 6, startOfInterceptionWithSessionActive: 7, accessEnd: 8, endOfInterceptionWithSessionActive: 9,
  unknown: 10, startOfInterceptionWithoutNetworkSession: 11, endOfInterceptionWithoutNetworkSession: 12, sessionExpired: 13,
} as const;
export type AccessEventType = keyof typeof ACCESS_EVENT_TYPE;

export const INTERNET_ACCESS_TYPE = {
  undefined: 0, dialUp: 1, xDSL: 2, cableModem: 3, lAN: 4, wirelessLAN: 5, fTTx: 6, 'wIMAX-HIPERMAN': 7,
  satellite: 8, 'wireless-other': 9,
} as const;
export type InternetAccessType = keyof typeof INTERNET_ACCESS_TYPE;

export const IP_VERSION = { iPV4: 1, iPV6: 2, iPV4andV6: 3 } as const;
export const END_REASON = { undefined: 0, regularLogoff: 1, connectionLoss: 2, connectionTimeout: 3, leaseExpired: 4 } as const;
export type EndReason = keyof typeof END_REASON;
export const AUTHENTICATION_TYPE = { unknown: 0, static: 1, radiusAAA: 2, dhcpAAA: 3, diameterAAA: 4 } as const;
export type AuthenticationType = keyof typeof AUTHENTICATION_TYPE;

/**
 * ```asn1
 * IPIRIIDType ::= CHOICE
 * {
 *     printableIDType         [0] UTF8String (SIZE (1..128)),
 *     macAddressType          [1] OCTET STRING (SIZE (6)),
 *     ipAddressType           [2] IPAddress,
 *     ...
 * }
 * ```
 */
const IPIRI_ID_TYPE = choice('IPIRIIDType', [
  f('printableIDType', 0, utf8(1, 128)),
  f('macAddressType', 1, octets(6, 6)),
  f('ipAddressType', 2, IP_ADDRESS),
], true);

/**
 * ```asn1
 * IPIRIContents ::= SEQUENCE
 * {
 *     accessEventType         [0] AccessEventType,
 *     targetUsername          [1] OCTET STRING,
 *     internetAccessType      [2] InternetAccessType,
 *     iPVersion               [3] IPVersion,
 *     targetIPAddress         [4] IPAddress OPTIONAL,
 *     targetNetworkID         [5] UTF8String (SIZE (1..20)) OPTIONAL,
 *     targetCPEID             [6] UTF8String (SIZE (1..128)) OPTIONAL,
 *     targetLocation          [7] UTF8String (SIZE (1..64)) OPTIONAL,
 *     pOPPortNumber           [8] INTEGER (0..4294967295) OPTIONAL,
 *     callBackNumber          [9] UTF8String (SIZE (1..20)) OPTIONAL,
 *     startTime               [10] GeneralizedTime OPTIONAL,
 *     endTime                 [11] GeneralizedTime OPTIONAL,
 *     endReason               [12] EndReason OPTIONAL,
 *     octetsReceived          [13] INTEGER (0..18446744073709551615) OPTIONAL,
 *     octetsTransmitted       [14] INTEGER (0..18446744073709551615) OPTIONAL,
 *     rawAAAData              [15] OCTET STRING OPTIONAL,
 *     ...,
 *     expectedEndTime         [16] GeneralizedTime OPTIONAL,
 *     pOPPhoneNumber          [17] UTF8String (SIZE (1..20)) OPTIONAL,
 *     pOPIdentifier           [18] IPIRIIDType OPTIONAL,
 *     pOPIPAddress            [19] IPAddress OPTIONAL,
 *     nationalIPIRIParameters [20] NationalIPIRIParameters OPTIONAL,
 *     additionalIPAddress     [21] IPAddress OPTIONAL,
 *     authenticationType      [22] AuthenticationType OPTIONAL,
 *     otherTargetIdentifiers  [23] SEQUENCE OF OtherTargetIdentifiers OPTIONAL,
 *     location                [24] Location OPTIONAL,
 *     pOPPortID               [25] OCTET STRING OPTIONAL,
 *     framedRoutes            [26] SEQUENCE OF FramedRoute OPTIONAL
 * }
 * NationalIPIRIParameters ::= SEQUENCE { countryCode [1] PrintableString (SIZE (2)), ...,
 *     ligApplicationReport [10] LigApplicationReport OPTIONAL }   -- lig's national parameter: app-report.ts
 * OtherTargetIdentifiers ::= CHOICE { iPAddress [0] IPAddress, ... }
 * FramedRoute ::= CHOICE { framedRoute [0] OCTET STRING, ... }
 * ```
 */
export const IPIRI_CONTENTS = seq('IPIRIContents', [
  f('accessEventType', 0, enumerated(ACCESS_EVENT_TYPE, true)),
  f('targetUsername', 1, octets()),
  f('internetAccessType', 2, enumerated(INTERNET_ACCESS_TYPE, true)),
  f('iPVersion', 3, enumerated(IP_VERSION, true)),
  opt('targetIPAddress', 4, IP_ADDRESS),
  opt('targetNetworkID', 5, utf8Upto(20)),
  opt('targetCPEID', 6, utf8Upto(128)),
  opt('targetLocation', 7, utf8Upto(64)),
  opt('pOPPortNumber', 8, int(0, 4294967295)),
  opt('callBackNumber', 9, utf8Upto(20)),
  opt('startTime', 10, gtime),
  opt('endTime', 11, gtime),
  opt('endReason', 12, enumerated(END_REASON, true)),
  opt('octetsReceived', 13, u64),
  opt('octetsTransmitted', 14, u64),
  opt('rawAAAData', 15, octets()),
  opt('expectedEndTime', 16, gtime),
  opt('pOPPhoneNumber', 17, utf8Upto(20)),
  opt('pOPIdentifier', 18, IPIRI_ID_TYPE),
  opt('pOPIPAddress', 19, IP_ADDRESS),
  opt('nationalIPIRIParameters', 20, NATIONAL_IPIRI_PARAMETERS),
  opt('additionalIPAddress', 21, IP_ADDRESS),
  opt('authenticationType', 22, enumerated(AUTHENTICATION_TYPE, true)),
  opt('otherTargetIdentifiers', 23, seqOf(choice('OtherTargetIdentifiers', [f('iPAddress', 0, IP_ADDRESS)], true))),
  opt('location', 24, LOCATION),
  opt('pOPPortID', 25, octets()),
  opt('framedRoutes', 26, seqOf(choice('FramedRoute', [f('framedRoute', 0, octets())], true))),
], true);

export interface IPIRIContents {
  accessEventType: AccessEventType;
  targetUsername: Uint8Array | string;
  internetAccessType: InternetAccessType;
  iPVersion: keyof typeof IP_VERSION;
  targetIPAddress?: IPAddress;
  targetNetworkID?: string;
  targetCPEID?: string;
  targetLocation?: string;
  pOPPortNumber?: number;
  callBackNumber?: string;
  startTime?: string;
  endTime?: string;
  endReason?: EndReason;
  octetsReceived?: number | bigint;
  octetsTransmitted?: number | bigint;
  rawAAAData?: Uint8Array;
  expectedEndTime?: string;
  pOPPhoneNumber?: string;
  pOPIdentifier?: { printableIDType: string } | { macAddressType: Uint8Array } | { ipAddressType: IPAddress };
  pOPIPAddress?: IPAddress;
  nationalIPIRIParameters?: NationalIPIRIParameters;
  additionalIPAddress?: IPAddress;
  authenticationType?: AuthenticationType;
  otherTargetIdentifiers?: { iPAddress: IPAddress }[];
  location?: Location;
  pOPPortID?: Uint8Array;
  framedRoutes?: { framedRoute: Uint8Array }[];
}

/**
 * ```asn1
 * IPIRI ::= SEQUENCE
 * {
 *     iPIRIObjId          [0] RELATIVE-OID,
 *     iPIRIContents       [1] IPIRIContents,
 *     ...
 * }
 * ```
 */
export const IPIRI = seq('IPIRI', [f('iPIRIObjId', 0, roid), f('iPIRIContents', 1, IPIRI_CONTENTS)], true);

export interface IPIRI {
  iPIRIObjId: string;
  iPIRIContents: IPIRIContents;
}

// ---------------------------------------------------------------------------------------------
/**
 * The superseded PDHR/PDSR reports, decoded for peers that still send them (lig emits the
 * packet reports below instead, as clause 6.2.5 recommends).
 * ```asn1
 * IPIRIOnly ::= SEQUENCE
 * {
 *     iPIRIOnlyObjId              [0] RELATIVE-OID,
 *     iPInformation               [1] IPInformation,
 *     protocolInformation         [2] ProtocolInformation,
 *     iPAggregatedNbrOfPackets    [3] INTEGER OPTIONAL,
 *     iPAggregatedNbrOfBytes      [4] INTEGER OPTIONAL,
 *     ...,
 *     pDSRInformation             [5] PDSRInformation OPTIONAL
 * }
 * ```
 * (IPInformation, ProtocolInformation and PDSRInformation as in TS 102 232-3 clause B.)
 */
export const IPIRI_ONLY = seq('IPIRIOnly', [
  f('iPIRIOnlyObjId', 0, roid),
  f('iPInformation', 1, choice('IPInformation', [
    f('iPv4Information', 0, seq('IPv4Information', [
      opt('headerLength', 0, octets()), opt('typeOfService', 1, octets()), opt('totalLength', 2, octets(2, 2)),
      opt('identification', 3, octets(2, 2)), opt('fragment', 4, octets(2, 2)), opt('ttl', 5, octets()),
      opt('protocol', 6, octets()), opt('headerChecksum', 7, octets(2, 2)), f('source', 8, octets(4, 4)),
      f('destination', 9, octets(4, 4)), opt('options', 10, octets(0, 40)),
    ])),
    f('iPv6Information', 1, seq('IPv6Information', [
      opt('trafficClass', 0, octets()), opt('flowLabel', 1, octets(20, 20)), opt('payloadLength', 2, octets(4, 4)),
      opt('nextHeader', 3, octets()), opt('hopLimit', 4, octets()), f('source', 5, octets(16, 16)),
      f('destination', 6, octets(16, 16)),
    ])),
  ])),
  f('protocolInformation', 2, choice('ProtocolInformation', [
    f('none', 0, nul),
    f('tCPInformation', 1, seq('TCPInformation', [
      opt('sourcePort', 0, octets(2, 2)), opt('destinationPort', 1, octets(2, 2)), opt('sequenceNumber', 2, octets(4, 4)),
      opt('ackNumber', 3, octets(4, 4)), opt('dataOffset', 4, bits(4, 4)), opt('controlBits', 5, bits(6, 6)),
      opt('windowSize', 6, octets(2, 2)), opt('checkSum', 7, octets(2, 2)), opt('urgentPointer', 8, octets(2, 2)),
      opt('options', 9, octets(0, 40)),
    ])),
    f('uDPInformation', 2, seq('UDPInformation', [
      opt('sourcePort', 0, octets(2, 2)), opt('destinationPort', 1, octets(2, 2)), opt('length', 2, octets(2, 2)),
      opt('checkSum', 3, octets(2, 2)),
    ])),
  ], true)),
  opt('iPAggregatedNbrOfPackets', 3, int()),
  opt('iPAggregatedNbrOfBytes', 4, int()),
  opt('pDSRInformation', 5, seq('PDSRInformation', [
    f('summaryTrigger', 0, enumerated({ startOfFlow: 0, timerExpiry: 1, packetCount: 2, byteCount: 3, endOfFlow: 4 }, true)),
    f('firstPacketTimestamp', 1, gtime),
    f('lastPacketTimestamp', 2, gtime),
    f('packetCount', 3, int()),
    f('byteCount', 4, int()),
  ], true)),
], true);

// ---------------------------------------------------------------------------------------------
export const PACKET_REPORT_TRIGGER = {
  flowStart: 1, flowEnd: 2, flowTimeout: 3, flowTimerExpiration: 4, flowPacketCount: 5, flowByteCount: 6,
  sessionTimerExpiration: 7, sessionPacketCount: 8, sessionByteCount: 9, reportEnd: 10,
} as const;
export type PacketReportTrigger = keyof typeof PACKET_REPORT_TRIGGER;

/** Bit numbers of `PacketReportIndications` (a named BIT STRING). */
export const PACKET_REPORT_INDICATIONS = {
  zeroedIPv4TotalLength: 0, zeroedIPv4Flags: 1, zeroedIPv4TimeToLive: 2, zeroedIPv4HeaderChecksum: 3,
  zeroedIPv6PayloadLength: 4, removedIPv6ExtensionHeaders: 5, zeroedTCPSequenceNumber: 6,
  zeroedTCPAcknowledgementNumber: 7, zeroedTCPFlags: 8, zeroedTCPWindowSize: 9, zeroedTCPChecksum: 10,
  zeroedUDPLength: 11, zeroedUDPChecksum: 12,
} as const;
export type PacketReportIndication = keyof typeof PACKET_REPORT_INDICATIONS;

/**
 * ```asn1
 * IPIRIPacketReport ::= SEQUENCE
 * {
 *     iPIRIPacketReportObjId [0] RELATIVE-OID,
 *     report                 [1] PacketReport,
 *     ...
 * }
 * PacketReport ::= CHOICE
 * {
 *     header  [1] PacketReportHeader,
 *     summary [2] PacketReportSummary,
 *     ...
 * }
 * PacketReportHeader ::= SEQUENCE
 * {
 *     header [1] OCTET STRING,
 *     ...
 * }
 * PacketReportSummary ::= SEQUENCE
 * {
 *     header         [1] OCTET STRING,
 *     indications    [2] PacketReportIndications,
 *     trigger        [3] PacketReportTrigger,
 *     packetCount    [4] INTEGER OPTIONAL,
 *     byteCount      [5] INTEGER OPTIONAL,
 *     firstTimestamp [6] GeneralizedTime OPTIONAL,
 *     lastTimestamp  [7] GeneralizedTime OPTIONAL,
 *     ...
 * }
 * ```
 */
export const IPIRI_PACKET_REPORT = seq('IPIRIPacketReport', [
  f('iPIRIPacketReportObjId', 0, roid),
  f('report', 1, choice('PacketReport', [
    f('header', 1, seq('PacketReportHeader', [f('header', 1, octets())], true)),
    f('summary', 2, seq('PacketReportSummary', [
      f('header', 1, octets()),
      f('indications', 2, bits()),
      f('trigger', 3, enumerated(PACKET_REPORT_TRIGGER, true)),
      opt('packetCount', 4, int(0)),
      opt('byteCount', 5, int(0)),
      opt('firstTimestamp', 6, gtime),
      opt('lastTimestamp', 7, gtime),
    ], true)),
  ], true)),
], true);

export interface PacketReportSummary {
  header: Uint8Array;
  indications: { bytes: Uint8Array; unusedBits: number };
  trigger: PacketReportTrigger;
  packetCount?: number | bigint;
  byteCount?: number | bigint;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

export interface IPIRIPacketReport {
  iPIRIPacketReportObjId: string;
  report: { header: { header: Uint8Array } } | { summary: PacketReportSummary };
}

/**
 * Named bits as a BIT STRING value, DER-style: trailing zero bits removed (X.690 11.2.2),
 * so the same set of indications always encodes the same way.
 */
export function indicationBits(names: readonly PacketReportIndication[]): { bytes: Uint8Array; unusedBits: number } {
  if (names.length === 0) return { bytes: new Uint8Array(0), unusedBits: 0 };
  const top = Math.max(...names.map((n) => PACKET_REPORT_INDICATIONS[n]));
  const bytes = new Uint8Array((top >> 3) + 1);
  for (const n of names) {
    const b = PACKET_REPORT_INDICATIONS[n];
    bytes[b >> 3]! |= 0x80 >> (b & 7);
  }
  return { bytes, unusedBits: 7 - (top & 7) };
}
