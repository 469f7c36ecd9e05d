/**
 * What the mail analysers share (SMTP, POP3, IMAP): a dot-stuffed body reader (SMTP DATA,
 * RFC 5321 §4.5.2; POP3 multi-line responses, RFC 1939 §3), a bounded copy of a message's
 * octets, the header fields of a message (RFC 5322: Message-ID, Subject, From, To, Cc), and
 * the state every mail analyser keeps (MailAnalyser). Pure.
 */
import { EventOutbox } from './outbox';
import { clip, newCounters, text } from './text';
import type { AppCounters, FlowSide } from './types';

/** Default bound on the octets of one message kept as an event's content; beyond it the copy is cut. */
export const MAX_MAIL_CONTENT_BYTES = 8 * 1024 * 1024;
/** Octets at the start of a message searched for its header section. */
export const MAX_MAIL_HEADER_BYTES = 64 * 1024;
/** Addresses taken from one header (To, Cc). */
export const MAX_HEADER_ADDRESSES = 100;

/** Octets of content held by the analysers of one flow table, against a limit. */
export interface ContentBudget {
  used: number;
  readonly limit: number;
}

/** How much of a message the mail analysers keep as `content`. */
export interface ContentLimits {
  /** Octets of one message kept (MAX_MAIL_CONTENT_BYTES by default). */
  maxContentBytes: number;
  /** Shared by every analyser of a table, so that many flows together stay bounded too. */
  contentBudget?: ContentBudget;
}

export const DEFAULT_CONTENT_LIMITS: Readonly<ContentLimits> = Object.freeze({ maxContentBytes: MAX_MAIL_CONTENT_BYTES });

/**
 * A copy of a message's octets, at most `maxContentBytes` of them and no more than the shared
 * budget has room for; `total` counts them all. What it holds counts against the budget until
 * it is taken or released.
 */
export class ContentBuffer {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  private cut = false;
  total = 0;

  constructor(private readonly limits: ContentLimits) {}

  get truncated(): boolean {
    return this.cut;
  }

  add(b: Uint8Array): void {
    this.total += b.length;
    const budget = this.limits.contentBudget;
    const room = Math.min(this.limits.maxContentBytes - this.kept, budget ? budget.limit - budget.used : Infinity);
    const n = Math.max(0, Math.min(b.length, room));
    if (n < b.length) this.cut = true;
    if (n === 0) return;
    this.chunks.push(b.slice(0, n));
    this.kept += n;
    if (budget) budget.used += n;
  }

  /** The octets kept, as one array; the buffer is emptied and its budget released. */
  take(): Uint8Array {
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.release();
    return out;
  }

