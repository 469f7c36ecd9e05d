/**
 * Application IRI: a probe's IriEvent (what an analyser of src/probe/app recognised in a flow of
 * the target) → the records to make for one matched task. Pure: no I/O, no clock, no logs.
 *
 * Records:
 * - e-mail (protocols "smtp", "pop3", "imap"; TS 102 232-2): one EmailIRI IRI-REPORT per event
 *   on HI2 — SMTP kind "message" → e-mail-send; POP3/IMAP kind "download" → e-mail-download;
 *   kind "logon" → e-mail-logon, or e-mail-logon-failure when its status is "failed" — with
 *   client and server address and port, sender, recipients, total-Recipient-Count, message-ID,
 *   status, protocol-ID and the user name (aAAInformation, never a password). For a content
 *   task, an event carrying the message (`content`) also gives an EmailCC (format
 *   application: the message as sent or downloaded) on HI3, in the same CIN.
 * - web, TLS, DNS, XMPP, BitTorrent: one IPIRI IRI-REPORT interimUpdate on HI2 with lig's
 *   national parameter ligApplicationReport (src/etsi/app-report.ts): the protocol, the flow's
 *   ends and transport, and the event's fields (one LigField per item of the list-valued
 *   fields in LIST_FIELDS). targetIPAddress is the target's end of the flow; targetUsername
 *   the access session's user name (or its MAC as text, as the session IRI says it) when the
 *   match names a session the mediator knows, else empty; internetAccessType wirelessLAN when
 *   the match names a session (lig's access sessions are hotspot ones), else undefined.
 * - anything else (STARTTLS events, unknown kinds or protocols): no record, counted.
 *
 * IRI-only (pen-register) tasks, whatever the probe sends: `content` is never used (counted
 * when present), no EmailCC is ever made, and only the fields of IRI_ONLY_FIELDS survive: a
 * field not listed for its protocol is dropped (counted), and a listed one whose value does
 * not have the shape of what it names (a host name, a count, an address...) is dropped too
 * (counted), so content put under an addressing name does not pass as addressing when its
 * shape betrays it. The reasons for each protocol's list are given next to it.
 *
 * What the probe sends (the contract with src/probe; see ingest.proto IriEvent):
 * - `protocol`: the analyser's name ("http", "tls", "dns", "smtp", "pop3", "imap", "xmpp",
 *   "bittorrent"); `fields`: the analyser's fields as documented in src/probe/app/*.ts, plus
 *   the flow fields FLOW_FIELDS: `client` and `server` (the addresses as text, the client being
 *   the end that opened the flow), `clientPort`, `serverPort` (decimal), `transport` ("tcp" or
 *   "udp"). Flow fields are reported in the record's own components, never as LigFields.
 * - Match.direction: the direction, relative to the target, of what the event is about. For
 *   e-mail, the message (or the logon): FROM_TARGET when the target sent it (an SMTP submission
 *   by the target; a message whose sender is a targeted e-mail address), TO_TARGET when the
 *   target receives it (a POP3/IMAP download by the target; a message to a targeted address).
 *   This is the EmailCC's payloadDirection. For everything else, the client's request:
 *   FROM_TARGET when the target is the flow's client, TO_TARGET when it is the server, BOTH
 *   when both ends are targets; targetIPAddress follows from it (UNSPECIFIED: left out).
 * - `content`: for e-mail under a content order, the message; nothing otherwise.
 */
import type { AppReportIri } from '../etsi/build';
import { ipAddress } from '../etsi/common';
import { type EmailIRI, type EmailEvent, type EmailProtocol, type EmailStatus } from '../etsi/email';
import { IP_PROTOCOL, MAX_APP_FIELD_NAME_CHARS, MAX_APP_FIELD_VALUE_CHARS, MAX_APP_REPORT_FIELDS, type LigField } from '../etsi/app-report';
import type { PayloadDirection } from '../etsi/ps-pdu';
import { Direction, type IriEvent } from '../gen/lig/v1/ingest';

