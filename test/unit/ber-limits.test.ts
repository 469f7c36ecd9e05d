import { strict as assert } from 'node:assert';
import { DEFAULT_MAX_ELEMENTS } from '../../src/ber/constants';
import { frameLength, readElement } from '../../src/ber/reader';
import { MAX_TAG_NUMBER, encodeTag, sequence, tlv } from '../../src/ber/writer';
import { BerError } from '../../src/errors';

describe('ber limits', () => {
  it('stops a PDU of many empty elements with LIG_ERR_BER_TOO_MANY, not by exhausting memory', () => {
    const empties = Buffer.alloc((DEFAULT_MAX_ELEMENTS + 10) * 2); // 0x00 0x00 = [UNIVERSAL 0] primitive, empty
    const pdu = sequence(empties);
    assert.throws(() => readElement(pdu), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_TOO_MANY');
  });

  it('accepts exactly maxElements elements and honours an override', () => {
    const pdu = sequence(Buffer.alloc((DEFAULT_MAX_ELEMENTS - 1) * 2));
    assert.equal(readElement(pdu).children.length, DEFAULT_MAX_ELEMENTS - 1);
    assert.throws(() => readElement(pdu, 0, pdu.length, { maxDepth: 64, maxPduBytes: 1 << 20, maxElements: 100 }),
      (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_TOO_MANY' && e.offset === 2 * 100 - 2 + 4);
  });

  it('refuses to write a tag number the reader would refuse to read', () => {
    assert.throws(() => encodeTag(2, false, MAX_TAG_NUMBER), (e: unknown) => e instanceof BerError && e.code === 'LIG_ERR_BER_RANGE');
    const largest = tlv(encodeTag(2, false, MAX_TAG_NUMBER - 1), Buffer.from([1]));
    assert.equal(readElement(largest).tag, MAX_TAG_NUMBER - 1);
  });

  it('frameLength says "need more" for every proper prefix, including partial long-form headers', () => {
    const pdu = tlv(encodeTag(2, true, 300), Buffer.alloc(70000, 1));
    for (const cut of [0, 1, 2, 3, 4, 5, 6, 7, 100, pdu.length - 1]) assert.equal(frameLength(pdu.subarray(0, cut)), undefined, `cut ${cut}`);
    assert.equal(frameLength(pdu), pdu.length);
    assert.equal(frameLength(Buffer.concat([pdu, Buffer.from([0x30])])), pdu.length);
  });
});
