/**
 * Setup and read-back shared by the journal tests (unit and crash): a fresh temp dir per
 * test with the journal closed after it, the segment files on disk, and reading a journal
 * back whole. What records hold is in ../journal-fixtures.ts.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Journal, JournalRecord } from '../../src/delivery/journal';
import { assertRecord, removeDir, tempDir } from '../journal-fixtures';

/**
 * Registers the hooks of a suite whose tests work in a fresh temp dir: before each test (or
 * once before the suite, with scope 'suite') `onDir` gets the new dir; after it, the journal
 * `opened()` returns, if any, is closed (closing twice is harmless) and the dir removed.
 */
export function journalTempDir(
  onDir: (dir: string) => void,
  o: { opened?: () => Journal | undefined; prefix?: string; scope?: 'test' | 'suite' } = {},
): void {
  let dir = '';
  const perSuite = o.scope === 'suite';
  (perSuite ? before : beforeEach)(() => {
    dir = tempDir(o.prefix);
    onDir(dir);
  });
  (perSuite ? after : afterEach)(async () => {
    await o.opened?.()?.close();
    removeDir(dir);
  });
}

/** The journal's segment files in `dir`, full paths, oldest first. */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** The newest segment file in `dir`. */
export const lastSegment = (dir: string): string => segmentFiles(dir).at(-1)!;

/** Reads everything from `from` to the last durable record in pages of `page` records. */
export async function readAll(j: Journal, from: bigint, page = 7): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for (;;) {
    const got = await j.read(from, { maxRecords: page });
    if (got.length === 0) return out;
    out.push(...got);
    from = got.at(-1)!.index + 1n;
  }
}

/**
 * Reads the journal from `from` to its end (in large reads, without keeping the records),
 * asserting that indices follow on from `from` and that each record is recordFor(its index).
 * Returns the index after the last record read.
 */
export async function readIntact(j: Journal, from: bigint): Promise<bigint> {
  let next = from;
  for (;;) {
    const got = await j.read(next, { maxRecords: 5000, maxBytes: 4 << 20 });
    if (got.length === 0) return next;
    for (const r of got) {
      assert.equal(r.index, next);
      assertRecord(r.index, r.data);
      next++;
    }
  }
}
