import { strict as assert } from 'node:assert';
import { crc32c } from '../../src/delivery/journal/crc32c';
import {
  CURSOR_BYTES,
  FRAME_OVERHEAD_BYTES,
  FrameResult,
  MAX_RECORD_BYTES,
  SEGMENT_HEADER_BYTES,
  decodeCursor,
  decodeFrame,
  decodeSegmentHeader,
  encodeCursor,
  encodeFrame,
  encodeSegmentHeader,
  frameSize,
} from '../../src/delivery/journal/framing';
import { JournalError } from '../../src/errors';

/** Bit-at-a-time CRC-32C straight from the definition, to check the table-driven one. */
function referenceCrc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A streaming framer over arbitrary chunks, built only on decodeFrame. */
function decodeChunks(chunks: Uint8Array[]): { index: bigint; payload: Uint8Array }[] {
  const out: { index: bigint; payload: Uint8Array }[] = [];
  let pending: Uint8Array = new Uint8Array(0);
  for (const chunk of chunks) {
    pending = concat([pending, chunk]);
    let at = 0;
    for (;;) {
      const r = decodeFrame(pending, at);
      if (r.kind === 'truncated') break;
      if (r.kind === 'bad') throw new Error(`bad frame: ${r.reason}`);
      out.push({ index: r.index, payload: r.payload.slice() });
      at += r.size;
    }
    pending = pending.slice(at);
  }
  assert.equal(pending.length, 0, 'bytes left over');
  return out;
}

describe('journal framing', () => {
  describe('crc32c', () => {
    it('matches the published check value and a bitwise reference', () => {
      assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
      for (const n of [0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099]) {
        const b = bytes(n, n + 11);
        assert.equal(crc32c(b), referenceCrc32c(b), `length ${n}`);
      }
    });

    it('continues across split points', () => {
      const b = bytes(257, 5);
      const whole = crc32c(b);
      for (let k = 0; k <= b.length; k++) assert.equal(crc32c(b, k, b.length, crc32c(b, 0, k)), whole, `split at ${k}`);
    });
  });

  describe('frames', () => {
    it('round-trips records of the sizes handover uses', () => {
      for (const [n, index] of [
        [1, 1n],
        [30, 2n],
        [1500, 0xffffffffn + 7n],
        [MAX_RECORD_BYTES, (1n << 63n) - 1n],
      ] as const) {
        const payload = bytes(n, n);
        const frame = encodeFrame(index, payload);
        assert.equal(frame.length, n + FRAME_OVERHEAD_BYTES);
        const r = decodeFrame(frame, 0);
        assert.equal(r.kind, 'frame');
        if (r.kind !== 'frame') return;
        assert.equal(r.index, index);
        assert.equal(r.size, frameSize(n));
        assert.deepEqual(r.payload, payload);
      }
    });

    it('decodes a stream of frames split at every point, and byte by byte', () => {
      const records = [30, 1, 200, 64, 1500].map((n, k) => ({ index: BigInt(k + 41), payload: bytes(n, k + 3) }));
      const stream = concat(records.map((r) => encodeFrame(r.index, r.payload)));
      for (let k = 0; k <= stream.length; k++) {
        assert.deepEqual(decodeChunks([stream.subarray(0, k), stream.subarray(k)]), records, `split at ${k}`);
      }
      const oneByOne = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
      assert.deepEqual(decodeChunks(oneByOne), records);
    });

    it('reports every strict prefix as truncated, never as a frame', () => {
      const frame = encodeFrame(9n, bytes(100, 1));
      for (let k = 0; k < frame.length; k++) {
        const r = decodeFrame(frame.subarray(0, k), 0);
        assert.equal(r.kind, 'truncated', `prefix of ${k} bytes`);
        if (r.kind === 'truncated' && k >= 4) assert.equal(r.size, frame.length);
      }
    });

    it('detects every single-bit flip', () => {
      const frame = encodeFrame(123456n, bytes(40, 9));
      for (let bit = 0; bit < frame.length * 8; bit++) {
        const damaged = frame.slice();
        damaged[bit >> 3]! ^= 1 << (bit & 7);
        const r: FrameResult = decodeFrame(damaged, 0);
        assert.notEqual(r.kind, 'frame', `bit ${bit} flipped went unnoticed`);
      }
    });

    it('detects flips of two adjacent bytes at every offset, fed at every split point', () => {
      const frame = encodeFrame(77n, bytes(24, 4));
      for (let at = 0; at + 1 < frame.length; at++) {
        const damaged = frame.slice();
        damaged[at]! ^= 0x5a;
        damaged[at + 1]! ^= 0xa5;
        for (let k = 0; k <= damaged.length; k++) {
          const r = decodeFrame(damaged.subarray(0, k), 0);
          assert.notEqual(r.kind, 'frame', `damage at ${at}, ${k} bytes fed`);
        }
      }
    });

    it('rejects lengths out of range before waiting for more bytes', () => {
      const zero = new Uint8Array(FRAME_OVERHEAD_BYTES);
      assert.equal(decodeFrame(zero, 0).kind, 'bad');
      const huge = new Uint8Array(8);
      new DataView(huge.buffer).setUint32(0, MAX_RECORD_BYTES + 1);
      assert.equal(decodeFrame(huge, 0).kind, 'bad');
    });

    it('refuses empty and oversized records and index 0 with typed errors', () => {
      const code = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          assert.ok(e instanceof JournalError);
          return e.code;
        }
        return 'no error';
      };
      assert.equal(code(() => encodeFrame(1n, new Uint8Array(0))), 'LIG_ERR_JOURNAL_BAD_RECORD');
      assert.equal(code(() => encodeFrame(1n, new Uint8Array(MAX_RECORD_BYTES + 1))), 'LIG_ERR_JOURNAL_BAD_RECORD');
      assert.equal(code(() => encodeFrame(0n, new Uint8Array(1))), 'LIG_ERR_JOURNAL_RANGE');
      assert.equal(code(() => encodeFrame(1n << 63n, new Uint8Array(1))), 'LIG_ERR_JOURNAL_RANGE');
    });
  });

  describe('segment header and cursor', () => {
    it('round-trips a segment header and refuses damaged ones', () => {
      const h = encodeSegmentHeader(4242n);
      assert.equal(h.length, SEGMENT_HEADER_BYTES);
      assert.deepEqual(decodeSegmentHeader(h), { base: 4242n });
      assert.ok('bad' in decodeSegmentHeader(h.subarray(0, 15)));
      const magic = h.slice();
      magic[0]! ^= 1;
      assert.ok('bad' in decodeSegmentHeader(magic));
      const version = h.slice();
      version[7] = 9;
      assert.ok('bad' in decodeSegmentHeader(version));
    });

    it('round-trips the cursor and detects any bit flip or truncation', () => {
      const c = encodeCursor(987654321n);
      assert.equal(c.length, CURSOR_BYTES);
      assert.equal(decodeCursor(c), 987654321n);
      for (let bit = 0; bit < c.length * 8; bit++) {
        const d = c.slice();
        d[bit >> 3]! ^= 1 << (bit & 7);
        assert.equal(decodeCursor(d), undefined, `bit ${bit}`);
      }
      for (let k = 0; k < c.length; k++) assert.equal(decodeCursor(c.subarray(0, k)), undefined);
    });
  });
});
