/**
 * Who holds which address now, from the RADIUS accounting and DHCP seen on the wire. Pure:
 * parsed packets and their capture times in, the changes of sessions out; no clock, no I/O.
 *
 * Every subscriber's open sessions are kept, not only the targets': a warrant may start while
 * its target is already online (IdentityEvent KIND_SESSION_ACTIVE). The number is bounded by
 * `maxSessions`; over it the longest idle session a task does not want is dropped (ended with
 * SESSION_EVICTED and counted), and only when every session is wanted, the longest idle one.
 *
 * RADIUS (key "radius:NAS/ACCT-SESSION-ID"):
 *   Start binds its Framed-IP-Address and Framed-IPv6-Prefix. Interim-Update updates the
 *   counters (and the addresses, if they changed); for an unknown session (the probe started
 *   late or missed the Start) it binds like a Start and reports INTERIM. Stop unbinds at once:
 *   the address stops matching from the very next packet. A Stop of an unknown session is
 *   reported (for tasks of its user or MAC) without binding anything. A Start of a known
 *   session, or an Interim-Update repeating the last one (same counters and session time), is
 *   a retransmission: applied, not reported. Accounting-On/Off and other status types change
 *   nothing (the caller counts them).
 * DHCP (key "dhcp:MAC/ADDRESS"):
 *   ACK (to a client: yiaddr set) binds the client's MAC to yiaddr: LEASE_BIND, or INTERIM for
 *   a renewal of the same MAC and address. It ends an older lease of the same MAC from the same
 *   server (DHCP_LEASE_SUPERSEDED). RELEASE (ciaddr) and DECLINE (requested address) unbind. A
 *   lease ends (DHCP_LEASE_EXPIRED) at the first call at or after bind (or renewal) + lease
 *   time: `expire(t)`, which the caller makes with each packet's capture time before matching
 *   it. Without a lease time (or an infinite one) a lease ends only by release, by another
 *   session taking its address, or by eviction.
 * Address conflicts: a session that claims an address (or an overlapping IPv6 prefix) held by
 * another takes it at once, and the other session ends (SESSION_ADDRESS_TAKEN), unless the two
 * are a RADIUS session and a DHCP lease with the same known MAC: one subscriber, seen twice.
 *
 * Changes are returned in the order they happened (an ended holder before the session that
 * took its address). The slots whose holders changed are kept for the matcher (takeTouched).
 */
import { ConfigError } from '../../errors';
import { IdentityEvent_Kind as Kind } from '../../gen/lig/v1/ingest';
import { DHCP_LEASE_DECLINED, DHCP_LEASE_EXPIRED, DHCP_LEASE_RELEASED, DHCP_LEASE_SUPERSEDED, SESSION_ADDRESS_TAKEN, SESSION_EVICTED, SESSION_WITHDRAWN } from './causes';
import { DHCP_INFINITE_LEASE, DHCP_OP, DHCP_TYPE, type DhcpMessage } from './dhcp';
import { ExpiryHeap } from './expiry';
import { dhcpSessionKey } from './keys';
import { ACCT_STATUS, MIN_FRAMED_IPV6_PREFIX_LENGTH, type RadiusAccounting } from './radius';
import { type TrackedSession, applyRadius, blankSession, equalBytes, radiusIpv4, radiusKeyOf, radiusSession, setMac } from './session';
import { AddressSlots, type AddressSlot } from './slots';
import { isAssignableIpv4, isUnicastMac } from './text';

export type { TrackedSession } from './session';
export type { AddressSlot } from './slots';

/** Sessions kept unless told (every subscriber's, not only the targets'). */
export const DEFAULT_MAX_SESSIONS = 100_000;
/** The most identity.maxSessions may be set to. */
export const MAX_SESSIONS_LIMIT = 10_000_000;

export interface SessionChange {
  kind: Kind;
  session: TrackedSession;
  /** For ends: Acct-Terminate-Cause, or a value of causes.ts. */
  terminateCause: number;
}

/** A session the mediator hands back (TaskList.sessions), as the tracker takes it. */
export interface SeedSession {
  sessionKey: string;
  source: 'radius' | 'dhcp';
  username: string;
  mac: Uint8Array;
  ipv4: Uint8Array;
  ipv6Prefix: Uint8Array;
  ipv6PrefixLength: number;
}

