/**
 * FileSink on real journals and a real directory: records of several LIIDs land in the right
 * files exactly once; rotation by bytes and by interval (an injected clock, no sleeping);
 * manifests that `sha256sum -c` accepts and that break when a byte changes; pcap files read
 * back by lig's reader and by tshark with the exact packets; rejects; restarts; limits;
 * stats; options and the directory lock.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Journal } from '../../src/delivery/journal';
import { FileSink, FileSinkOptions, liidDirName } from '../../src/delivery/files';
import { LIIDS, T0, assertExactlyOnce, manifestOf, readOutput, recordFor, recordsFor, sha256Check } from '../files-fixtures';
import { skipOrFail } from '../helpers/shared';
import { rejectsWith, removeDir, tempDir } from '../journal-fixtures';

const START = Date.UTC(2025, 0, 2, 3, 4, 5);

interface Rig {
  root: string;
  out: string;
  hi2: Journal;
  hi3: Journal;
  clock: { t: number; now(): number };
}

async function rig(): Promise<Rig> {
  const root = tempDir('lig-files-');
  const clock = { t: START, now() { return this.t; } };
  return { root, out: path.join(root, 'out'), hi2: await Journal.open(path.join(root, 'hi2')), hi3: await Journal.open(path.join(root, 'hi3')), clock };
}

async function dispose(r: Rig): Promise<void> {
  await r.hi2.close();
  await r.hi3.close();
  removeDir(r.root);
}

/** Appends the test records for the next `count` indices of `hi`; returns the last index. */
async function append(r: Rig, hi: 'hi2' | 'hi3', count: number): Promise<bigint> {
  const j = r[hi];
  const first = j.next;
  const { last } = await j.append(recordsFor(hi, first, first + BigInt(count) - 1n));
  return last;
}

function open(r: Rig, extra: Partial<FileSinkOptions> = {}): Promise<FileSink> {
  return FileSink.open({ dir: r.out, hi2: r.hi2, hi3: r.hi3, clock: r.clock, rotationCheckMs: 0, ...extra });
}

/** Waits until the sink has written both journals up to their ends. */
async function caughtUp(r: Rig, sink: FileSink): Promise<void> {
  await sink.whenWritten('hi2', r.hi2.durable);
  await sink.whenWritten('hi3', r.hi3.durable);
}

/** Waits for `cond`, turn by turn of the event loop; fails if many thousand turns pass without it. */
async function until(cond: () => boolean): Promise<void> {
  for (let turn = 0; turn < 200_000; turn++) {
    if (cond()) return;
    await new Promise((res) => setImmediate(res));
  }
  assert.fail('the condition never came true');
}

const pcapFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort();