/** The flow fields of an IriEvent (see the file comment). */
export const FLOW_FIELDS: readonly string[] = Object.freeze(['client', 'clientPort', 'server', 'serverPort', 'transport']);
/** E-mail-Address-List ::= SEQUENCE (SIZE (0..1023)) OF UTF8String (SIZE (0..255)): recipients past it are dropped (counted). */
export const MAX_EMAIL_RECIPIENTS = 1023;
export const MAX_EMAIL_ADDRESS_CHARS = 255;
/** ASMTP/POP3/IMAPAAAInformation.username is UTF8String (SIZE (0..64)): a longer name is left out (counted). */
export const MAX_AAA_USERNAME_CHARS = 64;
/** Fields (list items counted one by one) kept of one e-mail event: room for every recipient EmailIRI can list. */
export const MAX_EMAIL_EVENT_FIELDS = MAX_EMAIL_RECIPIENTS + 32;
/** Longest message-ID kept (an RFC 5322 line is at most 998 octets); a longer one is left out (counted). */
export const MAX_MESSAGE_ID_OCTETS = 998;

/** What app-iri does with what it is given, for status (no addresses, no content). */
export interface AppIriCounters {
  /** IriEvents received (before any task matched). */
  iriEvents: number;
  /** IriEvents of a protocol lig makes no IRI of: dropped. */
  appUnknownProtocol: number;
  /** IriEvents of a kind that has no record (STARTTLS, unknown kinds): dropped. */
  appUnmapped: number;
  /** Fields an IRI-only task may not receive: dropped. */
  appFieldsDropped: number;
  /** Fields with an unusable name, or a value not of the shape its name requires (IRI-only), or a bad flow field: dropped. */
  appFieldsInvalid: number;
  /** Values, list items, recipients, user names or message-IDs cut or left out at a limit. */
  appFieldsCut: number;
  /** IriEvents for IRI-only tasks that carried content: the content was not used. */
  appContentRefused: number;
}

export function newAppIriCounters(): AppIriCounters {
  return { iriEvents: 0, appUnknownProtocol: 0, appUnmapped: 0, appFieldsDropped: 0, appFieldsInvalid: 0, appFieldsCut: 0, appContentRefused: 0 };
}

// --- what IRI-only tasks may receive ---------------------------------------------------------

/** The shape a value must have: a pattern over the whole value (or each list item). */
interface Shape {
  re: RegExp;
  /** The value is a list joined with this separator: each item must match `re`. */
  sep?: string;
}
const one = (re: RegExp): Shape => ({ re });
const list = (sep: string, re: RegExp): Shape => ({ re, sep });

const TOKEN = one(/^[A-Za-z0-9][A-Za-z0-9_.+~-]{0,31}$/);
const COUNT = one(/^\d{1,10}$/);
const PORT = one(/^\d{1,5}$/);
const BOOL = one(/^(true|false)$/);
/** A host name or address literal, with a port: never a path, query, space or other text. */
const HOST = one(/^[A-Za-z0-9._*\-[\]:]{1,261}$/);
/** A DNS name as the analyser writes it: printable ASCII, unusual octets escaped \DDD, no space. */
const DNS_NAME = one(/^[\x21-\x7e]{1,1020}$/);
/** "name TYPE data": at most six space-separated tokens (A, AAAA, names, MX, SRV, SOA data). */
const ANSWERS = list('; ', /^[\x21-\x7e]{1,1020}( [\x21-\x7e]{1,1020}){1,5}$/);
const MAILBOX = one(/^[^\x00-\x20\x7f<>,;]{0,255}$/u);
const MAILBOXES = list(',', /^[^\x00-\x20\x7f<>,;]{1,255}$/u);
const MESSAGE_ID = one(/^<?[^\x00-\x20\x7f<>]{1,996}>?$/u);
const USER = one(/^[^\x00-\x20\x7f]{1,253}$/u);
/** A JID: no space before the resource part (a resource may hold spaces, RFC 7622). */
const JID = one(/^[^\x00-\x20\x7f<>"'&/]{1,2047}(\/[^\x00-\x1f\x7f<>]{1,1023})?$/u);
const HEX40 = one(/^[0-9a-f]{40}$/);
const HEX40S = list(',', /^[0-9a-f]{40}$/);
const PEERS = list(',', /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]{2,45}\]):\d{1,5}$/);
const TLS_VERSION = one(/^(SSL 3\.0|TLS 1\.[0-3]|0x[0-9a-f]{4})$/);
const ALPN = list(',', /^[\x21-\x2b\x2d-\x7e]{1,255}$/);

