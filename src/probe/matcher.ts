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
 *
 * Username and MAC tasks (identity/): the addresses their targets' open sessions hold are
 * matched too, through SessionBindings, which the Matcher keeps in step with the identity
 * tracker (refresh on every bind and unbind, rebuilt with each new table). Such a match
 * carries the session's key (Match.session_key), and wins over an IP or layer-2 MAC match of
 * the same task on the same side, so the session's CC carries the session's CIN; IP targets
 * and MACs seen at layer 2 match as before with an empty key. A username target matches
 * RADIUS sessions with exactly that User-Name (UTF-8, case and all); a MAC target matches
 * RADIUS sessions whose Calling-Station-Id is that MAC and DHCP leases of that MAC. When a
 * RADIUS session and a DHCP lease of the same subscriber hold one address, the RADIUS key is
 * used.
 */
import type { DecodedPacket } from '../capture/decode';

/** What matching reads of a decoded packet: addresses in place, as offsets into the frame. */
export type MatchInput = Pick<DecodedPacket, 'frame' | 'version' | 'srcOffset' | 'dstOffset' | 'srcMacOffset' | 'dstMacOffset'>;
import { IpTarget, Targets, collectTargets } from '../capture/targets';
import { Direction, Match, Task } from '../gen/lig/v1/ingest';
import { SessionBindings, type BoundTask } from './identity/bindings';
import type { AddressSlot } from './identity/slots';
import type { TrackedSession } from './identity/session';
import { macNumber } from './identity/text';

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
 * A small reusable set of task indices for one side of a packet, each with the session key
 * it was found through ('' for an IP or MAC target; the first add of a task wins). It is
 * emptied by resetting a count: truncating an array (`length = 0`) costs V8 about 100 ns,
 * more than the lookups.
 */
class TaskSet {
  private readonly items: number[] = [];
  private readonly keys: string[] = [];
  size = 0;

  add(task: number, key = ''): void {
    for (let i = 0; i < this.size; i++) if (this.items[i] === task) return;
    this.keys[this.size] = key;
    this.items[this.size++] = task;
  }

  /** The key `task` was added with ('' when absent). */
  keyOf(task: number): string {
    for (let i = 0; i < this.size; i++) if (this.items[i] === task) return this.keys[i]!;
    return '';
  }

