/**
 * Identity tracking through the real probe: ProbeAgent, gRPC over mutual TLS with certificates
 * made at test time, and an IngestHandler recording what it accepts.
 *
 * 1. A scapy-built capture of a hotspot's day (test/helpers/identity_fixtures.py): alice (a
 *    username target) logs in with IPv4 and an IPv6 prefix, browses, an interim update comes,
 *    she logs off; bob gets her old address; alice logs in again at a new address; dave gets
 *    that one without her Stop having been seen; carol (a MAC target) gets DHCP leases behind
 *    a router (renewal, release, a lease that runs out); a malformed RADIUS packet, other
 *    subscribers and an IP task in between. Exactly the scenario's packets arrive, each with the
 *    session key the scenario says, and exactly its IdentityEvents, in capture order.
 * 2. Over TZSP, live: a warrant that arrives while its target is online gives SESSION_ACTIVE,
 *    and a session the mediator hands back is matched without any AAA seen.
 * No target's name, MAC or address appears in the logs.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { encodeTzsp } from '../../src/capture/tzsp';
import type { ProbeSource } from '../../src/config/probe';
import { IdentityEvent_Kind, IdentityEvent_Source, Task_Type, type Event, type Task, type TaskList } from '../../src/gen/lig/v1/ingest';
import type { ProbeAgent } from '../../src/probe/agent';
import { type Scenario, type ScenarioTask, buildScenario } from '../helpers/identity-scapy';
import { acct, ip4, radiusFrame, trafficFrame } from '../helpers/identity-packets';
import { requireScapy } from '../helpers/scapy';
import { eventually } from './ingest-helpers';
import { RecordingHandler, agentHarness, sendDatagrams } from './probe-helpers';

/** Never in a log line: the targets' names, MACs and addresses. */
const TARGET_TEXT = ['alice', 'carol', 'erin', 'frank', '02:00:00:00:00:aa', '02:00:00:00:00:cc', '10.5.50.1', '10.5.60.', '10.5.70.', '2001:db8:50', '198.51.100.77'];

function taskOf(t: ScenarioTask): Task {
  const kind = t.username
    ? { $case: 'username' as const, username: t.username }
    : t.mac
      ? { $case: 'mac' as const, mac: Buffer.from(t.mac.replace(/:/g, ''), 'hex') }
      : { $case: 'ip' as const, ip: { address: ip4(t.ip!.split('/')[0]!), prefixLength: Number(t.ip!.split('/')[1]) } };
  return { taskId: BigInt(t.taskId), type: Task_Type.TYPE_CONTENT, targets: [{ kind }] };
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const dottedOrEmpty = (b: Uint8Array) => (b.length === 4 ? Array.from(b).join('.') : hexOf(b));

/** Every accepted event, in order, in the JSON form of the scenario's expectations. */
function received(handler: RecordingHandler): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const { batch } of handler.batches) {
    for (const e of batch.events as Event[]) {
      if (e.kind?.$case === 'packet') {
        out.push({ packet: true, timeUs: Number(e.timeUs), ip: hexOf(e.kind.packet.data), matches: e.kind.packet.matches.map((m) => [Number(m.taskId), m.direction, m.sessionKey]) });
      } else if (e.kind?.$case === 'identity') {
        const i = e.kind.identity;
        out.push({
          timeUs: Number(e.timeUs),
          kind: IdentityEvent_Kind[i.kind].replace(/^KIND_/, '').replace(/^SESSION_/, ''),
          taskIds: i.taskIds.map(Number),
          sessionKey: i.sessionKey,
          username: i.username,
          mac: hexOf(i.mac),
          ipv4: dottedOrEmpty(i.ipv4),
          ipv6Prefix: hexOf(i.ipv6Prefix),
          ipv6PrefixLength: i.ipv6PrefixLength,
          sessionId: i.sessionId,
          nasIp: dottedOrEmpty(i.nasIp),
          nasIdentifier: i.nasIdentifier,
          octetsIn: i.octetsIn.toString(),
          octetsOut: i.octetsOut.toString(),
          terminateCause: i.terminateCause,
          source: i.source === IdentityEvent_Source.SOURCE_RADIUS ? 'radius' : 'dhcp',
          sessionStartUs: Number(i.sessionStartUs),
          leaseSeconds: i.leaseSeconds,
        });
      } else throw new Error(`unexpected ${e.kind?.$case} event`);
    }
  }
  return out;
}

/** The scenario's expectations as one ordered list: packets and identity events by capture time (an event before the packet of its frame). */
function expected(sc: Scenario): Record<string, unknown>[] {
  const items: [number, number, Record<string, unknown>][] = [];
  for (const f of sc.frames) if (f.matches.length > 0) items.push([f.timeUs, 1, { packet: true, timeUs: f.timeUs, ip: f.ip, matches: f.matches }]);
  for (const e of sc.events) items.push([e.timeUs, 0, { ipv4: '', ipv6Prefix: '', ipv6PrefixLength: 0, leaseSeconds: 0, ...e }]);
  items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return items.map(([, , x]) => x);
}

