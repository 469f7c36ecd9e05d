/**
 * The LEMF's pure parts: sequence checking, LIID file names, answers to transport records,
 * the packets of a CC record, and framing that keeps every byte.
 */
import { strict as assert } from 'node:assert';
import { MAX_SNAPLEN } from '../../src/capture/pcap-format';
import {
  RecordContext, Stamp, decodePsPdu, encodePsPdu, ipccPdu, keepAlivePdu, pduAckRequestPdu, psHeader, stampText, triPdu,
} from '../../src/etsi';
import { ConnectionFramer } from '../../src/lemf/framing';
import { DEFAULT_LIMITS } from '../../src/ber/constants';
import { MAX_OPEN_GAPS_PER_STREAM, SequenceTracker, answerFor, ccPackets, liidFileName, liidLabel } from '../../src/lemf';
import { prng } from '../fixtures/capture-golden';

const T: Stamp = { seconds: 1_700_000_000, micros: 250_001 };
const NOW: Stamp = { seconds: 1_800_000_000, micros: 7 };
const CTX: RecordContext = { liid: 'L', operatorId: 'OP', cin: 2 };

describe('lemf: SequenceTracker', () => {
  it('next, gap, late, duplicate', () => {
    const t = new SequenceTracker();
    const v = [0, 1, 1, 4, 2, 2, 3, 4, 5].map((n) => t.check('k', n).kind);
    assert.deepEqual(v, ['next', 'next', 'duplicate', 'gap', 'late', 'duplicate', 'late', 'duplicate', 'next']);
    assert.equal(t.missing(), 0);
  });

  it('reports a gap as the missing range, and a stream that starts late as a gap from 0', () => {
    const t = new SequenceTracker();
    assert.deepEqual(t.check('k', 3), { kind: 'gap', from: 0, to: 2 });
    assert.deepEqual(t.check('k', 10), { kind: 'gap', from: 4, to: 9 });
    assert.equal(t.missing(), 9);
    assert.equal(t.check('k', 6).kind, 'late');
    assert.deepEqual(t.toJSON(), { k: { next: 11, open: [[0, 2], [4, 5], [7, 9]] } });
  });

  it('streams are apart; reset starts one again; the state round-trips', () => {
    const t = new SequenceTracker();
    t.check('a', 0);
    t.check('b', 0);
    t.reset('a');
    assert.equal(t.check('a', 0).kind, 'next');
    assert.equal(t.check('b', 0).kind, 'duplicate');
    const again = new SequenceTracker(JSON.parse(JSON.stringify(t.toJSON())));
    assert.equal(again.check('a', 0).kind, 'duplicate');
    assert.equal(again.check('a', 1).kind, 'next');
  });

  it(`remembers at most ${MAX_OPEN_GAPS_PER_STREAM} open gaps per stream, forgetting the oldest`, () => {
    const t = new SequenceTracker();
    for (let i = 0; i <= MAX_OPEN_GAPS_PER_STREAM; i++) t.check('k', 2 * i + 1); // gaps at 0, 2, 4, ...
    assert.equal(t.toJSON().k!.open.length, MAX_OPEN_GAPS_PER_STREAM);
    assert.equal(t.check('k', 0).kind, 'duplicate', 'the oldest gap is forgotten');
    assert.equal(t.check('k', 2).kind, 'late');
  });
});

describe('lemf: LIID names', () => {
  it('file names keep safe characters and escape the rest, never a hidden or parent name', () => {
    assert.equal(liidFileName(Buffer.from('LIID-1_a.b')), 'LIID-1_a.b');
    assert.equal(liidFileName(Buffer.from('..')), '%2E.');
    assert.equal(liidFileName(Buffer.from('a/b\\c %')), 'a%2Fb%5Cc%20%25');
    assert.equal(liidFileName(Buffer.from([0, 0xff])), '%00%FF');
  });

  it('distinct LIIDs get distinct names (random LIIDs over a small alphabet)', () => {
    const rnd = prng(11);
    const alphabet = Buffer.from('a.%/2F-');
    const seen = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const liid = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => alphabet[Math.floor(rnd() * alphabet.length)]!));
      const name = liidFileName(liid);
      assert.match(name, /^[A-Za-z0-9_%-][A-Za-z0-9_.%-]*$/);
      const prev = seen.get(name);
      assert.ok(prev === undefined || prev === liid.toString('hex'), `${name} for two LIIDs`);
      seen.set(name, liid.toString('hex'));
    }
  });

  it('labels: printable LIIDs as text, others as hex', () => {
    assert.equal(liidLabel(Buffer.from('LIID 1')), 'LIID 1');
    assert.equal(liidLabel(Buffer.from([1, 2])), 'hex:0102');
  });
});

