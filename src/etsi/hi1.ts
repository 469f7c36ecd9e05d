/**
 * ETSI TS 101 671 HI1NotificationOperations (version 7), the `hI1-Operation` payload of a
 * TS 102 232-1 PS-PDU: the notice to the agency that an interception was activated,
 * deactivated or modified (or an alarm). With the three types it imports from
 * HI2Operations (TS 101 671 clause D.5, copied into TS 102 232-1). lig's profile is
 * asn1/LIG-HI1NotificationOperations.asn and asn1/LIG-HI2Operations.asn.
 *
 * Both modules are DEFINITIONS IMPLICIT TAGS, so as everywhere in lig a tagged component
 * replaces its universal tag, except where its type is a CHOICE (HI1-Operation, TimeStamp,
 * Network-Element-Identifier): those keep their alternative's tag inside an explicit one.
 *
 * Caution: HI2Operations' CommunicationIdentifier is not TS 102 232-1's. Its
 * operator-Identifier is 1..5 octets (not 1..16), and its identity number is an
 * OCTET STRING of ASCII digits.
 */
import { EtsiError, EtsiLimitError } from '../errors';
import { UNKNOWN } from '../ber/decode';
import { choice, enumerated, f, gtime, ia5, octets, oid, opt, printable, seq } from '../ber/schema';
import { LI_DOMAIN } from './common';

/**
 * `hi1OperationId OBJECT IDENTIFIER ::= {hi1NotificationOperationsId version6(6)}` with
 * `hi1NotificationOperationsId ::= {lawfulInterceptDomainId hi1(0) notificationOperations(1)}`.
 * (Module version 7 still names version6 here.) The only value a `domainID` may hold.
 */
export const HI1_OPERATION_ID = `${LI_DOMAIN}.0.1.6`;

/** `target-Information [6] OCTET STRING (SIZE (1..256))`: the most bytes it may hold. */
export const MAX_TARGET_INFORMATION_BYTES = 256;

/** HI2Operations operator-Identifier is OCTET STRING (SIZE (1..5)). */
export const MAX_HI2_OPERATOR_ID_BYTES = 5;

// --- from HI2Operations -------------------------------------------------------------------

/**
 * ```asn1
 * LawfulInterceptionIdentifier ::= OCTET STRING (SIZE (1..25))
 * ```
 */
export const HI2_LIID = octets(1, 25);

/**
 * ```asn1
 * Network-Element-Identifier ::= CHOICE
 * {
 *     e164-Format         [1] OCTET STRING (SIZE (1..25)),
 *     x25-Format          [2] OCTET STRING (SIZE (1..25)),
 *     iP-Format           [3] OCTET STRING (SIZE (1..25)),
 *     dNS-Format          [4] OCTET STRING (SIZE (1..25)),
 *     ...,
 *     iP-Address          [5] IPAddress
 * }
 * ```
 * (iP-Address is left out of lig's profile: a peer's decodes as an unknown alternative.)
 */
export const NETWORK_ELEMENT_IDENTIFIER = choice('Network-Element-Identifier', [
  f('e164-Format', 1, octets(1, 25)),
  f('x25-Format', 2, octets(1, 25)),
  f('iP-Format', 3, octets(1, 25)),
  f('dNS-Format', 4, octets(1, 25)),
], true);

/**
 * ```asn1
 * Network-Identifier ::= SEQUENCE
 * {
 *     operator-Identifier         [0] OCTET STRING (SIZE (1..5)),
 *     network-Element-Identifier  [1] Network-Element-Identifier OPTIONAL,
 *     ...
 * }
 * ```
 */
export const NETWORK_IDENTIFIER = seq('Network-Identifier', [
  f('operator-Identifier', 0, octets(1, MAX_HI2_OPERATOR_ID_BYTES)),
  opt('network-Element-Identifier', 1, NETWORK_ELEMENT_IDENTIFIER),
], true);

/**
 * ```asn1
 * CommunicationIdentifier ::= SEQUENCE
 * {
 *     communication-Identity-Number   [0] OCTET STRING (SIZE (1..8)) OPTIONAL,
 *     network-Identifier              [1] Network-Identifier,
 *     ...
 * }
 * ```
 */
export const HI2_COMMUNICATION_IDENTIFIER = seq('CommunicationIdentifier', [
  opt('communication-Identity-Number', 0, octets(1, 8)),
  f('network-Identifier', 1, NETWORK_IDENTIFIER),
], true);

export const WINTER_SUMMER_INDICATION = { notProvided: 0, winterTime: 1, summerTime: 2 } as const;

/**
 * ```asn1
 * LocalTimeStamp ::= SEQUENCE
 * {
 *     generalizedTime                 [0] GeneralizedTime,
 *     winterSummerIndication          [1] ENUMERATED { notProvided(0), winterTime(1), summerTime(2), ... }
 * }
 * ```
 */
