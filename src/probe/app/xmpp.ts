/**
 * XMPP analyser (RFC 6120 core, RFC 6121 messages): the stream headers (to/from domain), SASL
 * logon, the JID the server binds, message stanzas (from, to, type, body), and STARTTLS
 * (after <proceed/> the stream is encrypted: reported, then not read). Stream restarts after
 * SASL are followed. Client-to-server and server-to-server streams read alike. Direct TLS
 * (port 5223) is TLS, not this. Pure.
 *
 * Events (protocol "xmpp"), fields:
 * - kind "stream" (the first stream header of each side): `to`, `from` (domains or JIDs, as
 *   present).
 * - kind "logon": `mechanism`, `username` (SASL PLAIN's identity), `status` ("ok"/"failed").
 * - kind "bind" (server): `jid` (the full JID the server bound).
 * - kind "message" (a message stanza with a body): `from` (the stanza's, else the bound JID
 *   for what the client sends), `to`, `type` ("chat", "groupchat"...) and `id` when present,
 *   `body` (content).
 * - kind "starttls".
 *
 * Classification: JIDs and domains are addressing; the message body is content.
 */
import { EventOutbox, NO_EVENTS } from './outbox';
import { MAX_FIELD_CHARS, clip, logonFields, newCounters, saslPlainUser } from './text';
import type { AppCounters, AppEvent, FlowSide, StreamAnalyser } from './types';
import { type XmlHandler, XmlScanner } from './xml-scan';

/** Deepest element nesting followed; a deeper stream is given up (counted as malformed). */
export const MAX_XMPP_DEPTH = 32;

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** Sniffer: the client opens an XML stream (an optional declaration, then <stream:stream). */
export function sniffXmpp(client: Uint8Array): 'yes' | 'no' | 'more' {
  const s = Buffer.from(client.buffer, client.byteOffset, Math.min(client.length, 512)).toString('latin1').replace(/^\s+/, '');
  if (s === '') return 'more';
  if (!s.startsWith('<')) return 'no';
  const body = s.startsWith('<?') ? (s.includes('?>') ? s.slice(s.indexOf('?>') + 2).replace(/^\s+/, '') : undefined) : s;
  if (body === undefined) return s.length >= 512 ? 'no' : '<?xml'.startsWith(s.slice(0, 5)) || s.startsWith('<?xml') ? 'more' : 'no';
  if (body === '') return 'more';
  const want = '<stream:stream';
  if (body.length < want.length) return want.startsWith(body) ? 'more' : 'no';
  return body.startsWith(want) && /[\s>]/.test(body[want.length] ?? ' ') ? 'yes' : 'no';
}

const local = (name: string): string => name.slice(name.indexOf(':') + 1);

/** What one side's stream is doing. */
class SideState implements XmlHandler {
  readonly scanner = new XmlScanner(this);
  depth = 0;
  streamSeen = false;
  /** The stanza (child of the stream) being read. */
  stanza: { name: string; attrs: Record<string, string>; body?: string; jid?: string; xmlns?: string } | undefined;
  /** Which element's text is being collected. */
  textOf: 'body' | 'jid' | 'auth' | undefined;

  constructor(
    readonly side: FlowSide,
    private readonly owner: XmppAnalyser,
  ) {}

  start(name: string, attrs: Record<string, string>): void {
    if (this.owner.isStopped) return;
    const l = local(name);
    if (l === 'stream' && (name.includes(':') || attrs.xmlns !== undefined || attrs['xmlns:stream'] !== undefined)) {
      this.depth = 1; // a stream header, first or restarted (RFC 6120 §4.3.3)
      this.stanza = undefined;
      if (!this.streamSeen) {
        this.streamSeen = true;
        this.owner.streamOpened(this.side, attrs);
      }
      return;
    }
    this.depth++;
    if (this.depth > MAX_XMPP_DEPTH) return this.owner.tooDeep();
    if (this.depth === 2) {
      this.stanza = { name: l, attrs, xmlns: attrs.xmlns };
      if (l === 'auth' && this.side === 'client') this.collectText('auth');
      return;
    }
    const st = this.stanza;
    if (!st) return;
    if (this.depth === 3 && st.name === 'message' && l === 'body' && st.body === undefined) this.collectText('body');
    else if (this.depth === 4 && st.name === 'iq' && l === 'jid') this.collectText('jid');
  }

