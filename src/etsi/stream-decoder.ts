/**
 * Incremental stream decoding: `decodeStream` for input that arrives in chunks (a file read
 * piece by piece, stdin, a socket), with memory bounded by one PDU (limits.maxPduBytes) plus
 * one chunk. It yields the same records, at the same stream offsets, as `decodeStream` on
 * the whole input. Pure: bytes in, records out.
 */
import { DEFAULT_LIMITS, ReadLimits } from '../ber/constants';
import { frameLength } from '../ber/reader';
import { BerError, LigError } from '../errors';
import { PsPdu } from './ps-pdu';
import { decodePsPdu } from './stream';

/** One PDU of a stream: its place, and what it decoded to or why it did not. */
export interface StreamRecord {
  /** 0 for the first PDU of the stream. */
  index: number;
  /** Stream offset of the PDU's first byte. */
  offset: number;
  /** Bytes the PDU spans; for a framing failure, the rest of the stream. */
  length: number;
  /** The PDU's bytes, for whole PDUs (absent after a framing failure). */
  bytes?: Uint8Array;
  pdu?: PsPdu;
  /** Why it did not decode; a BerError's offset is a stream offset. */
  error?: LigError;
}

/**
 * Push chunks, take records out; call `end()` when the input ends. A PDU whose contents do
 * not decode is reported and the next one still decoded. When the framing breaks (a byte
 * that cannot start a PS-PDU, a malformed or over-limit length) there is no telling where
 * the next PDU starts: the rest of the stream is counted, not kept, and reported by `end()`
 * as one failed record, as is a stream that ends inside a PDU.
 */
export class StreamDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** Stream offset of buf[0]. */
  private base = 0;
  private total = 0;
  private index = 0;
  private broken: { offset: number; error: LigError } | undefined;

  constructor(private readonly limits: ReadLimits = DEFAULT_LIMITS) {}

  /** Adds bytes; returns the records of the PDUs they complete. */
  push(chunk: Uint8Array): StreamRecord[] {
    this.total += chunk.length;
    if (this.broken || chunk.length === 0) return [];
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: StreamRecord[] = [];
    let at = 0;
    while (at < this.buf.length) {
      let len: number | undefined;
      try {
        if (this.buf[at] !== 0x30) {
          throw new BerError('LIG_ERR_BER_UNEXPECTED', `a PS-PDU starts with SEQUENCE (0x30), found 0x${this.buf[at]!.toString(16)}`, at);
        }
        len = frameLength(this.buf, at, this.limits);
      } catch (e) {
        this.broken = { offset: this.base + at, error: rebase(e, this.base) };
        this.buf = Buffer.alloc(0);
        return out;
      }
      if (len === undefined) break;
      const bytes = this.buf.subarray(at, at + len);
      const rec: StreamRecord = { index: this.index++, offset: this.base + at, length: len, bytes };
      try {
        rec.pdu = decodePsPdu(bytes, this.limits);
      } catch (e) {
        rec.error = rebase(e, rec.offset);
      }
      out.push(rec);
      at += len;
    }
    this.buf = this.buf.subarray(at);
    this.base += at;
    return out;
  }

  /** The input has ended: the record of a broken or cut-off tail, if there is one. */
  end(): StreamRecord[] {
    if (this.broken) {
      const { offset, error } = this.broken;
      this.broken = undefined; // a second end() reports nothing more
      this.base = this.total;
      return [{ index: this.index++, offset, length: this.total - offset, error }];
    }
    if (this.buf.length === 0) return [];
    const rest = this.buf.length;
    const error = new BerError('LIG_ERR_BER_TRUNCATED', `the stream ends inside a PDU (${rest} bytes left)`, this.base);
    const rec: StreamRecord = { index: this.index++, offset: this.base, length: rest, error };
    this.base += rest;
    this.buf = Buffer.alloc(0);
    return [rec];
  }

  /** Bytes pushed so far. */
  get bytesSeen(): number {
    return this.total;
  }
}

/** Moves a BerError's offset from PDU- or buffer-relative to stream-relative. */
function rebase(e: unknown, base: number): LigError {
  if (e instanceof BerError) {
    if (base === 0 || e.offset === undefined) return e;
    return new BerError(e.code, e.message.replace(/ \(at byte \d+\)$/, ''), e.offset + base);
  }
  if (e instanceof LigError) return e;
  throw e; // anything untyped is a bug, not bad input
}
