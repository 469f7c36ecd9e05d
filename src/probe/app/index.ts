/**
 * The application analysers by protocol name: for each, the well-known server ports, a
 * sniffer that recognises the protocol from a flow's first bytes (so HTTP on 8080 or
 * BitTorrent on any port is found), and a factory. The flow table (flow-table.ts) uses it to
 * give each flow its analyser. Pure.
 */
import { BITTORRENT_CONTENT_FIELDS, BittorrentAnalyser, sniffBittorrent } from './bittorrent';
import { BittorrentUdpAnalyser, sniffBittorrentUdp } from './bittorrent-udp';
import { DnsTcpAnalyser, DnsUdpAnalyser, sniffDnsTcp, sniffDnsUdp } from './dns';
import { HTTP_CONTENT_FIELDS, HttpAnalyser, sniffHttp } from './http';
import { ImapAnalyser, sniffImap } from './imap';
import { type ContentLimits, DEFAULT_CONTENT_LIMITS, MAIL_CONTENT_FIELDS } from './mail';
import { Pop3Analyser, sniffPop3 } from './pop3';
import { SmtpAnalyser, sniffSmtp } from './smtp';
import { TlsAnalyser, sniffTls } from './tls';
import type { AppCounters, DatagramAnalyser, StreamAnalyser } from './types';
import { XMPP_CONTENT_FIELDS, XmppAnalyser, sniffXmpp } from './xmpp';

export type { AppCounters, AppEvent, DatagramAnalyser, FlowSide, StreamAnalyser } from './types';

/** What a sniffer says about a flow so far: it is this protocol, it is not, or it cannot tell yet. */
export type Sniff = 'yes' | 'no' | 'more';

/** What analysers are made with: how much of a message the mail analysers keep as content. */
export type AnalyserOptions = ContentLimits;

export const DEFAULT_ANALYSER_OPTIONS: Readonly<AnalyserOptions> = DEFAULT_CONTENT_LIMITS;

export interface StreamSpec {
  protocol: string;
  /** Well-known server ports: a flow to one of them is sniffed for this protocol first. */
  ports: readonly number[];
  /** Judges the first bytes each side sent (either may be empty so far). */
  sniff(client: Uint8Array, server: Uint8Array, serverPort: number): Sniff;
  create(counters: AppCounters, options: AnalyserOptions): StreamAnalyser;
}

export interface DatagramSpec {
  protocol: string;
  ports: readonly number[];
  /** Judges one datagram. */
  sniff(datagram: Uint8Array, clientPort: number, serverPort: number): 'yes' | 'no';
  create(counters: AppCounters, options: AnalyserOptions): DatagramAnalyser;
}

/** TCP analysers, in the order they are tried when no port says otherwise. */
export const STREAM_ANALYSERS: readonly StreamSpec[] = Object.freeze([
  { protocol: 'http', ports: [80, 8080, 8000, 8008, 3128], sniff: sniffHttp, create: (c) => new HttpAnalyser(c) },
  { protocol: 'tls', ports: [443, 8443, 465, 853, 993, 995, 5223], sniff: sniffTls, create: (c) => new TlsAnalyser(c) },
  { protocol: 'smtp', ports: [25, 587, 2525], sniff: sniffSmtp, create: (c, o) => new SmtpAnalyser(c, o) },
  { protocol: 'pop3', ports: [110], sniff: sniffPop3, create: (c, o) => new Pop3Analyser(c, o) },
  { protocol: 'imap', ports: [143], sniff: sniffImap, create: (c, o) => new ImapAnalyser(c, o) },
  { protocol: 'xmpp', ports: [5222, 5269], sniff: sniffXmpp, create: (c) => new XmppAnalyser(c) },
  { protocol: 'bittorrent', ports: [6881, 6882, 6883, 6884, 6885, 6886, 6887, 6888, 6889, 51413], sniff: sniffBittorrent, create: (c) => new BittorrentAnalyser(c) },
  { protocol: 'dns', ports: [53], sniff: sniffDnsTcp, create: (c) => new DnsTcpAnalyser(c) },
]);

