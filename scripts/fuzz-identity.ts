/**
 * Time-boxed mutation fuzzer for identity tracking (not part of `npm test`):
 *
 *   npx tsx scripts/fuzz-identity.ts [--seconds 30] [--seed N] [--out DIR] [--replay FILE] [--only radius|dhcp|tracker]
 *
 * Mutates valid RADIUS Accounting-Requests and DHCP messages (bit flips, attribute and option
 * types and lengths, cuts, repeated and deleted slices, splices) and checks that
 * 1. parseRadiusAccounting / parseDhcp return a well-formed result or throw an
 *    IdentityPacketError with a LIG_ERR_RADIUS_* / LIG_ERR_DHCP_* code and an offset inside the
 *    payload: never another exception;
 * 2. ('tracker') a whole sequence of RADIUS, DHCP and traffic frames through the probe's
 *    pipeline (username and MAC tasks, a small session limit, time moving on so leases expire)
 *    never throws and never counts an internal error; after every frame the tracker is
 *    consistent (every held address points at an open session that says it holds it, no two
 *    sessions of different subscribers share one, at most maxSessions), and every match with a
 *    session key names an open session that holds one of the packet's addresses.
 * The input of 'tracker' is a list of records: selector (0 RADIUS, 1 DHCP, 2 traffic), seconds
 * to move on, length (16 bits), payload (traffic: source and destination IPv4).
 */
import { IdentityPacketError } from '../src/errors';
import type { Task } from '../src/gen/lig/v1/ingest';
import { parseDhcp } from '../src/probe/identity/dhcp';
import { MIN_FRAMED_IPV6_PREFIX_LENGTH, parseRadiusAccounting } from '../src/probe/identity/radius';
import { PacketPipeline } from '../src/probe/pipeline';
import { acct, dhcpAck, dhcpFrame, dhcpMessage, dhcpRelease, frameAt, ip4, opt, radiusFrame, trafficFrame } from '../test/helpers/identity-packets';
import { type FuzzScript, type Fuzzer, type Rng, appendInput, deleteOctets, flipBits, fuzzMain, insertOctets, mutate, repeatSlice, setOctet, setWord, spliceTail, truncate } from './fuzz-driver';

const RADIUS_SEEDS: Uint8Array[] = [
  acct({ status: 1, session: 'a-1', user: 'alice', framedIp: '10.5.50.10', mac: '02-00-00-00-00-AA', nasId: 'hotspot1', v6: [Buffer.from('20010db800500000', 'hex'), 64] }),
  acct({ status: 3, session: 'a-1', user: 'alice', framedIp: '10.5.50.10', inOctets: 5000, inGiga: 1, outOctets: 7, sessionTime: 60, delay: 1 }),
  acct({ status: 2, session: 'a-1', user: 'alice', cause: 1, inOctets: 6000, outOctets: 8 }),
  acct({ status: 1, session: 'b-1', user: 'bob', framedIp: '10.5.50.10', mac: '0200.0000.00bb' }),
  acct({ status: 1, session: 'c-1', user: 'carol', framedIp: '10.5.50.11', mac: '02:00:00:00:00:cc' }),
  acct({ status: 7 }),
];
const DHCP_SEEDS: Uint8Array[] = [
  dhcpAck('02:00:00:00:00:cc', '10.5.60.5', 60),
  dhcpAck('02:00:00:00:00:cc', '10.5.50.11', 30),
  dhcpAck('02:00:00:00:00:dd', '10.5.60.5', 0xffffffff),
  dhcpRelease('02:00:00:00:00:cc', '10.5.60.5'),
  dhcpMessage({ op: 1, mac: '02:00:00:00:00:cc', options: [opt(53, [4]), opt(50, ip4('10.5.60.5'))] }),
  dhcpMessage({ op: 2, mac: '02:00:00:00:00:cc', options: [opt(53, [6]), opt(52, [3]), opt(12, Buffer.from('host'))] }),
];

