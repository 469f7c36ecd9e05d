import { strict as assert } from 'node:assert';
import { Journal } from '../../src/delivery/journal';
import { journalTempDir } from '../helpers/journal';
import { assertRecord, recordsFor } from '../journal-fixtures';

/**
 * 200 MB through a 16 MiB journal: the producer fills it to the bound (backpressure via
 * waitForRoom), delivery starts only then and reads the whole backlog from the first record,
 * then both stream. Memory is bounded by the tail cache and the read limits, not the backlog.
 */
describe('journal bounded memory', () => {
  const TOTAL_BYTES = 200 * 1024 * 1024;
  const OPTS = { maxBytes: 16 * 1024 * 1024, segmentBytes: 1024 * 1024, tailCacheBytes: 256 * 1024 };
  const READ = { maxRecords: 4096, maxBytes: 1024 * 1024 };
  const BATCH = 512n;
  let dir: string;
  let j: Journal | undefined;
  journalTempDir((d) => (dir = d), { opened: () => j, scope: 'suite' });

  it('streams 200 MB through a small window, reading the backlog from disk in order', async () => {
    const journal = (j = await Journal.open(dir, OPTS));
    let appendedBytes = 0;
    let lastAppended = 0n;
    let produced = false;
    let blocked!: () => void;
    const firstBlock = new Promise<void>((r) => (blocked = r));

    const producer = async () => {
      for (let next = 1n; appendedBytes < TOTAL_BYTES; next += BATCH) {
        const batch = recordsFor(next, next + BATCH - 1n);
        if (!journal.hasRoom(batch)) blocked();
        await journal.waitForRoom(batch);
        const { last } = await journal.append(batch);
        lastAppended = last;
        appendedBytes += batch.reduce((n, r) => n + r.length, 0);
        assert.ok(journal.stats.diskBytes <= OPTS.maxBytes);
      }
      produced = true;
      blocked();
    };

    const consumer = async () => {
      await firstBlock;
      assert.ok(journal.stats.pendingBytes > 8 * OPTS.tailCacheBytes, 'a backlog far larger than the cache');
      let next = 1n;
      for (;;) {
        const got = await journal.read(next, READ);
        assert.ok(journal.stats.cacheBytes <= OPTS.tailCacheBytes, 'tail cache within its bound');
        if (got.length === 0) {
          if (produced && next > lastAppended) return;
          await journal.waitFor(next);
          continue;
        }
        assert.ok(got.length <= READ.maxRecords);
        assert.ok(got.length === 1 || got.reduce((n, r) => n + r.data.length, 0) <= READ.maxBytes);
        for (const r of got) {
          assert.equal(r.index, next);
          assertRecord(r.index, r.data);
          next++;
        }
        await journal.confirm(next - 1n);
      }
    };

    await Promise.all([producer(), consumer()]);
    assert.ok(appendedBytes >= TOTAL_BYTES);
    assert.equal(journal.confirmed, lastAppended);
    assert.equal(journal.stats.pendingRecords, 0n);
    assert.equal(journal.stats.diskBytes, 0);
  });
});
