/**
 * Identity tracking: the tracker's rules (Start, Interim of an unknown session, retransmissions,
 * Stop unbinding at once, an address re-assigned to another subscriber, RADIUS and DHCP of one
 * subscriber sharing an address, DHCP ACK / renewal / RELEASE / DECLINE / supersede / expiry by
 * capture time, the session limit with its eviction order, hand-back seeding) and, through the
 * pipeline, what the matcher and the mediator get: session keys on matches, IdentityEvents
 * only for the tasks' sessions, SESSION_ACTIVE when a task arrives for a session already open.
 */
import { strict as assert } from 'node:assert';
import { Direction, IdentityEvent_Kind as Kind, IdentityEvent_Source, type Event, type Task, type TaskList } from '../../src/gen/lig/v1/ingest';
import { ConfigErrors } from '../../src/errors';
import { parseProbeConfig } from '../../src/config/probe';
import { DHCP_LEASE_DECLINED, DHCP_LEASE_EXPIRED, DHCP_LEASE_SUPERSEDED, SESSION_ADDRESS_TAKEN, SESSION_EVICTED, SESSION_WITHDRAWN } from '../../src/probe/identity/causes';
import { parseDhcp } from '../../src/probe/identity/dhcp';
import { parseRadiusAccounting } from '../../src/probe/identity/radius';
import { IdentityTracker, type SessionChange } from '../../src/probe/identity/tracker';
import { PacketPipeline } from '../../src/probe/pipeline';
import { type Acct, acct, dhcpAck, dhcpFrame, dhcpMessage, dhcpRelease, frameAt, ip4, opt, radiusFrame, trafficFrame, udpFrame } from '../helpers/identity-packets';

const ACTIVE = Kind.KIND_SESSION_ACTIVE;
const T0 = 1_700_000_000_000_000;
const S = 1_000_000;

const radius = (a: Acct) => parseRadiusAccounting(acct(a));
const brief = (cs: SessionChange[]) => cs.map((c) => [Kind[c.kind], c.session.key, c.terminateCause]);
const task = (id: number, target: Task['targets'][number]['kind']): Task => ({ taskId: BigInt(id), type: 1, targets: [{ kind: target }] });
const user = (id: number, name: string) => task(id, { $case: 'username', username: name });
const macTask = (id: number, mac: string) => task(id, { $case: 'mac', mac: Buffer.from(mac.replace(/[:-]/g, ''), 'hex') });
const list = (tasks: Task[], sessions: TaskList['sessions'] = [], version = 1n): TaskList => ({ version, tasks, sessions });

/** What the pipeline made of `frames`: packet events as [time, [task, direction, key]...], identity events in full, in order. */
function run(p: PacketPipeline, frames: [number, Uint8Array][]): { kind: string; timeUs: number; detail: unknown }[] {
  const out: { kind: string; timeUs: number; detail: unknown }[] = [];
  const take = (e: Event) => {
    if (e.kind?.$case === 'packet') out.push({ kind: 'packet', timeUs: Number(e.timeUs), detail: e.kind.packet.matches.map((m) => [Number(m.taskId), m.direction, m.sessionKey]) });
    else if (e.kind?.$case === 'identity') out.push({ kind: Kind[e.kind.identity.kind], timeUs: Number(e.timeUs), detail: e.kind.identity });
  };
  for (const [t, data] of frames) {
    const e = p.process(frameAt(data, t));
    for (const x of p.takeIdentityEvents()) take(x);
    if (e) take(e);
  }
  return out;
}

