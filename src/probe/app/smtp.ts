/**
 * SMTP analyser (RFC 5321; PIPELINING RFC 2920, CHUNKING/BDAT RFC 3030, STARTTLS RFC 3207,
 * AUTH RFC 4954): one event per message sent, with its envelope and the message itself as
 * sent (after DATA, dot-unstuffed; or the BDAT chunks). Replies are paired with commands in
 * order, which pipelining keeps. After an accepted STARTTLS the session is encrypted: it is
 * reported and nothing more is read. Pure.
 *
 * Events (protocol "smtp"), fields:
 * - kind "message" (side of the bytes that completed it): `sender` (MAIL FROM, "" for the null
 *   path), `recipients` (every RCPT TO, comma-separated, at most MAX_SMTP_RECIPIENTS listed),
 *   `recipientCount` (all of them), `messageId`, `subject` (content) from the header, `size`
 *   (octets of the message), `status` ("ok" 2xx, "failed" 4xx/5xx, "unknown" when no reply was
 *   seen, "incomplete" when the message was cut), `reply` (the reply code), `helo`, `username`
 *   (AUTH) when seen, `contentTruncated` "true" when `content` holds less than the message.
 *   `content`: the message.
 * - kind "logon" (AUTH): `username` when the mechanism shows it (PLAIN, LOGIN), `mechanism`,
 *   `status` ("ok"/"failed"). The password is never read into a field or kept.
 * - kind "starttls": the session turned to TLS (`helo` when seen).
 *
 * Classification: envelope addresses, the Message-ID, HELO name and user name are addressing
 * (TS 102 232-2 puts them in the e-mail IRI); the subject and the message are content.
 */
import { ContentBuffer, DotBody, MailAnalyser, headerFields, mailHeaders, pathAddress } from './mail';
import { NO_EVENTS } from './outbox';
import { LineBuffer, clip, latin1, logonFields, saslUser, sniffPrefix, text } from './text';
import type { AppEvent, FlowSide, StreamAnalyser } from './types';

/** Longest command or reply line read (RFC 5321 §4.5.3.1 allows 512; extensions more). */
export const MAX_SMTP_LINE_BYTES = 4096;
/** Commands awaiting their reply; beyond, the oldest is forgotten (counted as truncated). */
export const MAX_SMTP_PENDING = 256;
/** Recipients listed per message (`recipientCount` counts them all). */
export const MAX_SMTP_RECIPIENTS = 1000;
/**
 * Messages kept while their reply is awaited (a client may pipeline several, and the server's
 * side may not be captured at all); beyond, the oldest is reported with status "unknown".
 */
export const MAX_SMTP_UNANSWERED = 4;

/** Sniffer: a 220 greeting from the server and, once the client speaks, EHLO or HELO. */
export function sniffSmtp(client: Uint8Array, server: Uint8Array): 'yes' | 'no' | 'more' {
  const c = client.length > 0 ? sniffPrefix(client, ['EHLO ', 'HELO ', 'LHLO ']) : 'more';
  const s = server.length > 0 ? sniffPrefix(server, ['220 ', '220-']) : 'more';
  if (c === 'no' || s === 'no') return 'no';
  return c === 'yes' ? 'yes' : 'more';
}

type Pending = 'greeting' | 'helo' | 'mail' | 'rcpt' | 'data' | 'bdat' | 'auth' | 'starttls' | 'other' | Message;

/** A message sent, from MAIL FROM on. */
interface Message {
  sender: string;
  recipients: string[];
  recipientCount: number;
  content: ContentBuffer;
  cut: boolean;
}

type ClientMode = 'commands' | 'data' | 'bdat' | 'auth' | 'stopped';

