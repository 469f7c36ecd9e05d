/**
 * Capture file reader for classic pcap and pcapng, whole (`parseCaptureFile`) or fed in
 * chunks of any size (`PcapReader`, for streams). The format is told by the first four
 * bytes. Pure: bytes in, packets out. Every failure is a CaptureFileError with a stable code
 * and the byte offset where it was found; after one, the reader refuses further input.
 */
import { CaptureFileError } from '../errors';
import { CaptureParser, ClassicPcapParser, Need } from './pcap-classic';
import { PcapngParser } from './pcapng';
import {
  CaptureFormat,
  CaptureLimits,
  CapturedPacket,
  DEFAULT_CAPTURE_LIMITS,
  PCAPNG_SHB,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_MODIFIED,
  PCAP_MAGIC_NANO,
} from './pcap-format';

const hex4 = (b: Uint8Array) => Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The parser for the format whose first four bytes are `head`. */
function detect(head: Uint8Array, limits: CaptureLimits): { format: CaptureFormat; parser: CaptureParser } {
  const v = new DataView(head.buffer, head.byteOffset, 4);
  const le = v.getUint32(0, true);
  const be = v.getUint32(0, false);
  if (le === PCAPNG_SHB) return { format: 'pcapng', parser: new PcapngParser(limits) };
  for (const m of [le, be]) {
    if (m === PCAP_MAGIC_MICRO || m === PCAP_MAGIC_NANO) return { format: 'pcap', parser: new ClassicPcapParser(limits) };
  }
  let why = `not a pcap or pcapng file (it starts with ${hex4(head)})`;
  if (le === PCAP_MAGIC_MODIFIED || be === PCAP_MAGIC_MODIFIED) why = '"modified" (Kuznetzov) pcap is not supported; convert it with `editcap -F pcap`';
  else if (head[0] === 0x1f && head[1] === 0x8b) why = 'the capture is gzip-compressed; decompress it first';
  throw new CaptureFileError('LIG_ERR_CAPTURE_BAD_FORMAT', why, 0);
}

/**
 * Incremental reader: `push` chunks as they arrive and get the packets they complete;
 * call `end` when the input is over, to learn whether it stopped inside a record.
 * Packet data are views into the pushed chunks (or into the reader's copy of a split record).
 */
export class PcapReader {
  /** Known after the first four bytes. */
  format: CaptureFormat | undefined;
  private readonly limits: CaptureLimits;
  private parser: CaptureParser | undefined;
  /** Unparsed bytes start at `buf[pos]`, which is byte `base + pos` of the input. */
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private base = 0;
  /** Chunks held back until the bytes the parser waits for have all arrived. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private waiting: Need = { need: 4, what: 'the file header' };
  private failed: CaptureFileError | undefined;

  constructor(limits: Partial<CaptureLimits> = {}) {
    this.limits = { ...DEFAULT_CAPTURE_LIMITS, ...limits };
  }

  /** Bytes of input consumed so far (all complete headers, records and blocks). */
  get consumed(): number {
    return this.base + this.pos;
  }

  push(chunk: Uint8Array): CapturedPacket[] {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return [];
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.buf.length - this.pos + this.heldBytes < this.waiting.need) return [];
    this.gather();
    const out: CapturedPacket[] = [];
    try {
      for (;;) {
        if (!this.parser) {
          if (this.buf.length - this.pos < 4) break;
          const d = detect(this.buf.subarray(this.pos), this.limits);
          this.format = d.format;
          this.parser = d.parser;
        }
        const r = this.parser.step(this.buf, this.view, this.pos, this.base);
        if ('need' in r) {
          this.waiting = r;
          break;
        }
        this.pos += r.size;
        if (r.packet) out.push(r.packet);
        this.waiting = { need: 0, what: '' };
      }
    } catch (e) {
      // Anything else would be a bug in this reader: let it surface (the fuzzer looks for it).
      if (e instanceof CaptureFileError) this.failed = e;
      throw e;
    }
    return out;
  }

  /** Declares the input complete; throws TRUNCATED if it stopped inside a header or record. */
  end(): void {
    if (this.failed) throw this.failed;
    this.gather();
    const left = this.buf.length - this.pos;
    if (!this.parser && left === 0) {
      throw new CaptureFileError('LIG_ERR_CAPTURE_TRUNCATED', 'the input is empty: no capture file header', 0);
    }
    if (left > 0 || !this.parser) {
      const { need, what } = this.waiting;
      throw new CaptureFileError('LIG_ERR_CAPTURE_TRUNCATED', `the input ends inside ${what} (${left} of ${need} bytes)`, this.consumed);
    }
  }

  /** Joins the unparsed tail and the held chunks into one buffer (no copy when there is no tail). */
  private gather(): void {
    if (this.held.length === 0) return;
    const tail = this.buf.length - this.pos;
    this.base += this.pos;
    if (tail === 0 && this.held.length === 1) {
      this.buf = this.held[0]!;
    } else {
      const joined = new Uint8Array(tail + this.heldBytes);
      joined.set(this.buf.subarray(this.pos), 0);
      let at = tail;
      for (const c of this.held) {
        joined.set(c, at);
        at += c.length;
      }
      this.buf = joined;
    }
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
    this.held = [];
    this.heldBytes = 0;
  }
}

/** A whole capture file, read at once. */
export interface CaptureFile {
  format: CaptureFormat;
  packets: CapturedPacket[];
}

/** Reads a complete capture; throws CaptureFileError on anything malformed or cut short. */
export function parseCaptureFile(bytes: Uint8Array, limits: Partial<CaptureLimits> = {}): CaptureFile {
  const r = new PcapReader(limits);
  const packets = r.push(bytes);
  r.end();
  return { format: r.format!, packets };
}
