/**
 * The addresses of username and MAC tasks' open sessions, as the matcher looks them up for
 * every packet: IPv4 address → bound tasks, IPv6 prefix → bound tasks, each with the session
 * key the packet then carries (Match.session_key). Only addresses some task wants are here;
 * the rest of the subscribers stay in the tracker. Changed on bind and unbind (the matcher
 * refreshes a slot whenever its holders change), read on the hot path without allocating:
 * IPv4 by a 32-bit number, IPv6 by a hash of the masked address computed in place, once per
 * prefix length present.
 */
import type { AddressSlot } from './slots';

/** A task index of the current MatchTable and the session through which it is bound. */
export interface BoundTask {
  task: number;
  key: string;
}

/** Where lookups put what they find (the matcher's per-side task set). */
export interface BoundSink {
  add(task: number, key: string): void;
}

interface V6Bound {
  /** 16 octets, bits beyond the prefix cleared. */
  prefix: Uint8Array;
  bound: BoundTask[];
}

const i32 = (b: Uint8Array, o: number) => (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;

/** FNV-1a over the first `bits` bits of the 16 octets of `b` at `o`, masked in place. */
function hashPrefix(b: Uint8Array, o: number, bits: number): number {
  let h = 0x811c9dc5 ^ bits;
  for (let w = 0; w < 4; w++) {
    const keep = bits - w * 32;
    if (keep <= 0) break;
    const mask = keep >= 32 ? -1 : -1 << (32 - keep);
    h = Math.imul(h ^ (i32(b, o + 4 * w) & mask), 0x01000193);
  }
  return h | 0;
}

/** Whether the first `bits` bits of the 16 octets of `b` at `o` equal `prefix` (whose other bits are clear). */
function inPrefix(prefix: Uint8Array, b: Uint8Array, o: number, bits: number): boolean {
  for (let w = 0; w < 4; w++) {
    const keep = bits - w * 32;
    if (keep <= 0) return true;
    const mask = keep >= 32 ? -1 : -1 << (32 - keep);
    if ((i32(b, o + 4 * w) & mask) !== i32(prefix, 4 * w)) return false;
  }
  return true;
}

export class SessionBindings {
  private readonly v4 = new Map<number, BoundTask[]>();
  /** Prefix length → hash → entries. */
  private readonly v6 = new Map<number, Map<number, V6Bound[]>>();
  /** The prefix lengths present, for the lookup loop. */
  private v6Lengths: number[] = [];

  /** Addresses and prefixes bound to some task. */
  get size(): number {
    let n = this.v4.size;
    for (const m of this.v6.values()) for (const list of m.values()) n += list.length;
    return n;
  }

  get empty(): boolean {
    return this.v4.size === 0 && this.v6Lengths.length === 0;
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
    this.v6Lengths = [];
  }

  /** Sets what the address of `slot` is bound to (nothing: an empty list). */
  set(slot: AddressSlot, bound: BoundTask[]): void {
    if (slot.version === 4) {
      const k = i32(slot.address, 0);
      if (bound.length > 0) this.v4.set(k, bound);
      else this.v4.delete(k);
      return;
    }
    const len = slot.prefixLength;
    const h = hashPrefix(slot.address, 0, len);
    let byHash = this.v6.get(len);
    const list = byHash?.get(h);
    const at = list ? list.findIndex((e) => inPrefix(e.prefix, slot.address, 0, len)) : -1;
    if (bound.length === 0) {
      if (!list || at < 0) return;
      list.splice(at, 1);
      if (list.length === 0) byHash!.delete(h);
      if (byHash!.size === 0) {
        this.v6.delete(len);
        this.v6Lengths = [...this.v6.keys()];
      }
      return;
    }
    if (list && at >= 0) {
      list[at]!.bound = bound;
      return;
    }
    if (!byHash) {
      this.v6.set(len, (byHash = new Map()));
      this.v6Lengths = [...this.v6.keys()];
    }
    const entry = { prefix: slot.address, bound };
    if (list) list.push(entry);
    else byHash.set(h, [entry]);
  }

  /** Adds the tasks bound to the IPv4 address at `o` in `f` to `into`. */
  lookup4(f: Uint8Array, o: number, into: BoundSink): void {
    const hit = this.v4.get(i32(f, o));
    if (hit) for (const b of hit) into.add(b.task, b.key);
  }

  /** Adds the tasks bound to any prefix holding the IPv6 address at `o` in `f` to `into`. */
  lookup6(f: Uint8Array, o: number, into: BoundSink): void {
    const lengths = this.v6Lengths;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      const list = this.v6.get(len)!.get(hashPrefix(f, o, len));
      if (list) for (const e of list) if (inPrefix(e.prefix, f, o, len)) for (const b of e.bound) into.add(b.task, b.key);
    }
  }
}
