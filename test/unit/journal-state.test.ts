/**
 * Stated appends: append(records, state) makes records and state durable together. A crash
 * (simulated by cutting the newest segment at every byte of the last append) loses both or
 * neither; the latest state survives reopening, segment rolls and the deletion of every
 * segment by confirm; state frames are never read as records.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Journal, MAX_RECORD_BYTES } from '../../src/delivery/journal';
import {
  MAX_STATE_BYTES,
  decodeCursorState,
  decodeFrame,
  encodeCursor,
  encodeFrame,
  frameSize,
} from '../../src/delivery/journal/framing';
import { journalTempDir, lastSegment, readAll, segmentFiles } from '../helpers/journal';
import { assertRecord, recordFor, recordsFor, rejectsWith } from '../journal-fixtures';


/** The state the tests write after records up to `last`: its index, as text, padded to a size that varies. */
const stateFor = (last: bigint) => Buffer.from(`state-after-${last}`.padEnd(20 + Number(last % 50n), '.'));

/** Every record from the first unconfirmed one to `last` reads back exactly, and nothing more. */
async function expectRecords(j: Journal, last: bigint): Promise<void> {
  const all = await readAll(j, j.confirmed + 1n, 5);
  assert.deepEqual(
    all.map((r) => r.index),
    Array.from({ length: Number(last - j.confirmed) }, (_, k) => j.confirmed + 1n + BigInt(k)),
  );
  for (const r of all) assertRecord(r.index, r.data);
}

function expectState(j: Journal, last: bigint | undefined): void {
  if (last === undefined) return assert.equal(j.state, undefined);
  const s = j.state;
  assert.ok(s, `a state after ${last}`);
  assert.equal(s.index, last);
  assert.equal(Buffer.from(s.data).toString(), stateFor(last).toString());
}