export interface TrackerCounters {
  /** Sessions ended to stay within maxSessions. */
  evicted: number;
  /** DHCP leases that ran out. */
  expired: number;
  /** Sessions ended because another session took their address. */
  taken: number;
  /** Hand-back sessions taken in, and those refused (unknown form, or their address is another session's now). */
  seeded: number;
  seedRefused: number;
}

export interface TrackerOptions {
  maxSessions?: number;
  /** Whether a task wants a session (kept over others when evicting). */
  wanted?: (s: TrackedSession) => boolean;
}

const endKind = (s: TrackedSession) => (s.source === 'radius' ? Kind.KIND_SESSION_STOP : Kind.KIND_LEASE_RELEASE);

export class IdentityTracker {
  readonly maxSessions: number;
  readonly counters: TrackerCounters = { evicted: 0, expired: 0, taken: 0, seeded: 0, seedRefused: 0 };
  /** Every open session, longest idle first. */
  private readonly sessions = new Map<string, TrackedSession>();
  private readonly slots = new AddressSlots();
  private readonly leases = new ExpiryHeap<TrackedSession>();
  /** Open DHCP leases by client MAC (macNumber). */
  private readonly leasesByMac = new Map<number, Set<TrackedSession>>();
  private wanted: (s: TrackedSession) => boolean;