describe('probe identity: tracker', () => {
  it('Start binds its addresses under "radius:NAS/ID"; the key prefers NAS-IP, else NAS-Identifier', () => {
    const t = new IdentityTracker();
    const c = t.radius(radius({ status: 1, session: 'a-1', user: 'alice', framedIp: '10.5.50.10', mac: '02-00-00-00-00-AA' }), T0);
    assert.deepEqual(brief(c), [['KIND_SESSION_START', 'radius:10.5.0.1/a-1', 0]]);
    const s = c[0]!.session;
    assert.equal(t.holders(ip4('10.5.50.10'))?.radius, s);
    assert.equal(s.startUs, T0);
    assert.equal(Buffer.from(s.mac!).toString('hex'), '0200000000aa');
    const byId = t.radius(radius({ status: 1, session: 'x/y', user: 'bob', nasId: 'hot spot' }), T0);
    assert.equal(byId[0]!.session.key, 'radius:hot%20spot/x%2Fy');
  });

  it('an Interim-Update of an unknown session binds like a Start, dated back by Acct-Session-Time; a repeat changes nothing', () => {
    const t = new IdentityTracker();
    const c = t.radius(radius({ status: 3, session: 's', user: 'alice', framedIp: '10.5.50.10', sessionTime: 120, delay: 2, inOctets: 5, inGiga: 1 }), T0);
    assert.deepEqual(brief(c), [['KIND_SESSION_INTERIM', 'radius:10.5.0.1/s', 0]]);
    assert.equal(c[0]!.session.startUs, T0 - 122 * S);
    assert.equal(c[0]!.session.octetsIn, 2n ** 32n + 5n);
    assert.ok(t.holders(ip4('10.5.50.10'))?.radius);
    assert.deepEqual(t.radius(radius({ status: 3, session: 's', user: 'alice', framedIp: '10.5.50.10', sessionTime: 120, inOctets: 5, inGiga: 1 }), T0 + S), [], 'a retransmission');
    assert.deepEqual(t.radius(radius({ status: 1, session: 's', user: 'alice', framedIp: '10.5.50.10' }), T0 + S), [], 'a late Start of a known session');
    const moved = t.radius(radius({ status: 3, session: 's', user: 'alice', framedIp: '10.5.50.12', sessionTime: 180, inOctets: 9 }), T0 + 2 * S);
    assert.deepEqual(brief(moved), [['KIND_SESSION_INTERIM', 'radius:10.5.0.1/s', 0]]);
    assert.equal(t.holders(ip4('10.5.50.10')), undefined, 'the old address is free');
    assert.ok(t.holders(ip4('10.5.50.12'))?.radius);
  });

  it('Stop unbinds at once; a Stop of an unknown session is reported and binds nothing', () => {
    const t = new IdentityTracker();
    t.radius(radius({ status: 1, session: 's', user: 'alice', framedIp: '10.5.50.10' }), T0);
    const c = t.radius(radius({ status: 2, session: 's', cause: 1, outOctets: 99 }), T0 + S);
    assert.deepEqual(brief(c), [['KIND_SESSION_STOP', 'radius:10.5.0.1/s', 1]]);
    assert.equal(c[0]!.session.username, 'alice');
    assert.equal(c[0]!.session.octetsOut, 99n);
    assert.equal(t.holders(ip4('10.5.50.10')), undefined);
    assert.equal(t.size, 0);
    const unknown = t.radius(radius({ status: 2, session: 'z', user: 'alice', framedIp: '10.5.50.11' }), T0 + 2 * S);
    assert.deepEqual(brief(unknown), [['KIND_SESSION_STOP', 'radius:10.5.0.1/z', 0]]);
    assert.equal(t.holders(ip4('10.5.50.11')), undefined);
    assert.equal(t.size, 0);
  });

  it('an address claimed by another subscriber is taken from its holder at once', () => {
    const t = new IdentityTracker();
    t.radius(radius({ status: 1, session: 'a', user: 'alice', framedIp: '10.5.50.10', v6: [Buffer.from('20010db800500000', 'hex'), 64] }), T0);
    const c = t.radius(radius({ status: 1, session: 'b', user: 'bob', framedIp: '10.5.50.10' }), T0 + S);
    assert.deepEqual(brief(c), [
      ['KIND_SESSION_STOP', 'radius:10.5.0.1/a', SESSION_ADDRESS_TAKEN],
      ['KIND_SESSION_START', 'radius:10.5.0.1/b', 0],
    ]);
    assert.equal(t.holders(ip4('10.5.50.10'))?.radius?.username, 'bob');
    assert.equal(t.holders(Buffer.from('20010db8005000000000000000000000', 'hex'), 64), undefined, 'the ended session\'s prefix is free too');
    // An overlapping IPv6 prefix (a /56 holding bob's /64) is a conflict as well.
    t.radius(radius({ status: 1, session: 'c', user: 'carol', v6: [Buffer.from('20010db8006000aa', 'hex'), 64] }), T0 + 2 * S);
    const wide = t.radius(radius({ status: 1, session: 'd', user: 'dave', v6: [Buffer.from('20010db8006000', 'hex'), 56] }), T0 + 3 * S);
    assert.deepEqual(brief(wide), [
      ['KIND_SESSION_STOP', 'radius:10.5.0.1/c', SESSION_ADDRESS_TAKEN],
      ['KIND_SESSION_START', 'radius:10.5.0.1/d', 0],
    ]);
    assert.equal(t.counters.taken, 2);
  });

  it('a RADIUS session and a DHCP lease share an address only when their MAC is the same', () => {
    const t = new IdentityTracker();
    t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:aa', '10.5.50.10', 600)), T0);
    const same = t.radius(radius({ status: 1, session: 'a', user: 'alice', framedIp: '10.5.50.10', mac: '02-00-00-00-00-AA' }), T0 + S);
    assert.deepEqual(brief(same), [['KIND_SESSION_START', 'radius:10.5.0.1/a', 0]]);
    const slot = t.holders(ip4('10.5.50.10'))!;
    assert.ok(slot.radius && slot.dhcp);
    const other = t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:bb', '10.5.50.10', 600)), T0 + 2 * S);
    assert.deepEqual(brief(other), [
      ['KIND_SESSION_STOP', 'radius:10.5.0.1/a', SESSION_ADDRESS_TAKEN],
      ['KIND_LEASE_RELEASE', 'dhcp:02:00:00:00:00:aa/10.5.50.10', SESSION_ADDRESS_TAKEN],
      ['KIND_LEASE_BIND', 'dhcp:02:00:00:00:00:bb/10.5.50.10', 0],
    ]);
    // A session whose Calling-Station-Id changes is another subscriber's now: the lease it shared with goes.
    t.radius(radius({ status: 1, session: 'm', user: 'mia', framedIp: '10.5.50.10', mac: '02:00:00:00:00:bb' }), T0 + 2 * S);
    const changed = t.radius(radius({ status: 3, session: 'm', user: 'mia', framedIp: '10.5.50.10', mac: '02:00:00:00:00:b0' }), T0 + 2 * S);
    assert.deepEqual(brief(changed).map((x) => x[0]), ['KIND_LEASE_RELEASE', 'KIND_SESSION_INTERIM']);
    t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:b0', '10.5.50.10', 600)), T0 + 2 * S);
    // A RADIUS session without a MAC cannot be shown to be the lease's subscriber: it takes the address.
    const noMac = t.radius(radius({ status: 1, session: 'n', user: 'nemo', framedIp: '10.5.50.10' }), T0 + 3 * S);
    assert.deepEqual(brief(noMac).map((x) => x[0]), ['KIND_SESSION_STOP', 'KIND_LEASE_RELEASE', 'KIND_SESSION_START']);
  });

  it('DHCP: ACK binds, a repeat ACK is a renewal, RELEASE and DECLINE unbind, another address from the same server supersedes', () => {
    const t = new IdentityTracker();
    const mac = '02:00:00:00:00:cc';
    const bind = t.dhcp(parseDhcp(dhcpAck(mac, '10.5.60.5', 600)), T0);
    assert.deepEqual(brief(bind), [['KIND_LEASE_BIND', 'dhcp:02:00:00:00:00:cc/10.5.60.5', 0]]);
    assert.equal(bind[0]!.session.leaseSeconds, 600);
    assert.equal(Array.from(bind[0]!.session.nasIp!).join('.'), '10.5.60.1');
    assert.deepEqual(brief(t.dhcp(parseDhcp(dhcpAck(mac, '10.5.60.5', 600)), T0 + 300 * S)), [['KIND_SESSION_INTERIM', 'dhcp:02:00:00:00:00:cc/10.5.60.5', 0]]);
    assert.deepEqual(brief(t.dhcp(parseDhcp(dhcpRelease(mac, '10.5.60.5')), T0 + 400 * S)), [['KIND_LEASE_RELEASE', 'dhcp:02:00:00:00:00:cc/10.5.60.5', 0]]);
    assert.equal(t.holders(ip4('10.5.60.5')), undefined);
    assert.deepEqual(t.dhcp(parseDhcp(dhcpRelease(mac, '10.5.60.5')), T0 + 401 * S), [], 'nothing to release twice');
    t.dhcp(parseDhcp(dhcpAck(mac, '10.5.60.6', 600)), T0 + 500 * S);
    const sup = t.dhcp(parseDhcp(dhcpAck(mac, '10.5.60.7', 600)), T0 + 501 * S);
    assert.deepEqual(brief(sup), [
      ['KIND_LEASE_RELEASE', 'dhcp:02:00:00:00:00:cc/10.5.60.6', DHCP_LEASE_SUPERSEDED],
      ['KIND_LEASE_BIND', 'dhcp:02:00:00:00:00:cc/10.5.60.7', 0],
    ]);
    const other = t.dhcp(parseDhcp(dhcpAck(mac, '10.9.0.7', 600, '10.9.0.1')), T0 + 502 * S);
    assert.deepEqual(brief(other).map((x) => x[0]), ['KIND_LEASE_BIND'], 'another server\'s lease does not supersede');
    const decline = dhcpMessage({ op: 1, mac, options: [opt(53, [4]), opt(50, ip4('10.5.60.7'))] });
    assert.deepEqual(brief(t.dhcp(parseDhcp(decline), T0 + 503 * S)), [['KIND_LEASE_RELEASE', 'dhcp:02:00:00:00:00:cc/10.5.60.7', DHCP_LEASE_DECLINED]]);
    const inform = dhcpMessage({ op: 2, mac, options: [opt(53, [5])] });
    assert.deepEqual(t.dhcp(parseDhcp(inform), T0 + 504 * S), [], 'an ACK without yiaddr binds nothing');
  });

  it('DHCP: a lease runs out at bind + lease time by capture time; a renewal pushes it back; an infinite one never', () => {
    const t = new IdentityTracker();
    t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:c1', '10.5.60.1', 60)), T0);
    t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:c2', '10.5.60.2', 60)), T0);
    t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:c3', '10.5.60.3', 0xffffffff)), T0);
    t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:c4', '10.5.60.4')), T0);
    assert.equal(t.nextExpiryUs, T0 + 60 * S);
    t.dhcp(parseDhcp(dhcpAck('02:00:00:00:00:c2', '10.5.60.2', 60)), T0 + 30 * S);
    assert.deepEqual(t.expire(T0 + 60 * S - 1), []);
    assert.deepEqual(brief(t.expire(T0 + 60 * S)), [['KIND_LEASE_RELEASE', 'dhcp:02:00:00:00:00:c1/10.5.60.1', DHCP_LEASE_EXPIRED]]);
    assert.deepEqual(brief(t.expire(T0 + 10_000 * S)), [['KIND_LEASE_RELEASE', 'dhcp:02:00:00:00:00:c2/10.5.60.2', DHCP_LEASE_EXPIRED]]);
    assert.equal(t.nextExpiryUs, Infinity);
    assert.equal(t.size, 2, 'the infinite lease and the one without a lease time stay');
    assert.equal(t.counters.expired, 2);
  });

  it('at most maxSessions: the longest idle goes first, wanted sessions last', () => {
    const t = new IdentityTracker({ maxSessions: 3, wanted: (s) => s.username === 'alice' });
    t.radius(radius({ status: 1, session: '1', user: 'alice', framedIp: '10.0.0.1' }), T0);
    t.radius(radius({ status: 1, session: '2', user: 'u2', framedIp: '10.0.0.2' }), T0 + 1);
    t.radius(radius({ status: 1, session: '3', user: 'u3', framedIp: '10.0.0.3' }), T0 + 2);
    t.radius(radius({ status: 3, session: '2', user: 'u2', framedIp: '10.0.0.2', inOctets: 1 }), T0 + 3);
    const c = t.radius(radius({ status: 1, session: '4', user: 'u4', framedIp: '10.0.0.4' }), T0 + 4);
    assert.deepEqual(brief(c), [
      ['KIND_SESSION_STOP', 'radius:10.5.0.1/3', SESSION_EVICTED],
      ['KIND_SESSION_START', 'radius:10.5.0.1/4', 0],
    ]);
    assert.deepEqual([...t.all()].map((s) => s.key.slice(-1)), ['1', '2', '4']);
    assert.equal(t.holders(ip4('10.0.0.3')), undefined, 'an evicted session\'s address stops matching');
    const all = new IdentityTracker({ maxSessions: 2, wanted: () => true });
    all.radius(radius({ status: 1, session: '1', user: 'a', framedIp: '10.0.0.1' }), T0);
    all.radius(radius({ status: 1, session: '2', user: 'b', framedIp: '10.0.0.2' }), T0 + 1);
    assert.deepEqual(brief(all.radius(radius({ status: 1, session: '3', user: 'c', framedIp: '10.0.0.3' }), T0 + 2))[0], ['KIND_SESSION_STOP', 'radius:10.5.0.1/1', SESSION_EVICTED]);
    assert.equal(all.counters.evicted, 1);
  });

  it('hand-back: taken in once, never over an address the wire gave to another subscriber', () => {
    const t = new IdentityTracker();
    const base = { source: 'radius' as const, username: 'alice', mac: Buffer.alloc(0), ipv4: ip4('10.5.50.10'), ipv6Prefix: Buffer.alloc(0), ipv6PrefixLength: 0 };
    const changes: SessionChange[] = [];
    assert.equal(t.seed({ ...base, sessionKey: 'radius:10.5.0.1/a' }, T0, changes), true);
    assert.equal(t.get('radius:10.5.0.1/a')?.seeded, true);
    assert.equal(t.seed({ ...base, sessionKey: 'radius:10.5.0.1/a' }, T0, changes), false, 'known already');
    t.radius(radius({ status: 1, session: 'b', user: 'bob', framedIp: '10.5.50.11' }), T0);
    assert.equal(t.seed({ ...base, sessionKey: 'radius:10.5.0.1/c', ipv4: ip4('10.5.50.11') }, T0, changes), false, 'bob holds it');
    assert.equal(t.holders(ip4('10.5.50.11'))?.radius?.username, 'bob');
    assert.equal(t.seed({ ...base, sessionKey: 'dhcp:bad', source: 'dhcp' }, T0, changes), false, 'a malformed hand-back');
    assert.equal(t.seed({ ...base, sessionKey: 'radius:10.5.0.1/d', ipv4: Buffer.alloc(0) }, T0, changes), false, 'no address');
    assert.deepEqual(changes, []);
    assert.deepEqual([t.counters.seeded, t.counters.seedRefused], [1, 3]);
  });
});