export const LOCAL_TIME_STAMP = seq('LocalTimeStamp', [
  f('generalizedTime', 0, gtime),
  f('winterSummerIndication', 1, enumerated(WINTER_SUMMER_INDICATION, true)),
]);

/**
 * ```asn1
 * TimeStamp ::= CHOICE
 * {
 *     localTime           [0] LocalTimeStamp,
 *     utcTime             [1] UTCTime
 * }
 * ```
 * UTCTime is `[UNIVERSAL 23] IMPLICIT VisibleString`; lig's BER layer has no UTCTime kind,
 * and under the implicit [1] its encoding is exactly an IA5String's, so it is read and
 * written as one (text such as "231114221320Z"). lig writes localTime.
 */
export const TIME_STAMP = choice('TimeStamp', [
  f('localTime', 0, LOCAL_TIME_STAMP),
  f('utcTime', 1, ia5()),
]);

// --- HI1NotificationOperations ------------------------------------------------------------

/**
 * ```asn1
 * National-HI1-ASN1parameters ::= SEQUENCE
 * {
 *     domainID        [0] OBJECT IDENTIFIER (hi1OperationId) OPTIONAL,
 *     countryCode     [1] PrintableString (SIZE (2)),
 *     ...
 * }
 * ```
 */
export const NATIONAL_HI1_ASN1_PARAMETERS = seq('National-HI1-ASN1parameters', [
  opt('domainID', 0, oid),
  f('countryCode', 1, printable(2, 2)),
], true);

/**
 * ```asn1
 * Notification ::= SEQUENCE
 * {
 *     domainID                        [0] OBJECT IDENTIFIER (hi1OperationId) OPTIONAL,
 *     lawfulInterceptionIdentifier    [1] LawfulInterceptionIdentifier,
 *     communicationIdentifier         [2] CommunicationIdentifier OPTIONAL,
 *     timeStamp                       [3] TimeStamp,
 *     ...,
 *     national-HI1-ASN1parameters     [5] National-HI1-ASN1parameters OPTIONAL,
 *     target-Information              [6] OCTET STRING (SIZE (1..256)) OPTIONAL
 * }
 * ```
 */
export const NOTIFICATION = seq('Notification', [
  opt('domainID', 0, oid),
  f('lawfulInterceptionIdentifier', 1, HI2_LIID),
  opt('communicationIdentifier', 2, HI2_COMMUNICATION_IDENTIFIER),
  f('timeStamp', 3, TIME_STAMP),
  opt('national-HI1-ASN1parameters', 5, NATIONAL_HI1_ASN1_PARAMETERS),
  opt('target-Information', 6, octets(1, MAX_TARGET_INFORMATION_BYTES)),
], true);

/**
 * ```asn1
 * Alarm-Indicator ::= SEQUENCE
 * {
 *     domainID                        [0] OBJECT IDENTIFIER (hi1OperationId) OPTIONAL,
 *     communicationIdentifier         [1] CommunicationIdentifier OPTIONAL,
 *     timeStamp                       [2] TimeStamp,
 *     alarm-information               [3] OCTET STRING (SIZE (1..256)),
 *     ...,
 *     lawfulInterceptionIdentifier    [4] LawfulInterceptionIdentifier OPTIONAL,
 *     national-HI1-ASN1parameters     [5] National-HI1-ASN1parameters OPTIONAL
 * }
 * ```
 */
export const ALARM_INDICATOR = seq('Alarm-Indicator', [
  opt('domainID', 0, oid),
  opt('communicationIdentifier', 1, HI2_COMMUNICATION_IDENTIFIER),
  f('timeStamp', 2, TIME_STAMP),
  f('alarm-information', 3, octets(1, 256)),
  opt('lawfulInterceptionIdentifier', 4, HI2_LIID),
  opt('national-HI1-ASN1parameters', 5, NATIONAL_HI1_ASN1_PARAMETERS),
], true);

/**
 * ```asn1
 * HI1-Operation ::= CHOICE
 * {
 *     liActivated                     [1] Notification,
 *     liDeactivated                   [2] Notification,
 *     liModified                      [3] Notification,
 *     alarms-indicator                [4] Alarm-Indicator,
 *     ...,
 *     national-HI1-ASN1parameters     [5] National-HI1-ASN1parameters
 * }
 * ```
 */
export const HI1_OPERATION = choice('HI1-Operation', [
  f('liActivated', 1, NOTIFICATION),
  f('liDeactivated', 2, NOTIFICATION),
  f('liModified', 3, NOTIFICATION),
  f('alarms-indicator', 4, ALARM_INDICATOR),
  f('national-HI1-ASN1parameters', 5, NATIONAL_HI1_ASN1_PARAMETERS),
], true);

// --- values --------------------------------------------------------------------------------

export interface Hi2CommunicationIdentifier {
  'communication-Identity-Number'?: Uint8Array;
  'network-Identifier': {
    'operator-Identifier': Uint8Array | string;
    'network-Element-Identifier'?: Record<string, Uint8Array>;
  };
}

