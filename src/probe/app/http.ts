/**
 * HTTP/1.x analyser (RFC 9112 message syntax, RFC 9110 semantics): reports each request's
 * method, host and target, and each response's status, on persistent and pipelined
 * connections. Bodies (Content-Length or chunked) are skipped as they pass, never buffered;
 * a response without either lasts until the connection closes (RFC 9112 §6.3). After a
 * successful CONNECT or a 101 (Switching Protocols) the connection is a tunnel and is not
 * read further. A tracker announce (BitTorrent, BEP 3) also yields a "bittorrent" event.
 *
 * Events (protocol "http"), fields:
 * - kind "request": `method`; `host` (the Host header, lower case, or the authority of an
 *   absolute-form or CONNECT target); `path` (the request target, query included: content);
 *   `userAgent` (content, see below). Side "client".
 * - kind "response": `status` (three digits); `method` and `host` of the request it answers,
 *   when known. Side "server".
 *
 * Classification for pen-register (IRI-only) orders: method, host and status are addressing
 * and signalling; the path and query name what is read on the site, so they are content
 * (`contentFields`). The User-Agent is not needed to route anything and describes the user's
 * software, so it is treated as content too: only addressing leaves for an IRI-only order.
 */
import { trackerRequest } from './bittorrent';
import { EventOutbox, NO_EVENTS } from './outbox';
import { LineBuffer, clip, latin1, newCounters, sniffPrefix, text } from './text';
import type { AppCounters, AppEvent, FlowSide, StreamAnalyser } from './types';

/** Longest request, status or header line read; a longer one is cut (counted as truncated). */
export const MAX_HTTP_LINE_BYTES = 8192;
/** Most header lines read per message; later ones are skipped (counted as truncated). */
export const MAX_HTTP_HEADER_LINES = 128;
/** Most requests awaiting their response; beyond, the oldest is forgotten (counted as truncated). */
export const MAX_HTTP_PENDING = 64;

const METHODS = ['GET ', 'POST ', 'HEAD ', 'PUT ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE '];

/** Sniffer: a request line from the client (or, with nothing from it yet, a status line from the server). */
export function sniffHttp(client: Uint8Array, server: Uint8Array): 'yes' | 'no' | 'more' {
  if (client.length > 0) return sniffPrefix(client, METHODS);
  return server.length > 0 ? sniffPrefix(server, ['HTTP/1.']) : 'more';
}

type State =
  | 'start' // expecting a request or status line
  | 'headers'
  | 'body' // `remaining` octets of Content-Length body
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end' // the CRLF after a chunk
  | 'trailers'
  | 'until-close' // a response body delimited by the connection's end
  | 'seek' // lost: skipping lines until a request/status line
  | 'tunnel'; // CONNECT or 101: not HTTP any more

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d)\.(\d)$/;
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: .*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `s` without leading and trailing spaces and tabs (RFC 9110 OWS); a loop, as a regex would be quadratic on long runs. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return s.slice(a, b);
}

interface Message {
  method?: string;
  host?: string;
  path?: string;
  userAgent?: string;
  status?: number;
  length?: number;
  chunked: boolean;
  upgrade: boolean;
  headerLines: number;
  bad: boolean;
}

interface Pending {
  method: string;
  host?: string;
}

class Side {
  state: State = 'start';
  readonly lines = new LineBuffer(MAX_HTTP_LINE_BYTES);
  remaining = 0;
  msg: Message = newMessage();
  constructor(readonly side: FlowSide) {}
}

const newMessage = (): Message => ({ chunked: false, upgrade: false, headerLines: 0, bad: false });

export class HttpAnalyser implements StreamAnalyser {
  readonly protocol = 'http';
  private readonly client = new Side('client');
  private readonly server = new Side('server');
  private readonly pending: Pending[] = [];
  private readonly out: EventOutbox;
  private time = 0n;

