/**
 * Hostile input: whatever bytes come in, the reader and the schema decoder either return a
 * value or throw a `BerError` with a catalogued code and an offset inside the input. Never
 * a RangeError or TypeError, never a stack overflow, never a huge allocation or a hang.
 */
import { strict as assert } from 'node:assert';
import { BerError, ERROR_CODES } from '../../src/errors';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PDU_BYTES, ReadLimits } from '../../src/ber/constants';
import { decode } from '../../src/ber/decode';
import { encode } from '../../src/ber/encode';
import { frameLength, readElement, decodeInteger, decodeOid } from '../../src/ber/reader';
import {
  choice, enumerated, f, gtime, int, lazy, octets, oid, opt, printable, raw, roid, Schema, seq, seqOf,
} from '../../src/ber/schema';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A PS-PDU-shaped schema (TS 102 232-1 header and a CC payload), 8 levels deep. */
const NetworkIdentifier = seq('NetworkIdentifier', [f('operatorIdentifier', 0, octets(1, 16)), opt('networkElementIdentifier', 1, octets(1, 16))], true);
const CommunicationIdentifier = seq('CommunicationIdentifier', [
  f('networkIdentifier', 0, NetworkIdentifier),
  opt('communicationIdentityNumber', 1, int(0, 4294967295)),
  opt('deliveryCountryCode', 2, printable(2, 2)),
], true);
const PSHeader = seq('PSHeader', [
  f('li-psDomainId', 0, oid),
  f('lawfulInterceptionIdentifier', 1, octets(1, 25)),
  opt('authorizationCountryCode', 2, printable(2, 2)),
  f('communicationIdentifier', 3, CommunicationIdentifier),
  f('sequenceNumber', 4, int(0, 4294967295)),
  opt('timeStamp', 5, gtime),
  opt('timeStampQualifier', 7, enumerated({ unknown: 0, timeOfInterception: 1, timeOfMediation: 2 }, true)),
], true);
const IPCC = seq('IPCC', [f('iPCCObjId', 0, roid), f('iPCCContents', 1, choice('IPCCContents', [f('iPPackets', 0, octets())], true))]);
const CCPayload = seq('CCPayload', [
  opt('payloadDirection', 0, enumerated({ fromTarget: 0, toTarget: 1 }, true)),
  opt('timeStamp', 1, gtime),
  f('cCContents', 2, choice('CCContents', [f('iPCC', 5, IPCC)], true)),
], true);
const Payload = choice('Payload', [f('cCPayloadSequence', 1, seqOf(CCPayload)), f('hI1-Operation', 3, raw)], true);
const PSPDU = seq('PS-PDU', [f('pSHeader', 1, PSHeader), f('payload', 2, Payload)]);

const pduValue = {
  pSHeader: {
    'li-psDomainId': '0.4.0.2.2.5.1.40',
    lawfulInterceptionIdentifier: Buffer.from('TEST-LIID-1'),
    authorizationCountryCode: 'DE',
    communicationIdentifier: {
      networkIdentifier: { operatorIdentifier: Buffer.from('op'), networkElementIdentifier: Buffer.from('ne-1') },
      communicationIdentityNumber: 300,
      deliveryCountryCode: 'DE',
    },
    sequenceNumber: 2 ** 32 - 1,
    timeStamp: '20240102030405.123456Z',
    timeStampQualifier: 'timeOfInterception',
  },
  payload: {
    cCPayloadSequence: [
      { payloadDirection: 'toTarget', timeStamp: '20240102030405Z', cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: hex('45 00 00 1c 00 01 00 00 40 01 f9 8c c0 a8 00 01 c0 a8 00 02 08 00 f7 ff 00 00 00 00') } } } },
      { cCContents: { iPCC: { iPCCObjId: '5.3.20.2', iPCCContents: { iPPackets: Buffer.alloc(200, 0x61) } } } },
    ],
  },
};
const pdu = encode(PSPDU, pduValue);
const codes = new Set(Object.keys(ERROR_CODES));

/** Runs `fn`; returns the error code it threw (or 'ok'), failing on anything but a proper BerError. */
function outcome(input: Uint8Array, fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof BerError)) assert.fail(`untyped ${String(e)} for input ${Buffer.from(input.subarray(0, 256)).toString('hex')}${input.length > 256 ? '…' : ''}`);
    assert.ok(codes.has(e.code), `uncatalogued code ${e.code}`);
    if (e.offset !== undefined) assert.ok(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= input.length, `offset ${e.offset} outside the input: ${e.message}`);
    return e.code;
  }
}

