/**
 * The pcap codec against an independent implementation, Wireshark's (Debian's `tshark` and
 * `editcap`): files lig writes are read by tshark with the same lengths and times; files
 * editcap writes (pcapng, nanosecond pcap) and the hand-written golden captures are read by
 * lig as tshark reads them. Without tshark this skips, except under CI, where it fails.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CapturedPacket } from '../../src/capture/pcap-format';
import { parseCaptureFile } from '../../src/capture/pcap-reader';
import { encodePcapHeader, encodePcapRecord } from '../../src/capture/pcap-write';
import { CLASSIC_BE_NS, CLASSIC_LE, PCAPNG, prng } from '../fixtures/capture-golden';
import { requireShared, skipOrFail } from '../helpers/shared';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** tshark's view of a file: one "len cap_len epoch" line per frame that carries a packet. */
function tsharkFrames(file: string): string[] {
  const out = run('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=/s', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.time_epoch', '-e', 'frame.encap_type']);
  // Frames without an encapsulation are pcapng blocks tshark shows but that carry no packet.
  return out
    .split('\n')
    .filter((l) => l.trim() !== '' && !/ $/.test(l))
    .map((l) => l.split(' ').slice(0, 3).join(' ').trimEnd());
}

/** lig's view in the same form. */
function ligFrames(packets: CapturedPacket[]): string[] {
  return packets.map((p) => `${p.origLen} ${p.data.length} ${p.ts ? `${p.ts.sec}.${String(p.ts.nsec).padStart(9, '0')}` : ''}`.trimEnd());
}

describe('capture: pcap codec against tshark', function () {
  let dir: string;

  before(function () {
    const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) skipOrFail(this, 'tshark is not installed (apt-get install -y tshark)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-pcap-'));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  /** A capture lig writes: random sizes (some truncated), times, and its expected frames. */
  function written(seed: number, count: number): { bytes: Buffer; payloads: Buffer[]; expected: string[] } {
    const rnd = prng(seed);
    const parts: Uint8Array[] = [encodePcapHeader(1, 2048)];
    const payloads: Buffer[] = [];
    const expected: string[] = [];
    for (let i = 0; i < count; i++) {
      const len = Math.floor(rnd() * 1600);
      const orig = rnd() < 0.3 ? len + Math.floor(rnd() * 9000) : len;
      const sec = 1_600_000_000 + Math.floor(rnd() * 100_000_000);
      const usec = Math.floor(rnd() * 1_000_000);
      const data = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
      parts.push(encodePcapRecord(sec, usec, data, orig));
      payloads.push(data);
      expected.push(`${orig} ${len} ${sec}.${String(usec).padStart(6, '0')}000`);
    }
    return { bytes: Buffer.concat(parts), payloads, expected };
  }

  it('tshark reads what lig writes: frame.len, frame.cap_len and time agree', () => {
    const { bytes, expected } = written(1, 200);
    const file = path.join(dir, 'lig.pcap');
    fs.writeFileSync(file, bytes);
    assert.deepEqual(tsharkFrames(file), expected);
    assert.deepEqual(ligFrames(parseCaptureFile(bytes).packets), expected);
  });

  it('lig reads what editcap writes (pcapng, nanosecond pcap) as tshark does', () => {
    const { bytes, payloads } = written(2, 100);
    const src = path.join(dir, 'src.pcap');
    fs.writeFileSync(src, bytes);
    for (const format of ['pcapng', 'nsecpcap']) {
      const file = path.join(dir, `out.${format}`);
      run('editcap', ['-F', format, src, file]);
      const f = parseCaptureFile(fs.readFileSync(file));
      assert.equal(f.format, format === 'pcapng' ? 'pcapng' : 'pcap');
      assert.deepEqual(ligFrames(f.packets), tsharkFrames(file), format);
      assert.deepEqual(
        f.packets.map((p) => Buffer.from(p.data).toString('hex')),
        payloads.map((p) => p.toString('hex')),
        format,
      );
    }
  });

  it('lig and tshark agree on the hand-written golden captures', () => {
    for (const [name, bytes] of [
      ['le.pcap', CLASSIC_LE],
      ['be-ns.pcap', CLASSIC_BE_NS],
      ['golden.pcapng', PCAPNG],
    ] as const) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      assert.deepEqual(ligFrames(parseCaptureFile(bytes).packets), tsharkFrames(file), name);
    }
  });

  it('lig and tshark agree on the reference sample capture', function () {
    const file = requireShared(this, 'reference', 'samples', 'libtrace-etsi_10_pings.pcap');
    const lig = ligFrames(parseCaptureFile(fs.readFileSync(file)).packets);
    assert.ok(lig.length > 0);
    assert.deepEqual(lig, tsharkFrames(file));
  });
});
