/**
 * ETSI TS 102 232-1 LI-PS-PDU (genHeader): the envelope of every handover record.
 * Each schema carries the ASN.1 it implements; lig's profile is asn1/LIG-PS-PDU.asn.
 * Alternatives whose modules are outside lig's profile (UMTS, EPS, L2, PSTN, …) decode as
 * `$unknown` with their raw bytes, as clause A.3 allows for unused imports.
 */
import { choice, enumerated, f, gtime, int, nul, octets, oid, opt, printable, seq, seqOf } from '../ber/schema';
import { EMAIL_CC, EMAIL_IRI, EmailCC, EmailIRI } from './email';
import { HI1_OPERATION, HI1Operation } from './hi1';
import { IPCC, IPIRI, IPIRI_ONLY, IPIRI_PACKET_REPORT, IPIRIPacketReport } from './ip-access';
import { IPMMCC, IPMMIRI } from './ip-multimedia';

/** The newest genHeader version whose structures lig emits (IPIRIPacketReport needs 40). */
export const DEFAULT_DOMAIN_ID_VERSION = 40;

const u32 = int(0, 4294967295);

/**
 * ```asn1
 * TimeStampQualifier ::= ENUMERATED { unknown(0), timeOfInterception(1), timeOfMediation(2), ..., timeOfAggregation(3) }
 * ```
 */
export const TIME_STAMP_QUALIFIER = { unknown: 0, timeOfInterception: 1, timeOfMediation: 2, timeOfAggregation: 3 } as const;
export type TimeStampQualifier = keyof typeof TIME_STAMP_QUALIFIER;
const TSQ = enumerated(TIME_STAMP_QUALIFIER, true);

/**
 * ```asn1
 * PayloadDirection ::= ENUMERATED { fromTarget(0), toTarget(1), ..., indeterminate(2), combined(3), notapplicable(4) }
 * ```
 */
export const PAYLOAD_DIRECTION = { fromTarget: 0, toTarget: 1, indeterminate: 2, combined: 3, notapplicable: 4 } as const;
export type PayloadDirection = keyof typeof PAYLOAD_DIRECTION;
const DIRECTION = enumerated(PAYLOAD_DIRECTION, true);

/**
 * ```asn1
 * MicroSecondTimeStamp ::= SEQUENCE
 * {
 *     seconds         [0] INTEGER (0..18446744073709551615),
 *     microSeconds    [1] INTEGER (0..999999),
 *     ...
 * }
 * ```
 */
export const MICROSECOND_TIMESTAMP = seq('MicroSecondTimeStamp', [
  f('seconds', 0, int(0, 18446744073709551615n)),
  f('microSeconds', 1, int(0, 999999)),
], true);

export interface MicroSecondTimeStamp {
  seconds: number | bigint;
  microSeconds: number;
}

/**
 * ```asn1
 * NetworkIdentifier ::= SEQUENCE
 * {
 *     operatorIdentifier          [0] OCTET STRING (SIZE(1..16)),
 *     networkElementIdentifier    [1] OCTET STRING (SIZE(1..16)) OPTIONAL,
 *     ...,
 *     eTSI671NEID                 [2] Network-Element-Identifier OPTIONAL
 * }
 * CommunicationIdentifier ::= SEQUENCE
 * {
 *     networkIdentifier               [0] NetworkIdentifier,
 *     communicationIdentityNumber     [1] INTEGER (0..4294967295) OPTIONAL,
 *     deliveryCountryCode             [2] PrintableString (SIZE (2)) OPTIONAL,
 *     ...,
 *     cINExtension                    [3] CorrelationValues OPTIONAL
 * }
 * ```
 * (eTSI671NEID and cINExtension come from modules outside lig's profile: kept as `$unknown`.)
 */