const BYTES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 18, 20, 31, 32, 40, 44, 50, 51, 52, 53, 54, 95, 97, 128, 255];
const SHORTS = [0, 1, 19, 20, 21, 0x7a, 4096, 4097, 0xffff];
const MUTATIONS = [flipBits(2), setOctet(BYTES, 0.2), setWord(SHORTS, 2), truncate, insertOctets(8, BYTES), deleteOctets(8), repeatSlice(24), spliceTail];

function checkParser(kind: 'radius' | 'dhcp', b: Uint8Array): string | undefined {
  try {
    if (kind === 'radius') {
      const r = parseRadiusAccounting(b);
      if (r.mac && (r.mac.length !== 6 || (r.mac[0]! & 1) === 1)) return 'a MAC that is not 6 octets of unicast';
      if (r.framedIp && r.framedIp.length !== 4) return 'Framed-IP-Address not 4 octets';
      if (r.framedIpv6Prefix && (r.framedIpv6Prefix.length !== 16 || r.framedIpv6PrefixLength < MIN_FRAMED_IPV6_PREFIX_LENGTH || r.framedIpv6PrefixLength > 128)) return 'bad IPv6 prefix';
      if (r.inputOctets !== undefined && (r.inputOctets < 0n || r.inputOctets >= 2n ** 64n)) return 'octets outside 64 bits';
    } else {
      const m = parseDhcp(b);
      if (m.chaddr.length !== 6 || m.yiaddr.length !== 4 || m.ciaddr.length !== 4) return 'fixed fields of the wrong size';
    }
  } catch (e) {
    if (!(e instanceof IdentityPacketError)) return `threw a non-IdentityPacketError: ${e instanceof Error ? e.stack : String(e)}`;
    const prefix = kind === 'radius' ? 'LIG_ERR_RADIUS_' : 'LIG_ERR_DHCP_';
    if (!e.code.startsWith(prefix)) return `unexpected code ${e.code}`;
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > b.length) return `offset ${e.offset} outside ${b.length} octets`;
  }
  return undefined;
}

// --- the tracker through the pipeline -----------------------------------------------------------

const TASKS: Task[] = [
  { taskId: 1n, type: 1, targets: [{ kind: { $case: 'username', username: 'alice' } }] },
  { taskId: 2n, type: 1, targets: [{ kind: { $case: 'mac', mac: Buffer.from('0200000000cc', 'hex') } }] },
  { taskId: 3n, type: 1, targets: [{ kind: { $case: 'username', username: 'bob' } }, { kind: { $case: 'mac', mac: Buffer.from('0200000000aa', 'hex') } }] },
];
const MAX_SESSIONS = 4;
const T0 = 1_700_000_000_000_000;

function record(selector: number, seconds: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([selector, seconds, payload.length >> 8, payload.length & 0xff]), payload]);
}
const traffic = (src: string, dst: string) => record(2, 1, Buffer.concat([ip4(src), ip4(dst)]));

const TRACKER_SEEDS: Uint8Array[] = [
  Buffer.concat([record(0, 1, RADIUS_SEEDS[0]!), traffic('10.5.50.10', '1.1.1.1'), record(0, 1, RADIUS_SEEDS[1]!), record(0, 1, RADIUS_SEEDS[2]!), traffic('10.5.50.10', '1.1.1.1')]),
  Buffer.concat([record(0, 1, RADIUS_SEEDS[0]!), record(0, 1, RADIUS_SEEDS[3]!), traffic('1.1.1.1', '10.5.50.10'), record(0, 1, RADIUS_SEEDS[4]!)]),
  Buffer.concat([record(1, 1, DHCP_SEEDS[0]!), traffic('10.5.60.5', '1.1.1.1'), record(1, 30, DHCP_SEEDS[0]!), record(1, 100, DHCP_SEEDS[2]!), record(1, 1, DHCP_SEEDS[3]!), traffic('10.5.60.5', '1.1.1.1')]),
  Buffer.concat([record(0, 1, RADIUS_SEEDS[4]!), record(1, 1, DHCP_SEEDS[1]!), record(1, 1, DHCP_SEEDS[4]!), traffic('10.5.50.11', '10.5.60.5'), record(0, 1, RADIUS_SEEDS[5]!)]),
];