  keyAt(i: number): string {
    return this.keys[i]!;
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

/** Username and MAC targets matched through identity sessions. */
export interface IdentityTableStats {
  /** Tasks with a username or MAC target. */
  tasks: number;
  usernames: number;
  macs: number;
}

/** The username targets of each task of a list (empty strings refused), in the list's order. */
export function usernamesOf(tasks: readonly Task[]): string[][] {
  return tasks.map((t) => (t.targets ?? []).flatMap((x) => (x.kind?.$case === 'username' && x.kind.username !== '' ? [x.kind.username] : [])));
}

/** An immutable lookup structure for one task list. */
export class MatchTable {
  readonly stats: MatchTableStats;
  readonly identityStats: IdentityTableStats;
  private readonly taskIds: bigint[] = [];
  /** Identity targets: username → task indices, MAC (as a number) → task indices. */
  private readonly byUsername = new Map<string, number[]>();
  private readonly byMac = new Map<number, number[]>();
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
    return new MatchTable(collectTargets(tasks), usernamesOf(tasks));
  }

  /** `usernames[i]`: the username targets of `targets.tasks[i]` (see usernamesOf). */
  constructor(targets: Targets, usernames: readonly (readonly string[])[] = []) {
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
        const byMac = this.byMac.get(macNumber(m)) ?? [];
        addTask(byMac, index);
        this.byMac.set(macNumber(m), byMac);
      }
      for (const u of usernames[index] ?? []) {
        const list = this.byUsername.get(u) ?? [];
        addTask(list, index);
        this.byUsername.set(u, list);
      }
    });
    this.stats = { tasks: targets.tasks.length, exactIpv4, exactIpv6, prefixes, macs, invalid: targets.invalid, deferred: targets.deferred };
    const identityTasks = new Set([...this.byUsername.values(), ...this.byMac.values()].flat());
    this.identityStats = { tasks: identityTasks.size, usernames: this.byUsername.size, macs: this.byMac.size };
  }

  /** Whether any task has a username or MAC target (whose sessions are matched). */
  get hasIdentityTasks(): boolean {
    return this.identityStats.tasks > 0;
  }

  /** The task id of task index `i`. */
  taskIdAt(i: number): bigint {
    return this.taskIds[i]!;
  }

  /**
   * The tasks (indices, ascending) a session belongs to: username tasks of a RADIUS session's
   * User-Name, MAC tasks of its MAC (Calling-Station-Id, or a DHCP lease's client).
   */
  tasksOfSession(s: Pick<TrackedSession, 'source' | 'username' | 'macNum'>): number[] {
    const byUser = s.source === 'radius' && s.username !== undefined ? this.byUsername.get(s.username) : undefined;
    const byMac = s.macNum >= 0 ? this.byMac.get(s.macNum) : undefined;
    if (!byUser) return byMac ? [...byMac] : [];
    if (!byMac) return [...byUser];
    return [...new Set([...byUser, ...byMac])].sort((a, b) => a - b);
  }

  /** The tasks the address of `slot` is bound to, with the session key each goes by (RADIUS first). */
  boundTasks(slot: AddressSlot): BoundTask[] {
    const out: BoundTask[] = [];
    if (!this.hasIdentityTasks) return out;
    for (const s of [slot.radius, slot.dhcp]) {
      if (!s) continue;
      for (const task of this.tasksOfSession(s)) if (!out.some((b) => b.task === task)) out.push({ task, key: s.key });
    }
    return out;
  }

  /**
   * The matches of a packet; the same frozen empty list when there are none. `sessions`: the
   * addresses bound to this table's username and MAC tasks (looked up first, so their key wins).
   */
  match(p: MatchInput, sessions?: SessionBindings): readonly Match[] {
    const src = this.srcTasks;
    const dst = this.dstTasks;
    src.size = 0;
    dst.size = 0;
    const f = p.frame;
    if (sessions !== undefined && !sessions.empty) {
      if (p.version === 4) {
        sessions.lookup4(f, p.srcOffset, src);
        sessions.lookup4(f, p.dstOffset, dst);
      } else {
        sessions.lookup6(f, p.srcOffset, src);
        sessions.lookup6(f, p.dstOffset, dst);
      }
    }
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
      const both = dst.has(t);
      // A hairpin goes by the source's session, or the destination's when the source matched by IP or MAC.
      const key = src.keyAt(i) || (both ? dst.keyOf(t) : '');
      out.push({ taskId: this.taskIds[t]!, direction: both ? Direction.DIRECTION_BOTH : Direction.DIRECTION_FROM_TARGET, sessionKey: key });
    }
    for (let i = 0; i < dst.size; i++) {
      const t = dst.at(i);
      if (!src.has(t)) out.push({ taskId: this.taskIds[t]!, direction: Direction.DIRECTION_TO_TARGET, sessionKey: dst.keyAt(i) });
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

/**
 * Holds the current MatchTable and the session bindings made for it; `replace` swaps in a new
 * table (and rebuilds the bindings for it) atomically.
 */
export class Matcher {
  readonly counters: MatchCounters = { packets: 0, matched: 0, matches: 0 };
  /** The addresses of the current table's username and MAC tasks' sessions. */
  readonly bindings = new SessionBindings();
  private current: MatchTable;

  constructor(tasks: readonly Task[] = []) {
    this.current = MatchTable.fromTasks(tasks);
  }

  get table(): MatchTable {
    return this.current;
  }

  /**
   * Builds a table for the new task list and makes it current in one step, with the bindings
   * of `slots` (every address the identity tracker holds) made for it; returns it.
   */
  replace(tasks: readonly Task[], slots: Iterable<AddressSlot> = []): MatchTable {
    const next = MatchTable.fromTasks(tasks);
    this.current = next;
    this.bindings.clear();
    if (next.hasIdentityTasks) for (const slot of slots) this.bindings.set(slot, next.boundTasks(slot));
    return next;
  }

  /** Brings the bindings of `slots` (whose holders changed) up to date. */
  refresh(slots: Iterable<AddressSlot>): void {
    for (const slot of slots) this.bindings.set(slot, this.current.boundTasks(slot));
  }

  /** Matches by the table and, unless `sessions` is false, by the session bindings. */
  match(p: MatchInput, sessions = true): readonly Match[] {
    const m = this.current.match(p, sessions ? this.bindings : undefined);
    this.counters.packets++;
    if (m.length > 0) {
      this.counters.matched++;
      this.counters.matches += m.length;
    }
    return m;
  }
}
