/**
 * A fixed number of octets gathered across the pieces a stream is read in: DNS over TCP's
 * length prefix and message, a TLS record header, a BitTorrent handshake. Pieces may be of
 * any size; what is gathered is a copy (the caller's buffers are not kept). Pure.
 */
export class Gather {
  readonly buf: Uint8Array;
  /** Octets gathered so far. */
  have = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  get full(): boolean {
    return this.have === this.buf.length;
  }

  /** Copies from `data[from]` as much as is still missing; returns where it stopped. */
  fill(data: Uint8Array, from: number): number {
    const n = Math.min(this.buf.length - this.have, data.length - from);
    this.buf.set(data.subarray(from, from + n), this.have);
    this.have += n;
    return from + n;
  }

  /** Starts over (the buffer is reused). */
  reset(): void {
    this.have = 0;
  }
}
