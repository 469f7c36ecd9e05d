import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Journal, MAX_RECORD_BYTES } from '../../src/delivery/journal';
import { journalTempDir, readAll, segmentFiles } from '../helpers/journal';
import { assertRecord, recordFor, recordsFor, rejectsWith } from '../journal-fixtures';

describe('journal', () => {
  let dir: string;
  let j: Journal | undefined;
  journalTempDir((d) => (dir = d), { opened: () => j });

  it('starts at index 1 and appends, reads and confirms across segment rolls', async () => {
    j = await Journal.open(dir, { segmentBytes: 4096 });
    assert.equal(j.next, 1n);
    assert.equal(j.confirmed, 0n);
    for (let first = 1n; first <= 300n; first += 25n) {
      assert.deepEqual(await j.append(recordsFor(first, first + 24n)), { first, last: first + 24n });
    }
    assert.equal(j.durable, 300n);
    assert.ok(segmentFiles(dir).length > 10, 'several segments');
    const all = await readAll(j, 1n);
    assert.deepEqual(
      all.map((r) => r.index),
      Array.from({ length: 300 }, (_, k) => BigInt(k + 1)),
    );
    for (const r of all) assertRecord(r.index, r.data);

    const before = segmentFiles(dir).length;
    await j.confirm(150n);
    assert.equal(j.confirmed, 150n);
    assert.equal(j.stats.pendingRecords, 150n);
    const pendingBytes = recordsFor(151n, 300n).reduce((n, r) => n + r.length + 16, 0);
    assert.equal(j.stats.pendingBytes, pendingBytes);
    assert.ok(segmentFiles(dir).length < before, 'confirmed segments were deleted');
    await rejectsWith(j.read(1n), 'LIG_ERR_JOURNAL_RANGE');
    const rest = await readAll(j, 151n, 1000);
    assert.equal(rest.length, 150);
    assert.equal(rest[0]!.index, 151n);
  });

  it('honours read limits but always returns at least one record', async () => {
    j = await Journal.open(dir);
    await j.append(recordsFor(1n, 10n));
    assert.equal((await j.read(1n, { maxRecords: 3 })).length, 3);
    const one = await j.read(2n, { maxBytes: 1 });
    assert.equal(one.length, 1);
    assert.equal(one[0]!.index, 2n);
    const sizes = recordsFor(4n, 10n).map((r) => r.length);
    const budget = sizes[0]! + sizes[1]!;
    assert.deepEqual(
      (await j.read(4n, { maxBytes: budget })).map((r) => r.index),
      [4n, 5n],
    );
    assert.deepEqual(await j.read(11n), []);
    assert.deepEqual(await j.read(1000n), []);
    await rejectsWith(j.read(0n), 'LIG_ERR_JOURNAL_RANGE');
    await rejectsWith(j.read(1n, { maxRecords: 0 }), 'LIG_ERR_JOURNAL_RANGE');
  });

  it('continues indices and keeps the confirmed cursor across reopen, reading from disk', async () => {
    j = await Journal.open(dir, { segmentBytes: 2048, tailCacheBytes: 0 });
    await j.append(recordsFor(1n, 40n));
    await j.confirm(17n);
    await j.close();
    j = await Journal.open(dir, { segmentBytes: 2048, tailCacheBytes: 0 });
    assert.equal(j.confirmed, 17n);
    assert.equal(j.next, 41n);
    assert.equal(j.stats.pendingRecords, 23n);
    assert.equal(j.stats.pendingBytes, recordsFor(18n, 40n).reduce((n, r) => n + r.length + 16, 0));
    const rest = await readAll(j, 18n);
    assert.equal(rest.length, 23);
    for (const r of rest) assertRecord(r.index, r.data);
    assert.deepEqual(await j.append(recordsFor(41n, 42n)), { first: 41n, last: 42n });
    await j.confirm(42n);
    await j.close();
    assert.equal(segmentFiles(dir).length, 0, 'everything confirmed: no segment left');
    j = await Journal.open(dir);
    assert.equal(j.next, 43n, 'indices survive even with no segment left');
    assert.deepEqual(await j.append([recordFor(43n)]), { first: 43n, last: 43n });
  });

  it('counts pending records and bytes when appends follow a full confirm in the same segment', async () => {
    j = await Journal.open(dir);
    await j.append(recordsFor(1n, 4n));
    await j.confirm(4n);
    assert.deepEqual([j.stats.pendingRecords, j.stats.pendingBytes], [0n, 0]);
    await j.append(recordsFor(5n, 6n));
    await j.confirm(4n);
    const bytes = recordsFor(5n, 6n).reduce((n, r) => n + r.length + 16, 0);
    assert.deepEqual([j.stats.pendingRecords, j.stats.pendingBytes], [2n, bytes]);
    await j.confirm(5n);
    assert.deepEqual([j.stats.pendingRecords, j.stats.pendingBytes], [1n, recordFor(6n).length + 16]);
  });

  it('confirming backwards is a no-op and beyond the last record is RANGE', async () => {
    j = await Journal.open(dir);
    await j.append(recordsFor(1n, 5n));
    await j.confirm(3n);
    await j.confirm(2n);
    assert.equal(j.confirmed, 3n);
    await rejectsWith(j.confirm(6n), 'LIG_ERR_JOURNAL_RANGE');
    assert.equal(j.confirmed, 3n);
    await j.confirm(5n);
    assert.equal(j.confirmed, 5n);
  });

  it('shares one fsync among appends made while none is running (group commit)', async () => {
    j = await Journal.open(dir);
    const syncs = j.stats.syncs;
    const results = await Promise.all(Array.from({ length: 100 }, (_, k) => j!.append([recordFor(BigInt(k + 1))])));
    assert.deepEqual(
      results.map((r) => r.first),
      Array.from({ length: 100 }, (_, k) => BigInt(k + 1)),
    );
    assert.equal(j.stats.syncs - syncs, 1);
    for (const r of await j.read(1n, { maxRecords: 100 })) assertRecord(r.index, r.data);
  });

  it('groups appends with a commit delay too', async () => {
    j = await Journal.open(dir, { groupCommitDelayMs: 5 });
    const a = j.append([recordFor(1n)]);
    const b = j.append([recordFor(2n)]);
    assert.deepEqual(await Promise.all([a, b]), [
      { first: 1n, last: 1n },
      { first: 2n, last: 2n },
    ]);
    assert.equal(j.stats.syncs, 1);
  });

  it('waitFor resolves when the record becomes durable, without polling', async () => {
    j = await Journal.open(dir);
    await j.waitFor(0n);
    let woke = false;
    const w = j.waitFor(2n).then(() => (woke = true));
    await j.append([recordFor(1n)]);
    assert.equal(woke, false);
    await j.append([recordFor(2n)]);
    await w;
    assert.equal(woke, true);
    assert.equal((await j.read(2n))[0]!.index, 2n);
    const ac = new AbortController();
    const aborted = j.waitFor(10n, ac.signal);
    ac.abort();
    await assert.rejects(aborted);
  });

  it('copies appended records so callers may reuse their buffers', async () => {
    j = await Journal.open(dir);
    const buf = recordFor(1n);
    const p = j.append([buf]);
    buf.fill(0);
    await p;
    assertRecord(1n, (await j.read(1n))[0]!.data);
  });

  it('refuses bad records and bad options with typed errors, and writes nothing', async () => {
    j = await Journal.open(dir);
    await rejectsWith(j.append([]), 'LIG_ERR_JOURNAL_BAD_RECORD');
    await rejectsWith(j.append([recordFor(1n), new Uint8Array(0)]), 'LIG_ERR_JOURNAL_BAD_RECORD');
    await rejectsWith(j.append([new Uint8Array(MAX_RECORD_BYTES + 1)]), 'LIG_ERR_JOURNAL_BAD_RECORD');
    await rejectsWith(j.append(['text' as unknown as Uint8Array]), 'LIG_ERR_JOURNAL_BAD_RECORD');
    assert.equal(j.next, 1n);
    assert.deepEqual(await j.append([new Uint8Array(MAX_RECORD_BYTES)]), { first: 1n, last: 1n });
    await rejectsWith(Journal.open(path.join(dir, 'x'), { segmentByte: 1 } as never), 'LIG_ERR_CONFIG');
    await rejectsWith(Journal.open(path.join(dir, 'x'), { maxBytes: 10 }), 'LIG_ERR_CONFIG');
    await rejectsWith(Journal.open(path.join(dir, 'x'), { groupCommitDelayMs: 1.5 }), 'LIG_ERR_CONFIG');
  });

  it('fails appends with IO once a write fails, and still closes', async () => {
    j = await Journal.open(dir, { segmentBytes: 1024 });
    await j.append([recordFor(1n)]);
    fs.rmSync(dir, { recursive: true, force: true }); // the next segment cannot be created
    await rejectsWith(j.append(recordsFor(2n, 20n)), 'LIG_ERR_JOURNAL_IO');
    await rejectsWith(j.append([recordFor(21n)]), 'LIG_ERR_JOURNAL_IO');
    assert.equal(j.durable, 1n);
    await j.close();
  });

  it('close flushes pending appends; a closed journal refuses use with CLOSED', async () => {
    j = await Journal.open(dir);
    const pending = j.append(recordsFor(1n, 3n));
    const waiting = rejectsWith(j.waitFor(100n), 'LIG_ERR_JOURNAL_CLOSED');
    await j.close();
    assert.deepEqual(await pending, { first: 1n, last: 3n });
    await waiting;
    await rejectsWith(j.append([recordFor(4n)]), 'LIG_ERR_JOURNAL_CLOSED');
    await rejectsWith(j.read(1n), 'LIG_ERR_JOURNAL_CLOSED');
    await rejectsWith(j.confirm(1n), 'LIG_ERR_JOURNAL_CLOSED');
    await rejectsWith(j.waitFor(1n), 'LIG_ERR_JOURNAL_CLOSED');
    await rejectsWith(j.waitForRoom(1), 'LIG_ERR_JOURNAL_CLOSED');
    await j.close();
    j = await Journal.open(dir);
    assert.equal(j.durable, 3n);
  });
});
