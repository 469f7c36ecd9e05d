/**
 * Schema-driven encoder and decoder over a small module that uses every kind of type:
 *
 *   Inner ::= SEQUENCE { a [0] INTEGER (0..255), b [1] OCTET STRING (SIZE (1..4)) OPTIONAL, ... }
 *   Alt   ::= CHOICE { num [0] INTEGER, txt [1] UTF8String, inner [2] Inner }
 *   Plain ::= CHOICE { n INTEGER, s PrintableString, ... }
 *   Tree  ::= SEQUENCE { label [0] IA5String (SIZE (1..8)), kids [1] SEQUENCE OF Tree OPTIONAL }
 *   Top   ::= SEQUENCE {
 *     version [0] INTEGER (1..10), id [1] OBJECT IDENTIFIER, rel [2] RELATIVE-OID OPTIONAL,
 *     flag [3] BOOLEAN OPTIONAL, kind [4] ENUMERATED { alpha(0), beta(1), ... },
 *     time [5] GeneralizedTime, alt [6] Alt, plain Plain, nested [7] Inner,
 *     items [8] SEQUENCE (SIZE (0..3)) OF Inner, tree [9] Tree OPTIONAL,
 *     payload [10] ABSTRACT-SYNTAX.&Type OPTIONAL, nothing [11] NULL OPTIONAL,
 *     bits [12] BIT STRING OPTIONAL, app [APPLICATION 3] INTEGER OPTIONAL, ... }
 *
 * The expected bytes are written out by hand, element by element.
 */
import { strict as assert } from 'node:assert';
import { BerError } from '../../src/errors';
import { TagClass } from '../../src/ber/constants';
import { decode, UNKNOWN } from '../../src/ber/decode';
import { encode } from '../../src/ber/encode';
import {
  bits, bool, choice, enumerated, f, gtime, ia5, int, lazy, nul, octets, oid, opt, printable, raw, roid, Schema, seq, seqOf, utf8,
} from '../../src/ber/schema';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const Inner = seq('Inner', [f('a', 0, int(0, 255)), opt('b', 1, octets(1, 4))], true);
const Alt = choice('Alt', [f('num', 0, int()), f('txt', 1, utf8()), f('inner', 2, Inner)]);
const Plain = choice('Plain', [f('n', undefined, int()), f('s', undefined, printable())], true);
const Tree: Schema = seq('Tree', [f('label', 0, ia5(1, 8)), opt('kids', 1, seqOf(lazy(() => Tree)))]);
const Top = seq('Top', [
  f('version', 0, int(1, 10)),
  f('id', 1, oid),
  opt('rel', 2, roid),
  opt('flag', 3, bool),
  f('kind', 4, enumerated({ alpha: 0, beta: 1 }, true)),
  f('time', 5, gtime),
  f('alt', 6, Alt),
  f('plain', undefined, Plain),
  f('nested', 7, Inner),
  f('items', 8, seqOf(Inner, 0, 3)),
  opt('tree', 9, lazy(() => Tree)),
  opt('payload', 10, raw),
  opt('nothing', 11, nul),
  opt('bits', 12, bits()),
  { name: 'app', tag: 3, cls: TagClass.Application, type: int(), optional: true },
], true);

const full = {
  version: 2,
  id: '0.4.0.2.2.5.1.40',
  rel: '5.3.20.2',
  flag: true,
  kind: 'beta',
  time: '20240102030405.5Z',
  alt: { inner: { a: 200 } },
  plain: { s: 'Hi' },
  nested: { a: 1, b: hex('dead') },
  items: [{ a: 0 }, { a: 255 }],
  tree: { label: 'r', kids: [{ label: 'x' }, { label: 'y', kids: [] }] },
  payload: hex('02 01 07'),
  nothing: null,
  bits: { bytes: hex('a0'), unusedBits: 5 },
  app: -1,
};

