/**
 * BER writer: exact bytes for every primitive lig writes. Vectors are from X.690 (its
 * worked examples: lengths 38 and 201, OID 2.999.3, the BIT STRING of 8.6.4.2) and
 * computed by hand (two's complement, base-128); none is produced by the code under test.
 */
import { strict as assert } from 'node:assert';
import { BerError } from '../../src/errors';
import { TagClass, UNIVERSAL } from '../../src/ber/constants';
import {
  encodeBitStringContent,
  encodeBooleanContent,
  encodeIntegerContent,
  encodeLength,
  encodeOidContent,
  encodeRelativeOidContent,
  encodeTag,
  formatGeneralizedTime,
  lengthSize,
  sequence,
  tlv,
  universal,
  writeLength,
} from '../../src/ber/writer';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const same = (actual: Uint8Array, expectedHex: string) =>
  assert.equal(Buffer.from(actual).toString('hex'), hex(expectedHex).toString('hex'));

function throwsBer(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof BerError && e.code === code);
}

describe('ber writer', () => {
  describe('encodeTag', () => {
    it('puts the class in bits 8-7 and the constructed flag in bit 6', () => {
      same(encodeTag(TagClass.Universal, false, UNIVERSAL.INTEGER), '02');
      same(encodeTag(TagClass.Universal, true, UNIVERSAL.SEQUENCE), '30');
      same(encodeTag(TagClass.Application, false, 1), '41');
      same(encodeTag(TagClass.Application, true, 1), '61');
      same(encodeTag(TagClass.Context, false, 0), '80');
      same(encodeTag(TagClass.Context, true, 3), 'a3');
      same(encodeTag(TagClass.Private, false, 5), 'c5');
      same(encodeTag(TagClass.Private, true, 30), 'fe');
    });

    it('uses one octet up to 30 and the high-tag form from 31', () => {
      same(encodeTag(TagClass.Context, false, 30), '9e');
      same(encodeTag(TagClass.Context, false, 31), '9f 1f');
      same(encodeTag(TagClass.Context, true, 127), 'bf 7f');
      same(encodeTag(TagClass.Context, false, 128), '9f 81 00');
      same(encodeTag(TagClass.Application, false, 16383), '5f ff 7f');
      same(encodeTag(TagClass.Private, true, 16384), 'ff 81 80 00');
      same(encodeTag(TagClass.Universal, false, 2 ** 28 - 1), '1f ff ff ff 7f');
    });

    it('rejects negative and fractional tag numbers', () => {
      throwsBer(() => encodeTag(TagClass.Context, false, -1), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeTag(TagClass.Context, false, 1.5), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeTag(TagClass.Context, false, NaN), 'LIG_ERR_BER_RANGE');
    });
  });

  describe('lengths', () => {
    const vectors: Array<[number, string]> = [
      [0, '00'],
      [38, '26'], // X.690 8.1.3.4 example
      [127, '7f'],
      [128, '81 80'],
      [201, '81 c9'], // X.690 8.1.3.5 example
      [255, '81 ff'],
      [256, '82 01 00'],
      [65535, '82 ff ff'],
      [65536, '83 01 00 00'],
      [2 ** 24, '84 01 00 00 00'],
      [2 ** 32, '85 01 00 00 00 00'],
    ];
    for (const [len, want] of vectors) {
      it(`writes ${len} as ${want}`, () => {
        same(encodeLength(len), want);
        assert.equal(lengthSize(len), hex(want).length);
        const buf = Buffer.alloc(2 + hex(want).length, 0xee);
        assert.equal(writeLength(buf, 1, len), 1 + hex(want).length);
        same(buf, `ee ${want} ee`);
      });
    }

    it('rejects lengths that are not non-negative integers (0x80 would mean indefinite)', () => {
      throwsBer(() => encodeLength(-1), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeLength(1.5), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeLength(NaN), 'LIG_ERR_BER_RANGE');
    });
  });

  describe('tlv', () => {
    it('concatenates several contents under one header', () => {
      same(tlv(hex('a1'), hex('0102'), hex(''), hex('03')), 'a1 03 01 02 03');
      same(tlv(hex('9f 1f')), '9f 1f 00');
    });

    it('switches to the long length form at 128 contents octets', () => {
      const t = tlv(hex('04'), Buffer.alloc(128, 0xab));
      same(t.subarray(0, 3), '04 81 80');
      assert.equal(t.length, 131);
      assert.ok(t.subarray(3).every((b) => b === 0xab));
      const big = tlv(hex('04'), Buffer.alloc(65536, 1));
      same(big.subarray(0, 5), '04 83 01 00 00');
      assert.equal(big.length, 5 + 65536);
    });

    it('sequence() and universal() write universal headers', () => {
      same(sequence(universal(UNIVERSAL.NULL, hex('')), universal(UNIVERSAL.BOOLEAN, hex('ff'))), '30 05 05 00 01 01 ff');
      same(universal(UNIVERSAL.SET, hex(''), true), '31 00');
    });
  });

  describe('INTEGER', () => {
    const vectors: Array<[number | bigint, string]> = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '00 80'],
      [255, '00 ff'],
      [256, '01 00'],
      [-1, 'ff'],
      [-128, '80'],
      [-129, 'ff 7f'],
      [-256, 'ff 00'],
      [-257, 'fe ff'],
      [32767, '7f ff'],
      [32768, '00 80 00'],
      [-32768, '80 00'],
      [2 ** 31, '00 80 00 00 00'],
      [2 ** 32 - 1, '00 ff ff ff ff'],
      [2 ** 53 - 1, '1f ff ff ff ff ff ff'],
      [-(2 ** 53 - 1), 'e0 00 00 00 00 00 01'],
      [0n, '00'],
      [-1n, 'ff'],
      [2n ** 53n, '20 00 00 00 00 00 00'],
      [2n ** 63n - 1n, '7f ff ff ff ff ff ff ff'],
      [2n ** 63n, '00 80 00 00 00 00 00 00 00'],
      [-(2n ** 63n), '80 00 00 00 00 00 00 00'],
      [2n ** 64n - 1n, '00 ff ff ff ff ff ff ff ff'],
    ];
    for (const [v, want] of vectors) {
      it(`${typeof v === 'bigint' ? `${v}n` : v} → ${want}`, () => {
        same(encodeIntegerContent(v), want);
        same(universal(UNIVERSAL.INTEGER, encodeIntegerContent(v)), `02 ${hex(want).length.toString(16).padStart(2, '0')} ${want}`);
      });
    }

    it('gives the same bytes for a number and the equal bigint', () => {
      for (const v of [0, 1, -1, 127, 128, -129, 65535, 2 ** 40 + 3, -(2 ** 47)]) {
        assert.deepEqual(encodeIntegerContent(v), encodeIntegerContent(BigInt(v)));
      }
    });

    it('refuses numbers that are not safe integers', () => {
      throwsBer(() => encodeIntegerContent(2 ** 53), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeIntegerContent(0.5), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeIntegerContent(NaN), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeIntegerContent(Infinity), 'LIG_ERR_BER_RANGE');
    });

    it('ENUMERATED uses the same contents under tag 10', () => {
      same(universal(UNIVERSAL.ENUMERATED, encodeIntegerContent(0)), '0a 01 00');
      same(universal(UNIVERSAL.ENUMERATED, encodeIntegerContent(200)), '0a 02 00 c8');
    });
  });

  describe('BOOLEAN, NULL, BIT STRING', () => {
    it('BOOLEAN true is FF and false 00', () => {
      same(universal(UNIVERSAL.BOOLEAN, encodeBooleanContent(true)), '01 01 ff');
      same(universal(UNIVERSAL.BOOLEAN, encodeBooleanContent(false)), '01 01 00');
    });

    it('NULL has no contents', () => {
      same(universal(UNIVERSAL.NULL, Buffer.alloc(0)), '05 00');
    });

    it('BIT STRING carries its unused-bit count first (X.690 8.6.4.2 example)', () => {
      same(universal(UNIVERSAL.BIT_STRING, encodeBitStringContent(hex('6e 5d c0'), 6)), '03 04 06 6e 5d c0');
      same(encodeBitStringContent(hex(''), 0), '00');
      throwsBer(() => encodeBitStringContent(hex('ff'), 8), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeBitStringContent(hex(''), 1), 'LIG_ERR_BER_RANGE');
    });
  });

  describe('OBJECT IDENTIFIER and RELATIVE-OID', () => {
    it('writes the ETSI LI-PS-PDU module OID 0.4.0.2.2.5.1.40', () => {
      same(universal(UNIVERSAL.OBJECT_IDENTIFIER, encodeOidContent('0.4.0.2.2.5.1.40')), '06 07 04 00 02 02 05 01 28');
      same(encodeOidContent([0, 4, 0, 2, 2, 5, 1, 40]), '04 00 02 02 05 01 28');
    });

    it('folds a large second arc under root 2 (X.690 8.19.5: 2.999.3)', () => {
      same(encodeOidContent('2.999'), '88 37');
      same(encodeOidContent('2.999.3'), '88 37 03');
      same(encodeOidContent('2.0'), '50');
      same(encodeOidContent('1.39'), '4f');
    });

    it('writes arcs of 128 and more in several base-128 octets', () => {
      same(encodeOidContent('1.2.840.113549'), '2a 86 48 86 f7 0d');
      same(encodeOidContent('1.3.128.16383.16384'), '2b 81 00 ff 7f 81 80 00');
      same(encodeOidContent([1, 3, 2 ** 53 - 1]), '2b 8f ff ff ff ff ff ff 7f');
    });

    it('rejects impossible OBJECT IDENTIFIERs', () => {
      for (const bad of ['1', '3.1', '0.40', '1.40', '', '1..2', '1.2.', 'a.b', '1.-2', '1.2.99999999999999999']) {
        throwsBer(() => encodeOidContent(bad), 'LIG_ERR_BER_RANGE');
      }
      throwsBer(() => encodeOidContent([1]), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeOidContent([1, 2, -3]), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeOidContent([1, 2, 0.5]), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeOidContent([0.5, 3]), 'LIG_ERR_BER_RANGE'); // would fold to arc 23
      throwsBer(() => encodeOidContent([1, 2.5]), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeOidContent([-1, 45]), 'LIG_ERR_BER_RANGE');
    });

    it('writes RELATIVE-OID arcs without folding the first two (IPCC ObjId 5.3.20.2)', () => {
      same(universal(UNIVERSAL.RELATIVE_OID, encodeRelativeOidContent('5.3.20.2')), '0d 04 05 03 14 02');
      same(encodeRelativeOidContent('8571.3.2'), 'c2 7b 03 02'); // X.690 8.20.5 example
      same(encodeRelativeOidContent([128]), '81 00');
      throwsBer(() => encodeRelativeOidContent(''), 'LIG_ERR_BER_RANGE');
      throwsBer(() => encodeRelativeOidContent([]), 'LIG_ERR_BER_RANGE');
    });
  });

  describe('GeneralizedTime', () => {
    const t = (ms: number) => new Date(Date.UTC(2024, 0, 2, 3, 4, 5) + ms);

    it('writes whole seconds with no fraction', () => {
      assert.equal(formatGeneralizedTime(t(0)), '20240102030405Z');
      assert.equal(formatGeneralizedTime(new Date(Date.UTC(1999, 11, 31, 23, 59, 59))), '19991231235959Z');
    });

    it('writes milliseconds without trailing zeros', () => {
      assert.equal(formatGeneralizedTime(t(1)), '20240102030405.001Z');
      assert.equal(formatGeneralizedTime(t(120)), '20240102030405.12Z');
      assert.equal(formatGeneralizedTime(t(500)), '20240102030405.5Z');
      assert.equal(formatGeneralizedTime(t(999)), '20240102030405.999Z');
    });

    it('writes microseconds of the second when given, trimmed the same way', () => {
      assert.equal(formatGeneralizedTime(t(123), 123456), '20240102030405.123456Z');
      assert.equal(formatGeneralizedTime(t(123), 123450), '20240102030405.12345Z');
      assert.equal(formatGeneralizedTime(t(0), 5), '20240102030405.000005Z');
      assert.equal(formatGeneralizedTime(t(0), 0), '20240102030405Z');
      assert.equal(formatGeneralizedTime(t(0), 999999), '20240102030405.999999Z');
    });

    it('rejects what it cannot write as YYYYMMDDhhmmss[.f]Z', () => {
      throwsBer(() => formatGeneralizedTime(new Date(NaN)), 'LIG_ERR_BER_RANGE');
      throwsBer(() => formatGeneralizedTime(new Date(Date.UTC(10000, 0, 1))), 'LIG_ERR_BER_RANGE');
      throwsBer(() => formatGeneralizedTime(new Date(Date.UTC(-1, 0, 1))), 'LIG_ERR_BER_RANGE');
      throwsBer(() => formatGeneralizedTime(t(0), 1_000_000), 'LIG_ERR_BER_RANGE');
      throwsBer(() => formatGeneralizedTime(t(0), -1), 'LIG_ERR_BER_RANGE');
      throwsBer(() => formatGeneralizedTime(t(0), 1.5), 'LIG_ERR_BER_RANGE');
    });
  });
});
