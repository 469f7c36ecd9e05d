/**
 * Access sessions end to end on loopback, real components only: a probe client over gRPC
 * (mTLS) sends identity events and packets of username and MAC targets, the mediator makes
 * them durable and delivers them over TLS to the reference LEMF, whose streams (exactly as
 * received) are read back and passed through the etsi-oracle. Shown: IRI-BEGIN/CONTINUE/END
 * with the right CINs and numbers, CC in the session's CIN, a packet after the session's end
 * dropped, the open sessions handed back to a probe, a warrant removed mid-session giving
 * endOfInterceptionWithSessionActive, and a mediator restart mid-session keeping the CIN.
 * Certificates are made at test time; nothing waits on time, only on events.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { MediatorConfig } from '../../src/config';
import { type Event, IdentityEvent_Kind as Kind, IdentityEvent_Source as Source, type Task, type TaskList } from '../../src/gen/lig/v1/ingest';
import type { Lemf } from '../../src/lemf';
import type { Mediator } from '../../src/mediation/mediator';
import type { ProbeClient } from '../../src/probe/client';
import { identityAt, identityEvent, type ReadRecord, sessionPacket } from '../mediation-fixtures';
import { type Setup, chainHarness, config, lemfHolds, oracleAccepts, stored, taggedPacket, tasksWhen } from './mediator-helpers';

const ALICE = 'LIID-SESS-ALICE';
const MAC = 'LIID-SESS-MAC';
const IP = 'LIID-SESS-IP';
const T0 = 1_700_000_000_000_000n;
const S1 = 'radius:192.0.2.1/a1';
const S2 = 'radius:192.0.2.1/a2';
const D1 = 'dhcp:02:00:00:00:00:09/10.6.0.40';
const TARGET_MAC = Buffer.from('020000000009', 'hex');

/** The mediator config of mediator-helpers, with username, MAC and IP intercepts. */
function sessionConfig(s: Setup, lemf: Lemf, dataDir: string, port = 0): MediatorConfig {
  return config(s, lemf, { dataDir, port, intercepts: `
  - { liid: ${ALICE}, agency: lea-1, type: content, targets: [{ username: alice }] }
  - { liid: ${MAC}, agency: lea-1, type: iri-only, targets: [{ mac: "02:00:00:00:00:09" }] }
  - { liid: ${IP}, agency: lea-1, type: content, targets: [{ ip: 192.0.2.50 }] }` });
}

const taskWith = (list: TaskList, kind: 'username' | 'mac' | 'ip'): bigint => list.tasks.find((t: Task) => t.targets[0]?.kind?.$case === kind)!.taskId;

const radius = (task: bigint, kind: Kind, key: string, t: bigint, over: Parameters<typeof identityEvent>[0] = {}): Event =>
  identityAt(t, identityEvent({ taskIds: [task], kind, sessionKey: key, username: 'alice', nasIp: Buffer.from([192, 0, 2, 1]), nasIdentifier: 'hotspot-1', ...over }));
const pkt = (tag: string, task: bigint, key: string, t: bigint): Event => sessionPacket(taggedPacket(tag), [[task, 1, key]], t);
const tagOf = (r: ReadRecord) => Buffer.from(r.data!).subarray(28).toString();

