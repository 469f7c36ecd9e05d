/**
 * Stated appends under SIGKILL: after each kill the journal reopens with a state that names
 * exactly its last surviving record (records and state survive together), every acknowledged
 * append is there, and every record reads back intact.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Journal } from '../../src/delivery/journal';
import { childUntil, killChild, maxIndex } from '../helpers/crash-child';
import { journalTempDir, readIntact } from '../helpers/journal';

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
  journalTempDir((d) => (dir = d), { prefix: 'lig-journal-state-crash-', scope: 'suite' });

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
        const next = await readIntact(j, j.confirmed + 1n);
        assert.equal(next, j.durable + 1n);
      } finally {
        await j.close();
      }
    });
  }
});