export const COMMUNICATION_IDENTIFIER = seq('CommunicationIdentifier', [
  f('networkIdentifier', 0, seq('NetworkIdentifier', [
    f('operatorIdentifier', 0, octets(1, 16)),
    opt('networkElementIdentifier', 1, octets(1, 16)),
  ], true)),
  opt('communicationIdentityNumber', 1, u32),
  opt('deliveryCountryCode', 2, printable(2, 2)),
], true);

/**
 * ```asn1
 * PSHeader ::= SEQUENCE
 * {
 *     li-psDomainId                   [0] OBJECT IDENTIFIER,
 *     lawfulInterceptionIdentifier    [1] LawfulInterceptionIdentifier,   -- LIID: OCTET STRING (SIZE (1..25))
 *     authorizationCountryCode        [2] PrintableString (SIZE (2)) OPTIONAL,
 *     communicationIdentifier         [3] CommunicationIdentifier,
 *     sequenceNumber                  [4] INTEGER (0..4294967295),
 *     timeStamp                       [5] GeneralizedTime OPTIONAL,
 *     ...,
 *     interceptionPointID             [6] PrintableString (SIZE (1..8)) OPTIONAL,
 *     microSecondTimeStamp            [7] MicroSecondTimeStamp OPTIONAL,
 *     timeStampQualifier              [8] TimeStampQualifier OPTIONAL,
 *     extendedInterceptionPointID     [9] OCTET STRING (SIZE (1..65535)) OPTIONAL,
 *     networkFunctionIdentifier       [10] OCTET STRING (SIZE (1..65535)) OPTIONAL
 * }
 * ```
 */
export const PS_HEADER = seq('PSHeader', [
  f('li-psDomainId', 0, oid),
  f('lawfulInterceptionIdentifier', 1, octets(1, 25)),
  opt('authorizationCountryCode', 2, printable(2, 2)),
  f('communicationIdentifier', 3, COMMUNICATION_IDENTIFIER),
  f('sequenceNumber', 4, u32),
  opt('timeStamp', 5, gtime),
  opt('interceptionPointID', 6, printable(1, 8)),
  opt('microSecondTimeStamp', 7, MICROSECOND_TIMESTAMP),
  opt('timeStampQualifier', 8, TSQ),
  opt('extendedInterceptionPointID', 9, octets(1, 65535)),
  opt('networkFunctionIdentifier', 10, octets(1, 65535)),
], true);

export interface CommunicationIdentifier {
  networkIdentifier: { operatorIdentifier: Uint8Array | string; networkElementIdentifier?: Uint8Array | string };
  communicationIdentityNumber?: number;
  deliveryCountryCode?: string;
}

export interface PSHeader {
  'li-psDomainId': string;
  lawfulInterceptionIdentifier: Uint8Array | string;
  authorizationCountryCode?: string;
  communicationIdentifier: CommunicationIdentifier;
  sequenceNumber: number;
  timeStamp?: string;
  interceptionPointID?: string;
  microSecondTimeStamp?: MicroSecondTimeStamp;
  timeStampQualifier?: TimeStampQualifier;
  extendedInterceptionPointID?: Uint8Array;
  networkFunctionIdentifier?: Uint8Array;
}

/**
 * ```asn1
 * CCContents ::= CHOICE
 * {
 *     emailCC                     [1] EmailCC,
 *     iPCC                        [2] IPCC,
 *     uMTSCC                      [4] OCTET STRING,
 *     ...,
 *     iPMMCC                      [12] IPMMCC,
 *     ePSCC                       [15] OCTET STRING,
 *     threeGPP33128DefinedCC      [23] OCTET STRING
 *     -- other alternatives: modules outside lig's profile
 * }
 * CCPayload ::= SEQUENCE
 * {
 *     payloadDirection        [0] PayloadDirection OPTIONAL,
 *     timeStamp               [1] GeneralizedTime OPTIONAL,
 *     cCContents              [2] CCContents,
 *     ...,
 *     microSecondTimeStamp    [3] MicroSecondTimeStamp OPTIONAL,
 *     timeStampQualifier      [4] TimeStampQualifier OPTIONAL
 * }
 * ```
 */
