/**
 * When DHCP leases run out: a binary min-heap of (time, item). A renewed lease is pushed again
 * with its new time and the old entry is left in place; the owner tells a stale entry by
 * comparing its time with the item's current one (see IdentityTracker.expire). Pure.
 */
export interface Expiry<T> {
  at: number;
  item: T;
}

export class ExpiryHeap<T> {
  private heap: Expiry<T>[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The earliest time held; Infinity when empty. */
  get next(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0]!.at;
  }

  push(at: number, item: T): void {
    const h = this.heap;
    h.push({ at, item });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** Removes and returns the earliest entry, or undefined. */
  pop(): Expiry<T> | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }

  /** Keeps only the entries `keep` accepts (drops stale ones), and restores the heap order. */
  compact(keep: (e: Expiry<T>) => boolean): void {
    const kept = this.heap.filter(keep);
    this.heap = [];
    for (const e of kept) this.push(e.at, e.item);
  }
}
