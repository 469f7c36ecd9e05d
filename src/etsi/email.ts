/**
 * ETSI TS 102 232-2 (EmailPDU, version 20): e-mail IRI and CC.
 * Each schema carries the ASN.1 it implements; lig's profile is asn1/LIG-EmailPDU.asn.
 */
import { choice, enumerated, f, int, octets, opt, printable, roid, seq, seqOf, utf8 } from '../ber/schema';
import { IPAddress, IP_ADDRESS } from './common';

/** `emailPDUObjId RELATIVE-OID ::= {li-ps(5) email(2) version20(20)}` */
export const EMAIL_VERSION = 20;
const base = `5.2.${EMAIL_VERSION}`;
export const EMAIL_OBJIDS = { emailIRI: `${base}.1`, emailCC: `${base}.2` } as const;

/**
 * ```asn1
 * EmailCC ::= SEQUENCE
 * {
 *     emailCCObjId        [0] RELATIVE-OID,
 *     email-Format        [1] Email-Format,
 *     content             [2] OCTET STRING
 * }
 * Email-Format ::= ENUMERATED { ip-packet(1), application(2) }
 * ```
 */
export const EMAIL_CC = seq('EmailCC', [
  f('emailCCObjId', 0, roid),
  f('email-Format', 1, enumerated({ 'ip-packet': 1, application: 2 })),
  f('content', 2, octets()),
]);

export interface EmailCC {
  emailCCObjId: string;
  'email-Format': 'ip-packet' | 'application';
  content: Uint8Array;
}

export const EMAIL_EVENT = {
  'e-mail-send': 1, 'e-mail-receive': 2, 'e-mail-download': 3, 'e-mail-logon-attempt': 4, 'e-mail-logon': 5,
  'e-mail-logon-failure': 6, 'e-mail-logoff': 7, 'e-mail-partial-download': 8, 'e-mail-upload': 9,
} as const;
export type EmailEvent = keyof typeof EMAIL_EVENT;
export const EMAIL_PROTOCOL = { smtp: 1, pop3: 2, imap4: 3, webmail: 4, undefined: 255 } as const;
export type EmailProtocol = keyof typeof EMAIL_PROTOCOL;
export const EMAIL_STATUS = { 'status-unknown': 1, 'operation-failed': 2, 'operation-succeeded': 3 } as const;
export type EmailStatus = keyof typeof EMAIL_STATUS;
const AAA_RESULT = enumerated({ resultUnknown: 1, aAAFailed: 2, aAASucceeded: 3 }, true);
export const AAA_AUTH_METHOD = { undefinedAuthMethod: 1, cramMD5: 2, digestMD5: 3 } as const;
export type AAAauthMethod = keyof typeof AAA_AUTH_METHOD;

/**
 * ```asn1
 * AAAInformation ::= CHOICE
 * {
 *     pOP3AAAInformation      [0] POP3AAAInformation,
 *     aSMTPAAAInformation     [1] ASMTPAAAInformation,
 *     ...,
 *     iMAPAAAInformation      [2] IMAPAAAInformation
 * }
 * POP3AAAInformation ::= SEQUENCE
 * { username [0] UTF8String (SIZE (0..64)), password [1] UTF8String (SIZE (0..64)) OPTIONAL,
 *   aAAResult [2] AAAResult OPTIONAL, ... }
 * ASMTPAAAInformation ::= SEQUENCE
 * { username [0] UTF8String (SIZE (0..64)), authMethod [1] AAAauthMethod OPTIONAL,
 *   challenge [2] OCTET STRING OPTIONAL, response [3] OCTET STRING OPTIONAL,
 *   aAAResult [4] AAAResult OPTIONAL, ... }
 * IMAPAAAInformation ::= SEQUENCE (as POP3AAAInformation)
 * AAAResult ::= ENUMERATED { resultUnknown(1), aAAFailed(2), aAASucceeded(3), ... }
 * AAAauthMethod ::= ENUMERATED { undefinedAuthMethod(1), cramMD5(2), digestMD5(3), ... }
 * ```
 */
const AAA_INFORMATION = choice('AAAInformation', [
  f('pOP3AAAInformation', 0, seq('POP3AAAInformation', [
    f('username', 0, utf8(0, 64)), opt('password', 1, utf8(0, 64)), opt('aAAResult', 2, AAA_RESULT),
  ], true)),
  f('aSMTPAAAInformation', 1, seq('ASMTPAAAInformation', [
    f('username', 0, utf8(0, 64)), opt('authMethod', 1, enumerated(AAA_AUTH_METHOD, true)), opt('challenge', 2, octets()),
    opt('response', 3, octets()), opt('aAAResult', 4, AAA_RESULT),
  ], true)),
  f('iMAPAAAInformation', 2, seq('IMAPAAAInformation', [
    f('username', 0, utf8(0, 64)), opt('password', 1, utf8(0, 64)), opt('aAAResult', 2, AAA_RESULT),
  ], true)),
], true);