export const CC_PAYLOAD = seq('CCPayload', [
  opt('payloadDirection', 0, DIRECTION),
  opt('timeStamp', 1, gtime),
  f('cCContents', 2, choice('CCContents', [
    f('emailCC', 1, EMAIL_CC),
    f('iPCC', 2, IPCC),
    f('uMTSCC', 4, octets()),
    f('iPMMCC', 12, IPMMCC),
    f('ePSCC', 15, octets()),
    f('threeGPP33128DefinedCC', 23, octets()),
  ], true)),
  opt('microSecondTimeStamp', 3, MICROSECOND_TIMESTAMP),
  opt('timeStampQualifier', 4, TSQ),
], true);

export interface CCPayload {
  payloadDirection?: PayloadDirection;
  timeStamp?: string;
  cCContents: { iPCC: IPCC } | { emailCC: EmailCC } | Record<string, unknown>;
  microSecondTimeStamp?: MicroSecondTimeStamp;
  timeStampQualifier?: TimeStampQualifier;
}

/**
 * ```asn1
 * IRIType ::= ENUMERATED { iRI-Begin(1), iRI-End(2), iRI-Continue(3), iRI-Report(4) }
 * IRIContents ::= CHOICE
 * {
 *     emailIRI                    [1] EmailIRI,
 *     iPIRI                       [2] IPIRI,
 *     iPIRIOnly                   [3] IPIRIOnly,
 *     ...,
 *     iPMMIRI                     [11] IPMMIRI,
 *     threeGPP33128DefinedIRI     [19] OCTET STRING,
 *     iPIRIPacketReport           [20] IPIRIPacketReport
 *     -- other alternatives: modules outside lig's profile
 * }
 * IRIPayload ::= SEQUENCE
 * {
 *     iRIType                 [0] IRIType OPTIONAL,
 *     timeStamp               [1] GeneralizedTime OPTIONAL,
 *     iRIContents             [2] IRIContents,
 *     ...,
 *     microSecondTimeStamp    [3] MicroSecondTimeStamp OPTIONAL,
 *     timeStampQualifier      [4] TimeStampQualifier OPTIONAL,
 *     sessionDirection        [5] PayloadDirection OPTIONAL,
 *     payloadDirection        [6] PayloadDirection OPTIONAL
 * }
 * ```
 */
export const IRI_TYPE = { 'iRI-Begin': 1, 'iRI-End': 2, 'iRI-Continue': 3, 'iRI-Report': 4 } as const;
export type IRIType = keyof typeof IRI_TYPE;

export const IRI_PAYLOAD = seq('IRIPayload', [
  opt('iRIType', 0, enumerated(IRI_TYPE)),
  opt('timeStamp', 1, gtime),
  f('iRIContents', 2, choice('IRIContents', [
    f('emailIRI', 1, EMAIL_IRI),
    f('iPIRI', 2, IPIRI),
    f('iPIRIOnly', 3, IPIRI_ONLY),
    f('iPMMIRI', 11, IPMMIRI),
    f('threeGPP33128DefinedIRI', 19, octets()),
    f('iPIRIPacketReport', 20, IPIRI_PACKET_REPORT),
  ], true)),
  opt('microSecondTimeStamp', 3, MICROSECOND_TIMESTAMP),
  opt('timeStampQualifier', 4, TSQ),
  opt('sessionDirection', 5, DIRECTION),
  opt('payloadDirection', 6, DIRECTION),
], true);

export interface IRIPayload {
  iRIType?: IRIType;
  timeStamp?: string;
  iRIContents: { iPIRI: IPIRI } | { emailIRI: EmailIRI } | { iPIRIPacketReport: IPIRIPacketReport } | Record<string, unknown>;
  microSecondTimeStamp?: MicroSecondTimeStamp;
  timeStampQualifier?: TimeStampQualifier;
  sessionDirection?: PayloadDirection;
  payloadDirection?: PayloadDirection;
}

