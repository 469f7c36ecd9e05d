/**
 * A streaming, bounded scanner for the XML of an XMPP stream (RFC 6120 §11: no DTD, no
 * comments, no processing instructions beyond the declaration, no CDATA is expected): start
 * tags with their attributes, end tags, and the text of elements the caller asks for. It is
 * not a validating parser; it reads what the XMPP analyser needs and skips the rest. Fed in
 * pieces of any size; a tag longer than MAX_XML_TAG_BYTES or collected text longer than
 * MAX_XML_TEXT_BYTES is cut (and reported through `cut`). Pure.
 */

/** Longest start or end tag read (attributes included); the rest of a longer tag is skipped. */
export const MAX_XML_TAG_BYTES = 8192;
/** Longest text collected for one element; the rest is skipped. */
export const MAX_XML_TEXT_BYTES = 64 * 1024;

export interface XmlHandler {
  /** A start tag: its qualified name ("stream:stream"), attributes (entities decoded), and whether it closes itself. */
  start(name: string, attrs: Record<string, string>, selfClosing: boolean): void;
  end(name: string): void;
}

const LT = 0x3c;
const GT = 0x3e;

export class XmlScanner {
  /** Set by the handler (on a start tag) to collect the text up to the next tag. */
  collect = false;
  /** Counts tags or text cut by a limit, and tags that do not parse. */
  cut = 0;
  bad = 0;
  private inTag = false;
  private quote = 0;
  /** The tag's octets so far; grown as needed up to MAX_XML_TAG_BYTES. */
  private tag = new Uint8Array(256);
  private tagLen = 0;
  private tagCut = false;
  /** The last octet of the tag so far (a cut tag is self-closing when it is '/'). */
  private lastByte = 0;
  private textParts: Uint8Array[] = [];
  private textLen = 0;

  constructor(private readonly handler: XmlHandler) {}

  feed(data: Uint8Array): void {
    let pos = 0;
    while (pos < data.length) {
      if (!this.inTag) {
        const lt = data.indexOf(LT, pos);
        const end = lt < 0 ? data.length : lt;
        if (this.collect && end > pos) this.addText(data.subarray(pos, end));
        if (lt < 0) return;
        pos = lt + 1;
        this.inTag = true;
        this.tagLen = 0;
        this.tagCut = false;
        this.quote = 0;
        continue;
      }
      // Inside a tag: up to the '>' that is not inside a quoted attribute value.
      let i = pos;
      for (; i < data.length; i++) {
        const c = data[i]!;
        if (this.quote !== 0) {
          if (c === this.quote) this.quote = 0;
        } else if (c === 0x22 || c === 0x27) this.quote = c;
        else if (c === GT) break;
      }
      const n = Math.min(i - pos, MAX_XML_TAG_BYTES - this.tagLen);
      if (n < i - pos) this.tagCut = true;
      if (this.tagLen + n > this.tag.length) {
        const grown = new Uint8Array(Math.min(MAX_XML_TAG_BYTES, Math.max(this.tagLen + n, this.tag.length * 2)));
        grown.set(this.tag.subarray(0, this.tagLen));
        this.tag = grown;
      }
      this.tag.set(data.subarray(pos, pos + n), this.tagLen);
      this.tagLen += n;
      if (i > pos) this.lastByte = data[i - 1]!;
      if (i >= data.length) return;
      pos = i + 1;
      this.inTag = false;
      if (this.tagCut) {
        this.cut++;
        this.cutTag(this.lastByte === 0x2f);
        continue;
      }
      this.parseTag(Buffer.from(this.tag.buffer, 0, this.tagLen).toString('utf8'));
    }
  }

  /** The text collected since `collect` was set (entities decoded); collection stops. */
  takeText(): string {
    const s = decodeEntities(Buffer.concat(this.textParts).toString('utf8'));
    this.textParts = [];
    this.textLen = 0;
    this.collect = false;
    return s;
  }

  private addText(b: Uint8Array): void {
    const n = Math.min(b.length, MAX_XML_TEXT_BYTES - this.textLen);
    if (n < b.length) this.cut++;
    if (n <= 0) return;
    this.textParts.push(b.slice(0, n));
    this.textLen += n;
  }

  /**
   * A tag longer than the limit: its attributes are lost, but a start or end tag still counts,
   * so the nesting stays right.
   */
  private cutTag(selfClosing: boolean): void {
    const t = Buffer.from(this.tag.buffer, 0, Math.min(this.tagLen, 256)).toString('latin1');
    const m = /^(\/?)([^\s<>/=]+)/.exec(t);
    if (!m || t.startsWith('?') || t.startsWith('!')) return;
    if (m[1] === '/') return this.handler.end(m[2]!);
    this.handler.start(m[2]!, {}, selfClosing);
    if (selfClosing) this.handler.end(m[2]!);
  }

  private parseTag(t: string): void {
    if (t.startsWith('?') || t.startsWith('!')) return; // the XML declaration; anything else of the kind is ignored
    if (t.startsWith('/')) {
      const name = t.slice(1).trim();
      if (!/^[^\s<>/=]+$/.test(name)) this.bad++;
      else this.handler.end(name);
      return;
    }
    const m = /^([^\s<>/=]+)/.exec(t);
    if (!m) {
      this.bad++;
      return;
    }
    const selfClosing = t.endsWith('/');
    const attrs = attributes(t.slice(m[1]!.length, selfClosing ? t.length - 1 : t.length));
    this.handler.start(m[1]!, attrs, selfClosing);
    if (selfClosing) this.handler.end(m[1]!);
  }
}

const space = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * The attributes of a start tag (after its name): name = 'value' or "value", entities
 * decoded; anything else is skipped. A loop, one pass over the tag.
 */
function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    while (space(s[i])) i++;
    const start = i;
    while (i < s.length && !space(s[i]) && s[i] !== '=' && s[i] !== '/' && s[i] !== '>') i++;
    const name = s.slice(start, i);
    while (space(s[i])) i++;
    if (name === '' || s[i] !== '=') {
      if (i === start) i++;
      continue;
    }
    i++;
    while (space(s[i])) i++;
    const q = s[i];
    if (q !== '"' && q !== "'") continue;
    const end = s.indexOf(q, i + 1);
    if (end < 0) break;
    out[name] = decodeEntities(s.slice(i + 1, end));
    i = end + 1;
  }
  return out;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The five predefined entities and character references (XML 1.0 §4.1, §4.6). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9A-Fa-f]{1,6}|#\d{1,7}|lt|gt|amp|quot|apos);/g, (all, e: string) => {
    if (e[0] !== '#') return NAMED[e]!;
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : all;
  });
}
