/**
 * Target matching: which tasks a decoded packet belongs to, and in which direction. Pure.
 *
 * A MatchTable is built once from a task list and never changes; a Matcher holds the current
 * table and swaps it whole when the mediator sends a new list (a packet is matched against
 * one list or the other, never a mixture). Lookups:
 *   - exact IPv4 (/32) and MAC: hash maps keyed by number, no allocation;
 *   - exact IPv6 (/128): a hash map keyed by a 32-bit hash of the address, then compared;
 *   - shorter prefixes: one binary trie per IP version, walked bit by bit, whose cost depends
 *     on the prefix lengths present, not on how many exact targets there are.
 * A packet that matches nothing costs one lookup per address (plus a trie walk when there
 * are prefixes) and leaves nothing behind but the counters.
 *
 * Direction (ingest.proto): FROM_TARGET when the source is a task's target, TO_TARGET when
 * the destination is, BOTH when both ends are targets of the same task (hairpin between two
 * of its subscribers). Two tasks on the two ends give two matches.
 */
import type { DecodedPacket } from '../capture/decode';

/** What matching reads of a decoded packet: addresses in place, as offsets into the frame. */
export type MatchInput = Pick<DecodedPacket, 'frame' | 'version' | 'srcOffset' | 'dstOffset' | 'srcMacOffset' | 'dstMacOffset'>;
import { IpTarget, Targets, collectTargets } from '../capture/targets';
import { Direction, Match, Task } from '../gen/lig/v1/ingest';

const NO_MATCHES: readonly Match[] = Object.freeze([]);

interface TrieNode {
  zero: TrieNode | undefined;
  one: TrieNode | undefined;
  /** Indices of the tasks with a target prefix ending here. */
  tasks: number[] | undefined;
}

const node = (): TrieNode => ({ zero: undefined, one: undefined, tasks: undefined });

function addTask(list: number[], task: number): void {
  if (!list.includes(task)) list.push(task);
}

/**
 * A small reusable set of task indices for one side of a packet. It is emptied by resetting
 * a count: truncating an array (`length = 0`) costs V8 about 100 ns, more than the lookups.
 */
class TaskSet {
  private readonly items: number[] = [];
  size = 0;

  add(task: number): void {
    for (let i = 0; i < this.size; i++) if (this.items[i] === task) return;
    this.items[this.size++] = task;
  }

  has(task: number): boolean {
    for (let i = 0; i < this.size; i++) if (this.items[i] === task) return true;
    return false;
  }

  at(i: number): number {
    return this.items[i]!;
  }
}

/** Four octets as a signed 32-bit integer: V8 keeps it unboxed, so a lookup allocates nothing. */
const i32 = (b: Uint8Array, o: number) => (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
/** A MAC's last four octets, the map key; the first two are compared in the entry. */
const macKey = (m: Uint8Array, o = 0) => i32(m, o + 2);
const macHigh = (m: Uint8Array, o = 0) => (m[o]! << 8) | m[o + 1]!;

function hash16(a: Uint8Array, o: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i += 4) h = Math.imul(h ^ i32(a, o + i), 0x01000193);
  return h | 0;
}

/** Whether the 16 octets of `b` at `o` equal `a`. */
function equal16(a: Uint8Array, b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[o + i]) return false;
  return true;
}

interface V6Entry {
  address: Uint8Array;
  tasks: number[];
}

interface MacEntry {
  high: number;
  tasks: number[];
}

/** Counts describing a table, without any address in them (safe to log). */
export interface MatchTableStats {
  tasks: number;
  exactIpv4: number;
  exactIpv6: number;
  prefixes: number;
  macs: number;
  /** Targets refused as malformed or unsafe (see capture/targets.ts). */
  invalid: number;
  /** Username and e-mail targets, not matched by address. */
  deferred: number;
}

/** An immutable lookup structure for one task list. */
export class MatchTable {
  readonly stats: MatchTableStats;
  private readonly taskIds: bigint[] = [];
  private readonly v4 = new Map<number, number[]>();
  private readonly v6 = new Map<number, V6Entry[]>();
  private readonly macs = new Map<number, MacEntry[]>();
  private readonly trie4 = node();
  private readonly trie6 = node();
  private hasTrie4 = false;
  private hasTrie6 = false;
  /** Scratch lists reused by `match` (matching is synchronous, so one pair suffices). */
  private readonly srcTasks = new TaskSet();
  private readonly dstTasks = new TaskSet();

  static fromTasks(tasks: readonly Task[]): MatchTable {
    return new MatchTable(collectTargets(tasks));
  }

  constructor(targets: Targets) {
    let exactIpv4 = 0;
    let exactIpv6 = 0;
    let prefixes = 0;
    let macs = 0;
    targets.tasks.forEach((t, index) => {
      this.taskIds.push(t.taskId);
      for (const ip of t.ips) {
        if (ip.prefixLength === ip.address.length * 8) {
          if (ip.version === 4) exactIpv4++;
          else exactIpv6++;
          this.addExact(ip, index);
        } else {
          prefixes++;
          this.addPrefix(ip, index);
        }
      }
      for (const m of t.macs) {
        macs++;
        const k = macKey(m);
        const bucket = this.macs.get(k) ?? [];
        let e = bucket.find((x) => x.high === macHigh(m));
        if (!e) bucket.push((e = { high: macHigh(m), tasks: [] }));
        addTask(e.tasks, index);
        this.macs.set(k, bucket);
      }
    });
    this.stats = { tasks: targets.tasks.length, exactIpv4, exactIpv6, prefixes, macs, invalid: targets.invalid, deferred: targets.deferred };
  }

