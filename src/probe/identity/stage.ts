/**
 * The identity stage of the probe's pipeline: recognises RADIUS accounting and DHCP packets,
 * parses them and feeds the tracker; counts everything, including what it cannot read. Pure
 * (no I/O, no clock: the caller gives each packet's capture time).
 *
 * Recognised by UDP port: RADIUS accounting is UDP to a port of `radiusPorts` (the
 * Accounting-Request goes to the server's port; the response comes from it and is not
 * read); DHCP is UDP from or to port 67 or 68. Such a packet is an identity packet whatever
 * its content: malformed ones are counted by error code and change nothing, and never end
 * the probe. IP fragments on these ports are counted (`fragments`) and not reassembled.
 */
import { udpPayload, type DecodedPacket } from '../../capture/decode';
import { ConfigError, isLigError } from '../../errors';
import { parseDhcp, DHCP_OP, DHCP_TYPE } from './dhcp';
import { ACCT_STATUS, parseRadiusAccounting } from './radius';
import { IdentityTracker, type SessionChange, type TrackerOptions } from './tracker';

/** RADIUS accounting ports read unless told: 1813 (RFC 2866) and the older 1646. */
export const DEFAULT_RADIUS_ACCOUNTING_PORTS: readonly number[] = [1813, 1646];
/** DHCPv4 server and client ports. */
export const DHCP_PORTS: readonly number[] = [67, 68];

export interface IdentityOptions {
  /** UDP ports RADIUS Accounting-Requests go to; DEFAULT_RADIUS_ACCOUNTING_PORTS unless told, [] for none. */
  radiusPorts?: readonly number[];
  /** Read DHCP (default true). */
  dhcp?: boolean;
  /** Sessions tracked at most (tracker.ts DEFAULT_MAX_SESSIONS unless told). */
  maxSessions?: number;
}

/** The UDP ports identity tracking reads with these options (for the capture filter). */
export function identityUdpPorts(opts: IdentityOptions = {}): number[] {
  return [...(opts.radiusPorts ?? DEFAULT_RADIUS_ACCOUNTING_PORTS), ...(opts.dhcp === false ? [] : DHCP_PORTS)];
}

/** What the identity stage saw. Counts only: no usernames, MACs or addresses. */
export interface IdentityCounters {
  radius: { packets: number; start: number; interim: number; stop: number; accountingOnOff: number; otherStatus: number; notAccounting: number; unsafePrefix: number };
  dhcp: { packets: number; ack: number; release: number; decline: number; otherType: number; notEthernet: number; overloaded: number };
  /** Unreadable packets by error code (LIG_ERR_RADIUS_*, LIG_ERR_DHCP_*), 'udp-malformed', and 'internal-error' (a bug: should stay absent). */
  malformed: Record<string, number>;
  /** IP fragments on the identity ports (not reassembled, not read). */
  fragments: number;
  /** Open sessions now (every subscriber's), and the tracker's counters. */
  sessions: number;
  evicted: number;
  expired: number;
  taken: number;
  seeded: number;
  seedRefused: number;
}

export class IdentityStage {
  readonly tracker: IdentityTracker;
  private readonly radiusPorts: ReadonlySet<number>;
  private readonly dhcp: boolean;
  private readonly c = {
    radius: { packets: 0, start: 0, interim: 0, stop: 0, accountingOnOff: 0, otherStatus: 0, notAccounting: 0, unsafePrefix: 0 },
    dhcp: { packets: 0, ack: 0, release: 0, decline: 0, otherType: 0, notEthernet: 0, overloaded: 0 },
    malformed: {} as Record<string, number>,
    fragments: 0,
  };

  constructor(opts: IdentityOptions & Pick<TrackerOptions, 'wanted'> = {}) {
    const ports = opts.radiusPorts ?? DEFAULT_RADIUS_ACCOUNTING_PORTS;
    for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ConfigError('identity.radiusPorts', `${p} is not a port (1..65535)`);
    this.radiusPorts = new Set(ports);
    this.dhcp = opts.dhcp !== false;
    this.tracker = new IdentityTracker({ maxSessions: opts.maxSessions, wanted: opts.wanted });
  }

