/**
 * pcap and pcapng codec: the writer's exact bytes; golden captures written out by hand
 * (classic pcap in both byte orders and both resolutions; pcapng with two sections in
 * opposite byte orders, if_tsresol decimal and binary, if_tsoffset, EPB, SPB, skipped
 * blocks) read back field by field, whole, at every split point, byte by byte and in random
 * chunks; cuts at every offset; each malformation's code and offset.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { CaptureFileError } from '../../src/errors';
import {
  CapturedPacket,
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_MAX_RECORD_BYTES,
  MAX_SNAPLEN,
} from '../../src/capture/pcap-format';
import { PcapReader, parseCaptureFile } from '../../src/capture/pcap-reader';
import { encodePcapHeader, encodePcapRecord } from '../../src/capture/pcap-write';
import { requireShared } from '../helpers/shared';
import { BOUNDARIES, CLASSIC_LE, GOLDEN, PCAPNG, hex, plain, prng } from '../fixtures/capture-golden';

function readInChunks(bytes: Uint8Array, cuts: number[]): CapturedPacket[] {
  const r = new PcapReader();
  const out: CapturedPacket[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...r.push(bytes.subarray(from, c)));
    from = c;
  }
  r.end();
  return out;
}

function throwsCapture(fn: () => unknown, code: string, offset: number | undefined, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CaptureFileError, `expected CaptureFileError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.offset, offset, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** A copy of `bytes` with `patch` written at `at`. */
function patched(bytes: Uint8Array, at: number, patch: string): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(hex(patch), at);
  return out;
}

describe('capture: pcap writer', () => {
  it('writes the exact header and record bytes', () => {
    const bytes = Buffer.concat([
      encodePcapHeader(1, 65535),
      encodePcapRecord(1_700_000_000, 123_456, hex('deadbeef'), 60),
      encodePcapRecord(0, 999_999, new Uint8Array(0)),
    ]);
    assert.equal(bytes.toString('hex'), Buffer.from(CLASSIC_LE).toString('hex'));
    assert.equal(Buffer.from(encodePcapRecord(1, 2, hex('aa'))).toString('hex'), '01000000' + '02000000' + '01000000' + '01000000' + 'aa');
  });

  it('refuses out-of-range arguments with LIG_ERR_CAPTURE_BAD_ARGUMENT', () => {
    const bad: [string, () => unknown][] = [
      ['linktype -1', () => encodePcapHeader(-1, 100)],
      ['linktype 65536', () => encodePcapHeader(65536, 100)],
      ['linktype 1.5', () => encodePcapHeader(1.5, 100)],
      ['snaplen 0', () => encodePcapHeader(1, 0)],
      ['snaplen above MAX_SNAPLEN', () => encodePcapHeader(1, MAX_SNAPLEN + 1)],
      ['tsSec negative', () => encodePcapRecord(-1, 0, hex('00'))],
      ['tsSec 2^32', () => encodePcapRecord(2 ** 32, 0, hex('00'))],
      ['tsUsec 1e6', () => encodePcapRecord(0, 1_000_000, hex('00'))],
      ['tsUsec NaN', () => encodePcapRecord(0, NaN, hex('00'))],
      ['data above MAX_SNAPLEN', () => encodePcapRecord(0, 0, new Uint8Array(MAX_SNAPLEN + 1))],
      ['origLen below data', () => encodePcapRecord(0, 0, hex('0000'), 1)],
    ];
    for (const [title, fn] of bad) {
      assert.throws(fn, (e: unknown) => e instanceof CaptureFileError && e.code === 'LIG_ERR_CAPTURE_BAD_ARGUMENT' && e.offset === undefined, title);
    }
    assert.equal(encodePcapHeader(0xffff, MAX_SNAPLEN).length, 24);
    assert.equal(encodePcapRecord(2 ** 32 - 1, 999_999, new Uint8Array(MAX_SNAPLEN)).length, 16 + MAX_SNAPLEN);
  });
});