describe('probe identity: through the pipeline', () => {
  const ALICE = 'radius:10.5.0.1/a-1';

  it('matches the session\'s addresses with its key from the Start on, and not from the Stop on', () => {
    const p = new PacketPipeline([user(1, 'alice')]);
    const start = acct({ status: 1, session: 'a-1', user: 'alice', framedIp: '10.5.50.10', v6: [Buffer.from('20010db800500000', 'hex'), 64] });
    const out = run(p, [
      [T0, trafficFrame('10.5.50.10', '93.184.216.34')],
      [T0 + 1, radiusFrame(start)],
      [T0 + 2, trafficFrame('10.5.50.10', '93.184.216.34')],
      [T0 + 3, trafficFrame('93.184.216.34', '10.5.50.10')],
      [T0 + 4, radiusFrame(acct({ status: 1, session: 'z', user: 'zed', framedIp: '10.5.0.2' }))],
      [T0 + 5, radiusFrame(acct({ status: 2, session: 'a-1', user: 'alice', cause: 1 }))],
      [T0 + 6, trafficFrame('10.5.50.10', '93.184.216.34')],
    ]);
    assert.deepEqual(
      out.map((e) => [e.kind, e.timeUs - T0, e.kind === 'packet' ? e.detail : undefined]),
      [
        ['KIND_SESSION_START', 1, undefined],
        ['packet', 2, [[1, Direction.DIRECTION_FROM_TARGET, ALICE]]],
        ['packet', 3, [[1, Direction.DIRECTION_TO_TARGET, ALICE]]],
        ['KIND_SESSION_STOP', 5, undefined],
      ],
    );
    const c = p.counters().identity;
    assert.deepEqual([c.radius.packets, c.radius.start, c.radius.stop, c.sessions, c.events], [3, 2, 1, 1, 2]);
  });

  it('IPv6: the Framed-IPv6-Prefix matches every address in it', () => {
    const p = new PacketPipeline([user(1, 'alice')]);
    const v6frame = (src: string) => {
      const f = Buffer.from(`020000000002020000000001 86dd 6000000000081140 ${src} 20010db8ffff00000000000000000080 c35001bb 0008 0000`.replace(/\s/g, ''), 'hex');
      return f;
    };
    const out = run(p, [
      [T0, radiusFrame(acct({ status: 1, session: 'a-1', user: 'alice', v6: [Buffer.from('20010db800500000', 'hex'), 64] }))],
      [T0 + 1, v6frame('20010db8005000000000000000001234')],
      [T0 + 2, v6frame('20010db8005000010000000000001234')],
    ]);
    assert.deepEqual(out.filter((e) => e.kind === 'packet').map((e) => [e.timeUs - T0, e.detail]), [[1, [[1, 1, ALICE]]]]);
  });

  it('a username matches exactly; a MAC task matches RADIUS sessions of its Calling-Station-Id and DHCP leases, preferring the RADIUS key', () => {
    const p = new PacketPipeline([user(1, 'alice'), macTask(2, '02:00:00:00:00:aa')]);
    const out = run(p, [
      [T0, dhcpFrame(dhcpAck('02:00:00:00:00:aa', '10.5.50.10', 600))],
      [T0 + 1, trafficFrame('10.5.50.10', '93.184.216.34')],
      [T0 + 2, radiusFrame(acct({ status: 1, session: 'a-1', user: 'alice', framedIp: '10.5.50.10', mac: '02-00-00-00-00-AA' }))],
      [T0 + 3, trafficFrame('10.5.50.10', '93.184.216.34')],
      [T0 + 4, radiusFrame(acct({ status: 1, session: 'A-2', user: 'Alice', framedIp: '10.5.50.20' }))],
      [T0 + 5, trafficFrame('10.5.50.20', '93.184.216.34')],
    ]);
    assert.deepEqual(
      out.map((e) => [e.kind, e.timeUs - T0, e.kind === 'packet' ? e.detail : (e.detail as { taskIds: bigint[] }).taskIds.map(Number)]),
      [
        ['KIND_LEASE_BIND', 0, [2]],
        ['packet', 1, [[2, 1, 'dhcp:02:00:00:00:00:aa/10.5.50.10']]],
        ['KIND_SESSION_START', 2, [1, 2]],
        ['packet', 3, [[1, 1, ALICE], [2, 1, ALICE]]],
      ],
    );
  });

  it('a malformed identity packet is counted and changes nothing; Accounting-On is counted', () => {
    const p = new PacketPipeline([user(1, 'alice')]);
    const start = acct({ status: 1, session: 'a-1', user: 'alice', framedIp: '10.5.50.10' });
    const out = run(p, [
      [T0, radiusFrame(start.subarray(0, 30))],
      [T0 + 1, radiusFrame(acct({ status: 7 }))],
      [T0 + 2, dhcpFrame(Buffer.alloc(100))],
      [T0 + 3, trafficFrame('10.5.50.10', '93.184.216.34')],
    ]);
    assert.deepEqual(out, []);
    const c = p.counters().identity;
    assert.deepEqual(c.malformed, { LIG_ERR_RADIUS_TRUNCATED: 1, LIG_ERR_DHCP_TRUNCATED: 1 });
    assert.equal(c.radius.accountingOnOff, 1);
  });

  it('a lease that ran out ends before the next packet is matched, dated when it ran out; the client\'s own DHCP is not its CC', () => {
    const p = new PacketPipeline([macTask(2, '02:00:00:00:00:cc')]);
    const request = dhcpMessage({ op: 1, mac: '02:00:00:00:00:cc', ciaddr: '10.5.60.5', options: [opt(53, [3])] });
    const out = run(p, [
      [T0, dhcpFrame(dhcpAck('02:00:00:00:00:cc', '10.5.60.5', 60))],
      [T0 + 30 * S, udpFrame('10.5.60.5', '10.5.60.1', 68, 67, request)],
      [T0 + 59 * S, trafficFrame('10.5.60.5', '93.184.216.34')],
      [T0 + 61 * S, trafficFrame('10.5.60.5', '93.184.216.34')],
    ]);
    assert.deepEqual(
      out.map((e) => [e.kind, (e.timeUs - T0) / S]),
      [
        ['KIND_LEASE_BIND', 0],
        ['packet', 59],
        ['KIND_LEASE_RELEASE', 60],
      ],
    );
  });

  it('a task for a session already open: SESSION_ACTIVE with what is known, once; not for what the mediator handed back', () => {
    const p = new PacketPipeline();
    run(p, [
      [T0, radiusFrame(acct({ status: 1, session: 'a-1', user: 'alice', framedIp: '10.5.50.10', mac: '02:00:00:00:00:aa', inOctets: 7 }))],
      [T0 + S, radiusFrame(acct({ status: 1, session: 'b-1', user: 'bob', framedIp: '10.5.50.11' }))],
    ]);
    assert.equal(p.identityEventsPending, 0, 'no task: no event');
    p.applyTaskList(list([user(1, 'alice')]));
    const [active, ...rest] = p.takeIdentityEvents();
    assert.deepEqual(rest, []);
    assert.equal(active!.timeUs, BigInt(T0 + S), 'the latest capture time');
    assert.ok(active!.kind?.$case === 'identity');
    assert.deepEqual(active.kind.identity, {
      taskIds: [1n],
      kind: ACTIVE,
      username: 'alice',
      mac: Buffer.from('0200000000aa', 'hex'),
      ipv4: Buffer.from(ip4('10.5.50.10')),
      ipv6Prefix: Buffer.alloc(0),
      ipv6PrefixLength: 0,
      sessionId: 'a-1',
      nasIp: Buffer.from(ip4('10.5.0.1')),
      nasIdentifier: '',
      octetsIn: 7n,
      octetsOut: 0n,
      terminateCause: 0,
      source: IdentityEvent_Source.SOURCE_RADIUS,
      sessionKey: ALICE,
      sessionStartUs: BigInt(T0),
      leaseSeconds: 0,
    });
    assert.deepEqual(run(p, [[T0 + 2 * S, trafficFrame('10.5.50.10', '1.1.1.1')]])[0]!.detail, [[1, 1, ALICE]]);
    p.applyTaskList(list([user(1, 'alice')], [], 2n));
    assert.equal(p.identityEventsPending, 0, 'the same task again: nothing new');
    // Bob's session handed back for task 2 gives it no SESSION_ACTIVE; task 3 (his MAC-less username again) does get one.
    p.applyTaskList(list([user(1, 'alice'), user(2, 'bob'), user(3, 'bob')], [{ taskId: 2n, sessionKey: 'radius:10.5.0.1/b-1', ipv4: Buffer.from(ip4('10.5.50.11')), ipv6Prefix: Buffer.alloc(0), ipv6PrefixLength: 0, username: 'bob', mac: Buffer.alloc(0), source: IdentityEvent_Source.SOURCE_RADIUS }], 3n));
    const events = p.takeIdentityEvents().map((e) => (e.kind?.$case === 'identity' ? [Kind[e.kind.identity.kind], e.kind.identity.taskIds.map(Number), e.kind.identity.sessionKey] : []));
    assert.deepEqual(events, [['KIND_SESSION_ACTIVE', [3], 'radius:10.5.0.1/b-1']]);
  });

  it('a handed-back session matches with its key until the wire says otherwise', () => {
    const p = new PacketPipeline();
    const key = 'radius:10.5.0.1/f-1';
    p.applyTaskList(list([user(1, 'frank')], [{ taskId: 1n, sessionKey: key, ipv4: Buffer.from(ip4('10.5.50.30')), ipv6Prefix: Buffer.alloc(0), ipv6PrefixLength: 0, username: 'frank', mac: Buffer.alloc(0), source: IdentityEvent_Source.SOURCE_RADIUS }]), BigInt(T0));
    assert.equal(p.identityEventsPending, 0);
    const out = run(p, [
      [T0 + 1, trafficFrame('10.5.50.30', '1.1.1.1')],
      [T0 + 2, radiusFrame(acct({ status: 1, session: 'g-1', user: 'gina', framedIp: '10.5.50.30' }))],
      [T0 + 3, trafficFrame('10.5.50.30', '1.1.1.1')],
    ]);
    assert.deepEqual(
      out.map((e) => [e.kind, e.kind === 'packet' ? e.detail : (e.detail as { terminateCause: number }).terminateCause]),
      [
        ['packet', [[1, 1, key]]],
        ['KIND_SESSION_STOP', SESSION_ADDRESS_TAKEN],
      ],
    );
    assert.equal(p.counters().identity.seeded, 1);
  });

  it('a handed-back session the next list no longer holds stops matching at once; one the wire spoke of stays', () => {
    const p = new PacketPipeline();
    const frank = 'radius:10.5.0.1/f-1';
    const hanna = 'radius:10.5.0.1/h-1';
    const handed = (key: string, user: string, addr: string) => ({ taskId: 1n, sessionKey: key, ipv4: Buffer.from(ip4(addr)), ipv6Prefix: Buffer.alloc(0), ipv6PrefixLength: 0, username: user, mac: Buffer.alloc(0), source: IdentityEvent_Source.SOURCE_RADIUS });
    const tasks = [user(1, 'frank'), user(2, 'hanna')];
    p.applyTaskList(list(tasks, [handed(frank, 'frank', '10.5.50.30'), { ...handed(hanna, 'hanna', '10.5.50.31'), taskId: 2n }]), BigInt(T0));
    // The wire now speaks of Hanna's session (an interim): it is the probe's own from here on.
    run(p, [[T0 + 1, radiusFrame(acct({ status: 3, session: 'h-1', user: 'hanna', framedIp: '10.5.50.31' }))]]);
    p.takeIdentityEvents();
    // The mediator's next list holds neither (both ended as far as it knows).
    p.applyTaskList(list(tasks, []), BigInt(T0 + 2));
    const out = run(p, [
      [T0 + 3, trafficFrame('10.5.50.30', '1.1.1.1')],
      [T0 + 4, trafficFrame('10.5.50.31', '1.1.1.1')],
    ]);
    assert.deepEqual(
      out.map((e) => [e.kind, e.kind === 'packet' ? e.detail : (e.detail as { terminateCause: number }).terminateCause]),
      [
        ['KIND_SESSION_STOP', SESSION_WITHDRAWN],
        ['packet', [[2, 1, hanna]]],
      ],
    );
  });

  it('task list changes rebuild the bindings: a removed task stops matching, an added one starts', () => {
    const p = new PacketPipeline([user(1, 'alice')]);
    run(p, [[T0, radiusFrame(acct({ status: 1, session: 'a-1', user: 'alice', framedIp: '10.5.50.10' }))]]);
    p.replaceTasks([]);
    assert.deepEqual(run(p, [[T0 + 1, trafficFrame('10.5.50.10', '1.1.1.1')]]), []);
    p.replaceTasks([macTask(5, '02:00:00:00:00:99'), user(6, 'alice')]);
    const out = run(p, [[T0 + 2, trafficFrame('1.1.1.1', '10.5.50.10')]]);
    assert.deepEqual(out.map((e) => [e.kind, e.kind === 'packet' ? e.detail : (e.detail as { taskIds: bigint[] }).taskIds.map(Number)]), [
      ['KIND_SESSION_ACTIVE', [6]],
      ['packet', [[6, 2, ALICE]]],
    ]);
  });
});