describe('files: FileSink', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(async () => dispose(r));

  it('writes the records of several LIIDs into their own files, exactly once, and confirms them', async () => {
    const last2 = await append(r, 'hi2', 300);
    const last3 = await append(r, 'hi3', 300);
    const sink = await open(r);
    await caughtUp(r, sink);
    const live = sink.stats;
    assert.equal(live.openFiles, LIIDS.length * 2, 'one pcap and one jsonl per LIID are open');
    assert.deepEqual(live.applied, { hi2: last2, hi3: last3 });
    assert.deepEqual(live.confirmed, { hi2: last2, hi3: last3 });
    assert.equal(r.hi2.confirmed, last2);
    await sink.close();

    const out = readOutput(r.out);
    assert.deepEqual(out.parts, [], 'no .part file is left after close');
    assert.deepEqual(out.dirs.sort(), [...LIIDS.map((l) => liidDirName(l)), '_rejects'].sort());
    const counts = assertExactlyOnce(out, [{ hi: 'hi2', last: last2 }, { hi: 'hi3', last: last3 }]);
    for (const l of LIIDS) {
      const d = liidDirName(l);
      assert.equal(out.pcap.get(d)!.length, 1);
      assert.equal(out.jsonl.get(d)!.length, 1);
      assert.deepEqual(pcapFiles(path.join(r.out, d)), ['cc-20250102T030405Z-000001.pcap']);
      // Lines keep journal order per interface; every line of a directory is of its LIID.
      const lines = out.jsonl.get(d)![0]!.lines;
      for (const hi of ['hi2', 'hi3']) {
        const seqs = lines.filter((x) => x.interface === hi).map((x) => x.sequenceNumber as number);
        assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
      }
      assert.ok(lines.every((x) => x.liid === l));
    }
    const s = sink.stats;
    assert.equal(s.status, 'closed');
    assert.equal(s.openFiles, 0);
    assert.equal(s.filesClosed, LIIDS.length * 2 + counts.reject);
    assert.deepEqual(s.written, { packets: counts.cc, lines: counts.iri, rejects: counts.reject, skipped: counts.skip });
    let bytes = 0;
    for (const d of out.dirs) for (const f of fs.readdirSync(path.join(r.out, d))) if (f !== 'MANIFEST.sha256') bytes += fs.statSync(path.join(r.out, d, f)).size;
    assert.equal(s.bytes, bytes);
    assert.equal(s.lastError, undefined);
  });

  it('rotates by bytes: no file passes rotate.bytes unless one record alone does', async () => {
    await append(r, 'hi3', 400);
    const sink = await open(r, { rotate: { bytes: 1024 } });
    await caughtUp(r, sink);
    await sink.close();
    const out = readOutput(r.out);
    assertExactlyOnce(out, [{ hi: 'hi3', last: r.hi3.durable }]);
    for (const [d, files] of out.pcap) {
      assert.ok(files.length > 5, `${d}: ${files.length} files`);
      // numbered 1..k without a gap, and in order: concatenated, the packets are in journal order
      assert.deepEqual(files.map((f) => Number(/-(\d+)\.pcap$/.exec(f.file)![1])), files.map((_, k) => k + 1));
      const order = files.flatMap((f) => f.packets.map((p) => p.data.readBigUInt64BE(32)));
      assert.deepEqual(order, [...order].sort((a, b) => (a < b ? -1 : 1)));
      for (const f of files) {
        const size = fs.statSync(path.join(r.out, d, f.file)).size;
        assert.ok(size <= 1024 || f.packets.length === 1, `${f.file}: ${size} bytes in ${f.packets.length} packets`);
        assert.ok(f.packets.length >= 1);
      }
      // each file but the last was closed because the next packet would not fit
      for (let k = 0; k + 1 < files.length; k++) {
        const size = fs.statSync(path.join(r.out, d, files[k]!.file)).size;
        assert.ok(size + 16 + files[k + 1]!.packets[0]!.data.length > 1024, `${files[k]!.file} was closed early`);
      }
    }
  });

  it('rotates by interval, on a check and before writing, by the injected clock', async () => {
    await append(r, 'hi2', 20);
    const sink = await open(r, { rotate: { interval: 60_000 } });
    await caughtUp(r, sink);
    const dirs = LIIDS.map((l) => path.join(r.out, liidDirName(l)));
    const jsonl = (d: string) => fs.readdirSync(d).filter((f) => f.includes('.jsonl')).sort();

    r.clock.t += 59_999;
    await sink.checkRotation();
    assert.equal(sink.stats.filesClosed, 0, 'nothing is due yet');
    for (const d of dirs) assert.deepEqual(jsonl(d), ['iri-20250102T030405Z-000001.jsonl.part']);

    r.clock.t += 1;
    await sink.checkRotation();
    for (const d of dirs) assert.deepEqual(jsonl(d), ['iri-20250102T030405Z-000001.jsonl']);
    assert.equal(sink.stats.openFiles, 0);

    // new records start new files, named by the time they start
    await append(r, 'hi2', 20);
    await caughtUp(r, sink);
    for (const d of dirs) assert.deepEqual(jsonl(d), ['iri-20250102T030405Z-000001.jsonl', 'iri-20250102T030505Z-000002.jsonl.part']);

    // a record that arrives once its file is due goes to a new file, without any check
    r.clock.t += 60_000;
    await append(r, 'hi2', 20);
    await caughtUp(r, sink);
    for (const d of dirs) {
      assert.deepEqual(jsonl(d), ['iri-20250102T030405Z-000001.jsonl', 'iri-20250102T030505Z-000002.jsonl', 'iri-20250102T030605Z-000003.jsonl.part']);
    }
    await sink.close();
    assertExactlyOnce(readOutput(r.out), [{ hi: 'hi2', last: r.hi2.durable }]);
  });

  it('writes manifests that sha256sum -c verifies, and that break when one byte changes', async () => {
    await append(r, 'hi2', 100);
    await append(r, 'hi3', 200);
    const sink = await open(r, { rotate: { bytes: 4096 } });
    await caughtUp(r, sink);
    await sink.close();
    const out = readOutput(r.out);
    for (const d of out.dirs) {
      const dir = path.join(r.out, d);
      const m = manifestOf(dir);
      assert.ok(m.size > 0);
      const ok = sha256Check(dir);
      assert.equal(ok.status, 0, ok.out);
      assert.equal((ok.out.match(/: OK$/gm) ?? []).length, m.size);
    }
    const d = path.join(r.out, liidDirName(LIIDS[1]));
    const victim = pcapFiles(d)[1]!;
    const bytes = fs.readFileSync(path.join(d, victim));
    bytes[bytes.length >> 1]! ^= 0x01;
    fs.writeFileSync(path.join(d, victim), bytes);
    const bad = sha256Check(d);
    assert.notEqual(bad.status, 0);
    assert.match(bad.out, new RegExp(`^${victim.replace(/\./g, '\\.')}: FAILED$`, 'm'));
    assert.equal((bad.out.match(/: FAILED$/gm) ?? []).length, 1, bad.out);
  });

  it('writes pcap files tshark reads with the exact packets, lengths and times', async function () {
    const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) skipOrFail(this, 'tshark is not installed (apt-get install -y tshark)');
    await append(r, 'hi3', 120);
    const sink = await open(r, { rotate: { bytes: 8192 } });
    await caughtUp(r, sink);
    await sink.close();
    const out = readOutput(r.out);
    let seen = 0;
    for (const l of LIIDS) {
      const d = path.join(r.out, liidDirName(l));
      for (const f of pcapFiles(d)) {
        const t = spawnSync('tshark', ['-r', path.join(d, f), '-T', 'json', '-x'], { encoding: 'utf8', maxBuffer: 64 << 20 });
        assert.equal(t.status, 0, t.stderr);
        const frames = JSON.parse(t.stdout) as { _source: { layers: Record<string, any> } }[];
        const ours = out.pcap.get(liidDirName(l))!.find((x) => x.file === f)!.packets;
        assert.equal(frames.length, ours.length, f);
        frames.forEach((fr, k) => {
          const layers = fr._source.layers;
          const index = ours[k]!.data.readBigUInt64BE(32);
          const want = recordFor('hi3', index).expected;
          assert.equal(want.kind, 'cc');
          if (want.kind !== 'cc') return;
          assert.equal(layers.frame_raw[0], want.packet.toString('hex'), `${f} frame ${k}: bytes`);
          assert.equal(layers.frame['frame.len'], String(want.packet.length));
          assert.equal(layers.frame['frame.time_epoch'], `${want.sec}.${String(want.usec).padStart(6, '0')}000`);
          assert.ok(layers.ip, 'tshark sees an IP packet (LINKTYPE_RAW)');
          seen++;
        });
      }
    }
    assert.equal(seen, assertExactlyOnce(out, [{ hi: 'hi3', last: r.hi3.durable }]).cc);
  });

  it('keeps each undecodable record whole in a rejects file of its own, counted', async () => {
    const last = await append(r, 'hi2', 100);
    const sink = await open(r);
    await caughtUp(r, sink);
    const s = sink.stats;
    await sink.close();
    const out = readOutput(r.out);
    const want: Buffer[] = [];
    for (let i = 1n; i <= last; i++) {
      const e = recordFor('hi2', i).expected;
      if (e.kind === 'reject') want.push(e.bytes);
    }
    assert.equal(want.length, 3);
    assert.deepEqual(out.rejects.map((x) => x.file), ['rejects-000001.ber', 'rejects-000002.ber', 'rejects-000003.ber']);
    assert.deepEqual(out.rejects.map((x) => x.bytes.toString('hex')), want.map((b) => b.toString('hex')));
    assert.equal(s.written.rejects, 3);
    assert.equal(s.lastRejectCode, 'LIG_ERR_BER_UNEXPECTED');
    assert.equal(sha256Check(path.join(r.out, '_rejects')).status, 0);
  });

  it('a new sink on the same directory continues: numbering, manifests, nothing twice', async () => {
    await append(r, 'hi2', 50);
    await append(r, 'hi3', 50);
    let sink = await open(r);
    await caughtUp(r, sink);
    await sink.close();
    await append(r, 'hi2', 50);
    await append(r, 'hi3', 50);
    r.clock.t += 1000;
    sink = await open(r);
    await caughtUp(r, sink);
    await sink.close();
    const out = readOutput(r.out);
    assertExactlyOnce(out, [{ hi: 'hi2', last: r.hi2.durable }, { hi: 'hi3', last: r.hi3.durable }]);
    const d = path.join(r.out, liidDirName(LIIDS[0]));
    assert.deepEqual(pcapFiles(d), ['cc-20250102T030405Z-000001.pcap', 'cc-20250102T030406Z-000002.pcap']);
    assert.equal(manifestOf(d).size, 4);
    assert.equal(sha256Check(d).status, 0);
    // indices 29, 58 and 87 of each journal, numbered on across the restart
    assert.deepEqual(out.rejects.map((x) => x.file), [1, 2, 3, 4, 5, 6].map((n) => `rejects-00000${n}.ber`));
    assert.equal(manifestOf(path.join(r.out, '_rejects')).size, 6);
  });

  it('numbers on from the manifest when the agency has taken the closed files away', async () => {
    await append(r, 'hi2', 20);
    await append(r, 'hi3', 20);
    let sink = await open(r);
    await caughtUp(r, sink);
    await sink.close();
    const d = path.join(r.out, liidDirName(LIIDS[0]));
    for (const f of fs.readdirSync(d)) if (f !== 'MANIFEST.sha256') fs.rmSync(path.join(d, f));
    await append(r, 'hi2', 20);
    await append(r, 'hi3', 20);
    sink = await open(r);
    await caughtUp(r, sink);
    await sink.close();
    assert.deepEqual(pcapFiles(d), ['cc-20250102T030405Z-000002.pcap']);
    assert.deepEqual(fs.readdirSync(d).filter((f) => f.startsWith('iri-')), ['iri-20250102T030405Z-000002.jsonl']);
  });

  it('keeps at most maxOpenFiles open, closing the least recently written first', async () => {
    await append(r, 'hi2', 60);
    await append(r, 'hi3', 60);
    const sink = await open(r, { maxOpenFiles: 2, batchRecords: 7 });
    await caughtUp(r, sink);
    assert.ok(sink.stats.openFiles <= 2);
    await sink.close();
    const out = readOutput(r.out);
    assertExactlyOnce(out, [{ hi: 'hi2', last: r.hi2.durable }, { hi: 'hi3', last: r.hi3.durable }]);
    // Records alternate between three LIIDs, so with two files open almost every record starts a file.
    assert.ok([...out.pcap.values()].every((files) => files.length > 10));
  });

  it('delivers an IRI-only agency from its HI2 journal alone', async () => {
    const last = await append(r, 'hi2', 30);
    const sink = await FileSink.open({ dir: r.out, hi2: r.hi2, clock: r.clock, rotationCheckMs: 0 });
    await sink.whenWritten('hi2', last);
    await sink.close();
    const out = readOutput(r.out);
    assertExactlyOnce(out, [{ hi: 'hi2', last }]);
    assert.equal(out.pcap.size, 0);
  });

  it('one sink per directory; rejects bad options with the field named; refuses use after close', async () => {
    const sink = await open(r);
    await rejectsWith(open(r), 'LIG_ERR_FILES_LOCKED');
    await sink.close();
    await sink.close(); // twice is fine
    await rejectsWith(sink.checkRotation(), 'LIG_ERR_FILES_CLOSED');
    await rejectsWith(sink.whenWritten('hi2', 1n), 'LIG_ERR_FILES_CLOSED');
    const bad = async (opts: object, field: string) => {
      const e = await rejectsWith(FileSink.open(opts as FileSinkOptions), 'LIG_ERR_CONFIG');
      assert.ok(e.message.startsWith(field), e.message);
    };
    await bad({ dir: r.out, hi2: r.hi2, rotate: { bytes: 10 } }, 'files.rotate.bytes');
    await bad({ dir: r.out, hi2: r.hi2, rotate: { interval: 0 } }, 'files.rotate.interval');
    await bad({ dir: r.out, hi2: r.hi2, maxOpenFiles: 0 }, 'files.maxOpenFiles');
    await bad({ dir: r.out, hi2: r.hi2, rotat: {} }, 'files.rotat');
    await bad({ dir: r.out }, 'files');
    await bad({ dir: '', hi2: r.hi2 }, 'files.dir');
    await bad({ dir: r.out, hi2: r.hi2, hi3: r.hi2 }, 'files.hi3');
    // a closed sink released its lock
    const again = await open(r);
    await again.close();
  });

  it('a journal closed under the sink is an error it backs off from, not a spin; close still works', async () => {
    const last = await append(r, 'hi3', 10);
    const sink = await open(r, { retryDelayMs: 30_000 });
    await sink.whenWritten('hi3', last);
    await r.hi2.close();
    await until(() => sink.stats.lastError !== undefined);
    assert.equal(sink.stats.lastError!.code, 'LIG_ERR_JOURNAL_CLOSED');
    assert.equal(sink.stats.status, 'retrying');
    await sink.close(); // wakes the 30 s backoff
    assertExactlyOnce(readOutput(r.out), [{ hi: 'hi3', last }]);
  });

  it('reports an I/O failure without the LIID, retries from durable state, and loses nothing', async () => {
    // A plain file where a LIID's directory must go makes every write to that LIID fail.
    fs.mkdirSync(r.out, { recursive: true });
    const blocker = path.join(r.out, liidDirName(LIIDS[0]));
    fs.writeFileSync(blocker, 'not a directory');
    const last = await append(r, 'hi2', 40);
    const sink = await open(r, { retryDelayMs: 1 });
    await until(() => sink.stats.lastError !== undefined);
    const s = sink.stats;
    assert.equal(s.lastError!.code, 'LIG_ERR_FILES_IO');
    assert.equal(s.lastError!.at, r.clock.t);
    for (const l of LIIDS) assert.ok(!s.lastError!.message.includes(l) && !s.lastError!.message.includes(liidDirName(l)), s.lastError!.message);
    assert.ok(s.applied.hi2 < last, 'the failing record is not counted written');
    fs.rmSync(blocker);
    await sink.whenWritten('hi2', last);
    assert.equal(sink.stats.status, 'running');
    await sink.close();
    assertExactlyOnce(readOutput(r.out), [{ hi: 'hi2', last }]);
  });
});

describe('files: record times in the pcap files', () => {
  it('are the PS header times, to the microsecond', async () => {
    const r = await rig();
    try {
      const last = await append(r, 'hi3', 10);
      const sink = await open(r);
      await sink.whenWritten('hi3', last);
      await sink.close();
      const packets = [...readOutput(r.out).pcap.values()].flatMap((files) => files.flatMap((f) => f.packets));
      assert.ok(packets.length > 0);
      for (const p of packets) {
        const i = Number(p.data.readBigUInt64BE(32));
        assert.deepEqual([p.sec, p.usec], [T0 + i, (i * 7919) % 1_000_000]);
      }
    } finally {
      await dispose(r);
    }
  });
});