/**
 * ```asn1
 * IntegrityCheck ::= SEQUENCE
 * {
 *     includedSequenceNumbers     [0] SEQUENCE OF INTEGER (0..4294967295),
 *     checkType                   [1] CheckType,          -- hash(1), signature(2), ...
 *     dataType                    [2] DataType OPTIONAL,  -- iRI(1), cC(2), ..., iLHI(3)
 *     checkValue                  [3] OCTET STRING,
 *     ...,
 *     hashAlgorithm               [4] HashAlgorithm OPTIONAL,       -- sHA-1(1), sHA-256(2), sHA-384(3), sHA-512(4), ...
 *     signatureAlgorithm          [5] SignatureAlgorithm OPTIONAL   -- dSA(1), eCDSA(2), edDSA(3), ...
 * }
 * OperatorLeaMessage ::= SEQUENCE
 * { messagePriority [0] ENUMERATED { error(1), informational(2), ... }, message [1] OCTET STRING (SIZE(1..255)), ... }
 * Option ::= CHOICE { pDUAcknowledgement [0] NULL, ... }
 * OptionRequest ::= SEQUENCE { requestedOptions [0] SEQUENCE OF Option, ... }
 * OptionResponse ::= SEQUENCE { acceptedOptions [0] SEQUENCE OF Option, declinedOptions [1] SEQUENCE OF Option, ... }
 * TRIPayload ::= CHOICE
 * {
 *     integrityCheck                  [0] IntegrityCheck,
 *     testPDU                         [1] NULL,
 *     paddingPDU                      [2] OCTET STRING,
 *     keep-alive                      [3] NULL,
 *     keep-aliveResponse              [4] NULL,
 *     firstSegmentFlag                [5] NULL,
 *     lastSegmentFlag                 [6] NULL,
 *     ...,
 *     cINReset                        [7] NULL,
 *     operatorLeaMessage              [8] OperatorLeaMessage,
 *     optionRequest                   [9] OptionRequest,
 *     optionResponse                  [10] OptionResponse,
 *     optionComplete                  [11] NULL,
 *     pDUAcknowledgementRequest       [12] NULL,
 *     pDUAcknowledgementResponse      [13] NULL
 * }
 * ```
 */
const OPTION = choice('Option', [f('pDUAcknowledgement', 0, nul)], true);
export const TRI_PAYLOAD = choice('TRIPayload', [
  f('integrityCheck', 0, seq('IntegrityCheck', [
    f('includedSequenceNumbers', 0, seqOf(u32)),
    f('checkType', 1, enumerated({ hash: 1, signature: 2 }, true)),
    opt('dataType', 2, enumerated({ iRI: 1, cC: 2, iLHI: 3 }, true)),
    f('checkValue', 3, octets()),
    opt('hashAlgorithm', 4, enumerated({ 'sHA-1': 1, 'sHA-256': 2, 'sHA-384': 3, 'sHA-512': 4 }, true)),
    opt('signatureAlgorithm', 5, enumerated({ dSA: 1, eCDSA: 2, edDSA: 3 }, true)),
  ], true)),
  f('testPDU', 1, nul),
  f('paddingPDU', 2, octets()),
  f('keep-alive', 3, nul),
  f('keep-aliveResponse', 4, nul),
  f('firstSegmentFlag', 5, nul),
  f('lastSegmentFlag', 6, nul),
  f('cINReset', 7, nul),
  f('operatorLeaMessage', 8, seq('OperatorLeaMessage', [
    f('messagePriority', 0, enumerated({ error: 1, informational: 2 }, true)),
    f('message', 1, octets(1, 255)),
  ], true)),
  f('optionRequest', 9, seq('OptionRequest', [f('requestedOptions', 0, seqOf(OPTION))], true)),
  f('optionResponse', 10, seq('OptionResponse', [
    f('acceptedOptions', 0, seqOf(OPTION)),
    f('declinedOptions', 1, seqOf(OPTION)),
  ], true)),
  f('optionComplete', 11, nul),
  f('pDUAcknowledgementRequest', 12, nul),
  f('pDUAcknowledgementResponse', 13, nul),
], true);