  constructor(opts: TrackerOptions = {}) {
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (!Number.isSafeInteger(this.maxSessions) || this.maxSessions < 1 || this.maxSessions > MAX_SESSIONS_LIMIT) {
      throw new ConfigError('identity.maxSessions', `must be an integer from 1 to ${MAX_SESSIONS_LIMIT}, got ${this.maxSessions}`);
    }
    this.wanted = opts.wanted ?? (() => false);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The earliest time a lease runs out (Infinity: none): call expire() once a packet is captured at or after it. */
  get nextExpiryUs(): number {
    return this.leases.next;
  }

  get(key: string): TrackedSession | undefined {
    return this.sessions.get(key);
  }

  /** Every open session, longest idle first. */
  all(): IterableIterator<TrackedSession> {
    return this.sessions.values();
  }

  /** Every address slot held. */
  addressSlots(): IterableIterator<AddressSlot> {
    return this.slots.all();
  }

  /** The slots whose holders changed since the last call. */
  takeTouched(): AddressSlot[] {
    return this.slots.takeTouched();
  }

  /** Who holds an IPv4 address, or an exact IPv6 prefix. */
  holders(address: Uint8Array, prefixLength?: number): AddressSlot | undefined {
    return address.length === 4 ? this.slots.ipv4(address) : this.slots.ipv6(address, prefixLength ?? 128);
  }

  /** Replaces the wanted() test (a new task list) and re-marks every session. */
  setWanted(wanted: (s: TrackedSession) => boolean): void {
    this.wanted = wanted;
    for (const s of this.sessions.values()) s.pinned = wanted(s);
  }

  // --- RADIUS --------------------------------------------------------------------------------

  radius(a: RadiusAccounting, timeUs: number): SessionChange[] {
    const status = a.statusType;
    if (status !== ACCT_STATUS.START && status !== ACCT_STATUS.INTERIM_UPDATE && status !== ACCT_STATUS.STOP) return [];
    const changes: SessionChange[] = [];
    const known = this.sessions.get(radiusKeyOf(a));
    if (status === ACCT_STATUS.STOP) {
      if (known) {
        applyRadius(known, a, timeUs);
        this.end(known, a.terminateCause ?? 0, changes);
      } else {
        // Not seen before: nothing to unbind, but its tasks learn that it ended.
        const s = radiusSession(a, timeUs);
        s.ipv4 = radiusIpv4(a);
        s.ipv6Prefix = a.framedIpv6Prefix;
        s.ipv6PrefixLength = a.framedIpv6PrefixLength;
        s.open = false;
        changes.push({ kind: Kind.KIND_SESSION_STOP, session: s, terminateCause: a.terminateCause ?? 0 });
      }
      return changes;
    }
    if (known) {
      const repeat =
        status === ACCT_STATUS.START ||
        (known.lastStatus === status &&
          a.sessionTime === known.sessionTime &&
          (a.inputOctets ?? known.octetsIn) === known.octetsIn &&
          (a.outputOctets ?? known.octetsOut) === known.octetsOut);
      const macBefore = known.macNum;
      applyRadius(known, a, timeUs);
      known.seeded = false; // the wire speaks of it now
      let moved = this.claimRadius(known, a, changes);
      if (known.macNum !== macBefore) {
        // Another MAC: a DHCP lease it shared an address with may now be another subscriber's.
        this.reclaim(known, changes);
        moved = true;
      }
      this.touch(known);
      if (known.open && (!repeat || moved)) changes.push({ kind: Kind.KIND_SESSION_INTERIM, session: known, terminateCause: 0 });
      return changes;
    }
    const s = radiusSession(a, timeUs);
    this.insert(s, changes);
    this.claimRadius(s, a, changes);
    changes.push({ kind: status === ACCT_STATUS.START ? Kind.KIND_SESSION_START : Kind.KIND_SESSION_INTERIM, session: s, terminateCause: 0 });
    return changes;
  }

  /** Binds the addresses `a` names to `s` (moving from any it held before); true when they changed. */
  private claimRadius(s: TrackedSession, a: RadiusAccounting, changes: SessionChange[]): boolean {
    let moved = false;
    const v4 = radiusIpv4(a);
    if (v4 && !equalBytes(v4, s.ipv4)) {
      this.unbind4(s);
      s.ipv4 = Uint8Array.from(v4);
      this.claim(s, this.slots.claim4(v4), [], changes);
      moved = true;
    }
    const p = a.framedIpv6Prefix;
    if (p && (!equalBytes(p, s.ipv6Prefix) || a.framedIpv6PrefixLength !== s.ipv6PrefixLength)) {
      this.unbind6(s);
      s.ipv6Prefix = p;
      s.ipv6PrefixLength = a.framedIpv6PrefixLength;
      this.claim(s, this.slots.claim6(p, s.ipv6PrefixLength), this.slots.overlapping(p, s.ipv6PrefixLength), changes);
      moved = true;
    }
    return moved;
  }

  /** Claims the addresses `s` holds again (after its MAC changed), ending who can no longer share them. */
  private reclaim(s: TrackedSession, changes: SessionChange[]): void {
    const slot4 = s.ipv4 ? this.slots.ipv4(s.ipv4) : undefined;
    if (slot4) this.claim(s, slot4, [], changes);
    const slot6 = s.ipv6Prefix ? this.slots.ipv6(s.ipv6Prefix, s.ipv6PrefixLength) : undefined;
    if (slot6) this.claim(s, slot6, this.slots.overlapping(slot6.address, slot6.prefixLength), changes);
  }

  // --- DHCP ----------------------------------------------------------------------------------

  dhcp(m: DhcpMessage, timeUs: number): SessionChange[] {
    const changes: SessionChange[] = [];
    if (!isUnicastMac(m.chaddr)) return changes;
    const type = m.messageType;
    if (type === DHCP_TYPE.ACK && m.op === DHCP_OP.REPLY) {
      if (!isAssignableIpv4(m.yiaddr)) return changes; // an ACK to an INFORM binds nothing
      const known = this.sessions.get(dhcpSessionKey(m.chaddr, m.yiaddr));
      const s = known ?? blankSession(dhcpSessionKey(m.chaddr, m.yiaddr), 'dhcp', timeUs);
      s.lastSeenUs = timeUs;
      if (m.serverId) s.nasIp = m.serverId;
      const lease = m.leaseSeconds;
      s.leaseSeconds = lease ?? 0;
      s.expiresUs = lease === undefined || lease === DHCP_INFINITE_LEASE ? Infinity : timeUs + lease * 1e6;
      if (s.expiresUs !== Infinity) this.leases.push(s.expiresUs, s);
      if (known) {
        known.seeded = false; // the wire speaks of it now
        this.touch(known);
        changes.push({ kind: Kind.KIND_SESSION_INTERIM, session: known, terminateCause: 0 });
        return changes;
      }
      setMac(s, m.chaddr);
      s.startUs = timeUs;
      for (const other of [...(this.leasesByMac.get(s.macNum) ?? [])]) {
        if (!other.nasIp || !s.nasIp || equalBytes(other.nasIp, s.nasIp)) this.end(other, DHCP_LEASE_SUPERSEDED, changes);
      }
      this.insert(s, changes);
      s.ipv4 = Uint8Array.from(m.yiaddr);
      this.claim(s, this.slots.claim4(m.yiaddr), [], changes);
      changes.push({ kind: Kind.KIND_LEASE_BIND, session: s, terminateCause: 0 });
      this.compactLeases();
      return changes;
    }
    let address: Uint8Array | undefined;
    let cause = DHCP_LEASE_RELEASED;
    if (type === DHCP_TYPE.RELEASE && m.op === DHCP_OP.REQUEST) address = m.ciaddr;
    else if (type === DHCP_TYPE.DECLINE && m.op === DHCP_OP.REQUEST) {
      address = m.requestedAddress;
      cause = DHCP_LEASE_DECLINED;
    }
    if (!address || !isAssignableIpv4(address)) return changes;
    const known = this.sessions.get(dhcpSessionKey(m.chaddr, address));
    if (known) {
      known.lastSeenUs = timeUs;
      this.end(known, cause, changes);
    }
    return changes;
  }

  /** Ends every lease that runs out at or before `timeUs`. */
  expire(timeUs: number): SessionChange[] {
    const changes: SessionChange[] = [];
    while (this.leases.next <= timeUs) {
      const e = this.leases.pop()!;
      const s = e.item;
      if (!s.open || s.expiresUs !== e.at) continue; // ended already, or renewed since
      this.counters.expired++;
      this.end(s, DHCP_LEASE_EXPIRED, changes);
    }
    return changes;
  }

  // --- hand-back -----------------------------------------------------------------------------

  /**
   * Takes in a session the mediator knows of (a probe restarted mid-session). Nothing is
   * reported for it. Refused (false) when it is known already, malformed, has no address, or
   * any of its addresses is held by a session seen on the wire that is not the same
   * subscriber: what the wire says is newer than the hand-back, and an address must never
   * match for the wrong subscriber. Evictions it causes go to `changes`.
   */
  seed(x: SeedSession, timeUs: number, changes: SessionChange[]): boolean {
    if (this.sessions.has(x.sessionKey)) return false;
    const v4 = x.ipv4.length === 4 && isAssignableIpv4(x.ipv4) ? x.ipv4 : undefined;
    const v6 = x.ipv6Prefix.length === 16 && x.ipv6PrefixLength >= MIN_FRAMED_IPV6_PREFIX_LENGTH && x.ipv6PrefixLength <= 128 ? x.ipv6Prefix : undefined;
    const mac = x.mac.length === 6 && isUnicastMac(x.mac) ? x.mac : undefined;
    const okForm =
      x.source === 'radius'
        ? x.sessionKey.startsWith('radius:') && (x.username !== '' || mac !== undefined)
        : mac !== undefined && v4 !== undefined && !v6 && x.sessionKey === dhcpSessionKey(mac, v4);
    const s = blankSession(x.sessionKey, x.source, timeUs);
    s.username = x.source === 'radius' && x.username !== '' ? x.username : undefined;
    setMac(s, mac);
    s.seeded = true;
    const slot4 = v4 ? this.slots.claim4(v4) : undefined;
    const slot6 = v6 ? this.slots.claim6(v6, x.ipv6PrefixLength) : undefined;
    const others6 = v6 ? this.slots.overlapping(v6, x.ipv6PrefixLength) : [];
    const free = (slot: AddressSlot | undefined, others: AddressSlot[]) => !slot || [slot, ...others].every((o) => this.conflicts(o, s).length === 0);
    if (!okForm || (!v4 && !v6) || !free(slot4, []) || !free(slot6, others6)) {
      // Drop the slots made for the check if nobody holds them.
      if (slot4) this.slots.touch(slot4);
      if (slot6) this.slots.touch(slot6);
      this.counters.seedRefused++;
      return false;
    }
    this.insert(s, changes);
    if (slot4 && v4) {
      s.ipv4 = Uint8Array.from(v4);
      this.claim(s, slot4, [], changes);
    }
    if (slot6 && v6) {
      s.ipv6Prefix = Uint8Array.from(v6);
      s.ipv6PrefixLength = x.ipv6PrefixLength;
      this.claim(s, slot6, others6, changes);
    }
    this.counters.seeded++;
    return true;
  }

  /**
   * Ends every session known only from an earlier hand-back whose key `listed` no longer
   * holds: the mediator no longer lists it because it ended (another probe saw its Stop),
   * and its address must stop matching at once (another subscriber may have it now).
   * Sessions the wire has spoken of since are the probe's own and stay.
   */
  withdrawSeeded(listed: ReadonlySet<string>, changes: SessionChange[]): void {
    for (const s of [...this.sessions.values()]) {
      if (s.seeded && !listed.has(s.key)) this.end(s, SESSION_WITHDRAWN, changes);
    }
  }

  // --- the machinery -------------------------------------------------------------------------

  /** The holders of `slot` that `s` cannot share it with. */
  private conflicts(slot: AddressSlot, s: TrackedSession): TrackedSession[] {
    const out: TrackedSession[] = [];
    for (const h of [slot.radius, slot.dhcp]) {
      if (!h || h === s) continue;
      const sameSubscriber = h.source !== s.source && h.macNum >= 0 && h.macNum === s.macNum;
      if (!sameSubscriber) out.push(h);
    }
    return out;
  }

  /** Puts `s` in `slot`, ending whoever holds it (or an overlapping slot) and cannot share it. */
  private claim(s: TrackedSession, slot: AddressSlot, overlapping: AddressSlot[], changes: SessionChange[]): void {
    for (const o of [slot, ...overlapping]) {
      for (const h of this.conflicts(o, s)) {
        this.counters.taken++;
        this.end(h, SESSION_ADDRESS_TAKEN, changes);
      }
    }
    if (s.source === 'radius') slot.radius = s;
    else slot.dhcp = s;
    this.slots.touch(slot);
  }

  private release(s: TrackedSession, slot: AddressSlot | undefined): void {
    if (!slot) return;
    if (slot.radius === s) slot.radius = undefined;
    if (slot.dhcp === s) slot.dhcp = undefined;
    this.slots.touch(slot);
  }

  private unbind4(s: TrackedSession): void {
    if (s.ipv4) this.release(s, this.slots.ipv4(s.ipv4));
  }

  private unbind6(s: TrackedSession): void {
    if (s.ipv6Prefix) this.release(s, this.slots.ipv6(s.ipv6Prefix, s.ipv6PrefixLength));
  }

  /** Ends an open session: unbinds its addresses at once and reports it. */
  private end(s: TrackedSession, cause: number, changes: SessionChange[]): void {
    if (!s.open) return;
    s.open = false;
    this.unbind4(s);
    this.unbind6(s);
    this.sessions.delete(s.key);
    const same = s.source === 'dhcp' ? this.leasesByMac.get(s.macNum) : undefined;
    if (same?.delete(s) && same.size === 0) this.leasesByMac.delete(s.macNum);
    changes.push({ kind: endKind(s), session: s, terminateCause: cause });
  }

  /** Marks `s` as the most recently active. */
  private touch(s: TrackedSession): void {
    if (!s.open) return;
    this.sessions.delete(s.key);
    this.sessions.set(s.key, s);
    s.pinned = this.wanted(s);
  }

  /** Adds a new session, evicting the longest idle unwanted one (else the longest idle) while over the limit. */
  private insert(s: TrackedSession, changes: SessionChange[]): void {
    this.sessions.set(s.key, s);
    s.pinned = this.wanted(s);
    if (s.source === 'dhcp' && s.macNum >= 0) {
      let same = this.leasesByMac.get(s.macNum);
      if (!same) this.leasesByMac.set(s.macNum, (same = new Set()));
      same.add(s);
    }
    while (this.sessions.size > this.maxSessions) {
      let victim: TrackedSession | undefined;
      for (const c of this.sessions.values()) {
        if (c === s) break;
        victim ??= c;
        if (!c.pinned) {
          victim = c;
          break;
        }
      }
      if (!victim) break;
      this.counters.evicted++;
      this.end(victim, SESSION_EVICTED, changes);
    }
  }

  /** Drops stale lease entries (renewed or ended) once they outnumber the open sessions. */
  private compactLeases(): void {
    if (this.leases.size > 2 * this.sessions.size + 1024) this.leases.compact((e) => e.item.open && e.item.expiresUs === e.at);
  }
}