/** Mail events: envelope and header addresses, Message-ID, counts and outcomes. */
const MAIL: Readonly<Record<string, Shape>> = {
  kind: TOKEN, sender: MAILBOX, recipients: MAILBOXES, recipientCount: COUNT, messageId: MESSAGE_ID, status: TOKEN,
  size: COUNT, username: USER, mechanism: TOKEN,
};

/**
 * Per protocol, the fields an IRI-only (pen-register) task may receive, and their shapes. A
 * pen register may record dialling, routing, addressing and signalling information, never the
 * contents of a communication (18 U.S.C. 3127(3)); issue 6: "destination address, port, and
 * host name (SNI/Host), never the path or query". Flow addresses, ports and transport always
 * pass (they are in the header reports anyway).
 * - http: kind and host only. The path and query name what is read (content); the method and
 *   the response status say what was done with it and whether it existed, which the order
 *   does not need to route anything: left out; the User-Agent describes the user's software.
 * - tls: sni (the host name connected to), alpn and version (protocol signalling, like a port
 *   number), ech (whether the real name is hidden). No TLS field is content.
 * - dns: query names and answers (names, addresses, aliases the network routes the target to:
 *   the same addressing as the Host or SNI, and the exchange has no other purpose), qtype,
 *   qcount, opcode, rcode, answerCount. The transaction id routes nothing: left out.
 * - smtp, pop3, imap: sender, recipients and their count, the Message-ID (an identifier that
 *   TS 102 232-2 makes e-mail IRI; it says nothing of the message's meaning), status, size,
 *   user name, SASL mechanism, HELO name. Never the subject, never the message.
 * - xmpp: JIDs and domains (to, from, jid), logon user name, mechanism and status, stanza type.
 *   Never the body; the stanza id routes nothing.
 * - bittorrent: info-hashes (a swarm's address: trackers and the DHT route by it), peer ids,
 *   client tag, ports, peer addresses and their count, tracker host, DHT node id. The announce
 *   event (started/completed) and the swarm's seeder/leecher statistics say what the user did
 *   or what the tracker knows, not where anything goes: left out.
 */
export const IRI_ONLY_FIELDS: Readonly<Record<string, Readonly<Record<string, Shape>>>> = Object.freeze({
  http: { kind: TOKEN, host: HOST },
  tls: { sni: HOST, alpn: ALPN, version: TLS_VERSION, ech: BOOL },
  dns: { kind: TOKEN, qname: DNS_NAME, qtype: TOKEN, qcount: COUNT, opcode: TOKEN, rcode: TOKEN, answerCount: COUNT, answers: ANSWERS },
  smtp: { ...MAIL, helo: HOST },
  pop3: MAIL,
  imap: MAIL,
  xmpp: { kind: TOKEN, to: JID, from: JID, jid: JID, username: USER, mechanism: TOKEN, status: TOKEN, type: TOKEN },
  bittorrent: {
    kind: TOKEN, infoHash: HEX40S, peerId: HEX40, peerClient: TOKEN, port: PORT, tracker: HOST, peers: PEERS,
    peerCount: COUNT, nodeId: HEX40,
  },
});

/**
 * Fields that hold lists, with their separator: reported one LigField per item, for every kind
 * of task alike. Read off the IRI-only shapes, so the two can never disagree.
 */
export const LIST_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.freeze(
  Object.fromEntries(
    Object.entries(IRI_ONLY_FIELDS).map(([protocol, shapes]) => [
      protocol,
      Object.freeze(Object.fromEntries(Object.entries(shapes).flatMap(([name, shape]) => (shape.sep !== undefined ? [[name, shape.sep]] : [])))),
    ]),
  ),
);

