/**
 * `pcap:FILE` sources on real files: scapy-built pcap and pcapng streamed in chunks of every
 * size, a full queue making the reader wait (nothing dropped, the file not read ahead),
 * capture-pace and as-fast-as-possible replay, damaged and missing files.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PcapFileSource } from '../../src/capture/file-source';
import type { Frame } from '../../src/capture/frame';
import { createPacketSource } from '../../src/capture/open-source';
import { parseCaptureFile } from '../../src/capture/pcap-reader';
import { encodePcapHeader, encodePcapRecord } from '../../src/capture/pcap-write';
import { CaptureFileError, SourceError } from '../../src/errors';
import { PCAPNG } from '../fixtures/capture-golden';
import { requireScapy, scapy } from '../helpers/scapy';

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function drain(s: PcapFileSource): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of s) out.push(f);
  return out;
}

const plain = (fs_: Frame[]) => fs_.map((f) => ({ ts: f.ts, linktype: f.linktype, data: Buffer.from(f.data).toString('hex'), origLen: f.origLen }));

describe('capture: pcap file source', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-filesrc-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A pcap of `n` Ethernet-sized records, `gapUs` apart. */
  function written(name: string, n: number, gapUs: number, size = 200): string {
    const parts = [encodePcapHeader(1, 65535)];
    for (let i = 0; i < n; i++) {
      const us = 1_700_000_000_000_000 + i * gapUs;
      const data = Buffer.alloc(size, i & 0xff);
      data.writeUInt32BE(i, 0);
      parts.push(encodePcapRecord(Math.floor(us / 1e6), us % 1e6, data, size + (i % 3)));
    }
    const file = path.join(dir, name);
    fs.writeFileSync(file, Buffer.concat(parts));
    return file;
  }

  describe('scapy-built captures', function () {
    before(function () {
      requireScapy(this);
      scapy('frames', dir);
    });

    for (const name of ['eth.pcap', 'eth.pcapng', 'sll2.pcap']) {
      it(`${name}: the same frames as reading it whole, in chunks of 1, 7, 64 and 256 KiB octets`, async () => {
        const file = path.join(dir, name);
        const whole = parseCaptureFile(fs.readFileSync(file)).packets.map((p) => ({
          ts: { seconds: p.ts!.sec, micros: Math.floor(p.ts!.nsec / 1000) },
          linktype: p.linktype,
          data: Buffer.from(p.data).toString('hex'),
          origLen: p.origLen,
        }));
        assert.ok(whole.length > 10);
        for (const chunkBytes of [1, 7, 64, 256 * 1024]) {
          const s = new PcapFileSource(file, { chunkBytes });
          await s.start();
          assert.deepEqual(plain(await drain(s)), whole, `chunkBytes ${chunkBytes}`);
          assert.equal(s.counters().frames, whole.length);
        }
      });
    }
  });

  it('a pcapng Simple Packet Block (no time) takes the time of the packet before it', async () => {
    const file = path.join(dir, 'golden.pcapng');
    fs.writeFileSync(file, PCAPNG);
    const s = createPacketSource({ kind: 'pcap', file }) as PcapFileSource;
    await s.start();
    const frames = await drain(s);
    assert.deepEqual(
      frames.map((f) => f.ts),
      [
        { seconds: 1_700_000_000, micros: 123_456 },
        { seconds: 1_700_000_000, micros: 500_000 },
        { seconds: 1_700_000_000, micros: 500_000 },
        { seconds: 1005, micros: 500_000 },
        { seconds: 1005, micros: 500_000 },
      ],
    );
  });

  it('a full queue makes the reader wait: nothing dropped, and the file is not read ahead', async () => {
    const file = written('big.pcap', 20_000, 10); // about 4.3 MB
    const chunkBytes = 64 * 1024;
    const s = new PcapFileSource(file, { queue: { maxFrames: 4 }, chunkBytes });
    await s.start();
    await turns(50);
    assert.ok(s.bytesRead <= 3 * chunkBytes, `read ${s.bytesRead} octets with 4 frames queued`);
    let n = 0;
    for (;;) {
      const f = await s.next();
      if (!f) break;
      assert.equal(Buffer.from(f.data).readUInt32BE(0), n, 'in order, none missing');
      n++;
      if (n % 1000 === 0) await turns(1);
    }
    assert.equal(n, 20_000);
    assert.deepEqual(s.counters(), { frames: 20_000, dropped: 0, malformed: {}, skipped: {} });
  });

  it("rate 'capture' releases no frame before its time; rate 'max' does not wait", async () => {
    const gapUs = 40_000;
    const file = written('paced.pcap', 6, gapUs);
    const s = new PcapFileSource(file, { rate: 'capture' });
    // Taken before the source sees its first frame, the pace's origin: a lower bound that slowness cannot break.
    const t0 = performance.now();
    await s.start();
    const first = await s.next();
    for (let i = 1; i < 6; i++) {
      const f = await s.next();
      const elapsed = performance.now() - t0;
      assert.equal(Buffer.from(f!.data).readUInt32BE(0), i);
      // Slack: PACING_SLACK_MS, and Node timers that may fire up to a millisecond early.
      assert.ok(elapsed >= (i * gapUs) / 1000 - 3, `frame ${i} after ${elapsed.toFixed(1)} ms, due at ${(i * gapUs) / 1000} ms`);
    }
    assert.equal(await s.next(), undefined);
    assert.ok(first);

    // An hour between two frames: 'max' gives both at once; 'capture' holds the second until stopped.
    const hour = written('hour.pcap', 2, 3600e6);
    const fast = new PcapFileSource(hour, { rate: 'max' });
    await fast.start();
    assert.equal((await drain(fast)).length, 2);
    const slow = new PcapFileSource(hour, { rate: 'capture' });
    await slow.start();
    assert.ok(await slow.next());
    await turns(20);
    assert.equal(slow.poll(), undefined);
    await slow.stop();
    assert.equal(await slow.next(), undefined, 'stop ends the source, even mid-wait');
  });

  it('stop mid-file: the queued frames can still be pulled, then the source ends', async () => {
    const s = new PcapFileSource(written('stop.pcap', 1000, 1), { queue: { maxFrames: 10 } });
    await s.start();
    await turns(20);
    await s.stop();
    const rest = await drain(s);
    assert.ok(rest.length <= 10);
  });

  it('a file cut inside a record: the frames before it, then the CaptureFileError', async () => {
    const full = fs.readFileSync(written('whole.pcap', 5, 1, 100));
    const file = path.join(dir, 'cut.pcap');
    fs.writeFileSync(file, full.subarray(0, full.length - 50));
    const s = new PcapFileSource(file, { chunkBytes: 33 });
    await s.start();
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for (;;) {
          const f = await s.next();
          if (!f) return;
          got.push(Buffer.from(f.data).readUInt32BE(0));
        }
      })(),
      (e: unknown) => e instanceof CaptureFileError && e.code === 'LIG_ERR_CAPTURE_TRUNCATED',
    );
    assert.deepEqual(got, [0, 1, 2, 3]);
  });

  it('not a capture, or missing: typed errors', async () => {
    const text = path.join(dir, 'text.pcap');
    fs.writeFileSync(text, 'hello, this is not a capture file');
    const s = new PcapFileSource(text);
    await s.start();
    await assert.rejects(s.next(), (e: unknown) => e instanceof CaptureFileError && e.code === 'LIG_ERR_CAPTURE_BAD_FORMAT');
    await assert.rejects(new PcapFileSource(path.join(dir, 'absent.pcap')).start(), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPEN' && /ENOENT/.test(e.message));
    // A directory opens on Linux but cannot be read: the failure comes with the first read.
    const d = new PcapFileSource(dir);
    await d.start();
    await assert.rejects(d.next(), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_READ' && /EISDIR/.test(e.message));
    assert.throws(() => new PcapFileSource(text, { rate: 'fast' as 'max' }), (e: unknown) => e instanceof SourceError && e.code === 'LIG_ERR_SOURCE_OPTIONS');
  });
});