/** UDP analysers, in the order they are tried. */
export const DATAGRAM_ANALYSERS: readonly DatagramSpec[] = Object.freeze([
  { protocol: 'dns', ports: [53], sniff: sniffDnsUdp, create: (c) => new DnsUdpAnalyser(c) },
  { protocol: 'bittorrent', ports: [6881, 6969, 1337], sniff: (d) => sniffBittorrentUdp(d), create: (c) => new BittorrentUdpAnalyser(c) },
]);

/**
 * Every field key each protocol's events may carry (each analyser's module comment says what
 * they hold). A consumer can rely on nothing else appearing.
 */
export const APP_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  http: ['kind', 'method', 'host', 'path', 'userAgent', 'status'],
  tls: ['sni', 'alpn', 'version', 'ech'],
  dns: ['kind', 'id', 'qname', 'qtype', 'qcount', 'opcode', 'rcode', 'answerCount', 'answers'],
  smtp: ['kind', 'sender', 'recipients', 'recipientCount', 'messageId', 'subject', 'size', 'status', 'reply', 'helo', 'username', 'mechanism', 'contentTruncated'],
  pop3: ['kind', 'username', 'mechanism', 'status', 'command', 'messageNumber', 'size', 'messageId', 'sender', 'recipients', 'recipientCount', 'subject', 'contentTruncated'],
  imap: ['kind', 'username', 'mechanism', 'status', 'messageNumber', 'uid', 'item', 'size', 'messageId', 'sender', 'recipients', 'recipientCount', 'subject', 'contentTruncated'],
  xmpp: ['kind', 'to', 'from', 'mechanism', 'username', 'status', 'jid', 'type', 'id', 'body'],
  bittorrent: ['kind', 'infoHash', 'peerId', 'peerClient', 'port', 'event', 'tracker', 'leechers', 'seeders', 'peerCount', 'peers', 'nodeId'],
});

/**
 * The keys of each protocol's fields that are content, not addressing: an event that carries
 * one names it in `contentFields`, so that an IRI-only (pen-register) task never gets it.
 */
export const APP_CONTENT_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  http: HTTP_CONTENT_FIELDS,
  tls: [],
  dns: [],
  smtp: MAIL_CONTENT_FIELDS,
  pop3: MAIL_CONTENT_FIELDS,
  imap: MAIL_CONTENT_FIELDS,
  xmpp: XMPP_CONTENT_FIELDS,
  bittorrent: BITTORRENT_CONTENT_FIELDS,
});

/** Every protocol name an analyser reports under. */
export const APP_PROTOCOLS: readonly string[] = Object.freeze([...new Set([...STREAM_ANALYSERS, ...DATAGRAM_ANALYSERS].map((s) => s.protocol))]);

/** Ports some analyser knows as a server port: used to tell client from server in a flow seen mid-way. */
export const SERVER_PORTS: ReadonlySet<number> = new Set([...STREAM_ANALYSERS, ...DATAGRAM_ANALYSERS].flatMap((s) => s.ports));

/** The TCP analyser for `protocol`, or undefined when there is none. */
export function streamAnalyser(protocol: string, counters: AppCounters, options: AnalyserOptions = DEFAULT_ANALYSER_OPTIONS): StreamAnalyser | undefined {
  return STREAM_ANALYSERS.find((s) => s.protocol === protocol)?.create(counters, options);
}

/** The UDP analyser for `protocol`, or undefined when there is none. */
export function datagramAnalyser(protocol: string, counters: AppCounters, options: AnalyserOptions = DEFAULT_ANALYSER_OPTIONS): DatagramAnalyser | undefined {
  return DATAGRAM_ANALYSERS.find((s) => s.protocol === protocol)?.create(counters, options);
}

/**
 * The specs to try for a flow to `serverPort`, those that claim the port first, among the
 * enabled ones (all when `enabled` is undefined).
 */
export function candidates<S extends { protocol: string; ports: readonly number[] }>(specs: readonly S[], serverPort: number, enabled?: ReadonlySet<string>): S[] {
  const on = enabled ? specs.filter((s) => enabled.has(s.protocol)) : [...specs];
  return [...on.filter((s) => s.ports.includes(serverPort)), ...on.filter((s) => !s.ports.includes(serverPort))];
}
