/**
 * Gather (src/probe/app/gather.ts), the fixed-size buffer DNS over TCP, TLS and BitTorrent
 * fill across pieces: the same octets whatever the pieces, no more than its size taken from
 * a piece, and a copy (the piece may be overwritten after).
 */
import { strict as assert } from 'node:assert';
import { Gather } from '../../src/probe/app/gather';

describe('app: Gather', () => {
  const WANT = Uint8Array.from([1, 2, 3, 4, 5, 6, 7]);

  for (const cuts of [[7], [1, 1, 1, 1, 1, 1, 1], [3, 4], [0, 2, 0, 5]]) {
    it(`gathers 7 octets from pieces of ${cuts.join('+')}, each copied`, () => {
      const g = new Gather(7);
      let at = 0;
      for (const n of cuts) {
        assert.equal(g.full, false);
        const piece = WANT.slice(at, at + n);
        assert.equal(g.fill(piece, 0), n);
        piece.fill(0xee);
        at += n;
      }
      assert.equal(g.full, true);
      assert.deepEqual(g.buf, WANT);
    });
  }

  it('takes only what is missing and says where it stopped; reset starts over', () => {
    const g = new Gather(2);
    const data = Uint8Array.from([9, 0x01, 0x02, 0x03]);
    assert.equal(g.fill(data, 1), 3);
    assert.deepEqual([...g.buf], [1, 2]);
    assert.equal(g.fill(data, 3), 3, 'a full buffer takes nothing');
    g.reset();
    assert.equal(g.have, 0);
    assert.equal(g.fill(data, 3), 4);
    assert.equal(g.full, false);
  });
});