/**
 * ```asn1
 * EmailIRI ::= SEQUENCE
 * {
 *     emailIRIObjId               [0] RELATIVE-OID,
 *     eventType                   [1] E-mail-Event,
 *     client-Address              [2] IPAddress OPTIONAL,
 *     server-Address              [3] IPAddress OPTIONAL,
 *     client-Port                 [4] INTEGER OPTIONAL,
 *     server-Port                 [5] INTEGER OPTIONAL,
 *     server-Octets-Sent          [6] INTEGER,
 *     client-Octets-Sent          [7] INTEGER,
 *     protocol-ID                 [8] E-mail-Protocol,
 *     e-mail-Sender               [9] UTF8String (SIZE (0..255)) OPTIONAL,
 *     e-mail-Recipients           [10] E-mail-Address-List OPTIONAL,
 *     status                      [11] E-mail-Status,
 *     total-Recipient-Count       [12] INTEGER (0..4294967295) OPTIONAL,
 *     message-ID                  [13] OCTET STRING OPTIONAL,
 *     nationalParameter           [14] OCTET STRING OPTIONAL,
 *     ...,
 *     national-EM-ASN1parameters  [15] National-EM-ASN1parameters OPTIONAL,
 *     aAAInformation              [16] AAAInformation OPTIONAL,
 *     e-mail-Sender-Validity      [17] ENUMERATED { validated(0), nonvalidated(1), ... } OPTIONAL
 * }
 * E-mail-Address-List ::= SEQUENCE (SIZE (0..1023)) OF UTF8String (SIZE (0..255))
 * National-EM-ASN1parameters ::= SEQUENCE { countryCode [1] PrintableString (SIZE (2)), ... }
 * ```
 */
export const EMAIL_IRI = seq('EmailIRI', [
  f('emailIRIObjId', 0, roid),
  f('eventType', 1, enumerated(EMAIL_EVENT, true)),
  opt('client-Address', 2, IP_ADDRESS),
  opt('server-Address', 3, IP_ADDRESS),
  opt('client-Port', 4, int()),
  opt('server-Port', 5, int()),
  f('server-Octets-Sent', 6, int()),
  f('client-Octets-Sent', 7, int()),
  f('protocol-ID', 8, enumerated(EMAIL_PROTOCOL, true)),
  opt('e-mail-Sender', 9, utf8(0, 255)),
  opt('e-mail-Recipients', 10, seqOf(utf8(0, 255), 0, 1023)),
  f('status', 11, enumerated(EMAIL_STATUS)),
  opt('total-Recipient-Count', 12, int(0, 4294967295)),
  opt('message-ID', 13, octets()),
  opt('nationalParameter', 14, octets()),
  opt('national-EM-ASN1parameters', 15, seq('National-EM-ASN1parameters', [f('countryCode', 1, printable(2, 2))], true)),
  opt('aAAInformation', 16, AAA_INFORMATION),
  opt('e-mail-Sender-Validity', 17, enumerated({ validated: 0, nonvalidated: 1 }, true)),
], true);

export interface EmailIRI {
  emailIRIObjId: string;
  eventType: EmailEvent;
  'client-Address'?: IPAddress;
  'server-Address'?: IPAddress;
  'client-Port'?: number;
  'server-Port'?: number;
  'server-Octets-Sent': number | bigint;
  'client-Octets-Sent': number | bigint;
  'protocol-ID': EmailProtocol;
  'e-mail-Sender'?: string;
  'e-mail-Recipients'?: string[];
  status: EmailStatus;
  'total-Recipient-Count'?: number;
  'message-ID'?: Uint8Array | string;
  nationalParameter?: Uint8Array;
  'national-EM-ASN1parameters'?: { countryCode: string };
  aAAInformation?:
    | { pOP3AAAInformation: { username: string; password?: string; aAAResult?: string } }
    | { aSMTPAAAInformation: { username: string; authMethod?: AAAauthMethod | number; challenge?: Uint8Array; response?: Uint8Array; aAAResult?: string } }
    | { iMAPAAAInformation: { username: string; password?: string; aAAResult?: string } };
  'e-mail-Sender-Validity'?: 'validated' | 'nonvalidated';
}