/** The records of `liid` the LEMF stored on `hi`, in arrival order, each (CIN, sequence number) once (delivery resends after a restart). */
function storedOnce(out: string, liid: string, hi: 'hi2' | 'hi3' = 'hi2'): ReadRecord[] {
  const seen = new Set<string>();
  return stored(out, hi).filter((r) => {
    const k = `${r.cin}/${r.seq}`;
    if (r.liid !== liid || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Asserts each CIN's records of `recs` are numbered 0..n-1 in arrival order. */
function numberedPerCin(recs: ReadRecord[]): void {
  const next = new Map<number | undefined, number>();
  for (const r of recs) {
    const n = next.get(r.cin) ?? 0;
    assert.equal(r.seq, n, `CIN ${r.cin}: sequence ${n} expected, got ${r.seq}`);
    next.set(r.cin, n + 1);
  }
}

describe('mediation: access sessions end to end (probe over gRPC, mediator, TLS, reference LEMF)', function () {
  const chain = chainHarness('lig-mediation-sessions-');
  const { logs } = chain;
  const sessionMediator = (lemf: Lemf, dataDir: string, port = 0): Promise<Mediator> => chain.mediator(sessionConfig(chain.s, lemf, dataDir, port));
  const openProbe = (name: string, port: number, spool: string): Promise<ProbeClient> => chain.probe(port, { name, spoolDir: path.join(chain.s.tmp, spool) });

  it('two sessions and a DHCP lease: BEGIN/CONTINUE/END per session CIN, CC in it, nothing after the end; hand-back; warrant removed mid-session', async function () {
    const { s } = chain;
    const out = path.join(s.tmp, 'out-1');
    const lemf = await chain.lemf(out);
    const m = await sessionMediator(lemf, path.join(s.tmp, 'data-1'));
    const p = await openProbe('probe-1', m.ingestAddress!.port, 'spool-1');
    const tasks = await tasksWhen(p, () => true);
    const [alice, mac, ip] = [taskWith(tasks, 'username'), taskWith(tasks, 'mac'), taskWith(tasks, 'ip')];
    const events: Event[] = [
      radius(alice, Kind.KIND_SESSION_START, S1, T0, { ipv4: Buffer.from([10, 0, 0, 23]), mac: TARGET_MAC }),
      pkt('s1 a', alice, S1, T0 + 1_000n),
      pkt('ip', ip, '', T0 + 2_000n),
      pkt('s1 b', alice, S1, T0 + 3_000n),
      radius(alice, Kind.KIND_SESSION_INTERIM, S1, T0 + 60_000_000n, { octetsIn: 1200n, octetsOut: 90_000n }),
      radius(alice, Kind.KIND_SESSION_STOP, S1, T0 + 120_000_000n, { octetsIn: 1500n, octetsOut: 99_000n, terminateCause: 1 }),
      pkt('s1 after its end', alice, S1, T0 + 121_000_000n),
      radius(alice, Kind.KIND_SESSION_START, S2, T0 + 200_000_000n, { ipv4: Buffer.from([10, 0, 0, 99]) }),
      pkt('s2 a', alice, S2, T0 + 201_000_000n),
      identityAt(T0 + 210_000_000n, identityEvent({ taskIds: [mac], kind: Kind.KIND_LEASE_BIND, sessionKey: D1, mac: TARGET_MAC, ipv4: Buffer.from([10, 6, 0, 40]), source: Source.SOURCE_DHCP, leaseSeconds: 600 })),
      pkt('dhcp', mac, D1, T0 + 211_000_000n),
    ];
    for (const e of events) assert.ok(p.submit(e));
    await p.drained();
    // The probe is handed back the two open sessions (S2 and the lease), not S1.
    const back = await tasksWhen(p, (l) => l.sessions.length === 2);
    assert.deepEqual(back.sessions.map((x) => [x.taskId, x.sessionKey, [...x.ipv4].join('.')]).sort(), [[alice, S2, '10.0.0.99'], [mac, D1, '10.6.0.40']].sort());
    // The warrant on alice ends while S2 is open.
    await m.handler.setIntercepts(m.config.intercepts.filter((i) => i.liid !== ALICE));
    await tasksWhen(p, (l) => l.tasks.length === 2 && l.sessions.length === 1);
    await lemfHolds(lemf, { [ALICE]: { iri: 5, cc: 3 }, [MAC]: { iri: 2 }, [IP]: { cc: 1 } });
    const status = m.status().counters;
    await chain.stop();

    const iri = storedOnce(out, ALICE);
    numberedPerCin(iri);
    const [s1, s2] = [iri[0]!.cin!, iri[3]!.cin!];
    assert.notEqual(s1, s2);
    assert.deepEqual(
      iri.map((r) => [r.iriType, r.access!.accessEventType, r.cin]),
      [
        ['iRI-Begin', 'accessAccept', s1],
        ['iRI-Continue', 'interimUpdate', s1],
        ['iRI-End', 'accessEnd', s1],
        ['iRI-Begin', 'accessAccept', s2],
        ['iRI-End', 'endOfInterceptionWithSessionActive', s2],
      ],
    );
    const [begin, cont, end] = iri;
    assert.deepEqual([...begin!.access!.targetIPAddress['iP-value'].iPBinaryAddress], [10, 0, 0, 23]);
    assert.equal(begin!.access!.targetNetworkID, '02:00:00:00:00:09');
    assert.equal(Buffer.from(begin!.access!.targetUsername).toString(), 'alice');
    assert.deepEqual([begin!.access!.authenticationType, begin!.access!.internetAccessType, begin!.access!.startTime], ['radiusAAA', 'wirelessLAN', '20231114221320Z']);
    assert.deepEqual([cont!.access!.octetsTransmitted, cont!.access!.octetsReceived], [1200, 90_000]);
    assert.deepEqual([end!.access!.endTime, end!.access!.endReason, end!.access!.octetsTransmitted], ['20231114221520Z', 'regularLogoff', 1500]);
    assert.deepEqual([...iri[3]!.access!.targetIPAddress['iP-value'].iPBinaryAddress], [10, 0, 0, 99]);

    const cc = stored(out, 'hi3');
    assert.deepEqual(storedOnce(out, ALICE, 'hi3').map((r) => [tagOf(r), r.cin, r.seq]), [['s1 a', s1, 0], ['s1 b', s1, 1], ['s2 a', s2, 0]]);
    assert.deepEqual(storedOnce(out, IP, 'hi3').map(tagOf), ['ip']);
    assert.ok(!cc.some((r) => tagOf(r) === 's1 after its end'), 'the packet after the end reached nobody');
    assert.equal(status.afterSessionEnd, 1);

    const dhcp = storedOnce(out, MAC);
    assert.deepEqual(dhcp.map((r) => [r.iriType, r.access?.accessEventType ?? 'report', r.cin, r.seq]), [['iRI-Begin', 'accessAccept', dhcp[0]!.cin, 0], ['iRI-Report', 'report', dhcp[0]!.cin, 1]]);
    assert.deepEqual([Buffer.from(dhcp[0]!.access!.targetUsername).toString(), dhcp[0]!.access!.authenticationType, dhcp[0]!.access!.expectedEndTime], ['02:00:00:00:00:09', 'dhcpAAA', '20231114222650Z']);

    await oracleAccepts(this, out);
    const text = logs.join('\n');
    assert.ok(!text.includes('LIID-SESS') && !text.includes('alice'), 'no LIID or target in the logs');
  });

  it('a mediator restart mid-session keeps the session and its CIN; a new probe is handed the session back; a warrant activated mid-session gets session-active', async function () {
    const { s } = chain;
    const out = path.join(s.tmp, 'out-2');
    const dataDir = path.join(s.tmp, 'data-2');
    const lemf = await chain.lemf(out);
    let m = await sessionMediator(lemf, dataDir);
    const port = m.ingestAddress!.port;
    const p = await openProbe('probe-1', port, 'spool-2');
    const tasks = await tasksWhen(p, () => true);
    const alice = taskWith(tasks, 'username');
    p.submit(radius(alice, Kind.KIND_SESSION_START, S1, T0, { ipv4: Buffer.from([10, 0, 0, 23]) }));
    p.submit(pkt('before restart', alice, S1, T0 + 1n));
    await p.drained();
    await m.close();
    m = await sessionMediator(lemf, dataDir, port);
    // another probe, started now (or restarted), learns the open session from its task list
    const p2 = await openProbe('probe-2', port, 'spool-3');
    const back = await tasksWhen(p2, (l) => l.sessions.length === 1);
    assert.deepEqual([back.sessions[0]!.sessionKey, [...back.sessions[0]!.ipv4].join('.')], [S1, '10.0.0.23']);
    p.submit(pkt('after restart', alice, S1, T0 + 2n));
    p.submit(radius(alice, Kind.KIND_SESSION_INTERIM, S1, T0 + 60_000_000n, { octetsIn: 10n }));
    p.submit(radius(alice, Kind.KIND_SESSION_STOP, S1, T0 + 120_000_000n, { terminateCause: 2 }));
    // a session the mediator never saw start, reported by probe-2 as already under way
    p2.submit(radius(alice, Kind.KIND_SESSION_ACTIVE, S2, T0 + 130_000_000n, { ipv4: Buffer.from([10, 0, 0, 77]), sessionStartUs: T0 + 100_000_000n }));
    await p.drained();
    await p2.drained();
    await lemfHolds(lemf, { [ALICE]: { iri: 4, cc: 2 } });
    await chain.stop();

    const iri = storedOnce(out, ALICE);
    numberedPerCin(iri);
    const cin = iri[0]!.cin;
    assert.deepEqual(iri.map((r) => [r.access!.accessEventType, r.cin === cin]), [
      ['accessAccept', true],
      ['interimUpdate', true],
      ['accessEnd', true],
      ['startOfInterceptionWithSessionActive', false],
    ]);
    assert.equal(iri[2]!.access!.endReason, 'connectionLoss');
    assert.equal(iri[3]!.access!.startTime, '20231114221500Z');
    assert.deepEqual(storedOnce(out, ALICE, 'hi3').map((r) => [tagOf(r), r.cin, r.seq]), [['before restart', cin, 0], ['after restart', cin, 1]]);
    await oracleAccepts(this, out);
  });
});
