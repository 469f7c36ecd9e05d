/**
 * Child process of files-crash.test.ts: appends test records to the HI2 and HI3 journals in
 * `argv[2]` as fast as it can while a FileSink writes them into `argv[2]/out` (small files,
 * so that rotations, manifest lines and early closes are always under way), until it is
 * killed. Prints "a <hi> <index>" for each acknowledged append and "w <hi> <index>" each time
 * the sink has made records durable in the files.
 */
import * as path from 'node:path';
import { FileSink } from '../../src/delivery/files';
import { Journal } from '../../src/delivery/journal';
import { recordsFor } from '../files-fixtures';
import { lcg, runChild } from '../helpers/crash-child';

async function main(): Promise<void> {
  const root = process.argv[2];
  if (!root) throw new Error('usage: files-crash-child DIR');
  const hi2 = await Journal.open(path.join(root, 'hi2'), { segmentBytes: 64 * 1024 });
  const hi3 = await Journal.open(path.join(root, 'hi3'), { segmentBytes: 64 * 1024 });
  // Time runs 50 ms per look, so files are also closed by interval every few dozen records.
  let looks = 0;
  const clock = { now: () => Date.now() + 50 * looks++ };
  const sink = await FileSink.open({
    dir: path.join(root, 'out'), hi2, hi3, clock,
    rotate: { bytes: 4096, interval: 2000 }, maxOpenFiles: 4, batchRecords: 16, rotationCheckMs: 0,
  });
  process.stdout.write('ready\n');
  const random = lcg(Number(hi2.next % 1000n) + 1);

  const producer = async (hi: 'hi2' | 'hi3', j: Journal) => {
    for (;;) {
      const first = j.next;
      const last = first + BigInt(random(12));
      const acked = await j.append(recordsFor(hi, first, last));
      if (acked.first !== first || acked.last !== last) throw new Error(`got ${acked.first}..${acked.last}, expected ${first}..${last}`);
      process.stdout.write(`a ${hi} ${acked.last}\n`);
      // Let the sink keep up, so that the journal does not grow without bound.
      if (j.next - sink.stats.applied[hi] > 2000n) await sink.whenWritten(hi, j.next - 1000n);
    }
  };

  const watcher = async (hi: 'hi2' | 'hi3') => {
    for (let next = sink.stats.applied[hi] + 1n; ; next = sink.stats.applied[hi] + 1n) {
      await sink.whenWritten(hi, next);
      process.stdout.write(`w ${hi} ${sink.stats.applied[hi]}\n`);
    }
  };

  await Promise.all([producer('hi2', hi2), producer('hi3', hi3), watcher('hi2'), watcher('hi3')]);
}

runChild('files-crash-child', main);
