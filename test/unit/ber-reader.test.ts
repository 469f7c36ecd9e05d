/**
 * BER reader: the writer's golden vectors read back, what real peers send (non-minimal
 * lengths, OpenLI's recorded streams), every error's code and byte offset, and stream
 * framing fed one byte at a time and at random split points.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerError } from '../../src/errors';
import { TagClass } from '../../src/ber/constants';
import {
  decodeBitString,
  decodeBoolean,
  decodeGeneralizedTime,
  decodeInteger,
  decodeNull,
  decodeOid,
  decodeRelativeOid,
  decodeString,
  frameLength,
  generalizedTimeToDate,
  readElement,
  readHeader,
} from '../../src/ber/reader';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Asserts that `fn` throws a BerError with this code and offset. */
function throwsAt(fn: () => unknown, code: string, offset: number | undefined): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BerError, `expected a BerError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.offset, offset, e.message);
    return true;
  });
}

/** Small deterministic PRNG (mulberry32), so every run tests the same split points. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('ber reader', () => {
  describe('readHeader', () => {
    const tags: Array<[string, TagClass, boolean, number]> = [
      ['02', TagClass.Universal, false, 2],
      ['30', TagClass.Universal, true, 16],
      ['61', TagClass.Application, true, 1],
      ['80', TagClass.Context, false, 0],
      ['a3', TagClass.Context, true, 3],
      ['c5', TagClass.Private, false, 5],
      ['fe', TagClass.Private, true, 30],
      ['9e', TagClass.Context, false, 30],
      ['9f 1f', TagClass.Context, false, 31],
      ['bf 7f', TagClass.Context, true, 127],
      ['9f 81 00', TagClass.Context, false, 128],
      ['5f ff 7f', TagClass.Application, false, 16383],
      ['ff 81 80 00', TagClass.Private, true, 16384],
      ['1f ff ff ff 7f', TagClass.Universal, false, 2 ** 28 - 1],
    ];
    for (const [id, cls, constructed, tag] of tags) {
      it(`reads identifier ${id}`, () => {
        const buf = Buffer.concat([hex(id), hex('01 aa')]);
        const h = readHeader(buf, 0);
        assert.deepEqual(h, { cls, constructed, tag, start: 0, contentStart: hex(id).length + 1, end: buf.length });
      });
    }

    const lengths: Array<[string, number]> = [
      ['00', 0],
      ['7f', 127],
      ['81 80', 128],
      ['81 ff', 255],
      ['82 01 00', 256],
      ['82 ff ff', 65535],
      ['83 01 00 00', 65536],
      ['84 01 00 00 00', 2 ** 24],
    ];
    for (const [octets, len] of lengths) {
      it(`reads length ${octets} as ${len}`, () => {
        const buf = Buffer.concat([hex('04'), hex(octets), Buffer.alloc(len)]);
        const h = readHeader(buf, 0, buf.length, { maxDepth: 4, maxPduBytes: 2 ** 25 });
        assert.equal(h.contentStart, 1 + hex(octets).length);
        assert.equal(h.end - h.contentStart, len);
      });
    }

    it('accepts non-minimal lengths, as OpenLI sends them', () => {
      for (const octets of ['05', '81 05', '82 00 05', '84 00 00 00 05', '8a 00 00 00 00 00 00 00 00 00 05']) {
        const buf = Buffer.concat([hex('04'), hex(octets), hex('01 02 03 04 05')]);
        const el = readElement(buf);
        assert.equal([...el.content].join(','), '1,2,3,4,5');
        assert.equal(el.end, buf.length);
      }
      // and inside a constructed element
      const el = readElement(hex('30 82 00 06 02 81 01 07 05 00'));
      assert.deepEqual(el.children.map((c) => [c.tag, [...c.content]]), [[2, [7]], [5, []]]);
    });

    it('reads at an offset, with offsets absolute in the input', () => {
      const h = readHeader(hex('ff ff 81 02 aa bb'), 2);
      assert.deepEqual(h, { cls: TagClass.Context, constructed: false, tag: 1, start: 2, contentStart: 4, end: 6 });
    });
  });

  describe('header errors carry code and offset', () => {
    it('end of input before an element', () => throwsAt(() => readHeader(hex(''), 0), 'LIG_ERR_BER_TRUNCATED', 0));
    it('end inside a high tag', () => {
      throwsAt(() => readHeader(hex('1f'), 0), 'LIG_ERR_BER_TRUNCATED', 1);
      throwsAt(() => readHeader(hex('1f 81'), 0), 'LIG_ERR_BER_TRUNCATED', 2);
    });
    it('end before the length', () => throwsAt(() => readHeader(hex('02'), 0), 'LIG_ERR_BER_TRUNCATED', 1));
    it('end inside a long length', () => throwsAt(() => readHeader(hex('02 82 01'), 0), 'LIG_ERR_BER_TRUNCATED', 2));
    it('contents past the end', () => throwsAt(() => readHeader(hex('02 05 01 02'), 0), 'LIG_ERR_BER_TRUNCATED', 0));
    it('indefinite length', () => {
      throwsAt(() => readHeader(hex('30 80 02 01 00 00 00'), 0), 'LIG_ERR_BER_BAD_LENGTH', 1);
      throwsAt(() => readElement(hex('30 80 02 01 00 00 00')), 'LIG_ERR_BER_BAD_LENGTH', 1);
    });
    it('reserved length octet FF', () => throwsAt(() => readHeader(hex('04 ff 00'), 0), 'LIG_ERR_BER_BAD_LENGTH', 1));
    it('tag number over 4 octets', () => {
      throwsAt(() => readHeader(hex('9f 81 81 81 81 01 00'), 0), 'LIG_ERR_BER_BAD_TAG', 0);
      throwsAt(() => readHeader(hex('00 9f 81 81 81 81 81 81 81 81 81 01 00'), 1), 'LIG_ERR_BER_BAD_TAG', 1);
    });
    it('element over maxPduBytes', () => {
      throwsAt(() => readHeader(hex('04 84 7f ff ff ff'), 0), 'LIG_ERR_BER_TOO_LARGE', 0);
      throwsAt(() => readHeader(hex('04 0a'), 0, 2, { maxDepth: 4, maxPduBytes: 9 }), 'LIG_ERR_BER_TOO_LARGE', 0);
      throwsAt(() => readHeader(hex('00 04 81 0a'), 1, 4, { maxDepth: 4, maxPduBytes: 9 }), 'LIG_ERR_BER_TOO_LARGE', 1);
    });
    it('a child running past its parent', () => {
      throwsAt(() => readElement(hex('30 03 04 05 00 00 00 00 00')), 'LIG_ERR_BER_TRUNCATED', 2);
    });
    it('a bad child deep inside: the offset is where it lies in the whole input', () => {
      throwsAt(() => readElement(hex('30 07 a1 05 02 01 05 02 80')), 'LIG_ERR_BER_BAD_LENGTH', 8);
    });
    it('nesting over maxDepth', () => {
      const buf = hex('30 06 30 04 30 02 05 00');
      assert.equal(readElement(buf, 0, buf.length, { maxDepth: 4, maxPduBytes: 100 }).children[0]!.children[0]!.children[0]!.tag, 5);
      throwsAt(() => readElement(buf, 0, buf.length, { maxDepth: 3, maxPduBytes: 100 }), 'LIG_ERR_BER_TOO_DEEP', 6);
    });
  });

  describe('readElement', () => {
    it('builds the tree with views on the contents', () => {
      const buf = hex('30 0b 80 01 05 a1 04 04 02 ab cd 05 00 42 00'); // trailing bytes are not part of it
      const el = readElement(buf);
      assert.equal(el.end, 13);
      assert.deepEqual(el.children.map((c) => [c.cls, c.constructed, c.tag, c.start, c.end]), [
        [TagClass.Context, false, 0, 2, 5],
        [TagClass.Context, true, 1, 5, 11],
        [TagClass.Universal, false, 5, 11, 13],
      ]);
      const inner = el.children[1]!.children[0]!;
      assert.equal(Buffer.from(inner.content).toString('hex'), 'abcd');
      assert.equal(inner.content.buffer, buf.buffer); // a view, not a copy
      assert.deepEqual(el.children[0]!.children, []);
    });
  });

  describe('primitive contents', () => {
    const ints: Array<[string, number | bigint]> = [
      ['00', 0], ['7f', 127], ['00 80', 128], ['00 ff', 255], ['01 00', 256], ['ff', -1], ['80', -128],
      ['ff 7f', -129], ['00 80 00 00 00', 2 ** 31], ['00 ff ff ff ff', 2 ** 32 - 1],
      ['1f ff ff ff ff ff ff', 2 ** 53 - 1], ['e0 00 00 00 00 00 01', -(2 ** 53 - 1)],
      ['80 00 00 00 00 00', -(2 ** 47)], ['7f ff ff ff ff ff', 2 ** 47 - 1],
      ['20 00 00 00 00 00 00', 2n ** 53n], ['df ff ff ff ff ff ff', -(2n ** 53n) - 1n],
      ['00 80 00 00 00 00 00 00 00', 2n ** 63n], ['80 00 00 00 00 00 00 00', -(2n ** 63n)],
      ['00 ff ff ff ff ff ff ff ff', 2n ** 64n - 1n],
      ['00 00 00 00 00 00 00 00 05', 5], ['ff ff ff ff ff ff ff ff fe', -2], // non-minimal, accepted
    ];
    for (const [c, want] of ints) {
      it(`INTEGER ${c} → ${typeof want === 'bigint' ? `${want}n` : want}`, () => assert.equal(decodeInteger(hex(c)), want));
    }

    it('INTEGER of no octets is BAD_VALUE at the given offset', () => throwsAt(() => decodeInteger(hex(''), 7), 'LIG_ERR_BER_BAD_VALUE', 7));

    it('BOOLEAN: any non-zero octet is true; exactly one octet', () => {
      assert.equal(decodeBoolean(hex('ff')), true);
      assert.equal(decodeBoolean(hex('01')), true);
      assert.equal(decodeBoolean(hex('00')), false);
      throwsAt(() => decodeBoolean(hex('00 00'), 3), 'LIG_ERR_BER_BAD_VALUE', 3);
      throwsAt(() => decodeBoolean(hex(''), 3), 'LIG_ERR_BER_BAD_VALUE', 3);
    });

    it('NULL has no contents', () => {
      assert.equal(decodeNull(hex('')), null);
      throwsAt(() => decodeNull(hex('00'), 2), 'LIG_ERR_BER_BAD_VALUE', 2);
    });

    it('OBJECT IDENTIFIER', () => {
      assert.equal(decodeOid(hex('04 00 02 02 05 01 28')), '0.4.0.2.2.5.1.40');
      assert.equal(decodeOid(hex('04 00 02 02 05 01 11 00')), '0.4.0.2.2.5.1.17.0'); // OpenLI's stray arc
      assert.equal(decodeOid(hex('88 37')), '2.999');
      assert.equal(decodeOid(hex('88 37 03')), '2.999.3');
      assert.equal(decodeOid(hex('2a 86 48 86 f7 0d')), '1.2.840.113549');
      assert.equal(decodeOid(hex('2b 81 00 ff 7f 81 80 00')), '1.3.128.16383.16384');
      assert.equal(decodeOid(hex('4f')), '1.39');
      assert.equal(decodeOid(hex('50')), '2.0');
      throwsAt(() => decodeOid(hex(''), 4), 'LIG_ERR_BER_BAD_VALUE', 4);
      throwsAt(() => decodeOid(hex('2a 86'), 4), 'LIG_ERR_BER_BAD_VALUE', 4);
      throwsAt(() => decodeOid(hex('2a ff ff ff ff ff ff ff ff 7f'), 4), 'LIG_ERR_BER_BAD_VALUE', 12);
    });

    it('RELATIVE-OID', () => {
      assert.equal(decodeRelativeOid(hex('05 03 14 02')), '5.3.20.2');
      assert.equal(decodeRelativeOid(hex('c2 7b 03 02')), '8571.3.2');
      throwsAt(() => decodeRelativeOid(hex('81'), 9), 'LIG_ERR_BER_BAD_VALUE', 9);
    });

    it('BIT STRING', () => {
      const b = decodeBitString(hex('06 6e 5d c0'));
      assert.equal(b.unusedBits, 6);
      assert.equal(Buffer.from(b.bytes).toString('hex'), '6e5dc0');
      assert.equal(decodeBitString(hex('00')).bytes.length, 0);
      throwsAt(() => decodeBitString(hex(''), 1), 'LIG_ERR_BER_BAD_VALUE', 1);
      throwsAt(() => decodeBitString(hex('08 ff'), 1), 'LIG_ERR_BER_BAD_VALUE', 1);
      throwsAt(() => decodeBitString(hex('01'), 1), 'LIG_ERR_BER_BAD_VALUE', 1);
    });

    it('strings are checked against their alphabet, offset at the bad byte', () => {
      assert.equal(decodeString(Buffer.from('Hi there (1+2=3)?'), 'printable'), 'Hi there (1+2=3)?');
      throwsAt(() => decodeString(Buffer.from('ab_c'), 'printable', 10), 'LIG_ERR_BER_BAD_VALUE', 12);
      assert.equal(decodeString(Buffer.from('a_b@\x00\x7f'), 'ia5'), 'a_b@\x00\x7f');
      throwsAt(() => decodeString(hex('41 80'), 'ia5', 10), 'LIG_ERR_BER_BAD_VALUE', 11);
      assert.equal(decodeString(Buffer.from('grüße ✓ 😀'), 'utf8'), 'grüße ✓ 😀');
      assert.equal(decodeString(Buffer.from('\uFFFD'), 'utf8'), '\uFFFD'); // a real replacement character
      throwsAt(() => decodeString(hex('41 ff'), 'utf8', 3), 'LIG_ERR_BER_BAD_VALUE', 3);
      throwsAt(() => decodeString(hex('c0 80'), 'utf8', 3), 'LIG_ERR_BER_BAD_VALUE', 3); // overlong NUL
      throwsAt(() => decodeString(hex('e2 9c'), 'utf8', 3), 'LIG_ERR_BER_BAD_VALUE', 3); // cut sequence
    });

    it('GeneralizedTime shape and instant', () => {
      for (const s of ['20240102030405Z', '20240102030405.12Z', '20240102030405,5Z', '2024010203Z', '202401020304', '20240102030405.123456+0130']) {
        assert.equal(decodeGeneralizedTime(Buffer.from(s)), s);
      }
      for (const s of ['2024010203040Z', '20240102030405.Z', '20240102030405Z ', '', 'x0240102030405Z', '20240102030405+01']) {
        throwsAt(() => decodeGeneralizedTime(Buffer.from(s), 6), 'LIG_ERR_BER_BAD_VALUE', 6);
      }
      assert.equal(generalizedTimeToDate('20240102030405Z').toISOString(), '2024-01-02T03:04:05.000Z');
      assert.equal(generalizedTimeToDate('20240102030405.12Z').toISOString(), '2024-01-02T03:04:05.120Z');
      assert.equal(generalizedTimeToDate('20240102030405.123999Z').toISOString(), '2024-01-02T03:04:05.123Z');
      assert.equal(generalizedTimeToDate('2024010203Z').toISOString(), '2024-01-02T03:00:00.000Z');
      assert.equal(generalizedTimeToDate('20240102030405+0130').toISOString(), '2024-01-02T01:34:05.000Z');
      assert.equal(generalizedTimeToDate('20240102030405-0200').toISOString(), '2024-01-02T05:04:05.000Z');
      for (let ms = 0; ms < 1000; ms++) {
        const frac = String(ms).padStart(3, '0');
        assert.equal(generalizedTimeToDate(`20240102030405.${frac}Z`).getUTCMilliseconds(), ms);
      }
      assert.ok(Number.isNaN(generalizedTimeToDate('garbage').getTime()));
    });
  });

  describe('frameLength', () => {
    /** A stream of elements with short, long, non-minimal lengths and high tags. */
    const pdus = [
      hex('30 03 02 01 05'),
      hex('05 00'),
      Buffer.concat([hex('30 82 01 04 04 82 01 00'), Buffer.alloc(256, 0x5a)]),
      hex('bf 81 00 84 00 00 00 03 80 01 ff'),
      Buffer.concat([hex('04 83 01 00 00'), Buffer.alloc(65536, 1)]),
      hex('9f 1f 00'),
    ];
    const stream = Buffer.concat(pdus);

    /** Feeds `stream` in the given chunks; returns the frames cut out by frameLength. */
    function frame(chunks: Buffer[]): Buffer[] {
      const frames: Buffer[] = [];
      let acc = Buffer.alloc(0);
      for (const chunk of chunks) {
        acc = Buffer.concat([acc, chunk]);
        for (;;) {
          const n = frameLength(acc);
          if (n === undefined) break;
          assert.ok(n <= acc.length);
          frames.push(acc.subarray(0, n));
          acc = acc.subarray(n);
        }
      }
      assert.equal(acc.length, 0, 'bytes left over');
      return frames;
    }

    it('returns undefined at every prefix and the exact size once complete', () => {
      for (const pdu of pdus) {
        for (let i = 0; i < pdu.length; i++) assert.equal(frameLength(pdu.subarray(0, i)), undefined, `prefix ${i}`);
        assert.equal(frameLength(pdu), pdu.length);
        assert.equal(frameLength(Buffer.concat([pdu, hex('30 05')])), pdu.length);
      }
    });

    it('frames a stream fed one byte at a time', () => {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
      assert.deepEqual(frame(chunks), pdus);
    });

    it('frames a stream split at random points', () => {
      for (let seed = 1; seed <= 50; seed++) {
        const rnd = prng(seed);
        const chunks: Buffer[] = [];
        for (let at = 0; at < stream.length;) {
          const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 3000));
          chunks.push(stream.subarray(at, at + n));
          at += n;
        }
        assert.deepEqual(frame(chunks), pdus, `seed ${seed}`);
      }
    });

    it('reads at an offset', () => {
      assert.equal(frameLength(hex('ff ff 30 03 02 01 05'), 2), 5);
      assert.equal(frameLength(hex('ff ff 30 03 02 01'), 2), undefined);
    });

    it('throws at once for headers that more bytes will not mend', () => {
      throwsAt(() => frameLength(hex('30 80')), 'LIG_ERR_BER_BAD_LENGTH', 1);
      throwsAt(() => frameLength(hex('30 ff')), 'LIG_ERR_BER_BAD_LENGTH', 1);
      const longTag = hex('9f 81 81 81 81 81 81 81 81 01 00');
      for (let i = 1; i < 5; i++) assert.equal(frameLength(longTag.subarray(0, i)), undefined);
      for (let i = 5; i <= longTag.length; i++) throwsAt(() => frameLength(longTag.subarray(0, i)), 'LIG_ERR_BER_BAD_TAG', 0);
      throwsAt(() => frameLength(hex('30 84 00 20 00')), 'LIG_ERR_BER_TOO_LARGE', 0); // at least 0x00200000 already
      assert.equal(frameLength(hex('30 84 00 0f ff')), undefined); // at most 0x000fffff: cannot tell yet
      throwsAt(() => frameLength(hex('30 84 00 20 00 00')), 'LIG_ERR_BER_TOO_LARGE', 0); // 2 MiB > 1 MiB
      throwsAt(() => frameLength(hex('30 84 ff ff ff')), 'LIG_ERR_BER_TOO_LARGE', 0); // at least 0xffffff00
      throwsAt(() => frameLength(hex('30 86 01 00 00 00 00 00')), 'LIG_ERR_BER_TOO_LARGE', 0); // 2^40
      throwsAt(() => frameLength(hex('30 0a'), 0, { maxDepth: 4, maxPduBytes: 9 }), 'LIG_ERR_BER_TOO_LARGE', 0);
      assert.equal(frameLength(hex('30 86 01 00 00 00 00 00'), 0, { maxDepth: 4, maxPduBytes: Number.MAX_SAFE_INTEGER }), undefined);
    });
  });

  describe('streams recorded from OpenLI (shared/reference/samples)', () => {
    const dir = path.resolve(__dirname, '../../../shared/reference/samples');
    for (const name of ['libtrace-etsi_10_pings_HI2.raw_tcp', 'libtrace-etsi_10_pings_HI3.raw_tcp', 'libtrace-etsi_file.test', 'libtrace-etsi_file_iri.test']) {
      it(`frames and reads every PDU of ${name}`, function () {
        const file = path.join(dir, name);
        if (!fs.existsSync(file)) this.skip(); // the reference tree is outside the repository
        const data = fs.readFileSync(file);
        let at = 0;
        let count = 0;
        let nonMinimal = 0;
        while (at < data.length) {
          const n = frameLength(data, at);
          assert.ok(n !== undefined, `incomplete PDU at ${at}`);
          for (let i = at; i < at + n; i++) assert.equal(frameLength(data.subarray(0, i), at), undefined);
          const el = readElement(data, at, at + n);
          assert.equal(el.end, at + n);
          assert.equal(el.tag, 16);
          nonMinimal += countNonMinimal(data, el);
          at += n;
          count++;
        }
        assert.ok(count >= 10, `${count} PDUs`);
        if (name.includes('10_pings')) assert.ok(nonMinimal > 0, 'these recordings are known to carry non-minimal lengths');
      });
    }
  });
});

/** Elements (in this tree) whose length octets are longer than the minimal form. */
function countNonMinimal(buf: Uint8Array, el: ReturnType<typeof readElement>): number {
  let idEnd = el.start + 1;
  if ((buf[el.start]! & 0x1f) === 0x1f) while (buf[idEnd++]! & 0x80);
  const len = el.end - el.contentStart;
  let minimal = 1;
  if (len >= 0x80) for (let v = len; v > 0; v = Math.floor(v / 256)) minimal++;
  const own = el.contentStart - idEnd > minimal ? 1 : 0;
  return own + el.children.reduce((n, c) => n + countNonMinimal(buf, c), 0);
}