describe('probe identity: RADIUS and DHCP through the probe agent (gRPC/mTLS)', function () {
  before(function () {
    requireScapy(this);
  });
  const h = agentHarness('lig-probe-identity-', () => TARGET_TEXT);

  async function start(handler: RecordingHandler, source: ProbeSource): Promise<ProbeAgent> {
    const s = await h.server(handler);
    return h.agent(s.port, source);
  }

  it('a hotspot\'s day: exactly the targets\' packets of each session, with its key, and each session\'s events in order', async () => {
    const sc = buildScenario(path.join(h.tmp, 'scenario'));
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', { version: 1n, tasks: sc.tasks.map(taskOf), sessions: [] });
    const a = await start(handler, { kind: 'pcap', file: sc.pcap });
    const end = await a.done;
    assert.deepEqual(end, { reason: 'ended', drained: true, unackedBatches: 0n });

    const want = expected(sc);
    assert.deepEqual(received(handler), want);
    // What the scenario was built to hold is all there.
    const kinds = want.filter((e) => !e.packet).map((e) => `${e.kind}:${e.terminateCause}`);
    for (const k of ['START:0', 'INTERIM:0', 'STOP:1', `STOP:${0x10001}`, 'LEASE_BIND:0', 'LEASE_RELEASE:0', `LEASE_RELEASE:${0x10000}`]) assert.ok(kinds.includes(k), k);
    const keys = new Set(want.flatMap((e) => (e.packet ? (e.matches as [number, number, string][]).map((m) => m[2]) : [])));
    assert.equal(keys.size, 5, 'two sessions of alice, two leases of carol, and the IP task without one');
    const silent = sc.frames.filter((f) => f.matches.length === 0).map((f) => f.name);
    for (const n of ['after-stop', 'after-stop-v6', 'bob-browses', 'dave-browses', 'after-release', 'after-expiry', 'alice-start', 'carol-ack']) assert.ok(silent.includes(n), n);

    const st = a.stats();
    assert.equal(st.frames, sc.frames.length);
    assert.deepEqual(st.identity.malformed, { LIG_ERR_RADIUS_TRUNCATED: 1 });
    assert.equal(st.identity.events, sc.events.length);
    assert.equal(st.identity.radius.start, 4);
    assert.equal(st.identity.dhcp.ack, 3);
    assert.equal(st.identity.expired, 1);
    assert.equal(st.identity.taken, 1);
  });

  it('live over TZSP: a warrant for a target already online gives SESSION_ACTIVE; a handed-back session matches without AAA', async () => {
    const handler = new RecordingHandler();
    handler.setTasks('probe-1', { version: 1n, tasks: [], sessions: [] });
    const a = await start(handler, { kind: 'tzsp', listen: { host: '127.0.0.1', port: 0 } });
    const src = (await a.capturing()) as unknown as { address(): { port: number } };
    if (a.tasks?.version !== 1n) await new Promise((r) => a.once('tasks', r));
    const port = src.address().port;

    // Erin logs in while nobody is looking for her.
    await sendDatagrams(port, [encodeTzsp(radiusFrame(acct({ status: 1, session: 'e-1', user: 'erin', framedIp: '10.5.70.1', nasId: 'hotspot1' })))]);
    await eventually(() => a.stats().frames >= 1);
    assert.equal(a.stats().identity.sessions, 1);
    assert.equal(handler.batches.length, 0, 'no task: nothing sent');

    const frankKey = 'radius:hotspot1/f-1';
    const list: TaskList = {
      version: 2n,
      tasks: [
        { taskId: 7n, type: Task_Type.TYPE_CONTENT, targets: [{ kind: { $case: 'username', username: 'erin' } }] },
        { taskId: 8n, type: Task_Type.TYPE_CONTENT, targets: [{ kind: { $case: 'username', username: 'frank' } }] },
      ],
      sessions: [{ taskId: 8n, sessionKey: frankKey, ipv4: Buffer.from(ip4('10.5.70.2')), ipv6Prefix: Buffer.alloc(0), ipv6PrefixLength: 0, username: 'frank', mac: Buffer.alloc(0), source: IdentityEvent_Source.SOURCE_RADIUS }],
    };
    const applied = new Promise((r) => a.once('tasks', r));
    handler.setTasks('probe-1', list);
    await applied;

    await sendDatagrams(port, [encodeTzsp(trafficFrame('10.5.70.1', '93.184.216.34')), encodeTzsp(trafficFrame('93.184.216.34', '10.5.70.2')), encodeTzsp(trafficFrame('10.5.70.3', '93.184.216.34'))]);
    await eventually(() => a.stats().frames >= 4);
    await eventually(() => received(handler).length >= a.stats().eventsSubmitted);
    const got = received(handler).map((e) => (e.packet ? ['packet', e.matches] : [e.kind, e.taskIds, e.sessionKey, e.username, e.ipv4, e.nasIdentifier]));
    assert.deepEqual(got, [
      ['ACTIVE', [7], 'radius:hotspot1/e-1', 'erin', '10.5.70.1', 'hotspot1'],
      ['packet', [[7, 1, 'radius:hotspot1/e-1']]],
      ['packet', [[8, 2, frankKey]]],
    ]);
    assert.equal(a.stats().identity.seeded, 1);
  });
});