  /** Drops what is kept (the message will not be reported) and gives its budget back. */
  release(): void {
    if (this.limits.contentBudget) this.limits.contentBudget.used -= this.kept;
    this.chunks = [];
    this.kept = 0;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/**
 * Reads a dot-stuffed body up to its terminating line "." (CRLF . CRLF): a leading dot of a
 * line is removed (RFC 5321 §4.5.2). What remains goes to `sink` in runs; `ended` is set when
 * the terminator was read. A bare LF is taken as a line end too (some clients send it).
 */
export class DotBody {
  ended = false;
  private state: 'line-start' | 'in-line' | 'dot' | 'dot-cr' = 'line-start';

  constructor(private readonly sink: ((b: Uint8Array) => void) | undefined) {}

  /** Reads from `data[from]`; returns where it stopped (after the terminator, or the end of `data`). */
  feed(data: Uint8Array, from: number): number {
    let pos = from;
    while (pos < data.length && !this.ended) {
      const c = data[pos]!;
      switch (this.state) {
        case 'line-start':
          if (c === DOT) {
            this.state = 'dot';
            pos++;
          } else this.state = 'in-line';
          break;
        case 'dot':
          if (c === CR) {
            this.state = 'dot-cr';
            pos++;
          } else if (c === LF) {
            this.ended = true;
            pos++;
          } else this.state = 'in-line'; // a stuffed dot: dropped
          break;
        case 'dot-cr':
          if (c === LF) {
            this.ended = true;
            pos++;
          } else {
            this.sink?.(CR_ONLY);
            this.state = 'in-line';
          }
          break;
        case 'in-line': {
          const lf = data.indexOf(LF, pos);
          const end = lf < 0 ? data.length : lf + 1;
          this.sink?.(data.subarray(pos, end));
          pos = end;
          if (lf >= 0) this.state = 'line-start';
          break;
        }
      }
    }
    return pos;
  }
}

const CR_ONLY = Uint8Array.of(CR);

/** What a message's header section says. */
export interface MailHeaders {
  messageId?: string;
  subject?: string;
  from?: string;
  to: string[];
}

/** The header fields of `msg` (the start of an RFC 5322 message) that the events report. */
export function mailHeaders(msg: Uint8Array): MailHeaders {
  const head = msg.subarray(0, Math.min(msg.length, MAX_MAIL_HEADER_BYTES));
  const s = Buffer.from(head.buffer, head.byteOffset, head.length).toString('latin1');
  const end = s.search(/\r?\n\r?\n/);
  const section = end < 0 ? s : s.slice(0, end);
  const out: MailHeaders = { to: [] };
  // Unfold (RFC 5322 §2.2.3), then one field per line.
  for (const line of section.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'message-id' && out.messageId === undefined) out.messageId = clip(value);
    else if (name === 'subject' && out.subject === undefined) out.subject = text(Buffer.from(value, 'latin1'));
    else if (name === 'from' && out.from === undefined) out.from = addresses(value)[0];
    else if (name === 'to' || name === 'cc') for (const a of addresses(value)) if (out.to.length < MAX_HEADER_ADDRESSES) out.to.push(a);
  }
  return out;
}

/**
 * The addr-specs in an address list (RFC 5322 §3.4): every word, between the separators of
 * the syntax, that holds an "@" inside it. Split rather than matched with one regex, which
 * would backtrack quadratically on a long word without an "@".
 */
export function addresses(value: string): string[] {
  const out: string[] = [];
  for (const w of value.split(/[\s<>,;:"()]+/)) {
    const at = w.indexOf('@');
    if (at > 0 && at < w.length - 1) out.push(clip(w));
    if (out.length >= MAX_HEADER_ADDRESSES) break;
  }
  return out;
}

/** The address in an SMTP path argument ("FROM:<a@b> SIZE=1" → "a@b"; "<>" → ""). */
export function pathAddress(arg: string): string | undefined {
  const m = /^\s*<([^<>]*)>|^\s*([^\s<>]+)/.exec(arg);
  if (!m) return undefined;
  const a = (m[1] ?? m[2]!).replace(/^@[^:]*:/, ''); // a source route (RFC 5321 §4.1.2) is dropped
  return clip(a);
}

/** The header fields of a downloaded or sent message, as event fields (subject is content). */
export function headerFields(h: MailHeaders, fields: Record<string, string>, sender = true): void {
  if (h.messageId !== undefined) fields.messageId = h.messageId;
  if (h.subject !== undefined) fields.subject = h.subject;
  if (sender && h.from !== undefined) fields.sender = h.from;
  if (sender && h.to.length > 0) {
    fields.recipients = h.to.join(',');
    fields.recipientCount = String(h.to.length);
  }
}

/** The fields of mail events that are content: the subject (the message itself is `content`). */
export const MAIL_CONTENT_FIELDS: readonly string[] = Object.freeze(['subject']);

/**
 * The state the mail analysers (SMTP, POP3, IMAP) keep alike: their counters and content
 * limits, the events made and not yet returned, the capture time of the bytes being read,
 * and whether reading has stopped (after STARTTLS).
 */
export abstract class MailAnalyser {
  abstract readonly protocol: string;
  protected readonly out: EventOutbox;
  protected time = 0n;
  protected stopped = false;

  constructor(
    readonly counters: AppCounters = newCounters(),
    protected readonly limits: ContentLimits = DEFAULT_CONTENT_LIMITS,
  ) {
    this.out = new EventOutbox(counters);
  }

  /** An event of this protocol, at the time of the bytes being read; with `content`, a message (its subject is content). */
  protected emit(side: FlowSide, fields: Record<string, string>, content?: Uint8Array): void {
    const ev = { protocol: this.protocol, timeUs: this.time, side, fields };
    this.out.push(content === undefined ? ev : { ...ev, contentFields: MAIL_CONTENT_FIELDS, content });
  }
}
