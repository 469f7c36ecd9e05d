/**
 * The far side of a delivery link in tests: collects the PS-PDUs it receives (decoded, in
 * order), lets the test wait for a given one, and answers keep-alives and PDU acknowledgement
 * requests when told to (echoing their sequence number), like an agency's collector.
 */
import { EventEmitter } from 'node:events';
import { PsPdu, decodePsPdu, ipccPdu, keepAlivePdu, keepAliveResponsePdu, pduAckResponsePdu, stampOf } from '../../src/etsi';
import { PduFramer } from '../../src/etsi/stream';

export interface Received {
  bytes: Buffer;
  pdu: PsPdu;
}

export interface ByteStream {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  write(bytes: Uint8Array): unknown;
}

export type TriKind = 'keep-alive' | 'keep-aliveResponse' | 'pDUAcknowledgementRequest' | 'pDUAcknowledgementResponse' | undefined;

/** The TRIPayload alternative of a PDU, if it is one of the four transport records. */
export function triKind(pdu: PsPdu): TriKind {
  const tri = (pdu.payload as { tRIPayload?: Record<string, unknown> }).tRIPayload;
  if (!tri) return undefined;
  for (const k of ['keep-alive', 'keep-aliveResponse', 'pDUAcknowledgementRequest', 'pDUAcknowledgementResponse'] as const) if (k in tri) return k;
  return undefined;
}

export const isRequest = (r: Received) => triKind(r.pdu) === 'keep-alive' || triKind(r.pdu) === 'pDUAcknowledgementRequest';
export const isData = (r: Received) => triKind(r.pdu) === undefined;
export const liidOf = (r: Received) => Buffer.from(r.pdu.pSHeader.lawfulInterceptionIdentifier as Uint8Array).toString();

const PEER_CTX = { liid: 'KEEPALIVE', operatorId: 'LEMF' };

export class PduPeer extends EventEmitter {
  readonly received: Received[] = [];
  /** Answer keep-alives and PDU acknowledgement requests as they arrive. */
  autoAnswer: boolean;
  private readonly framer = new PduFramer();

  constructor(
    readonly stream: ByteStream,
    opts: { autoAnswer?: boolean } = {},
  ) {
    super();
    this.autoAnswer = opts.autoAnswer ?? false;
    stream.on('data', (chunk) => {
      for (const bytes of this.framer.push(chunk)) {
        const r = { bytes, pdu: decodePsPdu(bytes) };
        this.received.push(r);
        if (this.autoAnswer) this.answer(r);
        this.emit('pdu', r);
      }
    });
  }

  /** Waits for the first PDU at or after position `from` of `received` that matches. */
  waitFor(match: (r: Received) => boolean, from = 0): Promise<Received> {
    for (let i = from; i < this.received.length; i++) if (match(this.received[i]!)) return Promise.resolve(this.received[i]!);
    return new Promise((resolve) => {
      const on = (r: Received) => {
        if (this.received.indexOf(r) >= from && match(r)) {
          this.off('pdu', on);
          resolve(r);
        }
      };
      this.on('pdu', on);
    });
  }

  /** Waits until `n` PDUs matching have been received (in all). */
  async waitForCount(n: number, match: (r: Received) => boolean = () => true): Promise<Received[]> {
    for (;;) {
      const got = this.received.filter(match);
      if (got.length >= n) return got;
      await new Promise((resolve) => this.once('pdu', resolve));
    }
  }

  /** Sends the response a request calls for (keep-aliveResponse or pDUAcknowledgementResponse). */
  answer(r: Received, seq = r.pdu.pSHeader.sequenceNumber): void {
    const t = stampOf(new Date());
    const kind = triKind(r.pdu);
    if (kind === 'keep-alive') this.stream.write(keepAliveResponsePdu(PEER_CTX, seq, t));
    else if (kind === 'pDUAcknowledgementRequest') this.stream.write(pduAckResponsePdu(PEER_CTX, seq, t));
  }

  /** Sends a keep-alive of the peer's own. */
  keepAlive(seq: number): void {
    this.stream.write(keepAlivePdu(PEER_CTX, seq, stampOf(new Date())));
  }
}

/** The LIID of the records tests deliver: it must never show in a link's state or errors. */
export const RECORD_LIID = 'LIID-SECRET-7';

/** A handover record (an IPCC PS-PDU) whose sequenceNumber is `index`; `size` packet bytes. */
export function recordPdu(index: bigint | number, size = 40 + (Number(index) % 97)): Buffer {
  const packet = Buffer.alloc(size, Number(index) & 0xff);
  return ipccPdu({ liid: RECORD_LIID, operatorId: 'OPERATOR-1', cin: 1 }, Number(index), stampOf(new Date(Date.UTC(2024, 0, 1))), packet, 'fromTarget');
}

/** Records for indices first..last inclusive. */
export function recordPdus(first: number, last: number, size?: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = first; i <= last; i++) out.push(recordPdu(i, size));
  return out;
}

/** sequenceNumbers of the data PDUs (not transport records) received. */
export function dataSeqs(received: readonly Received[]): number[] {
  return received.filter(isData).map((r) => r.pdu.pSHeader.sequenceNumber);
}
