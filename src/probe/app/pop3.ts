/**
 * POP3 analyser (RFC 1939; CAPA/PIPELINING RFC 2449, AUTH RFC 5034, STLS RFC 2595): logons
 * (USER/PASS, APOP, AUTH) with their outcome, and downloads (RETR, TOP) with the message.
 * Responses are paired with commands in order. Multi-line responses are dot-stuffed and end
 * with a line "."; after an accepted STLS nothing more is read. Pure.
 *
 * Events (protocol "pop3"), fields:
 * - kind "logon": `username` (USER, APOP, or the AUTH PLAIN/LOGIN identity), `mechanism`
 *   ("USER", "APOP", or the SASL mechanism), `status` ("ok"/"failed"). Passwords are never
 *   read into a field or kept.
 * - kind "download": `command` ("RETR"/"TOP"), `messageNumber`, `size` (octets, from
 *   "+OK n octets" when the server says, else as received), `username`, `status` "ok" (or
 *   "incomplete" when the connection ended inside it), and from the message's header:
 *   `messageId`, `sender`, `recipients`, `recipientCount`, `subject` (content);
 *   `contentTruncated` "true" when `content` holds less than the message. `content`: the
 *   message (dot-unstuffed).
 * - kind "starttls".
 */
import { ContentBuffer, DotBody, MailAnalyser, headerFields, mailHeaders } from './mail';
import { LineBuffer, latin1, logonFields, saslUser, sniffPrefix, text } from './text';
import type { AppEvent, FlowSide, StreamAnalyser } from './types';

/** Longest command or status line read (RFC 2449 allows 512 octets for a response). */
export const MAX_POP3_LINE_BYTES = 4096;
/** Commands awaiting their response; beyond, the oldest is forgotten (counted as truncated). */
export const MAX_POP3_PENDING = 256;

/** Sniffer: the server greets with "+OK". */
export function sniffPop3(_client: Uint8Array, server: Uint8Array): 'yes' | 'no' | 'more' {
  return server.length > 0 ? sniffPrefix(server, ['+OK']) : 'more';
}

interface Command {
  verb: string;
  arg: string;
  multiLine: boolean;
}

/** Commands whose +OK response is multi-line (LIST and UIDL only without an argument). */
function multiLine(verb: string, arg: string): boolean {
  if (verb === 'RETR' || verb === 'TOP' || verb === 'CAPA') return true;
  if (verb === 'LIST' || verb === 'UIDL') return arg.trim() === '';
  return verb === 'AUTH' && arg.trim() === ''; // the mechanism list, where servers give one
}

export class Pop3Analyser extends MailAnalyser implements StreamAnalyser {
  readonly protocol = 'pop3';
  private readonly clientLines = new LineBuffer(MAX_POP3_LINE_BYTES);
  private readonly serverLines = new LineBuffer(MAX_POP3_LINE_BYTES);
  private pending: Command[] = [{ verb: 'greeting', arg: '', multiLine: false }];
  private user: string | undefined;
  private auth: { mechanism: string; step: number } | undefined;
  /** A multi-line response being read, and the download it is (RETR/TOP). */
  private body: DotBody | undefined;
  private download: { cmd: Command; size: number | undefined; content: ContentBuffer; cut: boolean } | undefined;

  onData(side: FlowSide, data: Uint8Array, timeUs: bigint): AppEvent[] {
    this.time = timeUs;
    let off = 0;
    while (off < data.length && !this.stopped) {
      if (side === 'server' && this.body) {
        off = this.body.feed(data, off);
        if (this.body.ended) this.endBody('ok');
        continue;
      }
      const lines = side === 'server' ? this.serverLines : this.clientLines;
      off = lines.take(data, off);
      if (!lines.line) continue;
      if (lines.cut) this.counters.truncated++;
      if (side === 'server') this.response(lines.line);
      else if (this.auth) this.saslResponse(lines.line);
      else this.command(lines.line);
    }
    return this.out.take();
  }