/** Every entry point a receiver uses on untrusted bytes, including re-encoding what decoded. */
function attack(input: Uint8Array, counts?: Map<string, number>): void {
  const results = [
    outcome(input, () => readElement(input)),
    outcome(input, () => frameLength(input)),
    outcome(input, () => {
      const v = decode(PSPDU, input);
      outcome(input, () => encode(PSPDU, v)); // constraints may fail, but typed
    }),
  ];
  if (counts) for (const r of results) counts.set(r, (counts.get(r) ?? 0) + 1);
}

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `depth` SEQUENCEs inside each other, every header 5 bytes (30 83 LL LL LL), a NULL inside. */
function nested(depth: number): Buffer {
  const out = Buffer.alloc(depth * 5 + 2);
  for (let i = depth - 1, len = 2; i >= 0; i--, len += 5) {
    out[i * 5] = 0x30;
    out[i * 5 + 1] = 0x83;
    out.writeUIntBE(len, i * 5 + 2, 3);
  }
  out[depth * 5] = 0x05;
  return out;
}

describe('ber hostile input', () => {
  it('the realistic PDU itself decodes and is 8 levels deep', () => {
    assert.deepEqual(decode(PSPDU, pdu), pduValue);
    let depth = 0;
    const walk = (el: ReturnType<typeof readElement>, d: number): void => {
      depth = Math.max(depth, d);
      el.children.forEach((c) => walk(c, d + 1));
    };
    walk(readElement(pdu), 1);
    assert.ok(depth >= 8, `depth ${depth}`);
  });

  it('a PDU cut at every byte is TRUNCATED for every entry point', () => {
    for (let n = 0; n < pdu.length; n++) {
      const cut = pdu.subarray(0, n);
      assert.equal(outcome(cut, () => readElement(cut)), 'LIG_ERR_BER_TRUNCATED', `cut at ${n}`);
      assert.equal(outcome(cut, () => decode(PSPDU, cut)), 'LIG_ERR_BER_TRUNCATED', `cut at ${n}`);
      assert.equal(frameLength(cut), undefined);
    }
  });

  it('an inner length running past its parent is TRUNCATED at that element', () => {
    let el = readElement(pdu);
    for (const i of [1, 0, 0, 2, 0, 1, 0]) el = el.children[i]!; // payload … iPCC.iPCCContents.iPPackets
    assert.equal(el.tag, 0);
    assert.equal(el.end - el.contentStart, 28);
    const bad = Buffer.from(pdu);
    bad[el.start + 1] = 29;
    assert.throws(() => readElement(bad), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_TRUNCATED' && e.offset === el.start);
    assert.throws(() => decode(PSPDU, bad), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_TRUNCATED' && e.offset === el.start);
  });

  it('every single bit flip gives a value or a typed error', () => {
    const counts = new Map<string, number>();
    for (let bit = 0; bit < pdu.length * 8; bit++) {
      const m = Buffer.from(pdu);
      m[bit >> 3]! ^= 0x80 >> (bit & 7);
      attack(m, counts);
    }
    // the flips reach both outcomes and several kinds of error: the test exercises the decoder
    assert.ok((counts.get('ok') ?? 0) > 0);
    assert.ok([...counts.keys()].filter((k) => k !== 'ok').length >= 4, JSON.stringify([...counts]));
  });

  it('every byte set to 00, 7F, 80 and FF gives a value or a typed error', () => {
    for (let i = 0; i < pdu.length; i++) {
      for (const b of [0x00, 0x7f, 0x80, 0xff]) {
        const m = Buffer.from(pdu);
        m[i] = b;
        attack(m);
      }
    }
  });

  it('random bytes and random splices give a value or a typed error', () => {
    const rnd = prng(7);
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rnd() * 64);
      const m = Buffer.alloc(len);
      for (let j = 0; j < len; j++) m[j] = Math.floor(rnd() * 256);
      attack(m);
      const at = Math.floor(rnd() * pdu.length);
      const spliced = Buffer.concat([pdu.subarray(0, at), m, pdu.subarray(at + Math.floor(rnd() * 8))]);
      attack(spliced);
    }
  });

  describe('2,000-deep nesting', () => {
    const deep = nested(2000);
    const Nest: Schema = seq('Nest', [opt('inner', undefined, lazy(() => Nest))]);

    it('the reader stops at the depth limit, at the offset of the first element too deep', () => {
      assert.equal(outcome(deep, () => readElement(deep)), 'LIG_ERR_BER_TOO_DEEP');
      assert.throws(() => readElement(deep), (e: unknown) => e instanceof BerError && e.offset === DEFAULT_MAX_DEPTH * 5);
      assert.equal(frameLength(deep), deep.length); // framing looks at the outer header only
    });

    it('the schema decoder stops the same way on a recursive type', () => {
      assert.equal(outcome(deep, () => decode(Nest, deep)), 'LIG_ERR_BER_TOO_DEEP');
    });

    it('a raised limit is honoured, and nesting within it is read', () => {
      const limits: ReadLimits = { maxDepth: 2001, maxPduBytes: DEFAULT_MAX_PDU_BYTES };
      let el = readElement(deep, 0, deep.length, limits);
      for (let d = 1; d < 2000; d++) el = el.children[0]!;
      assert.equal(el.children[0]!.tag, 5);
      assert.equal(outcome(deep, () => readElement(deep, 0, deep.length, { ...limits, maxDepth: 2000 })), 'LIG_ERR_BER_TOO_DEEP');
    });

    it('a limit raised beyond what the call stack holds still ends in TOO_DEEP, not a RangeError', () => {
      const limits: ReadLimits = { maxDepth: 1e9, maxPduBytes: 1e9 };
      for (const depth of [2500, 5000, 10_000, 20_000, 100_000]) {
        const input = nested(depth);
        input[input.length - 2] = 0x30; // an empty Nest innermost, so a deep enough stack decodes it all
        const read = outcome(input, () => readElement(input, 0, input.length, limits));
        const decoded = outcome(input, () => decode(Nest, input, 0, limits));
        assert.ok(['ok', 'LIG_ERR_BER_TOO_DEEP'].includes(read), read);
        assert.ok(['ok', 'LIG_ERR_BER_TOO_DEEP'].includes(decoded), decoded);
        if (depth === 100_000) assert.equal(decoded, 'LIG_ERR_BER_TOO_DEEP');
      }
    });
  });

  describe('lengths claiming 2^40 bytes', () => {
    const huge = hex('04 86 01 00 00 00 00 00 41 42 43');
    it('are TOO_LARGE under the default limit, before anything is allocated', () => {
      assert.equal(outcome(huge, () => readElement(huge)), 'LIG_ERR_BER_TOO_LARGE');
      assert.equal(outcome(huge, () => frameLength(huge)), 'LIG_ERR_BER_TOO_LARGE');
      assert.equal(outcome(huge, () => decode(PSPDU, huge)), 'LIG_ERR_BER_TOO_LARGE');
      const inner = Buffer.concat([hex('30 0b'), huge]);
      assert.throws(() => readElement(inner), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_TOO_LARGE' && e.offset === 2);
    });

    it('are TRUNCATED (or pending, for framing) when the limit is lifted', () => {
      const open: ReadLimits = { maxDepth: 8, maxPduBytes: Number.MAX_SAFE_INTEGER };
      assert.equal(outcome(huge, () => readElement(huge, 0, huge.length, open)), 'LIG_ERR_BER_TRUNCATED');
      assert.equal(frameLength(huge, 0, open), undefined);
      const beyond = hex('04 89 ff ff ff ff ff ff ff ff ff 00'); // 2^72: not even a safe integer
      assert.equal(outcome(beyond, () => readElement(beyond, 0, beyond.length, open)), 'LIG_ERR_BER_TOO_LARGE');
      assert.equal(outcome(beyond, () => frameLength(beyond, 0, open)), 'LIG_ERR_BER_TOO_LARGE');
    });

    it('126 length octets are read without trouble', () => {
      const long = Buffer.concat([hex('04 fe'), Buffer.alloc(125), hex('03 61 62 63')]);
      assert.equal(Buffer.from(readElement(long).content).toString(), 'abc');
    });
  });

  it('a high tag of 10 octets is BAD_TAG, at the element', () => {
    const t = hex('9f 81 81 81 81 81 81 81 81 81 01 00');
    assert.equal(outcome(t, () => readElement(t)), 'LIG_ERR_BER_BAD_TAG');
    assert.equal(outcome(t, () => frameLength(t)), 'LIG_ERR_BER_BAD_TAG');
    assert.equal(outcome(t, () => decode(PSPDU, t)), 'LIG_ERR_BER_BAD_TAG');
    const inside = Buffer.concat([hex('30 0e 05 00'), t]);
    assert.throws(() => readElement(inside), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_BAD_TAG' && e.offset === 4);
  });

  it('an INTEGER as large as a whole PDU is read in one pass (not quadratic time)', () => {
    const c = Buffer.alloc(DEFAULT_MAX_PDU_BYTES - 8);
    const rnd = prng(3);
    for (let i = 0; i < c.length; i++) c[i] = Math.floor(rnd() * 256);
    c[0] = 0xa5; // negative
    const el = readElement(Buffer.concat([hex('02 83'), Buffer.from([c.length >> 16, (c.length >> 8) & 0xff, c.length & 0xff]), c]));
    const v = decodeInteger(el.content);
    assert.equal(typeof v, 'bigint');
    assert.equal(v, BigInt('0x' + c.toString('hex')) - (1n << BigInt(c.length * 8)));
  });

  it('an OBJECT IDENTIFIER of a million arcs is read', () => {
    const c = Buffer.alloc(1_000_000, 0x01);
    const text = decodeOid(c);
    assert.equal(text.length, 1 + 2 + 2 * (1_000_000 - 1));
    assert.ok(text.startsWith('0.1.1.1'));
  });
});