export class SmtpAnalyser extends MailAnalyser implements StreamAnalyser {
  readonly protocol = 'smtp';
  private readonly clientLines = new LineBuffer(MAX_SMTP_LINE_BYTES);
  private readonly serverLines = new LineBuffer(MAX_SMTP_LINE_BYTES);
  private mode: ClientMode = 'commands';
  private pending: Pending[] = ['greeting'];
  private helo: string | undefined;
  private username: string | undefined;
  private auth: { mechanism: string; step: number } | undefined;
  /** The transaction under way (MAIL FROM seen, its message not yet complete). */
  private txn: Message | undefined;
  private body: DotBody | undefined;
  private bdatLeft = 0;
  private bdatLast = false;

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    this.time = timeUs;
    if (this.stopped) return NO_EVENTS;
    if (side === 'server') {
      for (let off = 0; off < data.length && !this.stopped; ) {
        off = this.serverLines.take(data, off);
        if (this.serverLines.line) this.reply(this.serverLines.line, this.serverLines.cut);
      }
    } else this.client(data);
    return this.out.take();
  }

  onGap(side: FlowSide): void {
    if (this.stopped) return;
    this.counters.truncated++;
    if (side === 'server') {
      this.serverLines.reset();
      return;
    }
    this.clientLines.reset();
    if (this.txn && (this.mode === 'data' || this.mode === 'bdat')) this.txn.cut = true;
  }

  onEnd(timeUs: bigint): AppEvent[] {
    this.time = timeUs;
    // In the order they were sent: those awaiting a reply, then the one cut short.
    for (const p of this.pending) if (typeof p === 'object') this.emitMessage(p, 'unknown');
    this.pending = [];
    if (this.txn && (this.mode === 'data' || this.mode === 'bdat')) {
      this.counters.truncated++;
      this.emitMessage(this.txn, 'incomplete');
    }
    this.txn = undefined;
    return this.out.take();
  }

  private push(p: Pending): void {
    if (this.pending.length >= MAX_SMTP_PENDING) {
      const old = this.pending.shift()!;
      if (typeof old === 'object') this.emitMessage(old, 'unknown');
      this.counters.truncated++;
    }
    this.pending.push(p);
  }

  private client(data: Uint8Array): void {
    let off = 0;
    while (off < data.length && this.mode !== 'stopped') {
      if (this.mode === 'data') {
        off = this.body!.feed(data, off);
        if (this.body!.ended) this.endMessage();
        continue;
      }
      if (this.mode === 'bdat') {
        const n = Math.min(this.bdatLeft, data.length - off);
        this.txn?.content.add(data.subarray(off, off + n));
        off += n;
        this.bdatLeft -= n;
        if (this.bdatLeft === 0) {
          this.mode = 'commands';
          if (this.bdatLast) this.endMessage();
          else this.push('bdat');
        }
        continue;
      }
      // STARTTLS sent and the client already speaks TLS: the reply was not captured.
      if (off === 0 && this.clientLines.pending === 0 && this.pending.includes('starttls') && data[0] === 0x16 && data[1] === 0x03) return this.startTls();
      off = this.clientLines.take(data, off);
      const line = this.clientLines.line;
      if (!line) continue;
      if (this.clientLines.cut) this.counters.truncated++;
      if (this.mode === 'auth') this.saslResponse(line);
      else this.command(line);
    }
  }

  private command(line: Uint8Array): void {
    const l = latin1(line, MAX_SMTP_LINE_BYTES);
    const sp = l.indexOf(' ');
    const verb = (sp < 0 ? l : l.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : l.slice(sp + 1);
    switch (verb) {
      case 'EHLO':
      case 'HELO':
      case 'LHLO':
        this.helo = text(Buffer.from(arg.trim(), 'latin1'));
        return this.push('helo');
      case 'MAIL': {
        const m = /^FROM:(.*)$/i.exec(arg);
        const sender = m ? pathAddress(m[1]!) : undefined;
        if (sender === undefined) {
          this.counters.malformed++;
          return this.push('other');
        }
        this.txn = { sender, recipients: [], recipientCount: 0, content: new ContentBuffer(this.limits), cut: false };
        return this.push('mail');
      }
      case 'RCPT': {
        const m = /^TO:(.*)$/i.exec(arg);
        const rcpt = m ? pathAddress(m[1]!) : undefined;
        if (rcpt === undefined || !this.txn) {
          this.counters.malformed++;
          return this.push('other');
        }
        this.txn.recipientCount++;
        if (this.txn.recipients.length < MAX_SMTP_RECIPIENTS) this.txn.recipients.push(rcpt);
        else if (this.txn.recipientCount === MAX_SMTP_RECIPIENTS + 1) this.counters.truncated++;
        return this.push('rcpt');
      }
      case 'DATA':
        this.push('data');
        if (!this.txn) return;
        this.mode = 'data';
        this.body = new DotBody((b) => this.txn?.content.add(b));
        return;
      case 'BDAT': {
        const m = /^(\d{1,15})(\s+LAST)?\s*$/i.exec(arg);
        if (!m) {
          this.counters.malformed++;
          return this.push('other');
        }
        this.bdatLeft = Number(m[1]);
        this.bdatLast = m[2] !== undefined;
        if (this.bdatLeft > 0) this.mode = 'bdat';
        else if (this.bdatLast) this.endMessage();
        else this.push('bdat');
        return;
      }
      case 'RSET':
        this.txn = undefined;
        return this.push('other');
      case 'STARTTLS':
        return this.push('starttls');
      case 'AUTH': {
        const [mech = '', ir] = arg.trim().split(/\s+/);
        this.auth = { mechanism: mech.toUpperCase(), step: 0 };
        this.mode = 'auth';
        if (ir !== undefined) this.saslResponse(Buffer.from(ir, 'latin1'));
        return this.push('auth');
      }
      default:
        return this.push('other');
    }
  }

  /** A line of the AUTH exchange from the client: only the user name is taken. */
  private saslResponse(line: Uint8Array): void {
    const a = this.auth;
    if (!a) return;
    const s = latin1(line, MAX_SMTP_LINE_BYTES).trim();
    if (s === '*') return;
    if (a.step === 0) this.username = saslUser(a.mechanism, s) ?? this.username;
    a.step++;
  }

  /** DATA's terminator or the last BDAT chunk: the message waits for its reply. */
  private endMessage(): void {
    this.mode = 'commands';
    this.body = undefined;
    const m = this.txn;
    this.txn = undefined;
    if (!m) return this.push('other');
    const waiting = this.pending.filter((p) => typeof p === 'object');
    if (waiting.length >= MAX_SMTP_UNANSWERED) {
      const oldest = waiting[0] as Message;
      this.pending[this.pending.indexOf(oldest)] = 'other'; // its reply, when it comes, pairs with nothing
      this.emitMessage(oldest, 'unknown');
    }
    this.push(m);
  }

  private reply(line: Uint8Array, cut: boolean): void {
    if (cut) this.counters.truncated++;
    const m = /^(\d{3})([ -]|$)/.exec(latin1(line, 8));
    if (!m) {
      this.counters.malformed++;
      return;
    }
    if (m[2] === '-') return; // a multi-line reply goes on
    const code = Number(m[1]);
    const p = this.pending[0];
    if (p === undefined) return; // unsolicited (e.g. 421 on shutdown)
    if (p === 'auth' && code === 334) return; // a challenge: the exchange goes on
    this.pending.shift();
    if (typeof p === 'object') return this.emitMessage(p, code < 400 ? 'ok' : 'failed', m[1]);
    switch (p) {
      case 'data':
        // Not 354: no body follows, so what the client sends next are commands again.
        if (code !== 354 && this.mode === 'data' && this.txn && this.txn.content.total === 0) {
          this.mode = 'commands';
          this.body = undefined;
          this.txn = undefined;
        }
        return;
      case 'auth':
        this.mode = this.mode === 'auth' ? 'commands' : this.mode;
        this.logon(code);
        return;
      case 'starttls':
        if (code === 220) this.startTls();
        return;
      default:
        return;
    }
  }

  private logon(code: number): void {
    const fields = logonFields(this.auth?.mechanism ?? '', code >= 200 && code < 300, this.username);
    this.auth = undefined;
    this.emit('server', fields);
  }

  private startTls(): void {
    this.stopped = true;
    this.mode = 'stopped';
    const fields: Record<string, string> = { kind: 'starttls' };
    if (this.helo !== undefined) fields.helo = this.helo;
    this.emit('server', fields);
  }

  private emitMessage(m: Message, status: string, reply?: string): void {
    const content = m.content.take();
    const fields: Record<string, string> = {
      kind: 'message',
      sender: m.sender,
      recipients: clip(m.recipients.join(','), 64 * 1024),
      recipientCount: String(m.recipientCount),
      size: String(m.content.total),
      status,
    };
    headerFields(mailHeaders(content), fields, false);
    if (reply !== undefined) fields.reply = reply;
    if (this.helo !== undefined) fields.helo = this.helo;
    if (this.username !== undefined) fields.username = this.username;
    if (m.content.truncated || m.cut) fields.contentTruncated = 'true';
    this.emit(reply === undefined ? 'client' : 'server', fields, content);
  }
}
