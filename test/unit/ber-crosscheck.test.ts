/**
 * Cross-check against an independent BER implementation, asn1js: what our writer produces
 * asn1js reads to the same values (and without any warning, so our encodings are minimal),
 * and what asn1js writes our reader reads to the same values.
 */
import { strict as assert } from 'node:assert';
import * as asn1js from 'asn1js';
import { TagClass, UNIVERSAL } from '../../src/ber/constants';
import { decode } from '../../src/ber/decode';
import { encode } from '../../src/ber/encode';
import {
  decodeBitString, decodeBoolean, decodeGeneralizedTime, decodeInteger, decodeNull, decodeOid, decodeRelativeOid, decodeString,
  Element, readElement,
} from '../../src/ber/reader';
import { bool, f, gtime, ia5, int, octets, oid, opt, printable, roid, seq, seqOf, utf8 } from '../../src/ber/schema';
import {
  encodeBitStringContent, encodeBooleanContent, encodeIntegerContent, encodeOidContent, encodeRelativeOidContent, encodeTag,
  formatGeneralizedTime, sequence, tlv, universal,
} from '../../src/ber/writer';

type Block = asn1js.AsnType;

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** asn1js warnings that are about asn1js itself, not about the encoding. */
const BENIGN = new Set(['Too big Integer for decoding, hex only', 'Zero buffer length']);

/** asn1js's reading of `bytes`: one element, all of it, no error or warning anywhere. */
function theirs(bytes: Uint8Array): Block {
  const r = asn1js.fromBER(Uint8Array.from(bytes));
  assert.equal(r.offset, bytes.length, `asn1js stopped at ${r.offset}: ${r.result.error}`);
  const problems: string[] = [];
  const walk = (b: Block): void => {
    for (const part of [b, b.idBlock, b.lenBlock, b.valueBlock] as Array<{ error: string; warnings: string[] }>) {
      if (part.error) problems.push(part.error);
      problems.push(...part.warnings.filter((w) => !BENIGN.has(w)));
    }
    const v = (b.valueBlock as { value?: unknown }).value;
    if (b.idBlock.isConstructed && Array.isArray(v)) v.forEach(walk);
  };
  walk(r.result);
  assert.deepEqual(problems, [], Buffer.from(bytes).toString('hex'));
  return r.result;
}

const ber = (b: { toBER(sizeOnly?: boolean): ArrayBuffer }): Buffer => Buffer.from(b.toBER(false));

/** Our tree and asn1js's tree of the same bytes have the same tags, shapes and contents. */
function sameTree(ours: Element, their: Block, path = '$'): void {
  const classOf = [TagClass.Universal, TagClass.Application, TagClass.Context, TagClass.Private];
  assert.equal(ours.cls, classOf[their.idBlock.tagClass - 1], `${path} class`);
  assert.equal(ours.tag, their.idBlock.tagNumber, `${path} tag`);
  assert.equal(ours.constructed, their.idBlock.isConstructed, `${path} constructed`);
  assert.equal(ours.end - ours.start, their.blockLength, `${path} size`);
  if (ours.constructed) {
    const kids = (their.valueBlock as unknown as { value: Block[] }).value;
    assert.equal(ours.children.length, kids.length, `${path} children`);
    ours.children.forEach((c, i) => sameTree(c, kids[i]!, `${path}.${i}`));
  } else {
    const hexView = (their.valueBlock as unknown as { valueHexView?: Uint8Array }).valueHexView;
    if (hexView) assert.equal(Buffer.from(ours.content).toString('hex'), Buffer.from(hexView).toString('hex'), `${path} contents`);
  }
}

const INTEGERS: Array<number | bigint> = [
  0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32769, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1),
  2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n), -(2n ** 63n) - 1n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n), 2n ** 200n + 12345n,
];
const rnd = prng(11);
for (let i = 0; i < 300; i++) {
  const bytes = 1 + Math.floor(rnd() * 24);
  let v = 0n;
  for (let j = 0; j < bytes; j++) v = (v << 8n) | BigInt(Math.floor(rnd() * 256));
  INTEGERS.push(rnd() < 0.5 ? -v : v);
}
const asExpected = (v: number | bigint) => (typeof v === 'bigint' && v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v);

