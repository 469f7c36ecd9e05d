/**
 * Child process of journal-state-crash.test.ts: makes stated appends to the journal in
 * `argv[2]` from several concurrent producers (each append's state names its last record),
 * confirms behind them so segments and their states get deleted, and prints each
 * acknowledged last index ("a <index>") until it is killed.
 */
import { Journal } from '../../src/delivery/journal';
import { recordsFor } from '../journal-fixtures';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: journal-state-crash-child DIR');
  const j = await Journal.open(dir, { segmentBytes: 16 * 1024 });
  process.stdout.write(`ready ${j.next}\n`);
  let seed = Number(j.next % 1000n) + 1;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
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

main().catch((e) => {
  process.stderr.write(`journal-state-crash-child: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