  constructor(readonly counters: AppCounters = newCounters()) {
    this.out = new EventOutbox(counters);
  }

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    const s = side === 'client' ? this.client : this.server;
    this.time = timeUs;
    let off = 0;
    while (off < data.length) {
      switch (s.state) {
        case 'tunnel':
        case 'until-close':
          off = data.length;
          break;
        case 'body':
        case 'chunk-data': {
          const n = Math.min(s.remaining, data.length - off);
          off += n;
          s.remaining -= n;
          if (s.remaining === 0) s.state = s.state === 'body' ? 'start' : 'chunk-end';
          break;
        }
        default: {
          off = s.lines.take(data, off);
          if (s.lines.line) this.line(s, s.lines.line, s.lines.cut);
        }
      }
    }
    return this.out.take();
  }

  onGap(side: FlowSide, bytes: number): void {
    const s = side === 'client' ? this.client : this.server;
    if (s.state === 'tunnel' || s.state === 'until-close') return;
    if ((s.state === 'body' || s.state === 'chunk-data') && bytes < s.remaining) {
      s.remaining -= bytes; // the hole was inside a body of known length: still in step
      return;
    }
    this.counters.truncated++;
    s.lines.reset();
    s.state = 'seek';
  }

  onEnd(): AppEvent[] {
    return NO_EVENTS;
  }

  private line(s: Side, line: Uint8Array, cut: boolean): void {
    switch (s.state) {
      case 'start':
      case 'seek':
        this.startLine(s, line);
        return;
      case 'headers':
        if (cut) this.counters.truncated++;
        if (line.length === 0) this.endOfHeaders(s);
        else this.header(s.msg, line);
        return;
      case 'chunk-size': {
        const m = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?$/.exec(latin1(line, 256));
        if (!m) return this.lost(s);
        s.remaining = parseInt(m[1]!, 16);
        s.state = s.remaining === 0 ? 'trailers' : 'chunk-data';
        return;
      }
      case 'chunk-end':
        if (line.length !== 0) return this.lost(s);
        s.state = 'chunk-size';
        return;
      case 'trailers':
        if (line.length === 0) s.state = 'start';
        return;
      default:
        return;
    }
  }

  /** A framing error: count it and look for the next message. */
  private lost(s: Side): void {
    this.counters.malformed++;
    s.state = 'seek';
  }

  private startLine(s: Side, line: Uint8Array): void {
    if (line.length === 0) return; // RFC 9112 §2.2: empty lines before a request are ignored
    const l = latin1(line, MAX_HTTP_LINE_BYTES);
    s.msg = newMessage();
    if (s.side === 'client') {
      const m = REQUEST_LINE.exec(l);
      if (m) {
        s.msg.method = m[1]!;
        this.target(s.msg, text(line.subarray(m[1]!.length + 1, m[1]!.length + 1 + m[2]!.length)));
        s.state = 'headers';
        return;
      }
    } else {
      const m = STATUS_LINE.exec(l);
      if (m) {
        s.msg.status = Number(m[1]);
        s.state = 'headers';
        return;
      }
    }
    if (s.state === 'start') this.counters.malformed++;
    s.state = 'seek';
  }

  /** Splits a request target: origin-form is the path; absolute-form and authority-form carry the host. */
  private target(msg: Message, target: string): void {
    if (msg.method === 'CONNECT') {
      msg.host = clip(target.toLowerCase());
      return;
    }
    const abs = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)(.*)$/.exec(target);
    if (abs) {
      msg.host = clip(abs[1]!.replace(/^.*@/, '').toLowerCase());
      msg.path = clip(abs[2] === '' ? '/' : abs[2]!);
    } else msg.path = clip(target);
  }

  private header(msg: Message, line: Uint8Array): void {
    if (++msg.headerLines > MAX_HTTP_HEADER_LINES) {
      if (msg.headerLines === MAX_HTTP_HEADER_LINES + 1) this.counters.truncated++;
      return;
    }
    const l = latin1(line, MAX_HTTP_LINE_BYTES);
    const colon = l.indexOf(':');
    if (colon <= 0 || !TOKEN.test(l.slice(0, colon))) {
      if (line[0] !== 0x20 && line[0] !== 0x09) msg.bad = true; // obsolete line folding is skipped
      return;
    }
    const name = l.slice(0, colon).toLowerCase();
    const value = trimOws(l.slice(colon + 1));
    switch (name) {
      case 'host':
        if (msg.host === undefined) msg.host = clip(value.toLowerCase());
        return;
      case 'user-agent':
        msg.userAgent = text(Buffer.from(value, 'latin1'));
        return;
      case 'content-length': {
        const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
        if (Number.isNaN(n) || (msg.length !== undefined && msg.length !== n)) msg.bad = true;
        else msg.length = n;
        return;
      }
      case 'transfer-encoding':
        msg.chunked = /(^|,)\s*chunked\s*$/i.test(value);
        return;
      case 'upgrade':
        msg.upgrade = true;
        return;
      default:
        return;
    }
  }

  private endOfHeaders(s: Side): void {
    const msg = s.msg;
    if (msg.bad) this.counters.malformed++;
    if (s.side === 'client') {
      this.request(msg);
      this.body(s, msg.chunked, msg.length ?? 0, false);
      return;
    }
    const status = msg.status!;
    const interim = status >= 100 && status < 200 && status !== 101;
    const req = interim ? this.pending[0] : this.pending.shift();
    this.out.push({
      protocol: 'http',
      timeUs: this.time,
      side: 'server',
      fields: { kind: 'response', status: String(status), ...(req ? { method: req.method } : {}), ...(req?.host !== undefined ? { host: req.host } : {}) },
    });
    if (status === 101 || (req?.method === 'CONNECT' && status >= 200 && status < 300)) {
      s.state = 'tunnel';
      this.client.state = 'tunnel';
      return;
    }
    if (interim || status === 204 || status === 304 || req?.method === 'HEAD') s.state = 'start';
    else this.body(s, msg.chunked, msg.length, true);
  }

  /** After the headers: where the body ends (RFC 9112 §6.3). */
  private body(s: Side, chunked: boolean, length: number | undefined, response: boolean): void {
    if (chunked) s.state = 'chunk-size';
    else if (length !== undefined && length > 0) {
      s.state = 'body';
      s.remaining = length;
    } else if (length === undefined && response) s.state = 'until-close';
    else s.state = 'start';
  }

  private request(msg: Message): void {
    const method = msg.method!;
    if (this.pending.length >= MAX_HTTP_PENDING) {
      this.pending.shift();
      this.counters.truncated++;
    }
    this.pending.push({ method, host: msg.host });
    const fields: Record<string, string> = { kind: 'request', method };
    if (msg.host !== undefined) fields.host = msg.host;
    if (msg.path !== undefined) fields.path = msg.path;
    if (msg.userAgent !== undefined) fields.userAgent = msg.userAgent;
    this.out.push({ protocol: 'http', timeUs: this.time, side: 'client', fields, contentFields: HTTP_CONTENT_FIELDS });
    if (method === 'GET' && msg.path !== undefined) {
      const bt = trackerRequest(msg.path);
      if (bt) this.out.push({ protocol: 'bittorrent', timeUs: this.time, side: 'client', fields: { ...bt, ...(msg.host !== undefined ? { tracker: msg.host } : {}) } });
    }
  }
}

/** The request fields that are content, not addressing. */
export const HTTP_CONTENT_FIELDS: readonly string[] = Object.freeze(['path', 'userAgent']);
