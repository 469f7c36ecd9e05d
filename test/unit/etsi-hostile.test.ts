/**
 * Hostile input at PS-PDU level: every record kind cut at every byte, every single-bit flip,
 * 2,000-deep nesting inside a PS-PDU, lengths beyond every limit. decodePsPdu, decodeStream
 * and PduFramer may only ever answer with PDUs or with a LigError carrying a catalogued code
 * (never an untyped error, never a hang). PduFramer fed one byte at a time and at random split
 * points yields exactly the PDUs of the stream.
 */
import { strict as assert } from 'node:assert';
import { DEFAULT_LIMITS, DEFAULT_MAX_DEPTH, ReadLimits } from '../../src/ber/constants';
import { BerError, ERROR_CODES, LigError } from '../../src/errors';
import { PduFramer, StreamEntry, decodePsPdu, decodeStream } from '../../src/etsi';
import { everyKind } from '../helpers/etsi-records';
import { prng } from '../fixtures/capture-golden';

/** One PDU of every kind lig emits. */
const RECORDS = everyKind();
const STREAM = Buffer.concat(RECORDS.map(([, b]) => b));

/** Asserts `e` is a LigError whose code is in the catalogue (and, for BerError, an offset inside the input). */
function assertTyped(e: unknown, inputLength: number, what: string): asserts e is LigError {
  if (!(e instanceof LigError)) assert.fail(`${what}: untyped ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  assert.ok(e.code in ERROR_CODES, `${what}: unknown code ${e.code}`);
  if (e instanceof BerError && e.offset !== undefined) {
    assert.ok(e.offset >= 0 && e.offset <= inputLength, `${what}: offset ${e.offset} outside 0..${inputLength}`);
  }
}

/** decodePsPdu: a PDU or a typed error. Returns the error code, or undefined when it decoded. */
function tryPdu(buf: Uint8Array, what: string, limits?: ReadLimits): string | undefined {
  try {
    decodePsPdu(buf, limits);
    return undefined;
  } catch (e) {
    assertTyped(e, buf.length, `decodePsPdu ${what}`);
    return e.code;
  }
}

/** decodeStream: never throws; entries tile the input; every error typed. */
function tryStream(buf: Uint8Array, what: string, limits?: ReadLimits): StreamEntry[] {
  let entries: StreamEntry[] = [];
  try {
    entries = [...decodeStream(buf, limits)];
  } catch (e) {
    assert.fail(`decodeStream ${what} threw ${e instanceof Error ? e.message : String(e)}`);
  }
  let at = 0;
  for (const en of entries) {
    assert.equal(en.offset, at, `decodeStream ${what}: entries must tile the input`);
    assert.ok((en.pdu === undefined) !== (en.error === undefined), `decodeStream ${what}: a PDU or an error`);
    if (en.error) assertTyped(en.error, buf.length, `decodeStream ${what}`);
    at += en.length;
  }
  assert.equal(at, buf.length, `decodeStream ${what}: entries must cover the input`);
  return entries;
}

/** PduFramer over the whole input at once: PDUs plus what is pending are the input, or a typed error. */
function tryFramer(buf: Uint8Array, what: string, limits?: ReadLimits): Buffer[] | string {
  const fr = new PduFramer(limits);
  try {
    const out = fr.push(buf);
    assert.equal(out.reduce((n, b) => n + b.length, 0) + fr.pending, buf.length, `PduFramer ${what}: bytes lost`);
    assert.ok(Buffer.concat(out).equals(Buffer.from(buf.subarray(0, buf.length - fr.pending))), `PduFramer ${what}: bytes changed`);
    return out;
  } catch (e) {
    assertTyped(e, buf.length, `PduFramer ${what}`);
    return e.code;
  }
}

/** The definite-length TLV header for `len` content octets (test-side, not src/ber). */
function header(id: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([id, len]);
  const octets: number[] = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) octets.unshift(v & 0xff);
  return Buffer.from([id, 0x80 | octets.length, ...octets]);
}

describe('etsi hostile input (PS-PDU level)', () => {
  it('every record kind decodes cleanly to begin with', () => {
    for (const [name, b] of RECORDS) assert.equal(tryPdu(b, name), undefined, name);
    const entries = tryStream(STREAM, 'the whole stream');
    assert.equal(entries.length, RECORDS.length);
    assert.ok(entries.every((e) => e.pdu));
  });

  describe('truncated at every byte', () => {
    for (const [name, b] of RECORDS) {
      it(name, () => {
        for (let i = 0; i < b.length; i++) {
          const cut = b.subarray(0, i);
          const what = `${name} cut to ${i}/${b.length}`;
          assert.equal(tryPdu(cut, what), 'LIG_ERR_BER_TRUNCATED', what);
          const entries = tryStream(cut, what);
          if (i > 0) {
            assert.equal(entries.length, 1, what);
            assert.equal(entries[0]!.error?.code, 'LIG_ERR_BER_TRUNCATED', what);
          }
          const fr = new PduFramer();
          assert.deepEqual(fr.push(cut), [], what);
          assert.equal(fr.pending, i, what);
          // the same cut with the outer length made to fit: now the inside is what is short
          if (i > 2) {
            const content = b.subarray(b[1]! & 0x80 ? 2 + (b[1]! & 0x7f) : 2, i);
            const refit = Buffer.concat([header(0x30, content.length), content]);
            assert.notEqual(tryPdu(refit, `${what}, refitted`), undefined, `${what}, refitted: a cut PDU must not decode`);
            tryStream(refit, `${what}, refitted`);
            assert.equal((tryFramer(refit, `${what}, refitted`) as Buffer[]).length, 1);
          }
        }
      });
    }
  });

  describe('every single-bit flip', () => {
    for (const [name, b] of RECORDS) {
      it(name, () => {
        let decoded = 0;
        let rejected = 0;
        for (let bit = 0; bit < b.length * 8; bit++) {
          const x = Buffer.from(b);
          x[bit >> 3]! ^= 0x80 >> (bit & 7);
          const what = `${name} with bit ${bit} flipped`;
          if (tryPdu(x, what) === undefined) decoded++;
          else rejected++;
          tryStream(x, what);
          tryFramer(x, what);
          // and in the middle of a stream, between two good PDUs
          const s = Buffer.concat([RECORDS[0]![1], x, RECORDS[1]![1]]);
          const entries = tryStream(s, `${what}, mid-stream`);
          assert.ok(entries[0]!.pdu, `${what}: the PDU before it still decodes`);
        }
        // flips inside values (a digit, a payload octet) still decode; flips in tags and lengths do not
        assert.ok(decoded > 0 && rejected > 0, `${name}: ${decoded} decoded, ${rejected} rejected`);
      });
    }
  });

  describe('nesting 2,000 deep inside a PS-PDU', () => {
    const ka = RECORDS[0]![1];
    const pSHeader = ka.subarray(2, 2 + 2 + ka[3]!); // [1] pSHeader TLV of the keep-alive (short form)
    let inner = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 2000; i++) inner = Buffer.concat([header(i % 2 ? 0x30 : 0xa2, inner.length), inner]);
    const content = Buffer.concat([pSHeader, inner]);
    const deep = Buffer.concat([header(0x30, content.length), content]);

    it('stops at the depth limit with LIG_ERR_BER_TOO_DEEP', () => {
      assert.equal(tryPdu(deep, 'deep'), 'LIG_ERR_BER_TOO_DEEP');
      const entries = tryStream(Buffer.concat([deep, ka]), 'deep, then a keep-alive');
      assert.equal(entries[0]!.error?.code, 'LIG_ERR_BER_TOO_DEEP');
      assert.ok(entries[1]!.pdu, 'the next PDU is still decoded');
    });

    it('with the limit raised past it, fails on the schema, still typed', () => {
      const limits = { ...DEFAULT_LIMITS, maxDepth: 5000 };
      const code = tryPdu(deep, 'deep, limit 5000', limits);
      assert.ok(code !== undefined && code !== 'LIG_ERR_BER_TOO_DEEP', String(code));
    });

    it('is framed as one PDU (framing reads only the outer header)', () => {
      const fr = new PduFramer();
      const out = fr.push(Buffer.concat([deep, ka]));
      assert.equal(out.length, 2);
      assert.ok(out[0]!.equals(deep));
      assert.ok(DEFAULT_MAX_DEPTH < 2000);
    });
  });

  describe('oversize and impossible lengths', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['a 4-octet length of 4 GiB - 1', Buffer.from('3084ffffffff', 'hex'), 'LIG_ERR_BER_TOO_LARGE'],
      ['a 9-octet length', Buffer.from('3089010000000000000000', 'hex'), 'LIG_ERR_BER_TOO_LARGE'],
      ['a length one past the limit', Buffer.concat([Buffer.from('3083', 'hex'), Buffer.from([(DEFAULT_LIMITS.maxPduBytes + 1) >> 16, 0, 1])]), 'LIG_ERR_BER_TOO_LARGE'],
      ['the reserved length octet 0xFF', Buffer.from('30ff00', 'hex'), 'LIG_ERR_BER_BAD_LENGTH'],
      ['an indefinite length', Buffer.from('3080a1000000', 'hex'), 'LIG_ERR_BER_BAD_LENGTH'],
    ];
    for (const [name, b, code] of cases) {
      it(`${name}: ${code} from all three, before any buffering`, () => {
        assert.equal(tryPdu(b, name), code);
        const entries = tryStream(b, name);
        assert.equal(entries.length, 1);
        assert.equal(entries[0]!.error?.code, code);
        assert.equal(tryFramer(b, name), code);
        const fr = new PduFramer();
        assert.throws(() => { for (const byte of b) fr.push(Buffer.from([byte])); }, (e: unknown) => e instanceof BerError && e.code === code);
      });
    }

    it('a PDU over a lowered maxPduBytes is refused, and one under it accepted', () => {
      const ipcc = RECORDS[5]![1];
      const small: ReadLimits = { ...DEFAULT_LIMITS, maxPduBytes: ipcc.length - 4 };
      assert.equal(tryPdu(ipcc, 'ipcc, small limit', small), 'LIG_ERR_BER_TOO_LARGE');
      assert.equal(tryStream(ipcc, 'ipcc, small limit', small)[0]!.error?.code, 'LIG_ERR_BER_TOO_LARGE');
      assert.equal(tryFramer(ipcc, 'ipcc, small limit', small), 'LIG_ERR_BER_TOO_LARGE');
      const ka = RECORDS[0]![1];
      assert.equal(tryPdu(ka, 'keep-alive, small limit', small), undefined);
    });

    it('an inner length that overruns its parent is TRUNCATED, and the stream goes on', () => {
      const b = Buffer.from(RECORDS[5]![1]);
      const h = b[1]! & 0x80 ? 2 + (b[1]! & 0x7f) : 2; // the [1] pSHeader header follows the outer one
      assert.equal(b[h], 0xa1);
      b[h + 1] = 0x7f;
      assert.equal(tryPdu(b, 'overrun'), 'LIG_ERR_BER_TRUNCATED');
      const entries = tryStream(Buffer.concat([b, RECORDS[0]![1]]), 'overrun, then a keep-alive');
      assert.equal(entries[0]!.error?.code, 'LIG_ERR_BER_TRUNCATED');
      assert.ok(entries[1]!.pdu);
    });

    it('decodeStream gives an error after the first PDU its stream offset', () => {
      const ka = RECORDS[0]![1];
      const framing = tryStream(Buffer.concat([ka, Buffer.from('0500', 'hex')]), 'keep-alive, then a NULL')[1]!.error;
      assert.ok(framing instanceof BerError);
      assert.equal(framing.offset, ka.length);
      const bad = Buffer.from(ka);
      bad[2] = 0xa5; // [1] pSHeader retagged [5]
      const inner = tryStream(Buffer.concat([ka, bad]), 'keep-alive, then a retagged one')[1]!.error;
      assert.ok(inner instanceof BerError);
      assert.equal(inner.offset, ka.length + 2);
    });

    it('bytes after the PDU, or something other than a SEQUENCE, are refused by decodePsPdu', () => {
      assert.equal(tryPdu(Buffer.concat([RECORDS[0]![1], Buffer.from([0])]), 'trailing'), 'LIG_ERR_BER_UNEXPECTED');
      assert.equal(tryPdu(Buffer.from('a10100', 'hex'), 'not a SEQUENCE'), 'LIG_ERR_BER_UNEXPECTED');
      assert.equal(tryFramer(Buffer.from('0500', 'hex'), 'NULL for a PDU'), 'LIG_ERR_BER_UNEXPECTED');
    });
  });

  describe('PduFramer', () => {
    const expected = RECORDS.map(([, b]) => b.toString('hex'));

    it('fed one byte at a time yields exactly the PDUs of the stream', () => {
      const fr = new PduFramer();
      const out: Buffer[] = [];
      for (let i = 0; i < STREAM.length; i++) {
        const got = fr.push(STREAM.subarray(i, i + 1));
        out.push(...got);
        if (got.length) assert.equal(fr.pending, 0, 'a PDU is complete exactly at its last byte');
      }
      assert.deepEqual(out.map((b) => b.toString('hex')), expected);
      assert.equal(fr.pending, 0);
    });

    it('at random split points yields exactly the PDUs of the stream', () => {
      for (let seed = 1; seed <= 200; seed++) {
        const rnd = prng(seed);
        const fr = new PduFramer();
        const out: Buffer[] = [];
        for (let at = 0; at < STREAM.length;) {
          const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 300));
          out.push(...fr.push(STREAM.subarray(at, at + n)));
          at += n;
        }
        assert.deepEqual(out.map((b) => b.toString('hex')), expected, `seed ${seed}`);
        assert.equal(fr.pending, 0, `seed ${seed}`);
      }
    });

    it('loses no whole PDU to a bad header in the same chunk, and reports it at its stream offset', () => {
      const bad = Buffer.concat([STREAM, Buffer.from('a0020500', 'hex')]);
      const fr = new PduFramer();
      assert.deepEqual(fr.push(bad).map((b) => b.toString('hex')), expected, 'the good PDUs come out first');
      const again = (chunk: Buffer) => assert.throws(() => fr.push(chunk), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_UNEXPECTED' && e.offset === STREAM.length);
      again(Buffer.alloc(0)); // the end of input surfaces it
      again(Buffer.from('00', 'hex')); // and so does more input
      const byByte = new PduFramer();
      const out: Buffer[] = [];
      assert.throws(() => { for (const b of bad) out.push(...byByte.push(Buffer.from([b]))); }, (e: unknown) => e instanceof BerError && e.offset === STREAM.length);
      assert.equal(out.length, RECORDS.length);
    });

    it('hands out copies: a caller reusing its chunk buffer cannot change PDUs already framed', () => {
      const fr = new PduFramer();
      const chunk = Buffer.from(STREAM);
      const out = fr.push(chunk);
      chunk.fill(0);
      assert.deepEqual(out.map((b) => b.toString('hex')), expected);
    });
  });
});
