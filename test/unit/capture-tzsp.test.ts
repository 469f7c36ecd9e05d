/**
 * TZSP datagram parser: hand-written golden datagrams (RouterOS's plain form, tags, control
 * types), every truncation, and every malformed header. Cross-checked with tshark in
 * test/integration/capture-udp-sources.test.ts.
 */
import { strict as assert } from 'node:assert';
import { DatagramError } from '../../src/errors';
import { TZSP_TYPE, encodeTzsp, parseTzsp } from '../../src/capture/tzsp';
import { hex } from '../fixtures/capture-golden';

/** A 60-octet Ethernet frame: dst, src, IPv4, then filler. */
const FRAME = hex(`
  020000000001 020000000002 0800
  4500002e 00010000 4011 0000 0a010203 0a010204
  13881389 001a 0000 ${'61'.repeat(18)}
`);

function fails(d: Uint8Array, code: string, offset: number): void {
  assert.throws(
    () => parseTzsp(d),
    (e: unknown) => e instanceof DatagramError && e.code === code && e.offset === offset,
    `expected ${code} at ${offset} for ${Buffer.from(d).toString('hex')}`,
  );
}

describe('capture: TZSP parser', () => {
  it('reads the form RouterOS sends: version 1, received, Ethernet, TAG END, frame', () => {
    const d = Uint8Array.from([0x01, 0x00, 0x00, 0x01, 0x01, ...FRAME]);
    const p = parseTzsp(d);
    assert.equal(p.kind, 'packet');
    if (p.kind !== 'packet') return;
    assert.equal(p.type, 0);
    assert.equal(p.encapsulation, 1);
    assert.equal(p.linktype, 1);
    assert.deepEqual(Buffer.from(p.data), Buffer.from(FRAME));
    assert.equal(p.data.buffer, d.buffer, 'the frame is a view, not a copy');
    assert.equal(p.originalLength, undefined);
  });

  it('skips padding and tags with lengths, and reads ORIGINAL_LENGTH', () => {
    // PADDING, PADDING, ORIGINAL_LENGTH(2) = 1514, SENSOR(6), unknown tag 200 with 0 octets, END.
    const tags = hex('00 00 2902 05ea 3c06 aabbccddeeff c800');
    const d = encodeTzsp(FRAME, { tags });
    assert.deepEqual(Buffer.from(d.subarray(0, 4 + tags.length + 1)).toString('hex'), `01000001${Buffer.from(tags).toString('hex')}01`);
    const p = parseTzsp(d);
    assert.ok(p.kind === 'packet');
    assert.equal(p.originalLength, 1514);
    assert.deepEqual(Buffer.from(p.data), Buffer.from(FRAME));
  });

  it('reads packet-for-transmit (type 1) like received', () => {
    const p = parseTzsp(encodeTzsp(FRAME, { type: TZSP_TYPE.PACKET_FOR_TRANSMIT }));
    assert.ok(p.kind === 'packet' && p.type === 1 && p.data.length === FRAME.length);
  });

  it('reports other encapsulations without a link type, for the source to count', () => {
    const p = parseTzsp(encodeTzsp(FRAME, { encapsulation: 18 }));
    assert.ok(p.kind === 'packet');
    assert.equal(p.encapsulation, 18);
    assert.equal(p.linktype, undefined);
  });

  it('returns control datagrams (reserved, configuration, keep-alive, port opener) as such', () => {
    for (const type of [2, 3, 4, 5]) assert.deepEqual(parseTzsp(Uint8Array.from([1, type, 0, 0])), { kind: 'control', type });
    // Keep-alive and port opener stop after the header: whatever follows is not a tag list.
    assert.deepEqual(parseTzsp(Uint8Array.from([1, 4, 0, 1, 0x29])), { kind: 'control', type: 4 });
  });

  it('accepts an empty frame after TAG END (the decoder counts it as truncated)', () => {
    const p = parseTzsp(Uint8Array.from([1, 0, 0, 1, 1]));
    assert.ok(p.kind === 'packet' && p.data.length === 0);
  });

  it('refuses other versions and unknown types with their codes', () => {
    fails(Uint8Array.from([0, 0, 0, 1, 1, ...FRAME]), 'LIG_ERR_TZSP_BAD_VERSION', 0);
    fails(Uint8Array.from([2, 0, 0, 1, 1, ...FRAME]), 'LIG_ERR_TZSP_BAD_VERSION', 0);
    for (const t of [6, 7, 0x80, 0xff]) fails(Uint8Array.from([1, t, 0, 1, 1, ...FRAME]), 'LIG_ERR_TZSP_BAD_TYPE', 1);
  });

  it('refuses every truncation before TAG END, at the offset where it stops', () => {
    const tags = hex('00 2902 05ea 3c06 aabbccddeeff');
    const d = encodeTzsp(FRAME, { tags });
    const end = 4 + tags.length; // offset of TAG END
    // Where each cut falls: inside the header, at a tag's type, inside its length or value.
    const tagStarts = [4, 5, 9]; // PADDING, ORIGINAL_LENGTH, SENSOR
    for (let cut = 0; cut <= end; cut++) {
      const prefix = d.subarray(0, cut);
      let offset: number;
      if (cut < 4) offset = cut;
      else if (tagStarts.includes(cut) || cut === end) offset = cut;
      else offset = [...tagStarts].reverse().find((s) => s < cut)!;
      fails(prefix, 'LIG_ERR_TZSP_TRUNCATED', offset);
    }
    // From TAG END on, every cut is a shorter frame.
    for (let cut = end + 1; cut <= d.length; cut++) {
      const p = parseTzsp(d.subarray(0, cut));
      assert.ok(p.kind === 'packet');
      assert.deepEqual(Buffer.from(p.data), Buffer.from(FRAME.subarray(0, cut - end - 1)));
    }
  });

  it('never reads past the datagram: a tag length pointing beyond it is truncation', () => {
    fails(hex('01000001 29ff 0000'), 'LIG_ERR_TZSP_TRUNCATED', 4);
    fails(hex('01000001 00 00 00'), 'LIG_ERR_TZSP_TRUNCATED', 7);
  });
});
