/**
 * StreamDecoder: the same records as decodeStream on the whole input, whatever the chunking
 * (one byte at a time, random split points), for clean streams, a bad PDU in the middle, a
 * cut-off last PDU, broken framing and garbage.
 */
import { strict as assert } from 'node:assert';
import { BerError } from '../../src/errors';
import { RecordContext, Stamp, decodeStream, ipccPdu, ipiriPdu, ipAddress, keepAlivePdu } from '../../src/etsi';
import { StreamDecoder, StreamRecord } from '../../src/etsi/stream-decoder';

const CTX: RecordContext = { liid: 'LIID-7', operatorId: 'OP', networkElementId: 'NE-1', cin: 7 };
const T: Stamp = { seconds: 1_700_000_000, micros: 250_000 };
const PACKET = Buffer.from('4500001c000040004011000ac0000201c6336407d43100350008abcd', 'hex');

/** Three good PDUs: an IPIRI, an IPCC and a keep-alive. */
function pdus(): Buffer[] {
  return [
    ipiriPdu(CTX, 0, T, 'iRI-Begin', { accessEventType: 'sessionStart', targetUsername: 'u', internetAccessType: 'lAN', iPVersion: 'iPV4', targetIPAddress: ipAddress('192.0.2.9') }),
    ipccPdu(CTX, 1, T, PACKET, 'toTarget'),
    keepAlivePdu({ ...CTX, cin: undefined }, 2, T),
  ];
}

/** Small deterministic PRNG (mulberry32): every run tests the same split points. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function feed(buf: Buffer, cuts: number[]): StreamRecord[] {
  const d = new StreamDecoder();
  const out: StreamRecord[] = [];
  let at = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(...d.push(buf.subarray(at, c)));
    at = c;
  }
  out.push(...d.end());
  assert.equal(d.bytesSeen, buf.length);
  return out;
}

/** What a record says, comparable across both decoders. */
function view(r: { offset: number; length: number; pdu?: unknown; error?: Error }) {
  const e = r.error;
  return { offset: r.offset, length: r.length, pdu: r.pdu, error: e && { code: (e as BerError).code, offset: (e as BerError).offset, message: e.message } };
}

function assertSameAsDecodeStream(buf: Buffer): StreamRecord[] {
  const expected = [...decodeStream(buf)].map(view);
  const whole = feed(buf, []);
  assert.deepEqual(whole.map(view), expected);
  assert.deepEqual(whole.map((r) => r.index), expected.map((_, i) => i));
  const byByte = feed(buf, Array.from({ length: buf.length }, (_, i) => i));
  assert.deepEqual(byByte.map(view), expected);
  const rnd = prng(buf.length);
  for (let k = 0; k < 25; k++) {
    const cuts = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * buf.length)).sort((a, b) => a - b);
    assert.deepEqual(feed(buf, cuts).map(view), expected, `cuts ${cuts.join(',')}`);
  }
  return whole;
}

describe('etsi StreamDecoder', () => {
  it('decodes a clean stream exactly as decodeStream, however it is chunked', () => {
    const parts = pdus();
    const recs = assertSameAsDecodeStream(Buffer.concat(parts));
    assert.equal(recs.length, 3);
    assert.ok(recs.every((r) => r.pdu && !r.error));
    assert.deepEqual(recs.map((r) => r.offset), [0, parts[0]!.length, parts[0]!.length + parts[1]!.length]);
    assert.deepEqual(Buffer.from(recs[1]!.bytes!), parts[1]);
  });

  it('reports a bad PDU in the middle at its stream offset and decodes the next', () => {
    const parts = pdus();
    const bad = Buffer.from(parts[1]!);
    assert.equal(bad[2], 0xa1); // pSHeader [1]
    bad[2] = 0xa5; // a tag PS-PDU does not have
    const recs = assertSameAsDecodeStream(Buffer.concat([parts[0]!, bad, parts[2]!]));
    assert.equal(recs.length, 3);
    assert.ok(recs[0]!.pdu && recs[2]!.pdu);
    const e = recs[1]!.error as BerError;
    assert.equal(e.code, 'LIG_ERR_BER_UNEXPECTED');
    assert.equal(e.offset, parts[0]!.length + 2);
    assert.match(e.message, new RegExp(`\\(at byte ${parts[0]!.length + 2}\\)$`));
  });

  it('reports a cut-off last PDU as TRUNCATED, with the bytes left', () => {
    const parts = pdus();
    const cut = parts[2]!.subarray(0, parts[2]!.length - 5);
    const recs = assertSameAsDecodeStream(Buffer.concat([parts[0]!, parts[1]!, cut]));
    const last = recs[2]!;
    assert.equal(last.error?.code, 'LIG_ERR_BER_TRUNCATED');
    assert.equal(last.offset, parts[0]!.length + parts[1]!.length);
    assert.equal(last.length, cut.length);
  });

  it('after broken framing, reports the rest of the stream as one record', () => {
    const parts = pdus();
    const garbage = Buffer.alloc(10_000, 0x5a);
    const buf = Buffer.concat([parts[0]!, garbage, parts[1]!]);
    const recs = assertSameAsDecodeStream(buf);
    assert.equal(recs.length, 2);
    assert.equal(recs[1]!.error?.code, 'LIG_ERR_BER_UNEXPECTED');
    assert.equal(recs[1]!.offset, parts[0]!.length);
    assert.equal(recs[1]!.length, buf.length - parts[0]!.length);
    assert.equal(recs[1]!.bytes, undefined);
  });

  it('reports garbage from the first byte, and nothing for empty input', () => {
    const recs = assertSameAsDecodeStream(Buffer.from('hello, not BER', 'latin1'));
    assert.equal(recs.length, 1);
    assert.deepEqual([recs[0]!.offset, recs[0]!.length, recs[0]!.error?.code], [0, 14, 'LIG_ERR_BER_UNEXPECTED']);
    assert.deepEqual(feed(Buffer.alloc(0), []), []);
  });

  it('stops at maxPduBytes at the header, before holding the PDU', () => {
    const [, ipcc, keepAlive] = pdus();
    assert.ok(keepAlive!.length < ipcc!.length);
    const d = new StreamDecoder({ maxDepth: 64, maxPduBytes: keepAlive!.length }); // the IPCC is far larger
    const first = d.push(Buffer.concat([keepAlive!, ipcc!.subarray(0, 4)]));
    assert.equal(first.length, 1);
    assert.ok(first[0]!.pdu);
    assert.deepEqual(d.push(ipcc!.subarray(4)), []);
    const [rec, ...more] = d.end();
    assert.deepEqual(more, []);
    assert.equal(rec!.error?.code, 'LIG_ERR_BER_TOO_LARGE');
    assert.equal((rec!.error as BerError).offset, keepAlive!.length);
    assert.equal(rec!.length, ipcc!.length);
    assert.deepEqual(d.end(), []); // reported once
  });
});