/** Whether the tracker's indexes agree with its sessions; a problem, or undefined. */
function trackerProblem(p: PacketPipeline): string | undefined {
  const t = p.tracker;
  if (t.size > MAX_SESSIONS) return `${t.size} sessions over the limit ${MAX_SESSIONS}`;
  for (const slot of t.addressSlots()) {
    const holders = [slot.radius, slot.dhcp].filter((s) => s !== undefined);
    if (holders.length === 0) return 'an empty slot is kept';
    for (const s of holders) {
      if (!s.open || t.get(s.key) !== s) return `a slot holds a session that is not open (${s.key})`;
      const holds = slot.version === 4 ? s.ipv4 && Buffer.compare(Buffer.from(s.ipv4), Buffer.from(slot.address)) === 0 : s.ipv6Prefix !== undefined && s.ipv6PrefixLength === slot.prefixLength;
      if (!holds) return `a slot names a session that does not hold it (${s.key})`;
    }
    if (slot.radius && slot.dhcp && (slot.radius.macNum < 0 || slot.radius.macNum !== slot.dhcp.macNum)) return 'two subscribers share an address';
  }
  for (const s of t.all()) {
    if (s.ipv4 && t.holders(s.ipv4)?.[s.source] !== s) return `a session's IPv4 address is not indexed (${s.key})`;
    if (s.ipv6Prefix && t.holders(s.ipv6Prefix, s.ipv6PrefixLength)?.[s.source] !== s) return `a session's IPv6 prefix is not indexed (${s.key})`;
  }
  return undefined;
}

function checkTracker(input: Uint8Array): string | undefined {
  const p = new PacketPipeline(TASKS, { identity: { maxSessions: MAX_SESSIONS } });
  let time = T0;
  for (let o = 0; o + 4 <= input.length; ) {
    const selector = input[o]! % 3;
    time += input[o + 1]! * 1_000_000 + 1;
    const len = Math.min((input[o + 2]! << 8) | input[o + 3]!, input.length - o - 4);
    const payload = input.subarray(o + 4, o + 4 + len);
    o += 4 + len;
    let frame: Uint8Array;
    if (selector === 0) frame = radiusFrame(payload);
    else if (selector === 1) frame = dhcpFrame(payload, (payload[0] ?? 0) === 1);
    else if (payload.length >= 8) frame = trafficFrame(Array.from(payload.subarray(0, 4)).join('.'), Array.from(payload.subarray(4, 8)).join('.'));
    else continue;
    const e = p.process(frameAt(frame, time));
    p.takeIdentityEvents();
    const internal = p.counters().identity.malformed['internal-error'];
    if (internal) return `${internal} internal error(s) in the identity stage`;
    const problem = trackerProblem(p);
    if (problem) return problem;
    if (e?.kind?.$case !== 'packet') continue;
    const src = Array.from(e.kind.packet.data.subarray(12, 16)).join('.');
    const dst = Array.from(e.kind.packet.data.subarray(16, 20)).join('.');
    for (const m of e.kind.packet.matches) {
      if (m.sessionKey === '') continue;
      const s = p.tracker.get(m.sessionKey);
      const at = s?.ipv4 ? Array.from(s.ipv4).join('.') : undefined;
      if (!s || !s.open || (at !== src && at !== dst)) return `task ${m.taskId} matched through ${m.sessionKey}, which does not hold ${src} or ${dst}`;
    }
  }
  return undefined;
}

const TARGETS: (Omit<Fuzzer, 'next'> & { ops: typeof MUTATIONS })[] = [
  { name: 'radius', seeds: RADIUS_SEEDS, check: (b) => checkParser('radius', b), ops: MUTATIONS },
  { name: 'dhcp', seeds: DHCP_SEEDS, check: (b) => checkParser('dhcp', b), ops: MUTATIONS },
  { name: 'tracker', seeds: TRACKER_SEEDS, check: checkTracker, ops: [...MUTATIONS, appendInput] },
];

export const identityFuzz: FuzzScript = {
  script: __filename,
  make: (rng: Rng) => TARGETS.map(({ ops, ...t }) => ({ ...t, next: () => mutate(rng.pick(t.seeds), rng, t.seeds, ops) })),
};

if (require.main === module) fuzzMain(identityFuzz);
