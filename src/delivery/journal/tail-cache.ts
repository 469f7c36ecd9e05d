/**
 * The most recently committed records, kept in memory up to a byte bound, so that delivery
 * keeping up with the tail reads without touching the disk. Entries are contiguous by index;
 * the oldest are dropped first. Only fsynced records enter it.
 */
import type { Segment } from './segment';

export interface CachedRecord {
  index: bigint;
  /** A view into the frame buffer written to disk; read-only. */
  data: Uint8Array;
  seg: Segment;
  /** Offset of the record's frame in `seg`. */
  offset: number;
}

/** Bookkeeping charged per entry on top of its bytes, so tiny records still count. */
export const CACHE_ENTRY_OVERHEAD_BYTES = 64;

export class TailCache {
  private entries: CachedRecord[] = [];
  private head = 0;
  private held = 0;

  constructor(private readonly limit: number) {}

  /** Bytes currently charged to the cache (always ≤ the limit). */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Index of the oldest cached record, or undefined when empty. */
  get first(): bigint | undefined {
    return this.size > 0 ? this.entries[this.head]!.index : undefined;
  }

  /** Adds the next record (its index must follow the newest one, or the cache restarts). */
  push(rec: CachedRecord): void {
    const cost = rec.data.length + CACHE_ENTRY_OVERHEAD_BYTES;
    if (cost > this.limit) return this.clear();
    const newest = this.size > 0 ? this.entries[this.entries.length - 1]! : undefined;
    if (newest && newest.index + 1n !== rec.index) this.clear();
    this.entries.push(rec);
    this.held += cost;
    while (this.held > this.limit) this.dropOldest();
  }

  /** The cached record with this index, if any. */
  get(index: bigint): CachedRecord | undefined {
    const first = this.first;
    if (first === undefined || index < first) return undefined;
    const k = this.head + Number(index - first);
    return k < this.entries.length ? this.entries[k] : undefined;
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.held = 0;
  }

  private dropOldest(): void {
    const e = this.entries[this.head]!;
    this.held -= e.data.length + CACHE_ENTRY_OVERHEAD_BYTES;
    this.entries[this.head] = undefined as unknown as CachedRecord;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