export type TimeStamp =
  | { localTime: { generalizedTime: string; winterSummerIndication: keyof typeof WINTER_SUMMER_INDICATION } }
  | { utcTime: string };

export interface NationalHi1Parameters {
  domainID?: string;
  countryCode: string;
}

export interface Notification {
  domainID?: string;
  lawfulInterceptionIdentifier: Uint8Array | string;
  communicationIdentifier?: Hi2CommunicationIdentifier;
  timeStamp: TimeStamp;
  'national-HI1-ASN1parameters'?: NationalHi1Parameters;
  'target-Information'?: Uint8Array | string;
}

export interface AlarmIndicator {
  domainID?: string;
  communicationIdentifier?: Hi2CommunicationIdentifier;
  timeStamp: TimeStamp;
  'alarm-information': Uint8Array | string;
  lawfulInterceptionIdentifier?: Uint8Array | string;
  'national-HI1-ASN1parameters'?: NationalHi1Parameters;
}

export type HI1Operation =
  | { liActivated: Notification }
  | { liDeactivated: Notification }
  | { liModified: Notification }
  | { 'alarms-indicator': AlarmIndicator }
  | { 'national-HI1-ASN1parameters': NationalHi1Parameters }
  | Record<string, unknown>;

/** What happened to the warrant: the alternative of HI1-Operation that says so. */
export const HI1_EVENTS = { activated: 'liActivated', deactivated: 'liDeactivated', modified: 'liModified' } as const;
export type Hi1Event = keyof typeof HI1_EVENTS;

/** The alternative a decoded HI1-Operation holds, e.g. `liActivated`; one newer than lig's profile as `unknown [9]`. */
export function hi1OperationName(op: unknown): string {
  const [name, v] = op !== null && typeof op === 'object' ? Object.entries(op)[0] ?? [] : [];
  if (name === undefined) return '(none)';
  if (name === UNKNOWN) return `unknown ${(v as { tag?: string } | undefined)?.tag ?? ''}`.trim();
  return name;
}

/** What a Notification is made of, as the mediator knows it. */
export interface NotificationInputs {
  liid: string | Uint8Array;
  /** TS 102 232-1 operatorIdentifier; goes into communicationIdentifier only when it fits 1..5 octets. */
  operatorId: string;
  /** GeneralizedTime text of the event (the PSHeader's time, to the microsecond). */
  time: string;
  /** Printable ASCII, 1..256 characters: the target as the warrant names it (an address, a user name). */
  targetInformation?: string;
}

/**
 * The HI1-Operation for a warrant event. `timeStamp` is localTime with the time in UTC
 * (GeneralizedTime ending in Z, so no winter/summer indication: notProvided).
 * `communicationIdentifier` carries only the operator, as the module's comment asks ("Only
 * the NWO/PA/SvPIdentifier is provided"); it is left out when the operator id is longer than
 * HI2Operations allows (5 octets): the PSHeader carries it in full anyway. `domainID` is for
 * FTP delivery only and is never written.
 */
export function hi1Operation(event: Hi1Event, n: NotificationInputs): HI1Operation {
  const alt = Object.hasOwn(HI1_EVENTS, event) ? HI1_EVENTS[event] : undefined;
  if (alt === undefined) throw new EtsiError(`an HI1 notification is for "activated", "deactivated" or "modified", not ${JSON.stringify(event)}`);
  const notification: Notification = {
    lawfulInterceptionIdentifier: n.liid,
    timeStamp: { localTime: { generalizedTime: n.time, winterSummerIndication: 'notProvided' } },
  };
  const op = Buffer.from(n.operatorId, 'utf8');
  if (op.length >= 1 && op.length <= MAX_HI2_OPERATOR_ID_BYTES) {
    notification.communicationIdentifier = { 'network-Identifier': { 'operator-Identifier': op } };
  }
  if (n.targetInformation !== undefined) notification['target-Information'] = targetInformationBytes(n.targetInformation);
  return { [alt]: notification } as HI1Operation;
}

/** target-Information as its ASCII bytes; a typed error for empty, non-ASCII or over-long text (never quoting it). */
function targetInformationBytes(text: string): Buffer {
  if (typeof text !== 'string' || text.length === 0) throw new EtsiError('target-Information must hold 1 to 256 ASCII characters');
  if (!/^[\x20-\x7e]+$/.test(text)) throw new EtsiError('target-Information must be printable ASCII (TS 101 671: "ASCII format")');
  if (text.length > MAX_TARGET_INFORMATION_BYTES) {
    throw new EtsiLimitError(`target-Information is ${text.length} characters, over MAX_TARGET_INFORMATION_BYTES (${MAX_TARGET_INFORMATION_BYTES})`, MAX_TARGET_INFORMATION_BYTES);
  }
  return Buffer.from(text, 'latin1');
}