const fullBytes = hex([
  '30 6e',
  '80 01 02', // version
  '81 07 04 00 02 02 05 01 28', // id
  '82 04 05 03 14 02', // rel
  '83 01 ff', // flag
  '84 01 01', // kind beta
  '85 11 32 30 32 34 30 31 30 32 30 33 30 34 30 35 2e 35 5a', // time
  'a6 06 a2 04 80 02 00 c8', // alt: [6] EXPLICIT, then [2] IMPLICIT Inner { a 200 }
  '13 02 48 69', // plain: untagged, so PrintableString's own tag
  'a7 07 80 01 01 81 02 de ad', // nested: [7] IMPLICIT Inner
  'a8 0b 30 03 80 01 00 30 04 80 02 00 ff', // items
  'a9 11 80 01 72 a1 0c 30 03 80 01 78 30 05 80 01 79 a1 00', // tree, recursive
  'aa 03 02 01 07', // payload: open type, EXPLICIT
  '8b 00', // nothing
  '8c 02 05 a0', // bits
  '43 01 ff', // app: [APPLICATION 3] IMPLICIT INTEGER
].join(''));

const minimal = { version: 1, id: '2.999', kind: 'alpha', time: '20240102030405Z', alt: { num: -129 }, plain: { n: 5 }, nested: { a: 0 }, items: [] };
const minimalBytes = hex([
  '30 2b',
  '80 01 01',
  '81 02 88 37',
  '84 01 00',
  '85 0f 32 30 32 34 30 31 30 32 30 33 30 34 30 35 5a',
  'a6 04 80 02 ff 7f',
  '02 01 05',
  'a7 03 80 01 00',
  'a8 00',
].join(''));

