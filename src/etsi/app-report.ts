/**
 * lig's national parameter for application-level IRI (web, DNS, IM, BitTorrent, TLS): what
 * the probe's analysers recognised in a flow of the target, carried in an IPIRI REPORT
 * (TS 102 232-3) inside `NationalIPIRIParameters`. Pure: schemas, types and a checked builder.
 *
 * Why there: TS 102 232-3 has no IRI for application events outside e-mail (TS 102 232-2) and
 * multimedia (-5); its `NationalIPIRIParameters ::= SEQUENCE { countryCode [1] PrintableString
 * (SIZE (2)), ... }` is extensible precisely so a country can add "national parameters ...
 * after the extension marker", with countryCode naming the country they apply to. lig adds one
 * component there, `ligApplicationReport [10]`, and writes countryCode "US"
 * (APP_REPORT_COUNTRY_CODE: the pen-register and content orders lig serves are US ones). A
 * receiver that does not know the extension skips it, as X.680 requires of an extension
 * addition it does not know (verified with ../shared/tools/etsi-oracle); lig's own decoder
 * gives it back whole (lig decode, the LEMF's records.jsonl).
 *
 * ```asn1
 * NationalIPIRIParameters ::= SEQUENCE
 * {
 *     countryCode             [1] PrintableString (SIZE (2)),
 *     ...,
 *     ligApplicationReport    [10] LigApplicationReport OPTIONAL   -- lig's national parameter
 * }
 * LigApplicationReport ::= SEQUENCE
 * {
 *     protocol    [0] UTF8String (SIZE (1..16)),       -- "http", "tls", "dns", "xmpp", "bittorrent", ...
 *     client      [1] LigFlowEnd OPTIONAL,             -- the end that opened the flow
 *     server      [2] LigFlowEnd OPTIONAL,
 *     transport   [3] INTEGER (0..255) OPTIONAL,       -- IP protocol number: 6 TCP, 17 UDP
 *     fields      [4] SEQUENCE (SIZE (0..256)) OF LigField,
 *     ...
 * }
 * LigFlowEnd ::= SEQUENCE
 * {
 *     address     [0] IPAddress,
 *     port        [1] INTEGER (0..65535) OPTIONAL,
 *     ...
 * }
 * LigField ::= SEQUENCE
 * {
 *     name        [0] UTF8String (SIZE (1..32)),
 *     value       [1] UTF8String (SIZE (0..2048)),
 *     ...
 * }
 * ```
 * Sizes, against the first draft (value 0..1024, fields unbounded): a value may hold 2048
 * characters because that is the probe analysers' own bound on one field (MAX_FIELD_CHARS),
 * which a JID or a long host name can reach; list-valued fields (DNS answers, peers) are sent
 * one LigField per item instead of one long value; and the list of fields is bounded
 * (MAX_APP_REPORT_FIELDS) so one report stays small. A name may repeat (one per list item).
 */
import { f, int, opt, printable, seq, seqOf, utf8 } from '../ber/schema';
import { EtsiError, EtsiLimitError } from '../errors';
import { IPAddress, IP_ADDRESS, ipAddress } from './common';

/** countryCode of the NationalIPIRIParameters lig writes: the country whose parameters follow the marker. */
export const APP_REPORT_COUNTRY_CODE = 'US';
/** LigApplicationReport.protocol: UTF8String (SIZE (1..16)). */
export const MAX_APP_PROTOCOL_CHARS = 16;
/** LigField.name: UTF8String (SIZE (1..32)). */
export const MAX_APP_FIELD_NAME_CHARS = 32;
/** LigField.value: UTF8String (SIZE (0..2048)). */
export const MAX_APP_FIELD_VALUE_CHARS = 2048;
/** LigApplicationReport.fields: SEQUENCE (SIZE (0..256)) OF LigField. */
export const MAX_APP_REPORT_FIELDS = 256;
/** IP protocol numbers of LigApplicationReport.transport. */
export const IP_PROTOCOL = { tcp: 6, udp: 17 } as const;

/** `LigFlowEnd` (see the file comment). */
export const LIG_FLOW_END = seq('LigFlowEnd', [f('address', 0, IP_ADDRESS), opt('port', 1, int(0, 65535))], true);

/** `LigField` (see the file comment). */
export const LIG_FIELD = seq('LigField', [
  f('name', 0, utf8(1, MAX_APP_FIELD_NAME_CHARS)),
  f('value', 1, utf8(0, MAX_APP_FIELD_VALUE_CHARS)),
], true);

