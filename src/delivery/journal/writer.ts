/**
 * The write side of group commit: puts a batch of planned frames on disk and makes it
 * durable with one fdatasync (plus one per segment rolled inside the batch, and a directory
 * fsync when a segment file was created).
 *
 * Order matters for recovery: a segment is synced and closed before the next one is
 * created, so only the newest segment can ever end in a torn write.
 */
import { promises as fsp } from 'node:fs';
import { syncDir } from './cursor';
import { encodeSegmentHeader } from './framing';
import type { Segment } from './segment';

/** A frame whose index and place were assigned by append() and that awaits writing. */
export interface PlannedFrame {
  seg: Segment;
  offset: number;
  index: bigint;
  /** The encoded frame (type and length, index, record, CRC). */
  frame: Buffer;
  /** A state frame (index: its append's last record), not a record. */
  state?: boolean;
}

/** Most buffers handed to one writev call (IOV_MAX is 1024 on Linux). */
const MAX_IOV = 1024;

/** Writes every byte of `buffers` at `position`, resuming after partial writes. */
export async function writeAll(fh: fsp.FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let bufs = buffers;
  let pos = position;
  while (bufs.length > 0) {
    const chunk = bufs.length > MAX_IOV ? bufs.slice(0, MAX_IOV) : bufs;
    let { bytesWritten } = await fh.writev(chunk, pos);
    pos += bytesWritten;
    let k = 0;
    while (k < chunk.length && bytesWritten >= chunk[k]!.length) bytesWritten -= chunk[k++]!.length;
    bufs = bufs.slice(k);
    if (bytesWritten > 0) bufs[0] = bufs[0]!.subarray(bytesWritten);
  }
}

export class SegmentWriter {
  private fh: fsp.FileHandle | undefined;
  private seg: Segment | undefined;

  constructor(private readonly dir: string) {}

  /**
   * Writes `batch` (in index order, possibly spanning segments) and syncs it. Segments in
   * `unborn` have no file yet: it is created with its header and removed from the set.
   */
  async write(batch: PlannedFrame[], unborn: Set<Segment>): Promise<void> {
    let created = false;
    let i = 0;
    while (i < batch.length) {
      const seg = batch[i]!.seg;
      let j = i;
      while (j < batch.length && batch[j]!.seg === seg) j++;
      const frames: Uint8Array[] = batch.slice(i, j).map((p) => p.frame);
      let position = batch[i]!.offset;
      if (seg !== this.seg) {
        await this.close();
        if (unborn.has(seg)) {
          this.fh = await fsp.open(seg.file, 'wx');
          frames.unshift(encodeSegmentHeader(seg.base));
          position = 0;
          unborn.delete(seg);
          created = true;
        } else {
          this.fh = await fsp.open(seg.file, 'r+');
        }
        this.seg = seg;
      }
      await writeAll(this.fh!, frames, position);
      i = j;
    }
    if (this.fh) await this.fh.datasync();
    if (created) await syncDir(this.dir);
  }

  /** Syncs and closes the open segment, if any. */
  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.seg = undefined;
    if (fh) {
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
  }
}