export const EMAIL_PROTOCOLS: Readonly<Record<string, EmailProtocol>> = Object.freeze({ smtp: 'smtp', pop3: 'pop3', imap: 'imap4' });
/** The protocols lig makes IRI of (every analyser of src/probe/app). */
export const APP_IRI_PROTOCOLS: readonly string[] = Object.freeze(Object.keys(IRI_ONLY_FIELDS));

const FIELD_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9_.-]{0,${MAX_APP_FIELD_NAME_CHARS - 1}}$`);

// --- one event, prepared once per kind of task -------------------------------------------------

export type TaskKind = 'content' | 'iri-only';

/** A flow end as the probe named it. */
export interface FlowEnd {
  address: string;
  port?: number;
}

/** An IriEvent reduced to what a task of one kind may receive (prepareAppEvent). */
export interface PreparedAppEvent {
  protocol: string;
  kind: TaskKind;
  client?: FlowEnd;
  server?: FlowEnd;
  transport?: number;
  /** The fields that may be reported, in name order, list fields split. */
  fields: LigField[];
  /** The message, for content tasks only. */
  content?: Uint8Array;
}

/**
 * What of `ev` a task of `kind` may receive, or undefined when lig makes no record of it
 * (unknown protocol). Counts what it drops; call it once per event and kind of task.
 */
export function prepareAppEvent(ev: IriEvent, kind: TaskKind, c: AppIriCounters): PreparedAppEvent | undefined {
  const protocol = ev.protocol;
  const allowed = Object.hasOwn(IRI_ONLY_FIELDS, protocol) ? IRI_ONLY_FIELDS[protocol]! : undefined;
  if (!allowed) {
    c.appUnknownProtocol++;
    return undefined;
  }
  const p: PreparedAppEvent = { protocol, kind, fields: [] };
  const raw = Object.entries(ev.fields ?? {}).filter(([, v]) => typeof v === 'string');
  const get = (k: string) => raw.find(([n]) => n === k)?.[1];
  p.client = flowEnd(get('client'), get('clientPort'), c);
  p.server = flowEnd(get('server'), get('serverPort'), c);
  const transport = get('transport');
  if (transport === 'tcp' || transport === 'udp') p.transport = IP_PROTOCOL[transport];
  else if (transport !== undefined) c.appFieldsInvalid++;
  const lists = LIST_FIELDS[protocol] ?? {};
  const limit = Object.hasOwn(EMAIL_PROTOCOLS, protocol) ? MAX_EMAIL_EVENT_FIELDS : MAX_APP_REPORT_FIELDS;
  for (const [name, value] of raw.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (FLOW_FIELDS.includes(name)) continue;
    if (!FIELD_NAME.test(name)) {
      c.appFieldsInvalid++;
      continue;
    }
    const shape = kind === 'iri-only' ? (Object.hasOwn(allowed, name) ? allowed[name] : undefined) : undefined;
    if (kind === 'iri-only' && !shape) {
      c.appFieldsDropped++;
      continue;
    }
    const sep = shape?.sep ?? (Object.hasOwn(lists, name) ? lists[name] : undefined);
    const items = sep !== undefined ? value.split(sep).filter((x) => x !== '') : [value];
    if (shape && !items.every((x) => shape.re.test(x) && (shape !== PORT || Number(x) <= 65535))) {
      c.appFieldsInvalid++;
      continue;
    }
    for (const item of items) {
      if (p.fields.length >= limit) {
        c.appFieldsCut++;
        break;
      }
      p.fields.push({ name, value: cut(item, MAX_APP_FIELD_VALUE_CHARS, c) });
    }
  }
  if (ev.content && ev.content.length > 0) {
    if (kind === 'content') p.content = ev.content;
    else c.appContentRefused++;
  }
  return p;
}

function flowEnd(address: string | undefined, port: string | undefined, c: AppIriCounters): FlowEnd | undefined {
  if (address === undefined) return undefined;
  try {
    ipAddress(address);
  } catch {
    c.appFieldsInvalid++;
    return undefined;
  }
  const e: FlowEnd = { address };
  if (port !== undefined) {
    if (/^\d{1,5}$/.test(port) && Number(port) <= 65535) e.port = Number(port);
    else c.appFieldsInvalid++;
  }
  return e;
}

function cut(s: string, max: number, c: AppIriCounters): string {
  if (s.length <= max) return s; // UTF-16 units ≥ code points
  const cps = [...s];
  if (cps.length <= max) return s;
  c.appFieldsCut++;
  return cps.slice(0, max).join('');
}

// --- records for one match -------------------------------------------------------------------

/** One record to make for an application event: which, and what it holds. */
export type AppRecord =
  | { kind: 'emailIri'; contents: Omit<EmailIRI, 'emailIRIObjId'> }
  | { kind: 'emailCc'; direction: PayloadDirection; content: Uint8Array }
  | { kind: 'appReport'; report: AppReportIri };

/** The match's side of a record: its direction, and the access session it names, if known. */
export interface AppMatch {
  direction: Direction;
  /** Match.session_key ('' for an IP or e-mail target). */
  sessionKey: string;
  /** The session's user name (else its MAC as text), when the mediator knows the session. */
  sessionUser?: string;
}

/** The records of a prepared event for one match (see the file comment). */
export function appRecords(p: PreparedAppEvent, m: AppMatch, c: AppIriCounters): AppRecord[] {
  const get = (name: string) => p.fields.find((x) => x.name === name)?.value;
  const kind = get('kind');
  const email = Object.hasOwn(EMAIL_PROTOCOLS, p.protocol) ? EMAIL_PROTOCOLS[p.protocol]! : undefined;
  if (!email) {
    if (p.protocol !== 'tls' && kind === 'starttls') {
      c.appUnmapped++;
      return [];
    }
    return [{ kind: 'appReport', report: appReport(p, m) }];
  }
  const event = emailEvent(p.protocol, kind, get('status'));
  if (!event) {
    c.appUnmapped++;
    return [];
  }
  const out: AppRecord[] = [{ kind: 'emailIri', contents: emailContents(p, email, event, c) }];
  if (p.kind === 'content' && p.content && (event === 'e-mail-send' || event === 'e-mail-download')) {
    out.push({ kind: 'emailCc', direction: payloadDirection(m.direction), content: p.content });
  }
  return out;
}

/** Match.direction as the EmailCC's payloadDirection (BOTH: from the target, as for packets). */
function payloadDirection(d: Direction): PayloadDirection {
  if (d === Direction.DIRECTION_FROM_TARGET || d === Direction.DIRECTION_BOTH) return 'fromTarget';
  return d === Direction.DIRECTION_TO_TARGET ? 'toTarget' : 'indeterminate';
}

function emailEvent(protocol: string, kind: string | undefined, status: string | undefined): EmailEvent | undefined {
  if (kind === 'logon') return status === 'failed' ? 'e-mail-logon-failure' : 'e-mail-logon';
  if (protocol === 'smtp' && kind === 'message') return 'e-mail-send';
  if (protocol !== 'smtp' && kind === 'download') return 'e-mail-download';
  return undefined;
}

const STATUS: Readonly<Record<string, EmailStatus>> = { ok: 'operation-succeeded', failed: 'operation-failed' };
const AUTH_METHOD: Readonly<Record<string, 'cramMD5' | 'digestMD5'>> = { 'CRAM-MD5': 'cramMD5', 'DIGEST-MD5': 'digestMD5' };

function emailContents(p: PreparedAppEvent, protocol: EmailProtocol, eventType: EmailEvent, c: AppIriCounters): Omit<EmailIRI, 'emailIRIObjId'> {
  const get = (name: string) => p.fields.find((x) => x.name === name)?.value;
  const all = (name: string) => p.fields.filter((x) => x.name === name).map((x) => x.value);
  const size = /^\d{1,15}$/.test(get('size') ?? '') ? Number(get('size')) : 0;
  const statusText = get('status');
  // components in the order of the ASN.1 (a decoded record then reads as built)
  const e = { eventType } as Omit<EmailIRI, 'emailIRIObjId'>;
  if (p.client) e['client-Address'] = ipAddress(p.client.address);
  if (p.server) e['server-Address'] = ipAddress(p.server.address);
  if (p.client?.port !== undefined) e['client-Port'] = p.client.port;
  if (p.server?.port !== undefined) e['server-Port'] = p.server.port;
  // the message's octets as the analyser counted them, on the side that sent it; the dialogue is not counted
  e['server-Octets-Sent'] = eventType === 'e-mail-download' ? size : 0;
  e['client-Octets-Sent'] = eventType === 'e-mail-send' ? size : 0;
  e['protocol-ID'] = protocol;
  const sender = get('sender');
  if (sender !== undefined) {
    if ([...sender].length <= MAX_EMAIL_ADDRESS_CHARS) e['e-mail-Sender'] = sender;
    else c.appFieldsCut++;
  }
  const rcpts = all('recipients').filter((r) => r !== '');
  if (rcpts.length > 0) {
    const kept = rcpts.filter((r) => [...r].length <= MAX_EMAIL_ADDRESS_CHARS).slice(0, MAX_EMAIL_RECIPIENTS);
    c.appFieldsCut += rcpts.length - kept.length;
    e['e-mail-Recipients'] = kept;
  }
  e.status = (statusText !== undefined && Object.hasOwn(STATUS, statusText) ? STATUS[statusText] : undefined) ?? 'status-unknown';
  const count = get('recipientCount');
  if (count !== undefined && /^\d{1,10}$/.test(count) && Number(count) <= 4294967295) e['total-Recipient-Count'] = Number(count);
  const id = get('messageId');
  if (id !== undefined) {
    const b = Buffer.from(id, 'utf8');
    if (b.length <= MAX_MESSAGE_ID_OCTETS) e['message-ID'] = b;
    else c.appFieldsCut++;
  }
  const user = get('username');
  if (user !== undefined && [...user].length > MAX_AAA_USERNAME_CHARS) c.appFieldsCut++;
  else if (user !== undefined) {
    const logon = eventType === 'e-mail-logon' || eventType === 'e-mail-logon-failure';
    const result = logon ? { aAAResult: eventType === 'e-mail-logon' ? 'aAASucceeded' : 'aAAFailed' } : {};
    if (protocol === 'smtp') {
      const mech = get('mechanism');
      const authMethod = mech !== undefined && Object.hasOwn(AUTH_METHOD, mech) ? AUTH_METHOD[mech] : undefined;
      e.aAAInformation = { aSMTPAAAInformation: { username: user, ...(authMethod ? { authMethod } : {}), ...result } };
    } else if (protocol === 'pop3') e.aAAInformation = { pOP3AAAInformation: { username: user, ...result } };
    else e.aAAInformation = { iMAPAAAInformation: { username: user, ...result } };
  }
  return e;
}

function appReport(p: PreparedAppEvent, m: AppMatch): AppReportIri {
  const target = m.direction === Direction.DIRECTION_TO_TARGET ? p.server
    : m.direction === Direction.DIRECTION_FROM_TARGET || m.direction === Direction.DIRECTION_BOTH ? p.client : undefined;
  const family = (target ?? p.client ?? p.server)?.address.includes(':') ? 'iPV6' : 'iPV4';
  const r: AppReportIri = {
    targetUsername: m.sessionKey !== '' ? (m.sessionUser ?? '') : '',
    internetAccessType: m.sessionKey !== '' ? 'wirelessLAN' : 'undefined',
    iPVersion: family,
    report: { protocol: p.protocol, fields: p.fields },
  };
  if (target) r.targetIPAddress = ipAddress(target.address);
  if (p.client) r.report.client = p.client;
  if (p.server) r.report.server = p.server;
  if (p.transport !== undefined) r.report.transport = p.transport;
  return r;
}