describe('journal: stated appends', () => {
  let dir: string;
  let j: Journal | undefined;
  journalTempDir((d) => (dir = d), { opened: () => j, prefix: 'lig-journal-state-' });

  it('keeps the latest state across reopen, mixed with plain appends, and never reads it as a record', async () => {
    j = await Journal.open(dir, { segmentBytes: 4096 });
    expectState(j, undefined);
    assert.deepEqual(await j.append(recordsFor(1n, 3n), stateFor(3n)), { first: 1n, last: 3n });
    expectState(j, 3n);
    await j.append(recordsFor(4n, 6n));
    expectState(j, 3n);
    for (let first = 7n; first < 200n; first += 9n) await j.append(recordsFor(first, first + 8n), stateFor(first + 8n));
    expectState(j, 204n);
    await expectRecords(j, 204n);
    assert.ok(segmentFiles(dir).length > 5, 'several segments');
    await j.close();
    j = await Journal.open(dir, { segmentBytes: 4096 });
    assert.equal(j.stats.tornBytesAtOpen, 0);
    assert.equal(j.next, 205n);
    expectState(j, 204n);
    await expectRecords(j, 204n);
    // reads that start anywhere, including right after a state frame, see records only
    for (let from = 1n; from <= 204n; from += 13n) {
      const got: { index: bigint }[] = await j.read(from, { maxRecords: 3 });
      assert.deepEqual(got.map((r) => r.index), [from, from + 1n, from + 2n].filter((i) => i <= 204n));
    }
  });

  it('a state returned is a copy: changing it changes nothing in the journal', async () => {
    j = await Journal.open(dir);
    const state = stateFor(2n);
    await j.append(recordsFor(1n, 2n), state);
    state.fill(0);
    j.state!.data.fill(0);
    expectState(j, 2n);
  });

  it('a torn stated append loses its records and its state together, at every cut point', async () => {
    j = await Journal.open(dir);
    await j.append(recordsFor(1n, 4n), stateFor(4n));
    await j.append(recordsFor(5n, 5n));
    await j.close();
    j = undefined;
    const file = lastSegment(dir);
    const clean = fs.readFileSync(file);
    const txn = Buffer.concat([
      ...recordsFor(6n, 8n).map((r, k) => encodeFrame(6n + BigInt(k), r, 'txn')),
      encodeFrame(8n, stateFor(8n), 'state'),
    ]);
    // Every frame boundary and the bytes around it, every header byte of the first frame, and a stride between.
    const cuts = new Set<number>();
    for (let at = 0, k = 0; k <= 4; k++) {
      for (let d = -2; d <= 13; d++) cuts.add(Math.min(txn.length, Math.max(0, at + d)));
      if (k < 4) at += decodeFrame(txn, at).kind === 'frame' ? (decodeFrame(txn, at) as { size: number }).size : 0;
    }
    for (let cut = 0; cut <= txn.length; cut += 37) cuts.add(cut);
    cuts.add(txn.length);
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      fs.writeFileSync(file, Buffer.concat([clean, txn.subarray(0, cut)]));
      j = await Journal.open(dir);
      const complete = cut === txn.length;
      assert.equal(j.next, complete ? 9n : 6n, `cut at ${cut}`);
      assert.equal(j.stats.tornBytesAtOpen, complete ? 0 : cut);
      expectState(j, complete ? 8n : 4n);
      await expectRecords(j, complete ? 8n : 5n);
      await j.close();
      j = undefined;
      if (!complete) assert.equal(fs.statSync(file).size, clean.length, 'cut back to before the append');
    }
    // after a cut, appends go on from the surviving state
    j = await Journal.open(dir);
    await j.append(recordsFor(9n, 9n), stateFor(9n));
    expectState(j, 9n);
    await expectRecords(j, 9n);
  });

  it('a stated append never spans segments: it rolls first, or takes a segment of its own', async () => {
    const segmentBytes = 4096;
    j = await Journal.open(dir, { segmentBytes });
    let last = 0n;
    for (let k = 0; k < 30; k++) {
      const n = 1n + BigInt(k % 6); // 1..6 records of 30..1500 bytes: some appends exceed a segment alone
      await j.append(recordsFor(last + 1n, last + n), stateFor(last + n));
      last += n;
    }
    await j.close();
    j = undefined;
    const files = segmentFiles(dir);
    let shared = 0;
    let oversized = 0;
    // every segment, read frame by frame, ends with a state frame: no append was split
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      let at = 16;
      let lastType = '';
      let states = 0;
      while (at < bytes.length) {
        const r = decodeFrame(bytes, at);
        assert.equal(r.kind, 'frame');
        if (r.kind !== 'frame') break;
        lastType = r.type;
        if (r.type === 'state') states++;
        at += r.size;
      }
      assert.equal(lastType, 'state', `${path.basename(file)} ends with a state frame`);
      if (states > 1) shared++;
      if (bytes.length > segmentBytes) {
        oversized++;
        assert.equal(states, 1, 'a segment past segmentBytes holds one append');
      }
    }
    assert.ok(shared > 0 && oversized > 0, `both cases happened (${shared} shared, ${oversized} oversized)`);
    j = await Journal.open(dir, { segmentBytes });
    expectState(j, last);
    await expectRecords(j, last);
  });

  it('keeps the state when confirm deletes the segments that held it, or every segment', async () => {
    j = await Journal.open(dir, { segmentBytes: 2048 });
    let last = 0n;
    for (let k = 0; k < 10; k++) {
      await j.append(recordsFor(last + 1n, last + 4n), stateFor(last + 4n));
      last += 4n;
    }
    const stated = last;
    for (let k = 0; k < 10; k++) {
      await j.append(recordsFor(last + 1n, last + 4n));
      last += 4n;
    }
    await j.confirm(stated);
    const left = segmentFiles(dir);
    assert.ok(left.length > 0);
    for (const file of left) {
      const bytes = fs.readFileSync(file);
      for (let at = 16; at < bytes.length; ) {
        const r = decodeFrame(bytes, at);
        assert.ok(r.kind === 'frame' && r.type === 'record', 'only plain records are left on disk');
        at += r.kind === 'frame' ? r.size : bytes.length;
      }
    }
    await j.close();
    j = await Journal.open(dir, { segmentBytes: 2048 });
    expectState(j, stated);
    await expectRecords(j, last);
    await j.confirm(last);
    assert.equal(segmentFiles(dir).length, 0, 'every segment deleted');
    await j.close();
    j = await Journal.open(dir, { segmentBytes: 2048 });
    expectState(j, stated);
    assert.equal(j.next, last + 1n);
    await j.append(recordsFor(last + 1n, last + 1n), stateFor(last + 1n));
    expectState(j, last + 1n);
  });

  it('prefers a newer state in the segments to an older one in the cursor (crash between cursor write and delete)', async () => {
    j = await Journal.open(dir, { segmentBytes: 2048 });
    let last = 0n;
    for (let k = 0; k < 10; k++) {
      await j.append(recordsFor(last + 1n, last + 4n), stateFor(last + 4n));
      last += 4n;
    }
    await j.close();
    j = undefined;
    fs.writeFileSync(path.join(dir, 'confirmed'), encodeCursor(last - 8n, { index: last - 8n, data: stateFor(last - 8n) }));
    j = await Journal.open(dir, { segmentBytes: 2048 });
    expectState(j, last);
    await expectRecords(j, last);
  });

  it('refuses a stated append cut short in an older segment, and a state frame that follows no append', async () => {
    j = await Journal.open(dir, { segmentBytes: 2048 });
    await j.append(recordsFor(1n, 2n), stateFor(2n));
    await j.close();
    j = undefined;
    const first = lastSegment(dir);
    fs.appendFileSync(first, encodeFrame(3n, recordFor(3n), 'txn'));
    // a newer segment after it makes the cut-short append unexplainable by a crash
    const next = Buffer.concat([Buffer.from('LIGJ'), Buffer.from([0, 0, 0, 2]), Buffer.alloc(8)]);
    next.writeBigUInt64BE(4n, 8);
    fs.writeFileSync(path.join(dir, '00000000000000000004.seg'), Buffer.concat([next, encodeFrame(4n, recordFor(4n))]));
    await rejectsWith(Journal.open(dir, { segmentBytes: 2048 }), 'LIG_ERR_JOURNAL_CORRUPT');
    fs.rmSync(path.join(dir, '00000000000000000004.seg'));
    fs.writeFileSync(first, fs.readFileSync(first).subarray(0, fs.statSync(first).size - frameSize(recordFor(3n).length)));
    fs.appendFileSync(first, encodeFrame(2n, stateFor(2n), 'state'));
    await rejectsWith(Journal.open(dir, { segmentBytes: 2048 }), 'LIG_ERR_JOURNAL_CORRUPT');
  });

  it('counts the state in room: hasRoom and waitForRoom, which a signal bounds', async () => {
    const maxBytes = 16 + frameSize(MAX_RECORD_BYTES) + 4096;
    j = await Journal.open(dir, { maxBytes, segmentBytes: 1024 });
    const recs = [new Uint8Array(1000).fill(1)];
    const state = new Uint8Array(200).fill(2);
    let n = 0;
    while (j.hasRoom(recs, state)) {
      await j.append(recs, state);
      n++;
    }
    assert.ok(n >= 3);
    await rejectsWith(j.append(recs, state), 'LIG_ERR_JOURNAL_FULL');
    const abort = new AbortController();
    const waiting = j.waitForRoom(recs, state, abort.signal);
    abort.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    const freed = j.waitForRoom(recs, state);
    await j.confirm(j.durable);
    await freed;
    assert.ok(j.hasRoom(recs, state));
    await rejectsWith(j.waitForRoom(recs, new Uint8Array(maxBytes)), 'LIG_ERR_JOURNAL_FULL');
  });

  it('refuses empty and oversized states with BAD_STATE and writes nothing', async () => {
    j = await Journal.open(dir);
    await rejectsWith(j.append([recordFor(1n)], new Uint8Array(0)), 'LIG_ERR_JOURNAL_BAD_STATE');
    await rejectsWith(j.append([recordFor(1n)], new Uint8Array(MAX_STATE_BYTES + 1)), 'LIG_ERR_JOURNAL_BAD_STATE');
    await rejectsWith(j.append([], stateFor(1n)), 'LIG_ERR_JOURNAL_BAD_RECORD');
    assert.equal(j.next, 1n);
    assert.deepEqual(await j.append([recordFor(1n)], new Uint8Array(MAX_STATE_BYTES).fill(9)), { first: 1n, last: 1n });
    await j.close();
    j = await Journal.open(dir);
    assert.equal(j.state!.data.length, MAX_STATE_BYTES);
    assert.equal(j.state!.index, 1n);
  });

  it('codec: typed frames and stated cursors round-trip; any bit flip or cut of a cursor is refused', () => {
    for (const type of ['record', 'txn', 'state'] as const) {
      const f = encodeFrame(42n, Buffer.from('abc'), type);
      const r = decodeFrame(f, 0);
      assert.equal(r.kind, 'frame');
      if (r.kind === 'frame') assert.equal(r.type, type);
    }
    const bad = encodeFrame(1n, Buffer.from('x'));
    bad[0] = 3;
    assert.equal(decodeFrame(bad, 0).kind, 'bad');
    const c = encodeCursor(77n, { index: 80n, data: Buffer.from('the state') });
    assert.deepEqual(decodeCursorState(c), { confirmed: 77n, state: { index: 80n, data: new Uint8Array(Buffer.from('the state')) } });
    for (let bit = 0; bit < c.length * 8; bit++) {
      const d = c.slice();
      d[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(decodeCursorState(d), undefined, `bit ${bit}`);
    }
    for (let k = 0; k < c.length; k++) assert.equal(decodeCursorState(c.subarray(0, k)), undefined);
    assert.deepEqual(decodeCursorState(encodeCursor(5n)), { confirmed: 5n, state: undefined });
  });
});