  /** The matches of a packet; the same frozen empty list when there are none. */
  match(p: MatchInput): readonly Match[] {
    const src = this.srcTasks;
    const dst = this.dstTasks;
    src.size = 0;
    dst.size = 0;
    const f = p.frame;
    if (p.version === 4) {
      this.lookup4(f, p.srcOffset, src);
      this.lookup4(f, p.dstOffset, dst);
    } else {
      this.lookup6(f, p.srcOffset, src);
      this.lookup6(f, p.dstOffset, dst);
    }
    if (this.macs.size > 0) {
      if (p.srcMacOffset >= 0) this.lookupMac(f, p.srcMacOffset, src);
      if (p.dstMacOffset >= 0) this.lookupMac(f, p.dstMacOffset, dst);
    }
    if (src.size === 0 && dst.size === 0) return NO_MATCHES;
    const out: Match[] = [];
    for (let i = 0; i < src.size; i++) {
      const t = src.at(i);
      out.push({ taskId: this.taskIds[t]!, direction: dst.has(t) ? Direction.DIRECTION_BOTH : Direction.DIRECTION_FROM_TARGET, sessionKey: '' });
    }
    for (let i = 0; i < dst.size; i++) {
      const t = dst.at(i);
      if (!src.has(t)) out.push({ taskId: this.taskIds[t]!, direction: Direction.DIRECTION_TO_TARGET, sessionKey: '' });
    }
    if (out.length > 1) out.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
    return out;
  }

  /**
   * The direction of a packet relative to one task's targets, for packets attributed to a
   * task by the network element (PacketCable CCC): UNSPECIFIED when neither end is one of
   * that task's address or MAC targets (e.g. the task has none).
   */
  directionFor(taskId: bigint, p: MatchInput): Direction {
    for (const m of this.match(p)) if (m.taskId === taskId) return m.direction;
    return Direction.DIRECTION_UNSPECIFIED;
  }

  private addExact(ip: IpTarget, task: number): void {
    if (ip.version === 4) {
      const k = i32(ip.address, 0);
      const list = this.v4.get(k) ?? [];
      addTask(list, task);
      this.v4.set(k, list);
      return;
    }
    const h = hash16(ip.address, 0);
    const bucket = this.v6.get(h) ?? [];
    let e = bucket.find((x) => equal16(x.address, ip.address, 0));
    if (!e) bucket.push((e = { address: ip.address, tasks: [] }));
    addTask(e.tasks, task);
    this.v6.set(h, bucket);
  }

  private addPrefix(ip: IpTarget, task: number): void {
    let n = ip.version === 4 ? this.trie4 : this.trie6;
    if (ip.version === 4) this.hasTrie4 = true;
    else this.hasTrie6 = true;
    for (let i = 0; i < ip.prefixLength; i++) {
      const bit = (ip.address[i >> 3]! >> (7 - (i & 7))) & 1;
      if (bit) n = n.one ??= node();
      else n = n.zero ??= node();
    }
    addTask((n.tasks ??= []), task);
  }

  private lookup4(f: Uint8Array, o: number, into: TaskSet): void {
    const hit = this.v4.get(i32(f, o));
    if (hit) for (const t of hit) into.add(t);
    if (this.hasTrie4) this.walk(this.trie4, f, o, 32, into);
  }

  private lookup6(f: Uint8Array, o: number, into: TaskSet): void {
    if (this.v6.size > 0) {
      const bucket = this.v6.get(hash16(f, o));
      if (bucket) for (const e of bucket) if (equal16(e.address, f, o)) for (const t of e.tasks) into.add(t);
    }
    if (this.hasTrie6) this.walk(this.trie6, f, o, 128, into);
  }

  /** Walks the trie along the address at `o` in `f`, collecting the tasks of every prefix on the way. */
  private walk(root: TrieNode, f: Uint8Array, o: number, bits: number, into: TaskSet): void {
    let n: TrieNode | undefined = root;
    for (let i = 0; i < bits && n; i++) {
      n = (f[o + (i >> 3)]! >> (7 - (i & 7))) & 1 ? n.one : n.zero;
      if (n?.tasks) for (const t of n.tasks) into.add(t);
    }
  }

  private lookupMac(f: Uint8Array, o: number, into: TaskSet): void {
    const bucket = this.macs.get(macKey(f, o));
    if (bucket) for (const e of bucket) if (e.high === macHigh(f, o)) for (const t of e.tasks) into.add(t);
  }
}

/** Packets seen and matched by a Matcher, across table replacements. */
export interface MatchCounters {
  packets: number;
  /** Packets with at least one match. */
  matched: number;
  /** Matches produced (a packet can match several tasks). */
  matches: number;
}

/** Holds the current MatchTable; `replace` swaps in a new one atomically. */
export class Matcher {
  readonly counters: MatchCounters = { packets: 0, matched: 0, matches: 0 };
  private current: MatchTable;

  constructor(tasks: readonly Task[] = []) {
    this.current = MatchTable.fromTasks(tasks);
  }

  get table(): MatchTable {
    return this.current;
  }

  /** Builds a table for the new task list and makes it current in one step; returns it. */
  replace(tasks: readonly Task[]): MatchTable {
    const next = MatchTable.fromTasks(tasks);
    this.current = next;
    return next;
  }

  match(p: MatchInput): readonly Match[] {
    const m = this.current.match(p);
    this.counters.packets++;
    if (m.length > 0) {
      this.counters.matched++;
      this.counters.matches += m.length;
    }
    return m;
  }
}