/** Asserts that `fn` throws a BerError with this code whose message contains `text`. */
function throwsBer(fn: () => unknown, code: string, text?: string, offset?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BerError, `expected a BerError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (text !== undefined) assert.ok(e.message.includes(text), `"${e.message}" should mention "${text}"`);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    return true;
  });
}

describe('ber schema codec', () => {
  describe('exact bytes', () => {
    it('encodes every kind of type', () => {
      assert.equal(encode(Top, full).toString('hex'), fullBytes.toString('hex'));
    });

    it('encodes only what is present', () => {
      assert.equal(encode(Top, minimal).toString('hex'), minimalBytes.toString('hex'));
    });

    it('writes a tagged CHOICE with an explicit tag around the alternative', () => {
      const s = seq('S', [f('c', 0, Alt)]);
      assert.equal(encode(s, { c: { txt: 'é' } }).toString('hex'), '3006a0048102c3a9');
      assert.equal(encode(s, { c: { num: 0 } }).toString('hex'), '3005a003800100');
    });

    it('writes a Date as GeneralizedTime text', () => {
      const s = seq('S', [f('t', 0, gtime)]);
      const bytes = encode(s, { t: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120)) });
      assert.equal(bytes.subarray(4).toString('latin1'), '20240102030405.12Z');
    });
  });

  describe('decoding', () => {
    it('decodes every kind of type to plain values', () => {
      const v = decode(Top, fullBytes) as Record<string, unknown>;
      assert.deepEqual(v, full);
    });

    it('decodes the minimal value without the absent components', () => {
      assert.deepEqual(decode(Top, minimalBytes), minimal);
    });

    it('round-trips encode → decode → encode to identical bytes', () => {
      const values = [
        full,
        minimal,
        { ...minimal, alt: { txt: 'grüße' }, plain: { s: "A-z 0'()+,./:=?" }, app: 2n ** 64n },
        { ...minimal, alt: { inner: { a: 7, b: hex('01') } }, items: [{ a: 1 }, { a: 2, b: hex('01020304') }, { a: 3 }] },
        { ...minimal, tree: { label: 'a', kids: [{ label: 'b', kids: [{ label: 'c', kids: [{ label: 'd' }] }] }] } },
        { ...minimal, flag: false, nothing: null, payload: hex('30 03 02 01 01'), bits: { bytes: hex(''), unusedBits: 0 } },
      ];
      for (const v of values) {
        const once = encode(Top, v);
        const back = decode(Top, once);
        assert.deepEqual(back, v);
        assert.equal(encode(Top, back).toString('hex'), once.toString('hex'));
      }
    });

    it('accepts non-minimal lengths inside a schema-decoded PDU', () => {
      const bytes = hex('30 81 0f 80 82 00 01 01 81 02 88 37 84 01 00 85 01 32');
      // time "2" is not a GeneralizedTime; with a good one the rest decodes
      throwsBer(() => decode(Top, bytes), 'LIG_ERR_BER_BAD_VALUE', undefined, 17);
      const good = Buffer.concat([hex('30 82 00 2d 80 82 00 01 01'), minimalBytes.subarray(5)]);
      assert.deepEqual(decode(Top, good), minimal);
    });

    it('reads an extension value of an extensible ENUMERATED as its number', () => {
      const bytes = Buffer.from(minimalBytes);
      bytes[bytes.indexOf(hex('84 01 00')) + 2] = 7;
      assert.equal((decode(Top, bytes) as { kind: unknown }).kind, 7);
    });
  });

  describe('extension additions', () => {
    it('keeps unknown components of an extensible SEQUENCE under $unknown', () => {
      const v = decode(Inner, hex('30 0d 80 01 01 89 00 81 01 aa bf 1f 02 05 00')) as Record<string, unknown>;
      assert.equal(v.a, 1);
      assert.deepEqual(v.b, hex('aa'));
      assert.deepEqual(v[UNKNOWN], [
        { tag: '[9]', bytes: hex('89 00') },
        { tag: '[31]', bytes: hex('bf 1f 02 05 00') },
      ]);
    });

    it('keeps an unknown trailing component of the outer type', () => {
      const bytes = Buffer.concat([hex('30 31'), minimalBytes.subarray(2), hex('9f 20 03 01 02 03')]);
      const v = decode(Top, bytes) as Record<string, unknown>;
      assert.deepEqual(v[UNKNOWN], [{ tag: '[32]', bytes: hex('9f 20 03 01 02 03') }]);
    });

    it('keeps an unknown alternative of an extensible CHOICE', () => {
      const bytes = Buffer.from(minimalBytes);
      bytes.set(hex('01 01 ff'), bytes.indexOf(hex('02 01 05'))); // plain: a BOOLEAN, not n or s
      assert.deepEqual((decode(Top, bytes) as { plain: unknown }).plain, { [UNKNOWN]: { tag: '[UNIVERSAL 1]', bytes: hex('01 01 ff') } });
    });

    it('gives a new alternative of an untagged extensible CHOICE to the CHOICE, in any SEQUENCE', () => {
      const s = seq('S', [opt('o', 1, bool), f('p', undefined, Plain), f('z', 0, int())]);
      assert.deepEqual(decode(s, hex('30 06 01 01 ff 80 01 01')), { p: { [UNKNOWN]: { tag: '[UNIVERSAL 1]', bytes: hex('01 01 ff') } }, z: 1 });
      assert.deepEqual(decode(s, hex('30 06 02 01 09 80 01 01')), { p: { n: 9 }, z: 1 });
    });

    it('rejects an unknown component of a non-extensible SEQUENCE, at its offset', () => {
      throwsBer(() => decode(Tree, hex('30 05 80 01 61 85 00')), 'LIG_ERR_BER_UNEXPECTED', 'Tree has no component [5]', 5);
    });

    it('rejects an unknown alternative of a non-extensible CHOICE', () => {
      const bytes = Buffer.from(minimalBytes);
      bytes[bytes.indexOf(hex('a6 04 80 02')) + 2] = 0x83;
      throwsBer(() => decode(Top, bytes), 'LIG_ERR_BER_UNEXPECTED', 'Alt has no alternative [3]');
    });

    it('rejects a repeated component instead of overwriting it', () => {
      throwsBer(() => decode(Tree, hex('30 06 80 01 61 80 01 62')), 'LIG_ERR_BER_UNEXPECTED', undefined, 5);
    });
  });

  describe('decoder errors', () => {
    it('reports a missing mandatory component with its offset', () => {
      // version absent: the first element is id [1]
      throwsBer(() => decode(Top, Buffer.concat([hex('30 28'), minimalBytes.subarray(5)])), 'LIG_ERR_BER_MISSING', 'Top.version', 2);
      // nested and items absent at the end
      throwsBer(() => decode(Inner, hex('30 03 81 01 aa')), 'LIG_ERR_BER_MISSING', 'Inner.a', 2);
      throwsBer(() => decode(Inner, hex('30 00')), 'LIG_ERR_BER_MISSING', 'Inner.a', 2);
    });

    it('rejects a wrong outer tag and a wrong constructed bit', () => {
      throwsBer(() => decode(Inner, hex('31 03 80 01 01')), 'LIG_ERR_BER_UNEXPECTED', 'expected [UNIVERSAL 16]', 0);
      throwsBer(() => decode(Inner, hex('30 02 a0 00')), 'LIG_ERR_BER_UNEXPECTED', 'must be primitive', 2);
      throwsBer(() => decode(seq('S', [f('i', 7, Inner)]), hex('30 02 87 00')), 'LIG_ERR_BER_UNEXPECTED', 'must be constructed', 2);
    });

    it('rejects an explicit tag that does not hold exactly one element', () => {
      const s = seq('S', [f('c', 0, Alt)]);
      throwsBer(() => decode(s, hex('30 02 a0 00')), 'LIG_ERR_BER_UNEXPECTED', 'exactly one', 2);
      throwsBer(() => decode(s, hex('30 08 a0 06 80 01 00 80 01 00')), 'LIG_ERR_BER_UNEXPECTED', 'exactly one', 2);
    });

    it('passes reader limits through', () => {
      throwsBer(() => decode(Top, fullBytes, 0, { maxDepth: 3, maxPduBytes: 1000 }), 'LIG_ERR_BER_TOO_DEEP');
      throwsBer(() => decode(Top, fullBytes, 0, { maxDepth: 64, maxPduBytes: 100 }), 'LIG_ERR_BER_TOO_LARGE', undefined, 0);
    });
  });

  describe('encoder constraints name the path', () => {
    const cases: Array<[string, Record<string, unknown>, string, string]> = [
      ['version above its range', { ...minimal, version: 11 }, 'LIG_ERR_BER_RANGE', 'Top.version: 11 is outside 1..10'],
      ['version not an integer', { ...minimal, version: 1.5 }, 'LIG_ERR_BER_RANGE', 'Top.version'],
      ['a nested integer', { ...minimal, nested: { a: 256 } }, 'LIG_ERR_BER_RANGE', 'Top.nested.a'],
      ['an item in a SEQUENCE OF', { ...minimal, items: [{ a: 1 }, { a: -1 }] }, 'LIG_ERR_BER_RANGE', 'Top.items[1].a'],
      ['a SEQUENCE OF size', { ...minimal, items: [{ a: 1 }, { a: 1 }, { a: 1 }, { a: 1 }] }, 'LIG_ERR_BER_RANGE', 'Top.items: size 4'],
      ['an OCTET STRING size', { ...minimal, nested: { a: 1, b: hex('') } }, 'LIG_ERR_BER_RANGE', 'Top.nested.b: size 0'],
      ['a recursive component', { ...minimal, tree: { label: 'a', kids: [{ label: 'toolonglabel' }] } }, 'LIG_ERR_BER_RANGE', 'Top.tree.kids[0].label'],
      ['inside a tagged CHOICE', { ...minimal, alt: { inner: { a: 300 } } }, 'LIG_ERR_BER_RANGE', 'Top.alt.inner.a'],
      ['two alternatives', { ...minimal, alt: { num: 1, txt: 'x' } }, 'LIG_ERR_BER_RANGE', 'Top.alt: Alt takes exactly one'],
      ['an unknown alternative', { ...minimal, alt: { other: 1 } }, 'LIG_ERR_BER_RANGE', 'Top.alt: Alt has no alternative "other"'],
      ['a PrintableString alphabet', { ...minimal, plain: { s: 'a_b' } }, 'LIG_ERR_BER_RANGE', 'Top.plain.s'],
      ['an IA5String alphabet', { ...minimal, tree: { label: 'é' } }, 'LIG_ERR_BER_RANGE', 'Top.tree.label'],
      ['an unknown ENUMERATED name', { ...minimal, kind: 'gamma' }, 'LIG_ERR_BER_RANGE', 'Top.kind'],
      ['an ENUMERATED name inherited from Object', { ...minimal, kind: 'toString' }, 'LIG_ERR_BER_RANGE', 'Top.kind'],
      ['an unknown ENUMERATED number', { ...minimal, kind: 5 }, 'LIG_ERR_BER_RANGE', 'Top.kind'],
      ['a bad OID', { ...minimal, id: '3.1' }, 'LIG_ERR_BER_RANGE', 'Top.id'],
      ['an OID that is not text', { ...minimal, id: 5 }, 'LIG_ERR_BER_RANGE', 'Top.id'],
      ['an OID that is null', { ...minimal, id: null }, 'LIG_ERR_BER_RANGE', 'Top.id'],
      ['a RELATIVE-OID that is not text', { ...minimal, rel: {} }, 'LIG_ERR_BER_RANGE', 'Top.rel'],
      ['a bad time text', { ...minimal, time: '2024-01-02' }, 'LIG_ERR_BER_RANGE', 'Top.time'],
      ['an invalid Date', { ...minimal, time: new Date(NaN) }, 'LIG_ERR_BER_RANGE', 'Top.time'],
      ['a BOOLEAN that is not one', { ...minimal, flag: 'yes' }, 'LIG_ERR_BER_RANGE', 'Top.flag'],
      ['a NULL that is not one', { ...minimal, nothing: 0 }, 'LIG_ERR_BER_RANGE', 'Top.nothing'],
      ['a BIT STRING without bytes', { ...minimal, bits: { unusedBits: 1 } }, 'LIG_ERR_BER_RANGE', 'Top.bits'],
      ['a BIT STRING with 8 unused bits', { ...minimal, bits: { bytes: hex('00'), unusedBits: 8 } }, 'LIG_ERR_BER_RANGE', 'Top.bits'],
      ['an open type that is not one element', { ...minimal, payload: hex('') }, 'LIG_ERR_BER_RANGE', 'Top.payload'],
      ['an open type with trailing bytes', { ...minimal, payload: hex('05 00 05 00') }, 'LIG_ERR_BER_RANGE', 'Top.payload'],
      ['an open type that is cut', { ...minimal, payload: hex('30 05 05 00') }, 'LIG_ERR_BER_RANGE', 'Top.payload'],
      ['an unknown component', { ...minimal, extra: 1 }, 'LIG_ERR_BER_RANGE', 'Top has no component "extra"'],
      ['a SEQUENCE that is not an object', { ...minimal, nested: 3 }, 'LIG_ERR_BER_RANGE', 'Top.nested'],
      ['a SEQUENCE OF that is not an array', { ...minimal, items: {} }, 'LIG_ERR_BER_RANGE', 'Top.items'],
      ['a mandatory component', { ...minimal, version: undefined }, 'LIG_ERR_BER_MISSING', 'Top.version is mandatory'],
      ['a nested mandatory component', { ...minimal, items: [{ a: 1 }, { b: hex('01') }] }, 'LIG_ERR_BER_MISSING', 'Top.items[1].a is mandatory'],
      ['a mandatory component in a CHOICE', { ...minimal, alt: { inner: {} } }, 'LIG_ERR_BER_MISSING', 'Top.alt.inner.a is mandatory'],
    ];
    for (const [what, value, code, text] of cases) {
      it(what, () => throwsBer(() => encode(Top, value), code, text));
    }

    it('names the path given by the caller', () => {
      throwsBer(() => encode(Inner, { a: 999 }, 'PS-PDU.x'), 'LIG_ERR_BER_RANGE', 'PS-PDU.x.a');
    });

    it('checks a bigint against the range too', () => {
      throwsBer(() => encode(Inner, { a: 256n }), 'LIG_ERR_BER_RANGE', 'Inner.a');
      assert.equal(encode(Inner, { a: 255n }).toString('hex'), '3004800200ff');
    });
  });
});
