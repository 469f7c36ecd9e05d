/**
 * FileSink recovery from exactly the states a crash can leave, made deterministically: a
 * running sink's directory and journals are copied while it is idle (a consistent durable
 * state), then the copy is given what the crash window leaves (file bytes written but not in
 * the state, a file created but not in the state, a close cut short at each step), and a new
 * sink is opened on it. Also: damaged state is a typed error, never a guess.
 * (A real SIGKILL mid-stream is test/integration/files-crash.test.ts.)
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileSink, liidDirName } from '../../src/delivery/files';
import { readState, writeState } from '../../src/delivery/files/state';
import { Journal } from '../../src/delivery/journal';
import { LIIDS, assertExactlyOnce, manifestOf, readOutput, recordsFor, sha256Check } from '../files-fixtures';
import { rejectsWith, removeDir, tempDir } from '../journal-fixtures';

const clock = { now: () => Date.UTC(2025, 0, 2, 3, 4, 5) };

/** A files directory and its two journals, side by side in `root`. */
class Place {
  readonly out: string;
  hi2!: Journal;
  hi3!: Journal;
  constructor(readonly root: string) {
    this.out = path.join(root, 'out');
  }
  async openJournals(): Promise<this> {
    this.hi2 = await Journal.open(path.join(this.root, 'hi2'));
    this.hi3 = await Journal.open(path.join(this.root, 'hi3'));
    return this;
  }
  async closeJournals(): Promise<void> {
    await this.hi2.close();
    await this.hi3.close();
  }
  async append(hi: 'hi2' | 'hi3', upTo: bigint): Promise<void> {
    const j = this[hi];
    if (j.next <= upTo) await j.append(recordsFor(hi, j.next, upTo));
  }
  sink(): Promise<FileSink> {
    return FileSink.open({ dir: this.out, hi2: this.hi2, hi3: this.hi3, clock, rotationCheckMs: 0 });
  }
  async caughtUp(s: FileSink): Promise<void> {
    await s.whenWritten('hi2', this.hi2.durable);
    await s.whenWritten('hi3', this.hi3.durable);
  }
  /** Every `.part` file, relative to out. */
  parts(): string[] {
    const out: string[] = [];
    for (const d of fs.readdirSync(this.out)) {
      if (d.startsWith('.')) continue;
      for (const f of fs.readdirSync(path.join(this.out, d))) if (f.endsWith('.part')) out.push(path.join(d, f));
    }
    return out.sort();
  }
}

/** Copies a place whose sink is idle: the copy is a durable state as a crash would leave it. */
function snapshot(from: Place, to: string): Place {
  fs.cpSync(from.root, to, { recursive: true });
  // the locks name this (live) process; a crashed owner would be gone
  for (const lock of [['out', '.lig', 'lock'], ['hi2', 'lock'], ['hi3', 'lock']]) fs.rmSync(path.join(to, ...lock), { force: true });
  return new Place(to);
}

