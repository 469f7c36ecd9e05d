/**
 * IMAP analyser (RFC 9051, and IMAP4rev1 RFC 3501 which it obsoletes; LITERAL+ RFC 7888):
 * logons (LOGIN, AUTHENTICATE) with their tagged outcome, and downloads (FETCH responses
 * carrying a message or part of one as a literal). Commands and responses are read line by
 * line; a line ending in {n} (or {n+}) is followed by n octets of literal, after which the
 * same command or response goes on. Literals are skipped as they pass unless they are a
 * LOGIN argument (bounded) or a message being downloaded (bounded copy). After a successful
 * STARTTLS nothing more is read. Pure.
 *
 * Events (protocol "imap"), fields:
 * - kind "logon": `username`, `mechanism` ("LOGIN" or the SASL mechanism), `status`
 *   ("ok"/"failed"). Passwords are never read into a field or kept.
 * - kind "download", one per message literal of a FETCH response (BODY[], BODY[TEXT],
 *   BODY[1.2], RFC822, RFC822.TEXT, BINARY[...]; header-only items such as BODY[HEADER] are
 *   not downloads, though their addresses fill the fields): `messageNumber`, `uid` when the
 *   response has one, `item`, `size` (the literal's octets), `username`, and from the
 *   message's header when fetched: `messageId`, `sender`, `recipients`, `recipientCount`,
 *   `subject` (content); `contentTruncated` "true" when `content` holds less. `content`: the
 *   literal.
 * - kind "starttls".
 */
import { ContentBuffer, MAX_MAIL_HEADER_BYTES, MailAnalyser, headerFields, mailHeaders } from './mail';
import { LineBuffer, clip, latin1, logonFields, saslUser, sniffPrefix, text } from './text';
import type { AppEvent, FlowSide, StreamAnalyser } from './types';

/** Longest command or response line read (between literals). */
export const MAX_IMAP_LINE_BYTES = 8192;
/** Tagged commands awaiting completion; beyond, the oldest is forgotten (counted as truncated). */
export const MAX_IMAP_PENDING = 128;
/** Largest LOGIN argument literal read; a larger one is skipped. */
export const MAX_IMAP_LOGIN_LITERAL = 1024;

/** Sniffer: the server greets with "* OK" or "* PREAUTH". */
export function sniffImap(_client: Uint8Array, server: Uint8Array): 'yes' | 'no' | 'more' {
  return server.length > 0 ? sniffPrefix(server, ['* OK', '* PREAUTH']) : 'more';
}

const LITERAL = /\{(\d{1,10})\+?\}$/;
/** A FETCH item that carries (part of) the message rather than only its header. */
const MESSAGE_ITEM = /^(BODY\[(\d+(\.\d+)*(\.TEXT)?|TEXT)?\]|BINARY\[[\d.]*\]|RFC822|RFC822\.TEXT)(<\d+>)?$/i;
const HEADER_ITEM = /^(BODY\[(\d+(\.\d+)*\.)?HEADER(\.FIELDS(\.NOT)?\s*\([^)]*\))?\]|RFC822\.HEADER)(<\d+>)?$/i;

/** A client command being read (its arguments, literals included). */
interface ClientCommand {
  tag: string;
  verb: string;
  args: string[];
}

interface Pending {
  verb: string;
  user?: string;
  mechanism?: string;
}

/** A server response being read, across its literals. */
interface Response {
  fetch?: number;
  uid?: string;
  downloads: { item: string; content: ContentBuffer }[];
  header?: ContentBuffer;
}

