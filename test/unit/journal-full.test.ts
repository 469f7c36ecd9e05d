import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { Journal } from '../../src/delivery/journal';
import { isLigError } from '../../src/errors';
import { journalTempDir, segmentFiles } from '../helpers/journal';
import { assertRecord, recordsFor, rejectsWith } from '../journal-fixtures';

const OPTS = { maxBytes: 96 * 1024, segmentBytes: 8 * 1024 };

const diskBytes = (dir: string) => segmentFiles(dir).reduce((n, f) => n + fs.statSync(f).size, 0);

const isFull = (e: unknown) => isLigError(e) && e.code === 'LIG_ERR_JOURNAL_FULL';

/** Lets every pending callback and I/O completion run once. */
const turn = () => new Promise((r) => setImmediate(r));

describe('journal full', () => {
  let dir: string;
  let j: Journal | undefined;
  journalTempDir((d) => (dir = d), { opened: () => j });

  /** Appends batches of 10, then single records, until the journal refuses; returns the last accepted index. */
  async function fill(journal: Journal): Promise<bigint> {
    let next = journal.next;
    for (const size of [10n, 1n]) {
      for (;;) {
        const batch = recordsFor(next, next + size - 1n);
        const before = { next: journal.next, disk: journal.stats.diskBytes };
        try {
          await journal.append(batch);
          next += size;
        } catch (e) {
          assert.ok(isFull(e), String(e));
          assert.equal(journal.hasRoom(batch), false);
          assert.deepEqual({ next: journal.next, disk: journal.stats.diskBytes }, before, 'a refused append changes nothing');
          break;
        }
      }
    }
    return next - 1n;
  }

  it('refuses an append past maxBytes with FULL, all or nothing, and loses nothing accepted', async () => {
    j = await Journal.open(dir, OPTS);
    const last = await fill(j);
    assert.ok(last > 50n);
    assert.equal(j.stats.diskBytes, diskBytes(dir));
    assert.ok(j.stats.diskBytes <= OPTS.maxBytes);
    await j.close();
    j = await Journal.open(dir, OPTS);
    assert.equal(j.next, last + 1n);
    assert.equal(j.stats.diskBytes, diskBytes(dir));
    const got = await j.read(1n, { maxRecords: 10_000, maxBytes: 1 << 20 });
    assert.equal(got.length, Number(last));
    for (const r of got) assertRecord(r.index, r.data);
    await rejectsWith(j.append(recordsFor(last + 1n, last + 1n)), 'LIG_ERR_JOURNAL_FULL');
  });

  it('waitForRoom resolves once confirm frees space, and appends succeed again', async () => {
    j = await Journal.open(dir, OPTS);
    const last = await fill(j);
    const batch = recordsFor(last + 1n, last + 10n);
    let ready = false;
    const room = j.waitForRoom(batch).then(() => (ready = true));
    await turn();
    await turn();
    assert.equal(ready, false, 'no room yet');

    await j.confirm(last / 2n);
    await room;
    assert.equal(j.hasRoom(batch), true);
    assert.deepEqual(await j.append(batch), { first: last + 1n, last: last + 10n });
    assert.equal(j.stats.diskBytes, diskBytes(dir));

    const rest = await j.read(last / 2n + 1n, { maxRecords: 10_000, maxBytes: 1 << 20 });
    assert.equal(rest[0]!.index, last / 2n + 1n);
    assert.equal(rest.at(-1)!.index, last + 10n);
    for (const r of rest) assertRecord(r.index, r.data);

    await j.confirm(j.durable);
    assert.equal(j.stats.diskBytes, 0, 'fully confirmed: every segment deleted');
    assert.equal(j.stats.pendingRecords, 0n);
  });

  it('waitForRoom refuses at once what could never fit, and hasRoom counts bytes', async () => {
    j = await Journal.open(dir, OPTS);
    await rejectsWith(j.waitForRoom(OPTS.maxBytes), 'LIG_ERR_JOURNAL_FULL');
    assert.equal(j.hasRoom(OPTS.maxBytes - 16), true);
    assert.equal(j.hasRoom(OPTS.maxBytes - 15), false);
    await j.waitForRoom(1000);
  });
});