describe('lemf: answers', () => {
  it('a keep-alive with a GeneralizedTime gets one back, fresh; the rest of the header repeated', () => {
    const req = decodePsPdu(keepAlivePdu({ ...CTX, timestampFormat: 'generalized', interceptionPointId: 'IP1', authorizationCountryCode: 'DE' }, 9, T));
    const a = decodePsPdu(answerFor(req, NOW, true)!.bytes);
    assert.deepEqual(a, {
      pSHeader: { ...req.pSHeader, timeStamp: stampText(NOW) },
      payload: { tRIPayload: { 'keep-aliveResponse': null } },
    });
  });

  it('a header with no time stamp gets a microSecondTimeStamp', () => {
    const h = psHeader(CTX, 4, T);
    delete h.microSecondTimeStamp;
    const req = decodePsPdu(encodePsPdu({ pSHeader: h, payload: { tRIPayload: { pDUAcknowledgementRequest: null } } }));
    const a = decodePsPdu(answerFor(req, NOW, true)!.bytes);
    assert.deepEqual(a.pSHeader.microSecondTimeStamp, { seconds: NOW.seconds, microSeconds: NOW.micros });
    assert.deepEqual(a.payload, { tRIPayload: { pDUAcknowledgementResponse: null } });
  });

  it('no answer to data, to a keep-alive response, or (declined) to a PDU acknowledgement request', () => {
    assert.equal(answerFor(decodePsPdu(ipccPdu(CTX, 0, T, Buffer.from([0x45]), 'toTarget')), NOW, true), undefined);
    assert.equal(answerFor(decodePsPdu(triPdu(CTX, 0, T, { 'keep-aliveResponse': null })), NOW, true), undefined);
    assert.equal(answerFor(decodePsPdu(pduAckRequestPdu(CTX, 0, T)), NOW, false), undefined);
  });

  it('an option request without pDUAcknowledgement gets an empty response', () => {
    const a = answerFor(decodePsPdu(triPdu(CTX, 1, T, { optionRequest: { requestedOptions: [] } })), NOW, true)!;
    assert.deepEqual(decodePsPdu(a.bytes).payload, { tRIPayload: { optionResponse: { acceptedOptions: [], declinedOptions: [] } } });
  });
});

describe('lemf: ccPackets', () => {
  const packet = Buffer.from('4500001400000000401100000a0000010a000002', 'hex');

  it('times: the CC payload\'s own, else the header\'s microsecond or generalized time, else the fallback', () => {
    const payloadTime = { seconds: 1_600_000_000, microSeconds: 3 };
    const pdu = (h: Record<string, unknown>, own?: object) => decodePsPdu(encodePsPdu({
      pSHeader: { ...psHeader(CTX, 0, T), microSecondTimeStamp: undefined, ...h },
      payload: { cCPayloadSequence: [{ cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: packet } } }, ...(own ? { microSecondTimeStamp: own } : {}) }] },
    }));
    const times = (p: ReturnType<typeof pdu>) => ccPackets(p, NOW).map((x) => [x.sec, x.usec]);
    assert.deepEqual(times(pdu({ microSecondTimeStamp: { seconds: T.seconds, microSeconds: T.micros } }, payloadTime)), [[1_600_000_000, 3]]);
    assert.deepEqual(times(pdu({ microSecondTimeStamp: { seconds: T.seconds, microSeconds: T.micros } })), [[T.seconds, T.micros]]);
    assert.deepEqual(times(pdu({ timeStamp: '20231114221320.1234567Z' })), [[1_700_000_000, 123456]]);
    assert.deepEqual(times(pdu({ timeStamp: '20231114231320.5+0100' })), [[1_700_000_000, 500000]]);
    assert.deepEqual(times(pdu({ microSecondTimeStamp: { seconds: 2n ** 40n, microSeconds: 1 } })), [[NOW.seconds, NOW.micros]], 'beyond pcap: fallback');
    assert.deepEqual(times(pdu({})), [[NOW.seconds, NOW.micros]]);
  });

  it('cuts a packet beyond MAX_SNAPLEN, keeping its length', () => {
    const big = Buffer.alloc(MAX_SNAPLEN + 10, 1);
    const [p] = ccPackets(decodePsPdu(ipccPdu(CTX, 0, T, big, 'toTarget'), { ...DEFAULT_LIMITS, maxPduBytes: 1 << 21 }), NOW);
    assert.equal(p!.data.length, MAX_SNAPLEN);
    assert.equal(p!.origLen, big.length);
  });
});

describe('lemf: ConnectionFramer', () => {
  const pdus = [keepAlivePdu(CTX, 1, T), ipccPdu(CTX, 0, T, Buffer.alloc(300, 2), 'toTarget'), keepAlivePdu(CTX, 2, T)];
  const stream = Buffer.concat(pdus);

  it('fed byte by byte: the same PDUs, then the bad bytes whole', () => {
    const garbage = Buffer.from('0102030405', 'hex');
    const f = new ConnectionFramer(DEFAULT_LIMITS);
    const got: Buffer[] = [];
    let bad: Buffer | undefined;
    for (const b of Buffer.concat([stream, garbage])) {
      const r = f.push(Buffer.from([b]));
      got.push(...r.pdus);
      if (r.bad) bad = r.bad.bytes;
    }
    assert.deepEqual(got, pdus);
    assert.deepEqual(bad, garbage.subarray(0, 1), 'the bad header byte; later bytes come after the failure');
    assert.ok(f.broken);
  });

  it('at random split points: PDUs, then the bytes from the bad header on; or the cut tail at the end', () => {
    const rnd = prng(5);
    for (let round = 0; round < 200; round++) {
      const cut = Math.floor(rnd() * stream.length);
      const withBad = rnd() < 0.5;
      const input = withBad ? Buffer.concat([stream, Buffer.from('ff0011', 'hex')]) : stream.subarray(0, cut);
      const f = new ConnectionFramer(DEFAULT_LIMITS);
      const got: Buffer[] = [];
      const badBytes: Buffer[] = [];
      for (let at = 0; at < input.length;) {
        const n = 1 + Math.floor(rnd() * 120);
        const r = f.push(input.subarray(at, at + n));
        at += n;
        got.push(...r.pdus);
        if (r.bad) {
          badBytes.push(r.bad.bytes, input.subarray(at)); // the rest arrives after the failure
          break;
        }
      }
      const rest = f.rest();
      assert.ok(Buffer.concat([...got, ...badBytes, rest ?? Buffer.alloc(0)]).equals(input), `round ${round}: every byte accounted for`);
    }
  });
});
