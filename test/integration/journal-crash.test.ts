import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Journal } from '../../src/delivery/journal';
import { type ChildRun, childUntil, killChild, maxIndex } from '../helpers/crash-child';
import { journalTempDir, readIntact } from '../helpers/journal';

const CHILD = path.join(__dirname, 'journal-crash-child.ts');

interface Run extends ChildRun {
  /** Highest acknowledged index and confirmed index the child reported. */
  acked: bigint;
  confirmed: bigint;
  lines: number;
}

/** Starts the child on `dir` and resolves once it has printed `lines` lines after "ready". */
function runUntil(dir: string, lines: number): Promise<Run> {
  return childUntil(CHILD, [dir], { acked: 0n, confirmed: 0n, lines: 0 }, (line, run) => {
    const [kind, value] = line.split(' ');
    if (kind === 'a') run.acked = maxIndex(run.acked, BigInt(value!));
    else if (kind === 'c') run.confirmed = maxIndex(run.confirmed, BigInt(value!));
    else if (kind !== 'ready') throw new Error(`unexpected line from child: ${line}`);
    return kind !== 'ready' && ++run.lines === lines;
  });
}

describe('journal crash (SIGKILL mid-stream)', () => {
  let dir: string;
  journalTempDir((d) => (dir = d), { scope: 'suite' });

  for (const [round, lines] of [
    [1, 300],
    [2, 777],
    [3, 1500],
  ] as const) {
    it(`round ${round}: every acknowledged record survives, intact and in order`, async () => {
      const run = await runUntil(dir, lines);
      await killChild(run);
      assert.ok(run.acked > 0n);

      const j = await Journal.open(dir, { segmentBytes: 64 * 1024 });
      try {
        assert.ok(j.durable >= run.acked, `acknowledged ${run.acked}, journal ends at ${j.durable}`);
        assert.ok(j.confirmed >= run.confirmed, `confirmed ${run.confirmed} was reported, cursor is ${j.confirmed}`);
        const next = await readIntact(j, j.confirmed + 1n);
        assert.equal(next, j.durable + 1n);
        assert.equal(j.next, j.durable + 1n);
      } finally {
        await j.close();
      }
    });
  }
});