  end(name: string): void {
    if (this.textOf) {
      const t = clip(this.scanner.takeText(), this.textOf === 'body' ? 64 * 1024 : MAX_FIELD_CHARS);
      if (this.stanza) {
        if (this.textOf === 'body') this.stanza.body = t;
        else if (this.textOf === 'jid') this.stanza.jid = t.trim();
        else this.stanza.attrs['#text'] = t;
      }
      this.textOf = undefined;
    }
    if (local(name) === 'stream' && this.depth <= 1) {
      this.depth = 0;
      return;
    }
    if (this.depth === 2 && this.stanza) this.owner.stanza(this.side, this.stanza);
    if (this.depth === 2) this.stanza = undefined;
    if (this.depth > 0) this.depth--;
  }

  private collectText(what: 'body' | 'jid' | 'auth'): void {
    this.textOf = what;
    this.scanner.collect = true;
  }
}

export class XmppAnalyser implements StreamAnalyser {
  readonly protocol = 'xmpp';
  private readonly sides: Record<FlowSide, SideState> = { client: new SideState('client', this), server: new SideState('server', this) };
  private readonly out: EventOutbox;
  private time = 0n;
  private stopped = false;
  get isStopped(): boolean {
    return this.stopped;
  }
  private jid: string | undefined;
  private auth: { mechanism: string; username?: string } | undefined;
  private readonly lost: Record<FlowSide, boolean> = { client: false, server: false };

  constructor(readonly counters: AppCounters = newCounters()) {
    this.out = new EventOutbox(counters);
  }

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    if (this.stopped) return NO_EVENTS;
    this.time = timeUs;
    if (this.lost[side]) return NO_EVENTS;
    const s = this.sides[side];
    const cut = s.scanner.cut;
    const bad = s.scanner.bad;
    s.scanner.feed(data);
    this.counters.truncated += s.scanner.cut - cut;
    this.counters.malformed += s.scanner.bad - bad;
    return this.out.take();
  }

  onGap(side: FlowSide): void {
    if (this.stopped || this.lost[side]) return;
    // Where the next tag starts, and how deep it is, cannot be known: this side is not read any more.
    this.counters.truncated++;
    this.lost[side] = true;
  }

  onEnd(): AppEvent[] {
    return NO_EVENTS;
  }

  private emit(side: FlowSide, fields: Record<string, string>, contentFields?: readonly string[]): void {
    this.out.push({ protocol: 'xmpp', timeUs: this.time, side, fields, ...(contentFields ? { contentFields } : {}) });
  }

  streamOpened(side: FlowSide, attrs: Record<string, string>): void {
    const fields: Record<string, string> = { kind: 'stream' };
    if (attrs.to !== undefined) fields.to = clip(attrs.to);
    if (attrs.from !== undefined) fields.from = clip(attrs.from);
    this.emit(side, fields);
  }

  tooDeep(): void {
    if (this.stopped) return;
    this.counters.malformed++;
    this.stopped = true;
  }

  stanza(side: FlowSide, st: { name: string; attrs: Record<string, string>; body?: string; jid?: string; xmlns?: string }): void {
    const a = st.attrs;
    if (side === 'server' && st.name === 'proceed' && st.xmlns === NS_TLS) {
      this.emit('server', { kind: 'starttls' });
      this.stopped = true;
    } else if (side === 'client' && st.name === 'auth' && st.xmlns === NS_SASL) {
      const mechanism = (a.mechanism ?? '').toUpperCase();
      this.auth = { mechanism };
      if (mechanism === 'PLAIN' && a['#text'] !== undefined) {
        const u = saslPlainUser(a['#text']);
        if (u !== undefined) this.auth.username = u;
      }
    } else if (side === 'server' && (st.name === 'success' || st.name === 'failure') && st.xmlns === NS_SASL) {
      const fields = logonFields(this.auth?.mechanism ?? '', st.name === 'success', this.auth?.username);
      this.auth = undefined;
      this.emit('server', fields);
    } else if (side === 'server' && st.name === 'iq' && a.type === 'result' && st.jid) {
      this.jid = clip(st.jid);
      this.emit('server', { kind: 'bind', jid: this.jid });
    } else if (st.name === 'message' && st.body !== undefined) {
      const fields: Record<string, string> = { kind: 'message' };
      const from = a.from ?? (side === 'client' ? this.jid : undefined);
      if (from !== undefined) fields.from = clip(from);
      if (a.to !== undefined) fields.to = clip(a.to);
      if (a.type !== undefined) fields.type = clip(a.type, 32);
      if (a.id !== undefined) fields.id = clip(a.id, 256);
      fields.body = st.body;
      this.emit(side, fields, XMPP_CONTENT_FIELDS);
    }
  }
}

/** The fields of XMPP events that are content. */
export const XMPP_CONTENT_FIELDS: readonly string[] = Object.freeze(['body']);
