/**
 * What the LEMF does with each PDU it receives, once framed: store its bytes, decode it, check
 * its sequence number, write its record line and packets, and say what answer it calls for.
 * Synchronous: the writes are buffered in the OutputStore; the caller flushes, syncs and
 * sends the answers (see lemf.ts for the order).
 */
import { ReadLimits } from '../ber/constants';
import { LigError } from '../errors';
import { Stamp } from '../etsi/build';
import { hi1OperationName } from '../etsi/hi1';
import { toJsonValue } from '../etsi/json';
import { PsPdu } from '../etsi/ps-pdu';
import { decodePsPdu } from '../etsi/stream';
import { Answer, answerFor } from './answers';
import { ccPackets } from './cc-packets';
import { liidLabel } from './names';
import { SequenceKind, SequenceTracker, streamKey } from './sequence';
import { Counters, GapRecord, MAX_LISTED_GAPS } from './state';
import { Hi, OutputStore } from './store';

/** What became of one PDU (or of unframeable bytes), as the 'pdu' event reports it. */
export interface PduOutcome {
  hi: Hi;
  conn: number;
  /** Offset of the bytes in DIR/hi2.ber or DIR/hi3.ber. */
  offset: number;
  length: number;
  pdu?: PsPdu;
  error?: LigError;
  /** A sequence number seen before: not written to records.jsonl or the pcap. */
  duplicate?: boolean;
  gap?: { from: number; to: number };
  answer?: Answer;
}

export interface ReceiveOptions {
  ackPdus: boolean;
  limits: ReadLimits;
  now: () => Stamp;
}

const errorJson = (e: LigError) => ({ code: e.code, message: e.message });

export class Receiver {
  constructor(
    private readonly store: OutputStore,
    private readonly tracker: SequenceTracker,
    private readonly counters: Counters,
    private readonly opts: ReceiveOptions,
  ) {}

  /** One whole PDU as framed. */
  pdu(hi: Hi, conn: number, bytes: Buffer): PduOutcome {
    const offset = this.store.appendRaw(hi, bytes);
    const out: PduOutcome = { hi, conn, offset, length: bytes.length };
    this.counters.pdus++;
    let pdu: PsPdu;
    try {
      pdu = decodePsPdu(bytes, this.opts.limits);
    } catch (e) {
      if (!(e instanceof LigError)) throw e;
      return this.failed(out, e);
    }
    out.pdu = pdu;
    const h = pdu.pSHeader;
    const liid = Buffer.from(h.lawfulInterceptionIdentifier as Uint8Array);
    const cin = h.communicationIdentifier.communicationIdentityNumber;
    const payload = pdu.payload as Record<string, unknown>;
    const kind: SequenceKind | undefined =
      'iRIPayloadSequence' in payload ? 'IRI' : 'cCPayloadSequence' in payload ? 'CC' : 'hI1-Operation' in payload ? 'HI1' : undefined;
    if (kind) {
      const v = this.tracker.check(streamKey(liid.toString('hex'), cin, kind), h.sequenceNumber);
      if (v.kind === 'duplicate') {
        this.counters.duplicates++;
        out.duplicate = true;
        return out;
      }
      if (v.kind === 'late') this.counters.late++;
      if (v.kind === 'gap') {
        out.gap = { from: v.from, to: v.to };
        this.counters.gaps++;
        const g: GapRecord = { liid: liidLabel(liid), cin: cin ?? null, kind, from: v.from, to: v.to, hi, conn };
        if (this.counters.gapList.length < MAX_LISTED_GAPS) this.counters.gapList.push(g);
      }
      const counts = (this.counters.records[liid.toString('hex')] ??= { label: liidLabel(liid), iri: 0, cc: 0, ccPackets: 0 });
      if (kind === 'IRI') counts.iri++;
      else if (kind === 'HI1') {
        const op = hi1OperationName(payload['hI1-Operation']);
        const hi1 = (counts.hi1 ??= {});
        hi1[op] = (hi1[op] ?? 0) + 1;
      } else {
        counts.cc++;
        const packets = ccPackets(pdu, this.opts.now());
        counts.ccPackets += packets.length;
        this.store.appendPackets(liid, packets);
      }
    } else {
      const tri = payload.tRIPayload as Record<string, unknown> | undefined;
      // cINReset restarts the numbering of the CIN on the interface it came on: HI2 carries IRI, HI3 CC
      if (tri && 'cINReset' in tri) this.tracker.reset(streamKey(liid.toString('hex'), cin, hi === 'hi2' ? 'IRI' : 'CC'));
      const answer = answerFor(pdu, this.opts.now(), this.opts.ackPdus);
      if (answer) {
        out.answer = answer;
        if (answer.kind === 'keep-alive') this.counters.keepAlivesAnswered++;
        else if (answer.kind === 'pdu-ack') this.counters.pduAcksAnswered++;
        else this.counters.optionsAnswered++;
      }
    }
    this.store.appendRecord({ hi, conn, offset, pdu: toJsonValue(pdu) });
    return out;
  }

  /** Bytes that cannot be framed (a bad header and what follows it in the chunk). */
  unframed(hi: Hi, conn: number, bytes: Buffer, error: LigError): PduOutcome {
    const offset = this.store.appendRaw(hi, bytes);
    return this.failed({ hi, conn, offset, length: bytes.length }, error);
  }

  /** Bytes received after a framing failure: stored, nothing else. */
  raw(hi: Hi, bytes: Buffer): void {
    this.store.appendRaw(hi, bytes);
  }

  /** The incomplete PDU a connection ended inside. */
  truncated(hi: Hi, conn: number, bytes: Buffer, error: LigError): PduOutcome {
    const offset = this.store.appendRaw(hi, bytes);
    this.counters.truncated++;
    const out: PduOutcome = { hi, conn, offset, length: bytes.length, error };
    this.store.appendRecord({ hi, conn, offset, error: errorJson(error) });
    return out;
  }

  private failed(out: PduOutcome, error: LigError): PduOutcome {
    this.counters.decodeErrors++;
    out.error = error;
    this.store.appendRecord({ hi: out.hi, conn: out.conn, offset: out.offset, error: errorJson(error) });
    return out;
  }
}