describe('capture: pcap and pcapng reader', () => {
  for (const [title, bytes, format, expected] of GOLDEN) {
    describe(title, () => {
      it('reads every field', () => {
        const f = parseCaptureFile(bytes);
        assert.equal(f.format, format);
        assert.deepEqual(plain(f.packets), expected);
      });

      it('gives the same packets split at every point', () => {
        for (let i = 0; i <= bytes.length; i++) assert.deepEqual(plain(readInChunks(bytes, [i])), expected, `split at ${i}`);
      });

      it('gives the same packets fed one byte at a time and in random chunks', () => {
        const every = Array.from({ length: bytes.length }, (_, i) => i);
        assert.deepEqual(plain(readInChunks(bytes, every)), expected);
        const rnd = prng(bytes.length);
        for (let round = 0; round < 200; round++) {
          const cuts = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * bytes.length)).sort((a, b) => a - b);
          assert.deepEqual(plain(readInChunks(bytes, cuts)), expected, `cuts ${cuts.join(',')}`);
        }
      });

      it('reports a cut inside a unit as TRUNCATED at the unit start, and a cut between units as the packets so far', () => {
        const bounds = BOUNDARIES.get(bytes)!;
        assert.equal(bounds[bounds.length - 1], bytes.length);
        for (let cut = 0; cut < bytes.length; cut++) {
          const part = bytes.subarray(0, cut);
          const start = bounds.filter((b) => b <= cut).pop()!;
          if (cut === 0) throwsCapture(() => parseCaptureFile(part), 'LIG_ERR_CAPTURE_TRUNCATED', 0, /empty/);
          else if (cut !== start) throwsCapture(() => parseCaptureFile(part), 'LIG_ERR_CAPTURE_TRUNCATED', start, /ends inside/);
          else {
            const got = plain(parseCaptureFile(part).packets);
            assert.deepEqual(got, (expected as { offset: number }[]).filter((p) => p.offset < cut), `cut at ${cut}`);
          }
        }
      });
    });
  }

  it('carries an out-of-range microsecond field into the seconds', () => {
    const bytes = Buffer.concat([encodePcapHeader(1, 100), hex('05000000 41420f00 00000000 00000000')]);
    assert.deepEqual(parseCaptureFile(bytes).packets[0]!.ts, { sec: 6, nsec: 1000 });
  });

  it('reads the sample capture of the reference streams', function () {
    const file = requireShared(this, 'reference', 'samples', 'libtrace-etsi_10_pings.pcap');
    const f = parseCaptureFile(fs.readFileSync(file));
    assert.equal(f.format, 'pcap');
    assert.ok(f.packets.length > 0);
    for (const p of f.packets) assert.equal(p.linktype, 1);
  });

  describe('malformed input: typed errors with offsets', () => {
    it('unknown formats', () => {
      throwsCapture(() => parseCaptureFile(hex('00112233 44556677')), 'LIG_ERR_CAPTURE_BAD_FORMAT', 0, /starts with 00 11 22 33/);
      throwsCapture(() => parseCaptureFile(hex('1f8b0800 00000000')), 'LIG_ERR_CAPTURE_BAD_FORMAT', 0, /gzip/);
      throwsCapture(() => parseCaptureFile(patched(CLASSIC_LE, 0, '34cdb2a1')), 'LIG_ERR_CAPTURE_BAD_FORMAT', 0, /modified/);
      throwsCapture(() => parseCaptureFile(patched(CLASSIC_LE, 4, '0300')), 'LIG_ERR_CAPTURE_BAD_FORMAT', 4, /version 3\.4/);
      throwsCapture(() => parseCaptureFile(patched(PCAPNG, 12, '0200')), 'LIG_ERR_CAPTURE_BAD_FORMAT', 12, /pcapng version 2\.0/);
      throwsCapture(() => parseCaptureFile(hex('d4c3')), 'LIG_ERR_CAPTURE_TRUNCATED', 0, /file header \(2 of 4 bytes\)/);
    });

    it('a record or packet over the size limits', () => {
      throwsCapture(() => parseCaptureFile(patched(CLASSIC_LE, 24 + 8, '01000400')), 'LIG_ERR_CAPTURE_TOO_LARGE', 24, /262145 .*maxRecordBytes/);
      assert.equal(DEFAULT_MAX_RECORD_BYTES, 262_144);
      throwsCapture(() => parseCaptureFile(CLASSIC_LE, { maxRecordBytes: 3 }), 'LIG_ERR_CAPTURE_TOO_LARGE', 24);
      throwsCapture(() => parseCaptureFile(PCAPNG, { maxRecordBytes: 4 }), 'LIG_ERR_CAPTURE_TOO_LARGE', 80);
      throwsCapture(() => parseCaptureFile(patched(PCAPNG, 84, '04000001')), 'LIG_ERR_CAPTURE_TOO_LARGE', 80, /maxBlockBytes/);
      assert.equal(DEFAULT_MAX_BLOCK_BYTES, 16 * 1024 * 1024);
      throwsCapture(() => parseCaptureFile(PCAPNG, { maxBlockBytes: 32 }), 'LIG_ERR_CAPTURE_TOO_LARGE', 80);
      // The limit is checked from the header alone: the reader does not wait for the body.
      const r = new PcapReader();
      throwsCapture(() => r.push(patched(CLASSIC_LE, 24 + 8, 'ffffffff').subarray(0, 40)), 'LIG_ERR_CAPTURE_TOO_LARGE', 24);
    });

    it('malformed pcapng blocks', () => {
      const cases: [string, number, string, string, number, RegExp][] = [
        ['length not a multiple of 4', 64, '15000000', 'LIG_ERR_CAPTURE_BAD_BLOCK', 64, /not a multiple of 4/],
        ['length below 12', 64, '08000000', 'LIG_ERR_CAPTURE_BAD_BLOCK', 64, /at least 12/],
        ['SHB length below 28', 4, '18000000', 'LIG_ERR_CAPTURE_BAD_BLOCK', 4, /at least 28/],
        ['trailing length differs', 116, '2c000000', 'LIG_ERR_CAPTURE_BAD_BLOCK', 116, /trailing length/],
        ['byte-order magic', 8, '11223344', 'LIG_ERR_CAPTURE_BAD_BLOCK', 8, /byte-order magic/],
        ['EPB names an undefined interface', 88, '02000000', 'LIG_ERR_CAPTURE_BAD_INTERFACE', 88, /interface 2, but the section defines 2 interfaces/],
        ['EPB captured length past its block', 100, '09000000', 'LIG_ERR_CAPTURE_BAD_BLOCK', 100, /runs past the end of its block/],
        ['IDB option runs past its block', 44, '0900 1000', 'LIG_ERR_CAPTURE_BAD_BLOCK', 44, /option 9 of 16 bytes/],
        ['if_tsresol of 2 bytes', 44, '0900 0200', 'LIG_ERR_CAPTURE_BAD_BLOCK', 44, /if_tsresol must be 1 byte/],
      ];
      for (const [title, at, patch, code, offset, re] of cases) {
        assert.doesNotThrow(() => parseCaptureFile(PCAPNG), title);
        try {
          parseCaptureFile(patched(PCAPNG, at, patch));
          assert.fail(`${title}: accepted`);
        } catch (e) {
          assert.ok(e instanceof CaptureFileError, `${title}: ${String(e)}`);
          assert.equal(e.code, code, `${title}: ${e.message}`);
          assert.equal(e.offset, offset, `${title}: ${e.message}`);
          assert.match(e.message, re, title);
        }
      }
      // A second section forgets the first one's interfaces.
      const shb = PCAPNG.subarray(0, 28);
      const idb = PCAPNG.subarray(28, 60);
      const epb = PCAPNG.subarray(80, 120);
      assert.equal(parseCaptureFile(Buffer.concat([shb, idb, epb])).packets.length, 1);
      throwsCapture(() => parseCaptureFile(Buffer.concat([shb, idb, shb, epb])), 'LIG_ERR_CAPTURE_BAD_INTERFACE', 88 + 8, /defines 0 interfaces/);
      // A Simple Packet Block needs interface 0.
      throwsCapture(() => parseCaptureFile(Buffer.concat([PCAPNG.subarray(0, 28), PCAPNG.subarray(184, 204)])), 'LIG_ERR_CAPTURE_BAD_INTERFACE', 28);
      // Seconds beyond 2^53 (resolution of 1 s via if_tsresol 0, units 2^63).
      const coarse = Buffer.concat([
        PCAPNG.subarray(0, 28),
        hex('01000000 1c000000 | 0100 0000 00000000 | 0900 0100 00000000 | 1c000000'),
        hex('06000000 20000000 | 00000000 00000080 00000000 00000000 00000000 | 20000000'),
      ]);
      throwsCapture(() => parseCaptureFile(coarse), 'LIG_ERR_CAPTURE_BAD_BLOCK', 56 + 12, /timestamp is out of range/);
    });

    it('refuses more input after an error, with the same error', () => {
      const r = new PcapReader();
      const bad = patched(PCAPNG, 64, '15000000');
      let first: unknown;
      try {
        r.push(bad);
      } catch (e) {
        first = e;
      }
      assert.ok(first instanceof CaptureFileError);
      assert.throws(() => r.push(hex('00')), (e: unknown) => e === first);
      assert.throws(() => r.end(), (e: unknown) => e === first);
    });

    it('a zero-length push changes nothing; consumed counts whole units', () => {
      const r = new PcapReader();
      assert.deepEqual(r.push(new Uint8Array(0)), []);
      r.push(CLASSIC_LE.subarray(0, 30));
      assert.equal(r.consumed, 24);
      assert.equal(r.format, 'pcap');
      assert.equal(r.push(CLASSIC_LE.subarray(30)).length, 2);
      assert.equal(r.consumed, CLASSIC_LE.length);
      r.end();
    });
  });
});
