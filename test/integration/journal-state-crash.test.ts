/**
 * Stated appends under SIGKILL: after each kill the journal reopens with a state that names
 * exactly its last surviving record (records and state survive together), every acknowledged
 * append is there, and every record reads back intact.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Journal } from '../../src/delivery/journal';
import { childUntil, killChild, maxIndex } from '../helpers/crash-child';
import { assertRecord, removeDir, tempDir } from '../journal-fixtures';

const CHILD = path.join(__dirname, 'journal-state-crash-child.ts');

/** Runs the child on `dir` until it has acknowledged `appends` appends, kills it, and returns the highest acknowledged index. */
async function runAndKill(dir: string, appends: number): Promise<bigint> {
  const run = await childUntil(CHILD, [dir], { acked: 0n, seen: 0 }, (line, r) => {
    const [kind, value] = line.split(' ');
    if (kind === 'ready') return false;
    if (kind !== 'a') throw new Error(`unexpected line from child: ${line}`);
    r.acked = maxIndex(r.acked, BigInt(value!));
    return ++r.seen === appends;
  });
  await killChild(run);
  return run.acked;
}

describe('journal crash with stated appends (SIGKILL mid-stream)', () => {
  let dir: string;
  before(() => {
    dir = tempDir('lig-journal-state-crash-');
  });
  after(() => removeDir(dir));

  for (const [round, appends] of [
    [1, 200],
    [2, 555],
    [3, 1200],
  ] as const) {
    it(`round ${round}: the state names the last surviving record; acknowledged records survive intact`, async () => {
      const acked = await runAndKill(dir, appends);
      assert.ok(acked > 0n);
      const j = await Journal.open(dir, { segmentBytes: 16 * 1024 });
      try {
        assert.ok(j.durable >= acked, `acknowledged ${acked}, journal ends at ${j.durable}`);
        const s = j.state;
        assert.ok(s);
        assert.equal(s.index, j.durable, 'every append was stated, so the state is the last one');
        assert.equal(Buffer.from(s.data).toString(), `after-${j.durable}`);
        let next = j.confirmed + 1n;
        for (;;) {
          const got = await j.read(next, { maxRecords: 5000, maxBytes: 4 << 20 });
          if (got.length === 0) break;
          for (const r of got) {
            assert.equal(r.index, next);
            assertRecord(r.index, r.data);
            next++;
          }
        }
        assert.equal(next, j.durable + 1n);
      } finally {
        await j.close();
      }
    });
  }
});
