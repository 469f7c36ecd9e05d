/**
 * Child process of journal-crash.test.ts: appends to the journal in `argv[2]` as fast as it
 * can, from several concurrent producers, and prints each acknowledged last index
 * ("a <index>") and each completed confirm ("c <index>") to stdout, until it is killed.
 * stdout to a pipe is synchronous on Linux, so a line the parent has read was acknowledged.
 */
import { Journal } from '../../src/delivery/journal';
import { recordsFor } from '../journal-fixtures';
import { lcg, runChild } from '../helpers/crash-child';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: journal-crash-child DIR');
  const j = await Journal.open(dir, { segmentBytes: 64 * 1024 });
  process.stdout.write(`ready ${j.next}\n`);
  const random = lcg(Number(j.next % 1000n) + 1);

  const producer = async () => {
    for (;;) {
      const first = j.next;
      const last = first + BigInt(random(20));
      const acked = await j.append(recordsFor(first, last));
      if (acked.first !== first || acked.last !== last) throw new Error(`got ${acked.first}..${acked.last}, expected ${first}..${last}`);
      process.stdout.write(`a ${acked.last}\n`);
    }
  };

  /** Plays delivery: confirms all but the newest few hundred records, so segments get deleted. */
  const confirmer = async () => {
    for (;;) {
      await j.waitFor(j.confirmed + 500n);
      const upTo = j.durable - 300n;
      await j.confirm(upTo);
      process.stdout.write(`c ${upTo}\n`);
    }
  };

  await Promise.all([producer(), producer(), producer(), producer(), confirmer()]);
}

runChild('journal-crash-child', main);