/** `LigApplicationReport` (see the file comment). */
export const LIG_APPLICATION_REPORT = seq('LigApplicationReport', [
  f('protocol', 0, utf8(1, MAX_APP_PROTOCOL_CHARS)),
  opt('client', 1, LIG_FLOW_END),
  opt('server', 2, LIG_FLOW_END),
  opt('transport', 3, int(0, 255)),
  f('fields', 4, seqOf(LIG_FIELD, 0, MAX_APP_REPORT_FIELDS)),
], true);

/** `NationalIPIRIParameters` of TS 102 232-3 with lig's addition after the extension marker. */
export const NATIONAL_IPIRI_PARAMETERS = seq('NationalIPIRIParameters', [
  f('countryCode', 1, printable(2, 2)),
  opt('ligApplicationReport', 10, LIG_APPLICATION_REPORT),
], true);

export interface LigFlowEnd {
  address: IPAddress;
  port?: number;
}

export interface LigField {
  name: string;
  value: string;
}

export interface LigApplicationReport {
  protocol: string;
  client?: LigFlowEnd;
  server?: LigFlowEnd;
  transport?: number;
  fields: LigField[];
}

export interface NationalIPIRIParameters {
  countryCode: string;
  ligApplicationReport?: LigApplicationReport;
}

/** What appReport() takes: addresses as text ("192.0.2.1", "2001:db8::1"). */
export interface AppReportInput {
  protocol: string;
  client?: { address: string; port?: number };
  server?: { address: string; port?: number };
  transport?: number;
  fields: readonly LigField[];
}

const chars = (s: string): number => [...s].length;

/**
 * The NationalIPIRIParameters carrying one application report, every limit checked: a limit
 * broken throws EtsiLimitError naming it (MAX_APP_PROTOCOL_CHARS, MAX_APP_FIELD_NAME_CHARS,
 * MAX_APP_FIELD_VALUE_CHARS, MAX_APP_REPORT_FIELDS); an address that is not one, a port or
 * transport out of range, an empty name or protocol, EtsiError. Callers that take input from
 * a probe trim it to the limits first (src/mediation/app-iri.ts) and count what they cut.
 */
export function appReport(r: AppReportInput): NationalIPIRIParameters {
  const n = chars(r.protocol);
  if (n === 0) throw new EtsiError('an application report needs a protocol name');
  if (n > MAX_APP_PROTOCOL_CHARS) throw new EtsiLimitError(`the protocol name has ${n} characters, over MAX_APP_PROTOCOL_CHARS (${MAX_APP_PROTOCOL_CHARS})`, MAX_APP_PROTOCOL_CHARS);
  if (r.fields.length > MAX_APP_REPORT_FIELDS) {
    throw new EtsiLimitError(`an application report holds ${r.fields.length} fields, over MAX_APP_REPORT_FIELDS (${MAX_APP_REPORT_FIELDS})`, MAX_APP_REPORT_FIELDS);
  }
  const fields = r.fields.map((x) => {
    const nn = chars(x.name);
    if (nn === 0) throw new EtsiError('an application report field needs a name');
    if (nn > MAX_APP_FIELD_NAME_CHARS) throw new EtsiLimitError(`a field name has ${nn} characters, over MAX_APP_FIELD_NAME_CHARS (${MAX_APP_FIELD_NAME_CHARS})`, MAX_APP_FIELD_NAME_CHARS);
    const vn = chars(x.value);
    if (vn > MAX_APP_FIELD_VALUE_CHARS) throw new EtsiLimitError(`a field value has ${vn} characters, over MAX_APP_FIELD_VALUE_CHARS (${MAX_APP_FIELD_VALUE_CHARS})`, MAX_APP_FIELD_VALUE_CHARS);
    return { name: x.name, value: x.value };
  });
  // components in the order of the ASN.1, so a decoded report compares equal to the one built
  const report = { protocol: r.protocol } as LigApplicationReport;
  if (r.client) report.client = flowEnd(r.client, 'client');
  if (r.server) report.server = flowEnd(r.server, 'server');
  if (r.transport !== undefined) {
    if (!Number.isInteger(r.transport) || r.transport < 0 || r.transport > 255) throw new EtsiError('transport must be an IP protocol number, 0..255');
    report.transport = r.transport;
  }
  report.fields = fields;
  return { countryCode: APP_REPORT_COUNTRY_CODE, ligApplicationReport: report };
}

function flowEnd(e: { address: string; port?: number }, which: string): LigFlowEnd {
  const out: LigFlowEnd = { address: ipAddress(e.address) };
  if (e.port !== undefined) {
    if (!Number.isInteger(e.port) || e.port < 0 || e.port > 65535) throw new EtsiError(`the ${which} port must be 0..65535`);
    out.port = e.port;
  }
  return out;
}
