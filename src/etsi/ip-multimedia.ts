/**
 * ETSI TS 102 232-5 (IPMultimediaPDU, version 17): VoIP IRI and CC. lig does not produce
 * these yet ("later" in DESIGN.md), but it decodes them: agencies' recorded streams and
 * other mediators' output carry them.
 */
import { choice, enumerated, f, octets, opt, printable, roid, seq, seqOf } from '../ber/schema';
import { IP_ADDRESS, LOCATION } from './common';

/**
 * ```asn1
 * IPMMCC ::= SEQUENCE
 * {
 *     iPMMCCObjId                 [0] RELATIVE-OID,
 *     mMCCContents                [1] OCTET STRING,
 *     ...,
 *     frameType                   [2] FrameType OPTIONAL,
 *     streamIdentifier            [3] OCTET STRING OPTIONAL,
 *     mMCCprotocol                [4] MMCCprotocol OPTIONAL
 * }
 * FrameType ::= ENUMERATED { ipFrame(0), udpFrame(1), rtpFrame(2), audioFrame(3), ...,
 *                            tcpFrame(4), artificialRtpFrame(5), udptlFrame(6), msrpFrame(7) }
 * MMCCprotocol ::= ENUMERATED { rTP(0), mSRP(1), ..., uDPTL(2) }
 * ```
 */
export const IPMMCC = seq('IPMMCC', [
  f('iPMMCCObjId', 0, roid),
  f('mMCCContents', 1, octets()),
  opt('frameType', 2, enumerated({ ipFrame: 0, udpFrame: 1, rtpFrame: 2, audioFrame: 3, tcpFrame: 4, artificialRtpFrame: 5, udptlFrame: 6, msrpFrame: 7 }, true)),
  opt('streamIdentifier', 3, octets()),
  opt('mMCCprotocol', 4, enumerated({ rTP: 0, mSRP: 1, uDPTL: 2 }, true)),
], true);

/**
 * ```asn1
 * SIPMessage ::= SEQUENCE
 * {
 *     iPSourceAddress             [0] IPAddress,
 *     iPDestinationAddress        [1] IPAddress,
 *     sIPContent                  [2] OCTET STRING,
 *     ...
 * }
 * ```
 */
const SIP_MESSAGE = seq('SIPMessage', [
  f('iPSourceAddress', 0, IP_ADDRESS),
  f('iPDestinationAddress', 1, IP_ADDRESS),
  f('sIPContent', 2, octets()),
], true);

/**
 * ```asn1
 * IPIRIContents ::= CHOICE   -- of IPMultimediaPDU, not to be confused with TS 102 232-3's
 * {
 *     originalIPMMMessage         [0] OCTET STRING,
 *     sIPMessage                  [1] SIPMessage,
 *     h323Message                 [2] H323Message,
 *     ...,
 *     nationalIPMMIRIParameters   [3] NationalIPMMIRIParameters,
 *     xCAPMessage                 [4] OCTET STRING,
 *     iRIOnlyOriginalIPMMMessage  [5] OCTET STRING,
 *     iRIOnlySIPMessage           [6] SIPMessage,
 *     iRIOnlyRTPPacket            [7] OCTET STRING
 * }
 * H323Message ::= SEQUENCE { iPSourceAddress [0] IPAddress, iPDestinationAddress [1] IPAddress,
 *                            h323Content [2] H323MessageContent, ... }
 * H323MessageContent ::= CHOICE { h225CSMessageContent [0] OCTET STRING, h225RASMessageContent [1] OCTET STRING,
 *                                 h245MessageContent [2] OCTET STRING, genericMessageContent [3] OCTET STRING, ... }
 * ```
 */
const IPMM_IRI_CONTENTS = choice('IPIRIContents', [
  f('originalIPMMMessage', 0, octets()),
  f('sIPMessage', 1, SIP_MESSAGE),
  f('h323Message', 2, seq('H323Message', [
    f('iPSourceAddress', 0, IP_ADDRESS),
    f('iPDestinationAddress', 1, IP_ADDRESS),
    f('h323Content', 2, choice('H323MessageContent', [
      f('h225CSMessageContent', 0, octets()), f('h225RASMessageContent', 1, octets()),
      f('h245MessageContent', 2, octets()), f('genericMessageContent', 3, octets()),
    ], true)),
  ], true)),
  f('nationalIPMMIRIParameters', 3, seq('NationalIPMMIRIParameters', [f('countryCode', 1, printable(2, 2))], true)),
  f('xCAPMessage', 4, octets()),
  f('iRIOnlyOriginalIPMMMessage', 5, octets()),
  f('iRIOnlySIPMessage', 6, SIP_MESSAGE),
  f('iRIOnlyRTPPacket', 7, octets()),
], true);

/**
 * ```asn1
 * IPMMIRI ::= SEQUENCE
 * {
 *     iPMMIRIObjId                [0] RELATIVE-OID,
 *     iPMMIRIContents             [1] IPIRIContents,
 *     ...,
 *     targetLocation              [2] Location OPTIONAL,
 *     additionalSignalling        [3] SEQUENCE OF AdditionalSignalling OPTIONAL
 * }
 * AdditionalSignalling ::= CHOICE { sipHeaderLine [0] OCTET STRING, ... }
 * ```
 */
export const IPMMIRI = seq('IPMMIRI', [
  f('iPMMIRIObjId', 0, roid),
  f('iPMMIRIContents', 1, IPMM_IRI_CONTENTS),
  opt('targetLocation', 2, LOCATION),
  opt('additionalSignalling', 3, seqOf(choice('AdditionalSignalling', [f('sipHeaderLine', 0, octets())], true))),
], true);
