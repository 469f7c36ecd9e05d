/**
 * Opening a journal directory: verify every segment, cut a torn tail, refuse real damage.
 *
 * A crash can only leave the newest segment short or ending in garbage (the writer syncs a
 * segment before starting the next, and acknowledges nothing before its fsync). So:
 * - a bad frame in any older segment is CORRUPT;
 * - a bad frame in the newest segment is a torn tail, cut off, unless a valid frame with a
 *   later index follows it: then acknowledged data was damaged in place and it is CORRUPT
 *   (file and offset in the error), never silently dropped;
 * - a stated append (records + state, see framing.ts) never spans segments, and is
 *   acknowledged only with its state frame: in the newest segment one without its state
 *   frame is cut whole, records and all; in an older one it is CORRUPT;
 * - an intact frame with the wrong index is CORRUPT wherever it is;
 * - segments must follow each other without gaps, and must hold every unconfirmed record.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { JournalError } from '../../errors';
import { CURSOR_FILE, syncDir } from './cursor';
import { JournalState, SEGMENT_HEADER_BYTES, encodeSegmentHeader } from './framing';
import { Segment, listSegments, scanSegment, segmentName, validFrameAfter } from './segment';

/** What recovery found and did. */
export interface Recovery {
  /** Live segments, ascending. */
  segs: Segment[];
  /** Bytes cut from the end of the newest segment (a torn write); 0 when it ended cleanly. */
  tornBytes: number;
  /** Fully confirmed segments deleted (left over from a crash during confirm). */
  deleted: number;
  /** The state of the last complete stated append in the segments scanned, if any. */
  state: JournalState | undefined;
}

function corrupt(file: string, offset: number, reason: string): JournalError {
  return new JournalError('LIG_ERR_JOURNAL_CORRUPT', `${file} at offset ${offset}: ${reason}`, { file, offset });
}

export async function recover(dir: string, confirmed: bigint): Promise<Recovery> {
  const bases = await listSegments(dir);
  const segs: Segment[] = [];
  let tornBytes = 0;
  let deleted = 0;
  let state: JournalState | undefined;
  let i = 0;
  // Segments entirely at or below the cursor need no scan (the next one's name bounds them);
  // they are deleted once the rest proves the cursor plausible.
  const confirmedOnly: string[] = [];
  while (i < bases.length - 1 && bases[i + 1]! - 1n <= confirmed) confirmedOnly.push(path.join(dir, segmentName(bases[i++]!)));
  for (; i < bases.length; i++) {
    const isLast = i === bases.length - 1;
    const scanned = await scanSegment(dir, bases[i]!);
    const { seg, fault, fileSize } = scanned;
    if (scanned.state) state = scanned.state;
    if (fault) {
      if (!isLast || fault.misplaced) throw corrupt(seg.file, fault.offset, fault.reason);
      const damage = fault.damage;
      if (damage && (await validFrameAfter(seg.file, damage.offset, damage.last))) throw corrupt(seg.file, damage.offset, fault.reason);
      tornBytes = fileSize - fault.offset;
      if (fault.header) {
        // Created but never synced: start it again, empty.
        const fh = await fsp.open(seg.file, 'w');
        try {
          await fh.writeFile(encodeSegmentHeader(seg.base));
          await fh.datasync();
        } finally {
          await fh.close();
        }
        seg.size = seg.durableSize = SEGMENT_HEADER_BYTES;
      } else {
        await truncate(seg.file, fault.offset);
      }
    }
    const prev = segs[segs.length - 1];
    if (prev && seg.base !== prev.last + 1n) {
      throw corrupt(seg.file, 0, `first record is ${seg.base} but the previous segment ends at ${prev.last}`);
    }
    segs.push(seg);
  }
  if (segs.length > 0) {
    const first = segs[0]!;
    const last = segs[segs.length - 1]!.last;
    if (first.base > confirmed + 1n) {
      throw corrupt(first.file, 0, `records ${confirmed + 1n}..${first.base - 1n} are missing (confirmed up to ${confirmed})`);
    }
    if (last < confirmed) {
      throw corrupt(path.join(dir, CURSOR_FILE), 0, `confirmed up to ${confirmed} but the journal ends at ${last}`);
    }
  }
  // Fully confirmed segments left by a crash between cursor write and deletion.
  for (const file of confirmedOnly) {
    await fsp.rm(file, { force: true });
    deleted++;
  }
  while (segs.length > 0 && segs[0]!.last <= confirmed && segs[0]!.last >= segs[0]!.base) {
    await fsp.rm(segs.shift()!.file, { force: true });
    deleted++;
  }
  if (deleted > 0) await syncDir(dir);
  return { segs, tornBytes, deleted, state };
}

async function truncate(file: string, size: number): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.truncate(size);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
