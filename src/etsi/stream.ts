/**
 * Handover streams: HI2 and HI3 carry back-to-back PS-PDUs on a TCP connection, with no
 * other framing than each PDU's own BER length. Pure: bytes in, PDUs out.
 */
import { DEFAULT_LIMITS, ReadLimits } from '../ber/constants';
import { decode } from '../ber/decode';
import { frameLength } from '../ber/reader';
import { BerError, LigError } from '../errors';
import { PS_PDU, PsPdu } from './ps-pdu';

/** Decodes one complete PS-PDU. Throws BerError (with offset) when it is not one. */
export function decodePsPdu(bytes: Uint8Array, limits: ReadLimits = DEFAULT_LIMITS): PsPdu {
  const len = frameLength(bytes, 0, limits);
  if (len === undefined) throw new BerError('LIG_ERR_BER_TRUNCATED', 'the PDU is incomplete', bytes.length);
  if (bytes[0] !== 0x30) throw new BerError('LIG_ERR_BER_UNEXPECTED', `a PS-PDU starts with SEQUENCE (0x30), found 0x${bytes[0]!.toString(16)}`, 0);
  if (len !== bytes.length) throw new BerError('LIG_ERR_BER_UNEXPECTED', `${bytes.length - len} bytes follow the PDU`, len);
  return decode(PS_PDU, bytes, 0, limits) as PsPdu;
}

/** One PDU of a stream: where it is, and what it decoded to or why it did not. */
export interface StreamEntry {
  offset: number;
  length: number;
  bytes: Uint8Array;
  pdu?: PsPdu;
  error?: LigError;
}

/**
 * Every PDU of a stream, in order. A PDU whose contents do not decode is reported with its
 * error and the next one is still decoded; when the framing itself breaks (a bad header,
 * or the stream ends inside a PDU), that is reported once and the walk ends, since there is
 * no telling where the next PDU starts.
 */
export function* decodeStream(buf: Uint8Array, limits: ReadLimits = DEFAULT_LIMITS): Generator<StreamEntry> {
  let at = 0;
  while (at < buf.length) {
    let len: number | undefined;
    try {
      if (buf[at] !== 0x30) throw new BerError('LIG_ERR_BER_UNEXPECTED', `a PS-PDU starts with SEQUENCE (0x30), found 0x${buf[at]!.toString(16)}`, at);
      len = frameLength(buf, at, limits);
      if (len === undefined) throw new BerError('LIG_ERR_BER_TRUNCATED', `the stream ends inside a PDU (${buf.length - at} bytes left)`, at);
    } catch (e) {
      // framing reads the whole stream: its offsets are stream offsets already
      yield { offset: at, length: buf.length - at, bytes: buf.subarray(at), error: asLigError(e, 0) };
      return;
    }
    const bytes = buf.subarray(at, at + len);
    try {
      yield { offset: at, length: len, bytes, pdu: decode(PS_PDU, bytes, 0, limits) as PsPdu };
    } catch (e) {
      yield { offset: at, length: len, bytes, error: asLigError(e, at) };
    }
    at += len;
  }
}

/** Rebases a PDU-relative error offset to the stream; anything untyped is a bug, re-thrown. */
function asLigError(e: unknown, base: number): LigError {
  if (e instanceof BerError) {
    if (base === 0 || e.offset === undefined) return e;
    return new BerError(e.code, e.message.replace(/ \(at byte \d+\)$/, ''), e.offset + base);
  }
  if (e instanceof LigError) return e;
  throw e;
}

/**
 * Incremental framing for a TCP connection: push chunks as they arrive, take whole PDUs
 * out. Memory is bounded by one PDU (limits.maxPduBytes) plus one chunk. A malformed or
 * over-limit header throws BerError (its offset a stream offset); the connection cannot be
 * resynchronised after that. No whole PDU is lost to it: when the chunk that reaches the bad
 * header also completed PDUs, push returns those and the next push throws. At the end of the
 * input, `pending` bytes mean the stream was cut; push an empty chunk first to have a bad
 * header among them thrown.
 */
export class PduFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Stream offset of buf[0]: the bytes already handed out as PDUs. */
  private consumed = 0;
  constructor(private readonly limits: ReadLimits = DEFAULT_LIMITS) {}

  /** Adds bytes; returns the PDUs completed by them (copies, safe to keep). */
  push(chunk: Uint8Array): Buffer[] {
    if (chunk.length > 0) this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    let at = 0;
    try {
      while (at < this.buf.length) {
        if (this.buf[at] !== 0x30) {
          throw new BerError('LIG_ERR_BER_UNEXPECTED', `a PS-PDU starts with SEQUENCE (0x30), found 0x${this.buf[at]!.toString(16)}`, at);
        }
        const len = frameLength(this.buf, at, this.limits);
        if (len === undefined) break;
        out.push(Buffer.from(this.buf.subarray(at, at + len)));
        at += len;
      }
    } catch (e) {
      if (out.length === 0) throw asLigError(e, this.consumed);
      // the PDUs before the bad header go out now; the bad header stays first in buf and throws next time
    }
    this.consumed += at;
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
    return out;
  }

  /** Bytes held that do not yet make a whole PDU. */
  get pending(): number {
    return this.buf.length;
  }
}