describe('probe identity: config', () => {
  const base = 'name: p\nmediator: { address: "m:1", tls: { ca: a, cert: b, key: c } }\nsource: pcap:x.pcap\n';

  it('identity is optional; given, its defaults fill in', () => {
    assert.equal(parseProbeConfig(base).identity, undefined);
    assert.deepEqual(parseProbeConfig(`${base}identity: {}\n`).identity, { radiusPorts: [1813, 1646], dhcp: true, maxSessions: 100_000 });
    assert.deepEqual(parseProbeConfig(`${base}identity: { radiusPorts: [], dhcp: false, maxSessions: 5 }\n`).identity, { radiusPorts: [], dhcp: false, maxSessions: 5 });
  });

  it('each wrong value is named', () => {
    for (const [text, at] of [
      ['identity: { radiusPorts: [0] }', 'identity.radiusPorts[0]'],
      ['identity: { radiusPorts: [1813, 1813] }', 'identity.radiusPorts[1]'],
      ['identity: { maxSessions: 0 }', 'identity.maxSessions'],
      ['identity: { dhcp: yes please }', 'identity.dhcp'],
      ['identity: { radiusPort: [1813] }', 'identity.radiusPort'],
    ]) {
      assert.throws(
        () => parseProbeConfig(`${base}${text}\n`),
        (e: unknown) => e instanceof ConfigErrors && e.errors.map((x) => x.path).includes(at!),
        text,
      );
    }
  });
});