  onGap(side: FlowSide): void {
    if (this.stopped) return;
    this.counters.truncated++;
    if (side === 'client') return this.clientLines.reset();
    this.serverLines.reset();
    if (this.download) this.download.cut = true;
  }

  onEnd(timeUs: bigint): AppEvent[] {
    this.time = timeUs;
    if (this.body) {
      this.counters.truncated++;
      this.endBody('incomplete');
    }
    return this.out.take();
  }

  private command(line: Uint8Array): void {
    const l = latin1(line, MAX_POP3_LINE_BYTES);
    const sp = l.indexOf(' ');
    const verb = (sp < 0 ? l : l.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : l.slice(sp + 1);
    if (verb === 'USER') this.user = text(Buffer.from(arg.trim(), 'latin1'));
    else if (verb === 'APOP') this.user = text(Buffer.from(arg.trim().split(/\s+/)[0] ?? '', 'latin1'));
    else if (verb === 'AUTH' && arg.trim() !== '') {
      const [mech = '', ir] = arg.trim().split(/\s+/);
      this.auth = { mechanism: mech.toUpperCase(), step: 0 };
      if (ir !== undefined) this.saslResponse(Buffer.from(ir, 'latin1'));
    }
    if (this.pending.length >= MAX_POP3_PENDING) {
      this.pending.shift();
      this.counters.truncated++;
    }
    // The password (PASS's argument) is not kept: only the verb is.
    this.pending.push({ verb, arg: verb === 'PASS' ? '' : arg, multiLine: multiLine(verb, arg) });
  }

  /** A line of the AUTH exchange from the client: only the user name is taken. */
  private saslResponse(line: Uint8Array): void {
    const a = this.auth!;
    const s = latin1(line, MAX_POP3_LINE_BYTES).trim();
    if (a.step === 0) this.user = saslUser(a.mechanism, s) ?? this.user;
    a.step++;
  }

  private response(line: Uint8Array): void {
    const ok = line.length >= 3 && line[0] === 0x2b && line[1] === 0x4f && line[2] === 0x4b; // +OK
    const err = !ok && latin1(line, 4) === '-ERR';
    if (!ok && !err) {
      if (line[0] === 0x2b && this.auth) return; // "+ challenge" of an AUTH exchange
      this.counters.malformed++;
      return;
    }
    const cmd = this.pending.shift();
    if (!cmd) return;
    switch (cmd.verb) {
      case 'PASS':
      case 'APOP':
        this.logon(cmd.verb === 'PASS' ? 'USER' : 'APOP', ok);
        break;
      case 'AUTH':
        if (this.auth) {
          this.logon(this.auth.mechanism, ok);
          this.auth = undefined;
        }
        break;
      case 'STLS':
        if (ok) {
          this.stopped = true;
          this.emit('server', { kind: 'starttls' });
          return;
        }
        break;
      default:
        break;
    }
    if (!ok || !cmd.multiLine) return;
    if (cmd.verb === 'RETR' || cmd.verb === 'TOP') {
      const m = /^\+OK\s+(\d{1,15})\s+octets/i.exec(latin1(line, 64));
      const content = new ContentBuffer(this.limits);
      this.download = { cmd, size: m ? Number(m[1]) : undefined, content, cut: false };
      this.body = new DotBody((b) => content.add(b));
    } else this.body = new DotBody(undefined);
  }

  private logon(mechanism: string, ok: boolean): void {
    this.emit('server', logonFields(mechanism, ok, this.user));
  }

  private endBody(status: string): void {
    this.body = undefined;
    const d = this.download;
    this.download = undefined;
    if (!d) return;
    const content = d.content.take();
    const fields: Record<string, string> = {
      kind: 'download',
      command: d.cmd.verb,
      messageNumber: d.cmd.arg.trim().split(/\s+/)[0] ?? '',
      size: String(d.size ?? d.content.total),
      status,
    };
    if (this.user !== undefined) fields.username = this.user;
    headerFields(mailHeaders(content), fields);
    if (d.content.truncated || d.cut) fields.contentTruncated = 'true';
    this.emit('server', fields, content);
  }
}
