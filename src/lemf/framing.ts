/**
 * One connection's byte stream cut into PDUs (PduFramer), keeping the bytes that do not make
 * a whole PDU yet, so that every received byte can be stored: the PDUs as they complete, and
 * at a framing failure or at the end of the connection the bytes left over. Pure.
 */
import { ReadLimits } from '../ber/constants';
import { LigError } from '../errors';
import { PduFramer } from '../etsi/stream';

export interface Framed {
  /** Whole PDUs completed, in order. */
  pdus: Buffer[];
  /** The framing broke: the bytes from the bad header on, and why. Nothing more can be framed. */
  bad?: { bytes: Buffer; error: LigError };
}

const EMPTY = new Uint8Array(0);

export class ConnectionFramer {
  private readonly framer: PduFramer;
  /** The framer's pending bytes, as the chunks (or their ends) they came in. */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** Set after a framing failure: later bytes are not framed. */
  broken = false;

  constructor(limits: ReadLimits) {
    this.framer = new PduFramer(limits);
  }

  push(chunk: Buffer): Framed {
    if (this.broken) return { pdus: [] };
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    let pdus: Buffer[] = [];
    try {
      pdus = this.framer.push(chunk);
      // a bad header right after the completed PDUs throws only on the next push: find it now
      if (pdus.length > 0 && this.framer.pending > 0) this.framer.push(EMPTY);
    } catch (e) {
      if (!(e instanceof LigError)) throw e;
      this.broken = true;
      return { pdus, bad: { bytes: this.takeTail(this.framer.pending), error: e } };
    }
    this.keepTail(this.framer.pending);
    return { pdus };
  }

  /** The bytes of an incomplete PDU the connection ended inside, if any (empties them). */
  rest(): Buffer | undefined {
    if (this.broken || this.framer.pending === 0) return undefined;
    const out = this.takeTail(this.framer.pending);
    this.broken = true;
    return out;
  }

  /** Keeps only the last `n` bytes of the tail. */
  private keepTail(n: number): void {
    let drop = this.tailBytes - n;
    while (drop > 0 && this.tail[0]!.length <= drop) {
      drop -= this.tail[0]!.length;
      this.tailBytes -= this.tail.shift()!.length;
    }
    if (drop > 0) {
      this.tail[0] = this.tail[0]!.subarray(drop);
      this.tailBytes -= drop;
    }
  }

  private takeTail(n: number): Buffer {
    this.keepTail(n);
    const out = Buffer.concat(this.tail);
    this.tail = [];
    this.tailBytes = 0;
    return out;
  }
}