describe('files: recovery', () => {
  let tmp: string;
  let live: Place;
  let sinkA: FileSink;
  let snap: Place;

  /** A sink that has written records 1..60 of both journals; `snap` is a copy taken then. */
  beforeEach(async () => {
    tmp = tempDir('lig-files-rec-');
    live = await new Place(path.join(tmp, 'live')).openJournals();
    await live.append('hi2', 60n);
    await live.append('hi3', 60n);
    sinkA = await live.sink();
    await live.caughtUp(sinkA);
    snap = snapshot(live, path.join(tmp, 'snap'));
  });
  afterEach(async () => {
    await sinkA.close();
    await live.closeJournals();
    removeDir(tmp);
  });

  it('cuts open files back to their durable offsets and writes the records after the state again, once', async () => {
    // The crash window: records 61..100 reached the files, but not the state.
    await live.append('hi2', 100n);
    await live.append('hi3', 100n);
    await live.caughtUp(sinkA);
    const parts = live.parts();
    assert.equal(parts.length, LIIDS.length * 2);
    assert.deepEqual(snap.parts(), parts);
    for (const p of parts) {
      const longer = fs.readFileSync(path.join(live.out, p));
      assert.ok(longer.length > fs.statSync(path.join(snap.out, p)).size);
      // plus a torn tail: the write in flight when the process died
      fs.writeFileSync(path.join(snap.out, p), Buffer.concat([longer, Buffer.alloc(5000, 0xee)]));
    }
    // ...and a file was started that the state does not list yet
    const orphan = path.join(snap.out, liidDirName(LIIDS[0]), 'cc-20250102T030405Z-000002.pcap.part');
    fs.copyFileSync(path.join(live.out, parts[0]!), orphan);

    await snap.openJournals();
    try {
      assert.equal(snap.hi2.confirmed, 60n, 'the journal was confirmed only up to the state');
      await snap.append('hi2', 120n);
      await snap.append('hi3', 120n);
      const sinkB = await snap.sink();
      await snap.caughtUp(sinkB);
      assert.ok(!fs.existsSync(orphan), 'the unlisted file was removed');
      // no torn tail is left behind the durable bytes, even before the files are closed
      const state = await readState(path.join(snap.out, '.lig'));
      assert.equal(state.parts.length, LIIDS.length * 2);
      for (const e of state.parts) assert.equal(fs.statSync(path.join(snap.out, e.dir, `${e.name}.part`)).size, e.offset, e.name);
      await sinkB.close();
    } finally {
      await snap.closeJournals();
    }
    const out = readOutput(snap.out);
    assertExactlyOnce(out, [{ hi: 'hi2', last: 120n }, { hi: 'hi3', last: 120n }]);
    // the open files went on: one file per LIID and kind, numbered 1
    for (const files of [...out.pcap.values(), ...out.jsonl.values()]) assert.deepEqual(files.map((f) => /-(\d+)\./.exec(f.file)![1]), ['000001']);
    for (const d of out.dirs) assert.equal(sha256Check(path.join(snap.out, d)).status, 0);
  });

  /** Marks LIIDS[0]'s pcap file as closing in the snapshot's state; returns its name. */
  async function markClosing(): Promise<{ dir: string; name: string }> {
    const priv = path.join(snap.out, '.lig');
    const s = await readState(priv);
    const e = s.parts.find((p) => p.dir === liidDirName(LIIDS[0]) && p.kind === 'cc')!;
    e.closing = { manifestSize: 0 };
    await writeState(priv, s);
    return { dir: path.join(snap.out, e.dir), name: e.name };
  }

  async function resumeSnap(): Promise<void> {
    await snap.openJournals();
    try {
      await snap.append('hi2', 90n);
      await snap.append('hi3', 90n);
      const sinkB = await snap.sink();
      await snap.caughtUp(sinkB);
      await sinkB.close();
    } finally {
      await snap.closeJournals();
    }
  }

  for (const step of ['before the rename', 'after the rename, with a torn manifest line', 'after the whole manifest line'] as const) {
    it(`finishes a close cut short ${step}: renamed, listed once, verified`, async () => {
      const { dir, name } = await markClosing();
      if (step !== 'before the rename') {
        fs.renameSync(path.join(dir, `${name}.part`), path.join(dir, name));
        const line = step.includes('torn') ? 'e3b0c44298fc1c149afbf4c8996fb9' : `${require('node:crypto').createHash('sha256').update(fs.readFileSync(path.join(dir, name))).digest('hex')}  ${name}\n`;
        fs.writeFileSync(path.join(dir, 'MANIFEST.sha256'), line);
      }
      await resumeSnap();
      const m = manifestOf(dir);
      assert.ok(m.has(name));
      assert.equal(sha256Check(dir).status, 0);
      // the closed file kept records 1..60; 61..90 went to the next file
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('cc-')).sort(), [name, name.replace('-000001.', '-000002.')]);
      assertExactlyOnce(readOutput(snap.out), [{ hi: 'hi2', last: 90n }, { hi: 'hi3', last: 90n }]);
    });
  }

  it('refuses damaged state with FILES_STATE, naming no LIID, and leaves the directory usable once fixed', async () => {
    await snap.openJournals();
    const priv = path.join(snap.out, '.lig');
    const good = fs.readFileSync(path.join(priv, 'state.json'), 'utf8');
    const s = await readState(priv);
    const part = s.parts.find((p) => p.kind === 'cc')!;
    const partFile = path.join(snap.out, part.dir, `${part.name}.part`);
    const cases: [string, () => void | Promise<void>][] = [
      ['not JSON', () => fs.writeFileSync(path.join(priv, 'state.json'), '{"version":1,')],
      ['a path out of the directory', () => fs.writeFileSync(path.join(priv, 'state.json'), good.replace(`"dir":"${part.dir}"`, '"dir":"../evil"'))],
      ['a missing open file', () => fs.renameSync(partFile, `${partFile}.moved`)],
      ['an open file shorter than its offset', () => fs.truncateSync(partFile, part.offset - 1)],
      ['records beyond the journal', () => fs.writeFileSync(path.join(priv, 'state.json'), good.replace(/"hi2":"\d+"/, '"hi2":"999"'))],
    ];
    try {
      for (const [what, damage] of cases) {
        const whole = fs.readFileSync(partFile);
        await damage();
        const e = await rejectsWith(snap.sink(), 'LIG_ERR_FILES_STATE');
        for (const l of LIIDS) assert.ok(!e.message.includes(l) && !e.message.includes(liidDirName(l)), `${what}: ${e.message}`);
        // undo
        fs.writeFileSync(path.join(priv, 'state.json'), good);
        if (fs.existsSync(`${partFile}.moved`)) fs.renameSync(`${partFile}.moved`, partFile);
        fs.writeFileSync(partFile, whole);
      }
      const ok = await snap.sink(); // the failed opens released the lock
      await ok.close();
    } finally {
      await snap.closeJournals();
    }
    assertExactlyOnce(readOutput(snap.out), [{ hi: 'hi2', last: 60n }, { hi: 'hi3', last: 60n }]);
  });
});
