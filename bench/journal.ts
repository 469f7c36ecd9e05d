/**
 * Journal append throughput: one writer awaiting each append (one fsync per record: the
 * baseline) against many concurrent writers sharing fsyncs (group commit), at 64 B and
 * 1500 B records. Prints appends/s, MB/s and the ratio to the baseline of the same run.
 * fsync latency varies a lot on shared disks, so each figure is the median of several runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal } from '../src/delivery/journal';
import { fixed, measureOptions, table, whole } from './measure';

const WRITERS = 64;

interface Result {
  appends: number;
  seconds: number;
  syncs: number;
}

async function once(size: number, writers: number, seconds: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-bench-journal-'));
  const j = await Journal.open(dir);
  try {
    const record = new Uint8Array(size).fill(0xa5);
    let appends = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(seconds * 1e9));
    const writer = async () => {
      while (process.hrtime.bigint() < deadline) {
        await j.append([record]);
        appends++;
      }
    };
    await Promise.all(Array.from({ length: writers }, writer));
    return { appends, seconds: Number(process.hrtime.bigint() - start) / 1e9, syncs: j.stats.syncs };
  } finally {
    await j.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The run with the median rate out of measureOptions().runs runs. */
async function measure(size: number, writers: number): Promise<Result> {
  const { seconds, runs } = measureOptions();
  const results: Result[] = [];
  for (let r = 0; r < Math.max(1, runs); r++) results.push(await once(size, writers, seconds));
  results.sort((a, b) => a.appends / a.seconds - b.appends / b.seconds);
  return results[results.length >> 1]!;
}

export async function benchJournal(): Promise<string[]> {
  const rows: string[][] = [];
  for (const size of [64, 1500]) {
    const base = await measure(size, 1);
    const baseRate = base.appends / base.seconds;
    for (const [writers, r] of [
      [1, base],
      [WRITERS, await measure(size, WRITERS)],
    ] as const) {
      const rate = r.appends / r.seconds;
      rows.push([`${size} B`, String(writers), whole(rate), fixed((rate * size) / 1e6, 2), fixed(r.appends / r.syncs), `${fixed(rate / baseRate)}x`]);
    }
  }
  return [
    'journal append (fsync before ack; 1 writer = one fsync per append, the baseline)',
    ...table(['record', 'writers', 'appends/s', 'MB/s', 'appends/fsync', 'vs 1 writer'], rows),
  ];
}
