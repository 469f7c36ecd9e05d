/**
 * Child process of journal-state-crash.test.ts: makes stated appends to the journal in
 * `argv[2]` from several concurrent producers (each append's state names its last record),
 * confirms behind them so segments and their states get deleted, and prints each
 * acknowledged last index ("a <index>") until it is killed.
 */
import { Journal } from '../../src/delivery/journal';
import { recordsFor } from '../journal-fixtures';
import { lcg, runChild } from '../helpers/crash-child';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: journal-state-crash-child DIR');
  const j = await Journal.open(dir, { segmentBytes: 16 * 1024 });
  process.stdout.write(`ready ${j.next}\n`);
  const random = lcg(Number(j.next % 1000n) + 1);
  const producer = async () => {
    for (;;) {
      const first = j.next;
      const last = first + BigInt(random(12));
      const acked = await j.append(recordsFor(first, last), Buffer.from(`after-${last}`));
      if (acked.last !== last) throw new Error(`got ${acked.last}, expected ${last}`);
      process.stdout.write(`a ${last}\n`);
    }
  };
  const confirmer = async () => {
    for (;;) {
      await j.waitFor(j.confirmed + 200n);
      await j.confirm(j.durable - 50n);
    }
  };
  await Promise.all([producer(), producer(), producer(), confirmer()]);
}

runChild('journal-state-crash-child', main);