export class ImapAnalyser extends MailAnalyser implements StreamAnalyser {
  readonly protocol = 'imap';
  private readonly clientLines = new LineBuffer(MAX_IMAP_LINE_BYTES);
  private readonly serverLines = new LineBuffer(MAX_IMAP_LINE_BYTES);
  private readonly pending = new Map<string, Pending>();
  private user: string | undefined;
  private cmd: ClientCommand | undefined;
  /** The client's literal: octets left, and whether they are a LOGIN argument to keep. */
  private clientLiteral = 0;
  private clientKeep: Uint8Array[] | undefined;
  private auth: Pending | undefined;
  private authTag: string | undefined;
  private resp: Response | undefined;
  private serverLiteral = 0;
  private serverSink: ContentBuffer | undefined;

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    this.time = timeUs;
    let off = 0;
    while (off < data.length && !this.stopped) {
      if (side === 'server' && this.serverLiteral > 0) {
        const n = Math.min(this.serverLiteral, data.length - off);
        this.serverSink?.add(data.subarray(off, off + n));
        this.serverLiteral -= n;
        off += n;
        continue;
      }
      if (side === 'client' && this.clientLiteral > 0) {
        const n = Math.min(this.clientLiteral, data.length - off);
        this.clientKeep?.push(data.slice(off, off + n));
        this.clientLiteral -= n;
        off += n;
        if (this.clientLiteral === 0 && this.clientKeep && this.cmd) {
          this.cmd.args.push(text(Buffer.concat(this.clientKeep)));
          this.clientKeep = undefined;
        }
        continue;
      }
      const lines = side === 'server' ? this.serverLines : this.clientLines;
      off = lines.take(data, off);
      if (!lines.line) continue;
      if (lines.cut) this.counters.truncated++;
      if (side === 'server') this.serverLine(lines.line);
      else this.clientLine(lines.line);
    }
    return this.out.take();
  }

  onGap(side: FlowSide): void {
    if (this.stopped) return;
    this.counters.truncated++;
    if (side === 'client') {
      this.clientLines.reset();
      this.cmd = undefined;
      this.clientLiteral = 0;
      this.clientKeep = undefined;
      return;
    }
    this.serverLines.reset();
    this.serverLiteral = 0;
    this.serverSink = undefined;
    // What the response held cannot be trusted to be whole: dropped.
    for (const d of this.resp?.downloads ?? []) d.content.release();
    this.resp?.header?.release();
    this.resp = undefined;
  }

  onEnd(timeUs: bigint): AppEvent[] {
    this.time = timeUs;
    if (this.resp && this.resp.downloads.length > 0) this.counters.truncated++;
    if (this.resp) this.endResponse('incomplete');
    return this.out.take();
  }

  // --- client -------------------------------------------------------------------------------

  private clientLine(line: Uint8Array): void {
    const l = latin1(line, MAX_IMAP_LINE_BYTES);
    if (this.auth && !this.cmd) return this.saslResponse(l);
    let rest = l;
    if (!this.cmd) {
      const m = /^(\S+) (\S+)(?: (\S+))?/.exec(l);
      if (!m) return; // e.g. DONE ending IDLE, or noise
      const verb = m[2]!.toUpperCase();
      const uid = verb === 'UID' && m[3] !== undefined;
      this.cmd = { tag: m[1]!, verb: uid ? `UID ${m[3]!.toUpperCase()}` : verb, args: [] };
      rest = l.slice(m[1]!.length + 1 + m[2]!.length + (uid ? m[3]!.length + 1 : 0));
    }
    const lit = LITERAL.exec(rest);
    const cmd = this.cmd;
    // A LOGIN's second argument is the password: it is never tokenized, let alone kept.
    const room = cmd.verb === 'LOGIN' ? 1 : 8;
    for (const t of tokens(lit ? rest.slice(0, lit.index) : rest, room - cmd.args.length)) cmd.args.push(t);
    if (lit) {
      this.clientLiteral = Number(lit[1]);
      const keep = cmd.verb === 'LOGIN' && this.clientLiteral <= MAX_IMAP_LOGIN_LITERAL && cmd.args.length === 0;
      this.clientKeep = keep ? [] : undefined;
      if (cmd.verb === 'LOGIN' && !keep && cmd.args.length > 0) cmd.args.push(''); // the password: skipped, never kept
      if (this.clientLiteral === 0 && keep) cmd.args.push('');
      return;
    }
    this.cmd = undefined;
    this.command(cmd);
  }

  private command(cmd: ClientCommand): void {
    if (this.pending.size >= MAX_IMAP_PENDING) {
      this.pending.delete(this.pending.keys().next().value!);
      this.counters.truncated++;
    }
    const p: Pending = { verb: cmd.verb };
    if (cmd.verb === 'LOGIN' && cmd.args[0] !== undefined) p.user = clip(cmd.args[0]);
    if (cmd.verb === 'AUTHENTICATE') {
      p.mechanism = (cmd.args[0] ?? '').toUpperCase();
      this.auth = p;
      this.authTag = cmd.tag;
      if (cmd.args[1] !== undefined) this.saslResponse(cmd.args[1]);
    }
    this.pending.set(cmd.tag, p);
  }

  /** A line of the AUTHENTICATE exchange: only the user name is taken (PLAIN, LOGIN). */
  private saslResponse(s: string): void {
    const a = this.auth!;
    if (a.user !== undefined || s.trim() === '*') return;
    a.user = saslUser(a.mechanism ?? '', s);
  }

  // --- server -------------------------------------------------------------------------------

  private serverLine(line: Uint8Array): void {
    const l = latin1(line, MAX_IMAP_LINE_BYTES);
    if (!this.resp) {
      if (l.startsWith('+')) return; // a continuation request
      if (l.startsWith('* ')) {
        const f = /^\* (\d{1,10}) FETCH /i.exec(l);
        this.resp = { downloads: [] };
        if (f) this.resp.fetch = Number(f[1]);
      } else {
        const m = /^(\S+) (OK|NO|BAD)\b/i.exec(l);
        if (!m) {
          this.counters.malformed++;
          return;
        }
        return this.tagged(m[1]!, m[2]!.toUpperCase() === 'OK');
      }
    }
    const r = this.resp;
    if (r.fetch !== undefined) {
      const u = /\bUID (\d{1,10})\b/i.exec(l);
      if (u) r.uid = u[1];
    }
    const lit = LITERAL.exec(l);
    if (!lit) {
      this.endResponse('ok');
      return;
    }
    this.serverLiteral = Number(lit[1]);
    this.serverSink = undefined;
    if (r.fetch === undefined) return;
    const item = fetchItem(l.slice(0, lit.index).trimEnd());
    if (MESSAGE_ITEM.test(item)) {
      const content = new ContentBuffer(this.limits);
      r.downloads.push({ item: item.toUpperCase(), content });
      this.serverSink = content;
    } else if (HEADER_ITEM.test(item) && !r.header) {
      this.serverSink = r.header = new ContentBuffer({ ...this.limits, maxContentBytes: MAX_MAIL_HEADER_BYTES });
    }
  }

  private tagged(tag: string, ok: boolean): void {
    if (this.cmd?.tag === tag) {
      // The command being sent was refused before its literal: it is not coming.
      this.cmd = undefined;
      this.clientLiteral = 0;
      this.clientKeep = undefined;
    }
    const p = this.pending.get(tag);
    if (!p) return;
    this.pending.delete(tag);
    if (this.authTag === tag) {
      this.auth = undefined;
      this.authTag = undefined;
    }
    if (p.verb === 'LOGIN' || p.verb === 'AUTHENTICATE') {
      if (ok && p.user !== undefined) this.user = p.user;
      this.emit('server', logonFields(p.verb === 'LOGIN' ? 'LOGIN' : (p.mechanism ?? ''), ok, p.user));
    } else if (p.verb === 'STARTTLS' && ok) {
      this.stopped = true;
      this.emit('server', { kind: 'starttls' });
    }
  }

  private endResponse(status: string): void {
    const r = this.resp;
    this.resp = undefined;
    const header = r?.header ? mailHeaders(r.header.take()) : undefined;
    if (!r || r.downloads.length === 0) return;
    for (const d of r.downloads) {
      const content = d.content.take();
      const fields: Record<string, string> = { kind: 'download', messageNumber: String(r.fetch), item: d.item, size: String(d.content.total), status };
      if (r.uid !== undefined) fields.uid = r.uid;
      if (this.user !== undefined) fields.username = this.user;
      headerFields(/^(BODY\[\]|RFC822|BINARY\[\])/i.test(d.item) ? mailHeaders(content) : (header ?? { to: [] }), fields);
      if (d.content.truncated) fields.contentTruncated = 'true';
      this.emit('server', fields, content);
    }
  }
}

/**
 * The FETCH item a literal belongs to: the end of `s`, e.g. "BODY[HEADER.FIELDS (FROM)]<0>"
 * or "RFC822". Scanned backwards by hand: a regex anchored only at the end would go over the
 * line once per starting point.
 */
function fetchItem(s: string): string {
  let i = s.length;
  if (s[i - 1] === '>') i = s.lastIndexOf('<', i - 1);
  if (i > 0 && s[i - 1] === ']') i = s.lastIndexOf('[', i - 1);
  if (i < 0) return '';
  let j = i;
  while (j > 0 && /[A-Za-z0-9.]/.test(s[j - 1]!)) j--;
  return s.slice(j);
}

/** At most `max` IMAP arguments on one line: quoted strings (unescaped) and atoms. */
function tokens(s: string, max: number): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = max > 0 ? re.exec(s) : null; m && out.length < max; m = out.length < max ? re.exec(s) : null) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}