  /** Whether `p` is a RADIUS accounting or DHCP packet (by its UDP ports). */
  isIdentityPacket(p: DecodedPacket): boolean {
    if (p.protocol !== 17 || p.dstPort === undefined) return false;
    if (this.radiusPorts.has(p.dstPort)) return true;
    return this.dhcp && (p.dstPort === 67 || p.dstPort === 68 || p.srcPort === 67 || p.srcPort === 68);
  }

  /** Reads an identity packet captured at `timeUs` into the tracker; the changes it made. */
  consume(p: DecodedPacket, timeUs: number): SessionChange[] {
    const radius = this.radiusPorts.has(p.dstPort!);
    if (radius) this.c.radius.packets++;
    else this.c.dhcp.packets++;
    if (p.fragment) {
      this.c.fragments++;
      return [];
    }
    const payload = udpPayload(p);
    if (payload === undefined) {
      this.malformed('udp-malformed');
      return [];
    }
    try {
      return radius ? this.radius(payload, timeUs) : this.dhcpMessage(payload, timeUs);
    } catch (e) {
      // Only the parsers' typed errors are expected; anything else is a bug, counted (the
      // fuzzer checks it stays at 0) rather than allowed to end the capture.
      if (!isLigError(e)) {
        this.malformed('internal-error');
        return [];
      }
      if (e.code === 'LIG_ERR_RADIUS_NOT_ACCOUNTING') this.c.radius.notAccounting++;
      else if (e.code === 'LIG_ERR_DHCP_NOT_ETHERNET') this.c.dhcp.notEthernet++;
      else this.malformed(e.code);
      return [];
    }
  }

  private radius(payload: Uint8Array, timeUs: number): SessionChange[] {
    const a = parseRadiusAccounting(payload);
    const c = this.c.radius;
    if (a.unsafePrefix) c.unsafePrefix++;
    switch (a.statusType) {
      case ACCT_STATUS.START:
        c.start++;
        break;
      case ACCT_STATUS.INTERIM_UPDATE:
        c.interim++;
        break;
      case ACCT_STATUS.STOP:
        c.stop++;
        break;
      case ACCT_STATUS.ACCOUNTING_ON:
      case ACCT_STATUS.ACCOUNTING_OFF:
        c.accountingOnOff++;
        return [];
      default:
        c.otherStatus++;
        return [];
    }
    return this.tracker.radius(a, timeUs);
  }

  private dhcpMessage(payload: Uint8Array, timeUs: number): SessionChange[] {
    const m = parseDhcp(payload);
    const c = this.c.dhcp;
    if (m.overloaded) c.overloaded++;
    if (m.messageType === DHCP_TYPE.ACK && m.op === DHCP_OP.REPLY) c.ack++;
    else if (m.messageType === DHCP_TYPE.RELEASE && m.op === DHCP_OP.REQUEST) c.release++;
    else if (m.messageType === DHCP_TYPE.DECLINE && m.op === DHCP_OP.REQUEST) c.decline++;
    else {
      c.otherType++;
      return [];
    }
    return this.tracker.dhcp(m, timeUs);
  }

  private malformed(code: string): void {
    this.c.malformed[code] = (this.c.malformed[code] ?? 0) + 1;
  }

  counters(): IdentityCounters {
    const t = this.tracker.counters;
    return {
      radius: { ...this.c.radius },
      dhcp: { ...this.c.dhcp },
      malformed: { ...this.c.malformed },
      fragments: this.c.fragments,
      sessions: this.tracker.size,
      evicted: t.evicted,
      expired: t.expired,
      taken: t.taken,
      seeded: t.seeded,
      seedRefused: t.seedRefused,
    };
  }
}