const OIDS = ['0.4.0.2.2.5.1.40', '0.4.0.2.2.5.1.17.0', '2.999', '2.999.3', '1.2.840.113549.1.1.11', '0.0', '1.39', '2.40', '2.100000.7', '1.3.6.1.4.1.2147483647.4294967295'];
for (let i = 0; i < 200; i++) {
  const first = Math.floor(rnd() * 3);
  const arcs = [first, first < 2 ? Math.floor(rnd() * 40) : Math.floor(rnd() * 100000)];
  const n = Math.floor(rnd() * 8);
  for (let j = 0; j < n; j++) arcs.push(Math.floor(rnd() ** 3 * 2 ** 32));
  OIDS.push(arcs.join('.'));
}
const RELATIVE_OIDS = ['5.3.20.2', '8571.3.2', '0', '128', '4294967295.16384.127'];

describe('ber cross-check with asn1js', () => {
  describe('asn1js reads what our writer wrote', () => {
    it('INTEGERs, 64-bit and beyond, and ENUMERATED', () => {
      for (const v of INTEGERS) {
        const b = theirs(universal(UNIVERSAL.INTEGER, encodeIntegerContent(v)));
        assert.ok(b instanceof asn1js.Integer);
        assert.equal(b.toBigInt(), BigInt(v), String(v));
      }
      const e = theirs(universal(UNIVERSAL.ENUMERATED, encodeIntegerContent(200)));
      assert.ok(e instanceof asn1js.Enumerated);
      assert.equal(e.valueBlock.valueDec, 200);
    });

    it('OBJECT IDENTIFIERs and RELATIVE-OIDs', () => {
      for (const o of OIDS) {
        const b = theirs(universal(UNIVERSAL.OBJECT_IDENTIFIER, encodeOidContent(o)));
        assert.ok(b instanceof asn1js.ObjectIdentifier);
        assert.equal(b.getValue(), o);
      }
      for (const o of RELATIVE_OIDS) {
        const b = theirs(universal(UNIVERSAL.RELATIVE_OID, encodeRelativeOidContent(o)));
        assert.ok(b instanceof asn1js.RelativeObjectIdentifier);
        assert.equal(b.getValue(), o);
      }
    });

    it('strings, OCTET STRING, BOOLEAN, NULL, BIT STRING, GeneralizedTime', () => {
      const u = theirs(universal(UNIVERSAL.UTF8String, Buffer.from('grüße ✓ 😀')));
      assert.ok(u instanceof asn1js.Utf8String);
      assert.equal(u.getValue(), 'grüße ✓ 😀');
      const p = theirs(universal(UNIVERSAL.PrintableString, Buffer.from("Hi (1+2=3)?'")));
      assert.ok(p instanceof asn1js.PrintableString);
      assert.equal(p.getValue(), "Hi (1+2=3)?'");
      const i = theirs(universal(UNIVERSAL.IA5String, Buffer.from('a@b_c')));
      assert.ok(i instanceof asn1js.IA5String);
      assert.equal(i.getValue(), 'a@b_c');
      const o = theirs(universal(UNIVERSAL.OCTET_STRING, Buffer.alloc(70000, 0x5a)));
      assert.ok(o instanceof asn1js.OctetString);
      assert.ok(Buffer.from(o.valueBlock.valueHexView).equals(Buffer.alloc(70000, 0x5a)));
      const t = theirs(universal(UNIVERSAL.BOOLEAN, encodeBooleanContent(true)));
      assert.ok(t instanceof asn1js.Boolean && t.getValue() === true);
      assert.ok(theirs(universal(UNIVERSAL.NULL, Buffer.alloc(0))) instanceof asn1js.Null);
      const bits = theirs(universal(UNIVERSAL.BIT_STRING, encodeBitStringContent(Buffer.from([0x6e, 0x5d, 0xc0]), 6)));
      assert.ok(bits instanceof asn1js.BitString);
      assert.equal(bits.valueBlock.unusedBits, 6);
      assert.equal(Buffer.from(bits.valueBlock.valueHexView).toString('hex'), '6e5dc0');
      for (const ms of [0, 120, 999]) {
        const d = new Date(Date.UTC(2024, 1, 29, 23, 59, 58, ms));
        const g = theirs(universal(UNIVERSAL.GeneralizedTime, Buffer.from(formatGeneralizedTime(d))));
        assert.ok(g instanceof asn1js.GeneralizedTime);
        assert.equal(g.toDate().getTime(), d.getTime());
      }
    });

    it('a nested constructed PDU with every tag class, high tags and long lengths', () => {
      const pdu = sequence(
        tlv(encodeTag(TagClass.Context, true, 1),
          tlv(encodeTag(TagClass.Context, false, 0), encodeOidContent('0.4.0.2.2.5.1.40')),
          tlv(encodeTag(TagClass.Context, false, 1), Buffer.from('LIID-7')),
          tlv(encodeTag(TagClass.Context, true, 3), tlv(encodeTag(TagClass.Context, true, 0), tlv(encodeTag(TagClass.Context, false, 0), Buffer.from('op')))),
          tlv(encodeTag(TagClass.Context, false, 4), encodeIntegerContent(2n ** 64n - 1n)),
        ),
        tlv(encodeTag(TagClass.Context, true, 2),
          tlv(encodeTag(TagClass.Context, true, 16384), tlv(encodeTag(TagClass.Application, false, 31), Buffer.alloc(300, 1))),
          tlv(encodeTag(TagClass.Private, true, 127), universal(UNIVERSAL.NULL, Buffer.alloc(0)), universal(UNIVERSAL.RELATIVE_OID, encodeRelativeOidContent('5.3.20.2'))),
          tlv(encodeTag(TagClass.Context, false, 30), Buffer.alloc(0)),
        ),
      );
      sameTree(readElement(pdu), theirs(pdu));
    });

    it('a schema-encoded record', () => {
      const Rec = seq('Rec', [
        f('id', 0, oid), f('n', 1, int()), opt('flag', 2, bool), f('when', 3, gtime), f('names', 4, seqOf(utf8())),
        f('blob', 5, octets()), f('rel', 6, roid), opt('ia', 7, ia5()), opt('pr', 8, printable()),
      ]);
      const value = { id: '1.3.6.1', n: -(2n ** 70n), flag: false, when: '20240102030405.5Z', names: ['a', 'ü', ''], blob: Buffer.alloc(129, 2), rel: '5.3.20.2', ia: 'x', pr: 'P' };
      const bytes = encode(Rec, value);
      const b = theirs(bytes);
      sameTree(readElement(bytes), b);
      const kids = (b as asn1js.Sequence).valueBlock.value;
      const n = new asn1js.Integer({ valueHex: (kids[1] as asn1js.Primitive).valueBlock.valueHexView.slice().buffer });
      assert.equal(n.toBigInt(), -(2n ** 70n));
    });
  });

  describe('our reader reads what asn1js wrote', () => {
    it('INTEGERs and ENUMERATED', () => {
      for (const v of INTEGERS) {
        const el = readElement(ber(asn1js.Integer.fromBigInt(v)));
        assert.equal(el.tag, UNIVERSAL.INTEGER);
        assert.equal(decodeInteger(el.content), asExpected(v), String(v));
      }
      const e = readElement(ber(new asn1js.Enumerated({ value: 3 })));
      assert.deepEqual([e.tag, decodeInteger(e.content)], [UNIVERSAL.ENUMERATED, 3]);
    });

    it('OBJECT IDENTIFIERs and RELATIVE-OIDs', () => {
      for (const o of OIDS) {
        const el = readElement(ber(new asn1js.ObjectIdentifier({ value: o })));
        assert.equal(el.tag, UNIVERSAL.OBJECT_IDENTIFIER);
        assert.equal(decodeOid(el.content), o);
      }
      for (const o of RELATIVE_OIDS) {
        const el = readElement(ber(new asn1js.RelativeObjectIdentifier({ value: o })));
        assert.equal(el.tag, UNIVERSAL.RELATIVE_OID);
        assert.equal(decodeRelativeOid(el.content), o);
      }
    });

    it('strings, OCTET STRING, BOOLEAN, NULL, BIT STRING, GeneralizedTime', () => {
      const read = (b: { toBER(sizeOnly?: boolean): ArrayBuffer }, tag: number): Uint8Array => {
        const el = readElement(ber(b));
        assert.equal(el.tag, tag);
        return el.content;
      };
      assert.equal(decodeString(read(new asn1js.Utf8String({ value: 'grüße ✓ 😀' }), UNIVERSAL.UTF8String), 'utf8'), 'grüße ✓ 😀');
      assert.equal(decodeString(read(new asn1js.PrintableString({ value: 'Hi there' }), UNIVERSAL.PrintableString), 'printable'), 'Hi there');
      assert.equal(decodeString(read(new asn1js.IA5String({ value: 'a@b' }), UNIVERSAL.IA5String), 'ia5'), 'a@b');
      const big = Buffer.alloc(70000, 0x33);
      assert.ok(Buffer.from(read(new asn1js.OctetString({ valueHex: Uint8Array.from(big).buffer }), UNIVERSAL.OCTET_STRING)).equals(big));
      assert.equal(decodeBoolean(read(new asn1js.Boolean({ value: true }), UNIVERSAL.BOOLEAN)), true);
      assert.equal(decodeBoolean(read(new asn1js.Boolean({ value: false }), UNIVERSAL.BOOLEAN)), false);
      assert.equal(decodeNull(read(new asn1js.Null(), UNIVERSAL.NULL)), null);
      const bits = decodeBitString(read(new asn1js.BitString({ valueHex: Uint8Array.from([0x6e, 0x5d, 0xc0]).buffer, unusedBits: 6 }), UNIVERSAL.BIT_STRING));
      assert.deepEqual([Buffer.from(bits.bytes).toString('hex'), bits.unusedBits], ['6e5dc0', 6]);
      const d = new Date(Date.UTC(2024, 1, 29, 23, 59, 58, 120));
      const text = decodeGeneralizedTime(read(new asn1js.GeneralizedTime({ valueDate: d }), UNIVERSAL.GeneralizedTime));
      assert.equal(text, '20240229235958.12Z');
    });

    it('a nested constructed structure with every tag class and high tags, by schema', () => {
      const prim = (tagClass: number, tagNumber: number, bytes: Uint8Array) => new asn1js.Primitive({ idBlock: { tagClass, tagNumber }, valueHex: Uint8Array.from(bytes).buffer });
      const cons = (tagClass: number, tagNumber: number, value: Block[]) => new asn1js.Constructed({ idBlock: { tagClass, tagNumber }, value });
      const Leaf = seq('Leaf', [f('n', 0, int()), opt('s', 31, utf8())]);
      const Tree = seq('Tree', [
        f('id', 16384, oid),
        f('leaves', 1, seqOf(Leaf)),
        { name: 'app', tag: 127, cls: TagClass.Application, type: octets() },
        { name: 'priv', tag: 2, cls: TagClass.Private, type: Leaf },
      ]);
      const theirsBytes = ber(new asn1js.Sequence({
        value: [
          prim(3, 16384, encodeOidContent('0.4.0.2.2.5.1.40')),
          cons(3, 1, [
            new asn1js.Sequence({ value: [prim(3, 0, encodeIntegerContent(2n ** 64n - 1n))] }),
            new asn1js.Sequence({ value: [prim(3, 0, encodeIntegerContent(-5)), prim(3, 31, Buffer.from('ü'))] }),
          ]),
          prim(2, 127, Buffer.alloc(200, 9)),
          cons(4, 2, [prim(3, 0, encodeIntegerContent(1))]),
        ],
      }));
      sameTree(readElement(theirsBytes), theirs(theirsBytes));
      assert.deepEqual(decode(Tree, theirsBytes), {
        id: '0.4.0.2.2.5.1.40',
        leaves: [{ n: 2n ** 64n - 1n }, { n: -5, s: 'ü' }],
        app: Buffer.alloc(200, 9),
        priv: { n: 1 },
      });
      // and our encoder writes the very same bytes for that value
      assert.equal(encode(Tree, decode(Tree, theirsBytes)).toString('hex'), theirsBytes.toString('hex'));
    });
  });
});
