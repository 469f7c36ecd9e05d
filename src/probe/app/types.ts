/**
 * The contract of the probe's application analysers (HTTP, TLS, DNS, SMTP, POP3, IMAP,
 * XMPP, BitTorrent): pure state machines fed the bytes of one flow, in order, that report
 * what they recognise as AppEvents. The probe turns an AppEvent into an IriEvent
 * (ingest.proto) for the tasks its flow matched; the mediator turns that into IRI.
 *
 * Analysers never throw on hostile input: malformed or truncated application data is
 * skipped and counted (`AppCounters`), and every buffer they keep is bounded by a named
 * limit. They do no I/O, keep no timers and read no clock: times come with the data.
 */

/** Which way bytes flow in a TCP connection or UDP exchange. */
export type FlowSide = 'client' | 'server';

/**
 * One application-level fact about a flow. `fields` are flat strings (the IriEvent map);
 * each analyser documents its keys. Fields that are content rather than addressing (an HTTP
 * path or query, a mail's subject) are named in `contentFields` so a pen-register task can
 * strip them (the probe does; the mediator enforces it again).
 */
export interface AppEvent {
  /** "http", "tls", "dns", "smtp", "pop3", "imap", "xmpp", "bittorrent". */
  protocol: string;
  /** When the bytes that completed the event were captured (µs since the epoch). */
  timeUs: bigint;
  /** Which side sent the bytes that completed the event. */
  side: FlowSide;
  fields: Record<string, string>;
  /** Keys of `fields` that are content, not addressing: dropped for IRI-only tasks. */
  contentFields?: readonly string[];
  /**
   * E-mail: the message as sent (SMTP: the RFC 5322 text after DATA, dot-unstuffed) or as
   * downloaded (POP3 RETR/TOP, IMAP FETCH literal). Content only: never for IRI-only tasks.
   * Bounded by the analyser's content limit (`contentTruncated` says when it was cut).
   */
  content?: Uint8Array;
}

/** A stream analyser: one per TCP connection and protocol. */
export interface StreamAnalyser {
  readonly protocol: string;
  /**
   * The next in-order bytes from `side` (the reassembler delivers them once, in order,
   * without overlap). Returns the events they completed (often none).
   */
  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[];
  /** A gap in `side`'s bytes (data lost): the analyser resynchronises or gives up. */
  onGap(side: FlowSide, bytes: number): void;
  /** The connection ended (FIN/RST/idle): events still pending, e.g. an unfinished mail. */
  onEnd(timeUs: bigint): AppEvent[];
  /** What this analyser skipped and reported (shared by every analyser of one protocol in a flow table). */
  readonly counters: AppCounters;
}

/**
 * A datagram analyser: one per UDP flow and protocol (DNS, BitTorrent's UDP tracker and DHT).
 * Each datagram stands alone; there is no reassembly and no gap.
 */
export interface DatagramAnalyser {
  readonly protocol: string;
  /** One datagram's payload from `side`. Returns the events it completed. */
  onDatagram(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[];
  readonly counters: AppCounters;
}

/** Counters every analyser keeps (no addresses, no content). */
export interface AppCounters {
  events: number;
  /** Bytes or messages skipped because they did not parse. */
  malformed: number;
  /** Messages cut short by a limit or a capture gap. */
  truncated: number;
}