export type TRIPayload =
  | { 'keep-alive': null }
  | { 'keep-aliveResponse': null }
  | { cINReset: null }
  | { pDUAcknowledgementRequest: null }
  | { pDUAcknowledgementResponse: null }
  | { firstSegmentFlag: null }
  | { lastSegmentFlag: null }
  | { testPDU: null }
  | { paddingPDU: Uint8Array }
  | Record<string, unknown>;

/**
 * ```asn1
 * EncryptionContainer ::= SEQUENCE
 * {
 *     encryptionType          [0] EncryptionType,   -- none(1), national-option(2), aES-192-CBC(3), aES-256-CBC(4), ...
 *     encryptedPayload        [1] OCTET STRING,
 *     ...,
 *     encryptedPayloadType    [2] EncryptedPayloadType OPTIONAL
 * }
 * ```
 */
const ENCRYPTION_CONTAINER = seq('EncryptionContainer', [
  f('encryptionType', 0, enumerated({ none: 1, 'national-option': 2, 'aES-192-CBC': 3, 'aES-256-CBC': 4, 'blowfish-192-CBC': 5, 'blowfish-256-CBC': 6, 'threedes-cbc': 7 }, true)),
  f('encryptedPayload', 1, octets()),
  opt('encryptedPayloadType', 2, enumerated({ unknown: 1, part2: 2, part3: 3, part4: 4, part5: 5, part6: 6, part7: 7, part1: 8 }, true)),
], true);

/**
 * ```asn1
 * Payload ::= CHOICE
 * {
 *     iRIPayloadSequence      [0] SEQUENCE OF IRIPayload,
 *     cCPayloadSequence       [1] SEQUENCE OF CCPayload,
 *     tRIPayload              [2] TRIPayload,
 *     ...,
 *     hI1-Operation           [3] HI1-Operation,          -- TS 101 671 HI1NotificationOperations
 *     encryptionContainer     [4] EncryptionContainer,
 *     threeGPP-HI1-Operation  [5] ThreeGPP-HI1-Operation,
 *     iLHIPayload             [6] SEQUENCE OF ILHIPayload,
 *     hI4Payload              [7] SEQUENCE OF HI4Payload
 * }
 * ```
 * `hI1-Operation` is TS 101 671's HI1-Operation (src/etsi/hi1.ts), an extensible CHOICE: an
 * alternative newer than lig's profile decodes as `$unknown` with its bytes, as elsewhere.
 */
export const PAYLOAD = choice('Payload', [
  f('iRIPayloadSequence', 0, seqOf(IRI_PAYLOAD)),
  f('cCPayloadSequence', 1, seqOf(CC_PAYLOAD)),
  f('tRIPayload', 2, TRI_PAYLOAD),
  f('hI1-Operation', 3, HI1_OPERATION),
  f('encryptionContainer', 4, ENCRYPTION_CONTAINER),
], true);

export type Payload =
  | { iRIPayloadSequence: IRIPayload[] }
  | { cCPayloadSequence: CCPayload[] }
  | { tRIPayload: TRIPayload }
  | { 'hI1-Operation': HI1Operation }
  | Record<string, unknown>;

/**
 * ```asn1
 * PS-PDU ::= SEQUENCE
 * {
 *     pSHeader    [1] PSHeader,
 *     payload     [2] Payload
 * }
 * ```
 */
export const PS_PDU = seq('PS-PDU', [f('pSHeader', 1, PS_HEADER), f('payload', 2, PAYLOAD)]);

export interface PsPdu {
  pSHeader: PSHeader;
  payload: Payload;
}
