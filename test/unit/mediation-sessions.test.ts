/**
 * Access sessions in the mediator core, on real journals and a real data dir (no network):
 * each session its own CIN, IRI-BEGIN/CONTINUE/END numbered in it, the session's packets in
 * it; what happens to duplicates, late events, packets after the end and sessions never seen;
 * intercepts removed mid-session; the hand-back of open sessions to probes; and durability:
 * a restart keeps sessions and CINs, and a batch resent after a crash (before or after its
 * records reached the journals) neither loses its IRI-BEGIN nor makes a second one.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isLigError } from '../../src/errors';
import { type Event, IdentityEvent_Kind as Kind } from '../../src/gen/lig/v1/ingest';
import { SESSIONS_FILE, SessionTable } from '../../src/mediation/sessions';
import { type ReadRecord, TestCore, batchOf, identityAt, identityEvent, intercept, ipv4, sessionPacket, userIntercept } from '../mediation-fixtures';

const T0 = 1_700_000_000_000_000n;
const S1 = 'radius:192.0.2.1/0001';
const S2 = 'radius:192.0.2.1/0002';
const INTERCEPTS = [userIntercept('LIID-USER', 'content'), userIntercept('LIID-USER-IRI', 'iri-only'), intercept('LIID-IP', 'content')];

/** Identity events of session `key` for the given tasks. */
const ev = (tasks: bigint[], kind: Kind, key: string, t: bigint, over: Parameters<typeof identityEvent>[0] = {}): Event =>
  identityAt(t, identityEvent({ taskIds: tasks, kind, sessionKey: key, username: 'alice', ipv4: Buffer.from([10, 0, 0, 23]), nasIp: Buffer.from([192, 0, 2, 1]), ...over }));
const pkt = (tag: string, tasks: bigint[], key: string, t: bigint): Event => sessionPacket(ipv4('udp', Buffer.from(tag)).bytes, tasks.map((id) => [id, 1, key]), t);
const tagOf = (r: ReadRecord) => Buffer.from(r.data!).subarray(28).toString();
const events = (recs: ReadRecord[]) => recs.filter((r) => r.access).map((r) => [r.access!.accessEventType as string, r.cin, r.seq]);

describe('mediation: access sessions', () => {
  let dir: string;
  let core: TestCore | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-sessions-'));
  });
  afterEach(async () => {
    await core?.close();
    core = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const open = async (intercepts = INTERCEPTS, o: Parameters<typeof TestCore.open>[2] = {}) => (core = await TestCore.open(dir, intercepts, o));

  it('a session: its own CIN for BEGIN, CONTINUE, END and its packets; an IP target keeps the intercept CIN', async () => {
    const c = await open();
    const u = c.task('LIID-USER');
    const ip = c.task('LIID-IP');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0), pkt('a', [u], S1, T0 + 1n), pkt('ip', [ip], '', T0 + 2n)]), 's');
    await c.handler.accept('p1', batchOf(2n, [pkt('b', [u], S1, T0 + 3n), ev([u], Kind.KIND_SESSION_INTERIM, S1, T0 + 4n, { octetsIn: 10n }), ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 5n, { terminateCause: 1 })]), 's');
    const own = c.cins.get('lea-1', 'LIID-USER')!;
    const iri = await c.records('hi2');
    const session = iri[0]!.cin!;
    assert.notEqual(session, own);
    assert.deepEqual(events(iri), [['accessAccept', session, 0], ['interimUpdate', session, 1], ['accessEnd', session, 2]]);
    assert.deepEqual(iri.map((r) => r.iriType), ['iRI-Begin', 'iRI-Continue', 'iRI-End']);
    assert.deepEqual([iri[2]!.access!.endReason, iri[2]!.access!.octetsTransmitted], ['regularLogoff', 10]);
    assert.deepEqual([iri[1]!.seconds, iri[1]!.micros], [1_700_000_000, 4], 'the record time is the event capture time');
    const cc = await c.records('hi3');
    assert.deepEqual(cc.map((r) => [tagOf(r), r.liid, r.cin, r.seq]), [['a', 'LIID-USER', session, 0], ['ip', 'LIID-IP', c.cins.get('lea-1', 'LIID-IP'), 0], ['b', 'LIID-USER', session, 1]]);
    assert.deepEqual([c.handler.counters.sessionsBegun, c.handler.counters.sessionsContinued, c.handler.counters.sessionsEnded, c.handler.counters.openSessions], [1, 1, 1, 0]);
  });

  it('an IRI-only task gets the same IRI, and its packet reports carry the session CIN', async () => {
    const c = await open();
    const u = c.task('LIID-USER-IRI');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0), pkt('a', [u], S1, T0 + 1n), ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 2n)]), 's');
    const recs = await c.records('hi2');
    const cin = recs[0]!.cin;
    assert.deepEqual(recs.map((r) => [r.iriType, r.access?.accessEventType ?? 'report', r.cin, r.seq]), [
      ['iRI-Begin', 'accessAccept', cin, 0],
      ['iRI-Report', 'report', cin, 1],
      ['iRI-End', 'accessEnd', cin, 2],
    ]);
    assert.equal((await c.records('hi3')).length, 0);
  });

  it('a session key seen again after its stop is a new session with a new CIN; packets go to the session of their time', async () => {
    const c = await open();
    const u = c.task('LIID-USER');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0), ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 10n), ev([u], Kind.KIND_SESSION_START, S1, T0 + 20n)]), 's');
    // a second probe's packets, late: one of the first session, one between the two, one of the second
    await c.handler.accept('p2', batchOf(1n, [pkt('first', [u], S1, T0 + 5n), pkt('between', [u], S1, T0 + 15n), pkt('second', [u], S1, T0 + 25n)]), 's');
    const iri = await c.records('hi2');
    const [first, second] = [iri[0]!.cin!, iri[2]!.cin!];
    assert.notEqual(first, second);
    assert.deepEqual(events(iri), [['accessAccept', first, 0], ['accessEnd', first, 1], ['accessAccept', second, 0]]);
    const cc = await c.records('hi3');
    assert.deepEqual(cc.map((r) => [tagOf(r), r.cin]), [['first', first], ['between', second], ['second', second]], 'a new session is open: the packet is its');
  });

  it('a packet captured after its session ended is dropped and counted; a session never seen uses the intercept CIN, counted', async () => {
    const c = await open();
    const u = c.task('LIID-USER');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0), ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 10n)]), 's');
    await c.handler.accept('p2', batchOf(1n, [pkt('in', [u], S1, T0 + 10n), pkt('after', [u], S1, T0 + 11n), pkt('unknown', [u], S2, T0 + 12n)]), 's');
    const cc = await c.records('hi3');
    assert.deepEqual(cc.map((r) => [tagOf(r), r.cin]), [['in', (await c.records('hi2'))[0]!.cin], ['unknown', c.cins.get('lea-1', 'LIID-USER')]]);
    assert.equal(c.handler.counters.afterSessionEnd, 1);
    assert.equal(c.handler.counters.unknownSessions, 1);
  });

  it('duplicates (two probes see the same accounting) make one record; events after the end are late', async () => {
    const c = await open();
    const u = c.task('LIID-USER');
    const start = ev([u], Kind.KIND_SESSION_START, S1, T0);
    const interim = ev([u], Kind.KIND_SESSION_INTERIM, S1, T0 + 60_000_000n, { octetsIn: 5n });
    const stop = ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 120_000_000n);
    await c.handler.accept('p1', batchOf(1n, [start, interim]), 's');
    await c.handler.accept('p2', batchOf(1n, [{ ...start, timeUs: T0 + 1000n }, { ...interim, timeUs: interim.timeUs + 1000n }, stop]), 's');
    await c.handler.accept('p1', batchOf(2n, [{ ...stop, timeUs: stop.timeUs + 500n }, ev([u], Kind.KIND_SESSION_INTERIM, S1, T0 + 100_000_000n, { octetsIn: 9n })]), 's');
    assert.deepEqual(events(await c.records('hi2')).map((e) => e[0]), ['accessAccept', 'interimUpdate', 'accessEnd']);
    assert.equal(c.handler.counters.duplicateIdentity, 3);
    assert.equal(c.handler.counters.lateIdentity, 1);
  });

  it('a session already under way: SESSION_ACTIVE, or an interim of a session never seen, gives startOfInterceptionWithSessionActive', async () => {
    const c = await open();
    const u = c.task('LIID-USER');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_ACTIVE, S1, T0, { sessionStartUs: T0 - 3_600_000_000n }), ev([u], Kind.KIND_SESSION_INTERIM, S2, T0 + 1n, { octetsIn: 7n })]), 's');
    const iri = await c.records('hi2');
    assert.deepEqual(iri.map((r) => [r.iriType, r.access!.accessEventType]), [['iRI-Begin', 'startOfInterceptionWithSessionActive'], ['iRI-Begin', 'startOfInterceptionWithSessionActive']]);
    assert.notEqual(iri[0]!.cin, iri[1]!.cin);
    assert.equal(iri[0]!.access!.startTime, '20231114211320Z', 'the session start the probe knew');
    assert.equal(c.handler.counters.sessionsActive, 2);
  });

  it('the stop of a session never seen still gives its IRI (BEGIN session-active, END); its packets before the stop carry its CIN', async () => {
    const c = await open();
    const u = c.task('LIID-USER');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 10n, { octetsIn: 3n, terminateCause: 4 })]), 's');
    await c.handler.accept('p2', batchOf(1n, [pkt('before', [u], S1, T0 + 9n), pkt('after', [u], S1, T0 + 11n)]), 's');
    const iri = await c.records('hi2');
    const cin = iri[0]!.cin;
    assert.deepEqual(events(iri), [['startOfInterceptionWithSessionActive', cin, 0], ['accessEnd', cin, 1]]);
    assert.deepEqual([iri[1]!.access!.endReason, iri[1]!.access!.octetsTransmitted], ['connectionTimeout', 3]);
    assert.deepEqual((await c.records('hi3')).map((r) => [tagOf(r), r.cin]), [['before', cin]]);
    assert.deepEqual([c.handler.counters.sessionsActive, c.handler.counters.sessionsEnded, c.handler.counters.afterSessionEnd, c.handler.counters.openSessions], [1, 1, 1, 0]);
  });

  it('one event for two intercepts (two agencies\' warrants on one user): a session and a CIN for each', async () => {
    const c = await open();
    const [a, b] = [c.task('LIID-USER'), c.task('LIID-USER-IRI')];
    await c.handler.accept('p1', batchOf(1n, [ev([a, b, a], Kind.KIND_SESSION_START, S1, T0), pkt('x', [a, b], S1, T0 + 1n)]), 's');
    const iri = await c.records('hi2');
    assert.deepEqual(iri.map((r) => [r.liid, r.iriType]), [['LIID-USER', 'iRI-Begin'], ['LIID-USER-IRI', 'iRI-Begin'], ['LIID-USER-IRI', 'iRI-Report']]);
    assert.equal(iri[1]!.cin, iri[2]!.cin);
    assert.equal((await c.records('hi3'))[0]!.cin, iri[0]!.cin);
  });

  it('task lists hand the open sessions back; the probes watching the intercept are told when they change', async () => {
    const c = await open([userIntercept('LIID-USER', 'content', 'alice', 'lea-1', ['p1', 'p2']), intercept('LIID-IP', 'content', 'lea-1', ['p3'])]);
    const told: string[] = [];
    c.handler.onTasksChanged((p) => told.push(p));
    for (const p of ['p1', 'p2', 'p3']) assert.deepEqual(c.handler.tasksFor(p).sessions, []);
    const u = c.task('LIID-USER');
    const v1 = c.handler.tasksFor('p1').version;
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0, { mac: Buffer.from('aabbccddeeff', 'hex') })]), 's');
    assert.deepEqual(told.sort(), ['p1', 'p2']);
    const list = c.handler.tasksFor('p2');
    assert.ok(list.version > v1);
    assert.deepEqual(list.sessions, [
      { taskId: u, sessionKey: S1, ipv4: Buffer.from([10, 0, 0, 23]), ipv6Prefix: Buffer.alloc(0), ipv6PrefixLength: 0, username: 'alice', mac: Buffer.from('aabbccddeeff', 'hex'), source: 1 },
    ]);
    assert.deepEqual(c.handler.tasksFor('p3').sessions, []);
    told.length = 0;
    await c.handler.accept('p1', batchOf(2n, [ev([u], Kind.KIND_SESSION_INTERIM, S1, T0 + 60_000_000n, { octetsIn: 1n })]), 's');
    assert.deepEqual(told, [], 'an interim that moves no address changes nothing handed back');
    await c.handler.accept('p1', batchOf(3n, [ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 90_000_000n)]), 's');
    assert.deepEqual(told.sort(), ['p1', 'p2']);
    assert.deepEqual(c.handler.tasksFor('p1').sessions, []);
  });

  it('an intercept removed mid-session: IRI-END endOfInterceptionWithSessionActive for each open session, then forgotten', async () => {
    const c = await open(INTERCEPTS, { now: () => new Date(1_700_000_100_000) });
    const u = c.task('LIID-USER');
    const told: string[] = [];
    c.handler.onTasksChanged((p) => told.push(p));
    c.handler.tasksFor('p1');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0), ev([u], Kind.KIND_SESSION_START, S2, T0 + 1n), ev([u], Kind.KIND_SESSION_STOP, S2, T0 + 2n)]), 's');
    await c.handler.accept('p1', batchOf(2n, [ev([u], Kind.KIND_SESSION_INTERIM, S1, T0 + 60_000_000n, { octetsIn: 42n })]), 's');
    told.length = 0;
    await c.handler.setIntercepts(INTERCEPTS.filter((i) => i.liid !== 'LIID-USER'));
    assert.deepEqual(told, ['p1']);
    const iri = (await c.records('hi2')).filter((r) => r.liid === 'LIID-USER');
    const s1 = iri[0]!.cin;
    assert.deepEqual(events(iri), [['accessAccept', s1, 0], ['accessAccept', iri[1]!.cin, 0], ['accessEnd', iri[1]!.cin, 1], ['interimUpdate', s1, 1], ['endOfInterceptionWithSessionActive', s1, 2]]);
    const end = iri[4]!;
    assert.deepEqual([end.iriType, end.seconds, end.access!.octetsTransmitted, end.access!.endTime], ['iRI-End', 1_700_000_100, 42, undefined]);
    assert.equal(c.handler.counters.interceptionEnds, 1);
    assert.equal(c.handler.counters.openSessions, 0);
    // the warrant comes back: nothing is open any more; a later packet of the old session is dropped as unknown task first, then as unknown session
    await c.handler.setIntercepts(INTERCEPTS);
    assert.deepEqual(c.handler.tasksFor('p1').sessions, []);
    await c.handler.accept('p1', batchOf(3n, [pkt('late', [u], S1, T0 + 70_000_000n)]), 's');
    assert.equal((await c.records('hi3')).at(-1)!.cin, c.cins.get('lea-1', 'LIID-USER'));
    assert.equal((await c.records('hi2')).filter((r) => r.access?.accessEventType === 'endOfInterceptionWithSessionActive').length, 1);
  });

  it('a batch that opens a session and the next batch of its packets: the packets wait for the CIN to be durable, in order', async () => {
    const c = await open();
    const u = c.task('LIID-USER');
    const a = c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0), pkt('a', [u], S1, T0 + 1n)]), 's');
    const b = c.handler.accept('p2', batchOf(1n, [pkt('b', [u], S1, T0 + 2n)]), 's');
    const d = c.handler.accept('p2', batchOf(2n, [pkt('c', [u], S1, T0 + 3n)]), 's');
    await Promise.all([a, b, d]);
    const cc = await c.records('hi3');
    assert.deepEqual(cc.map((r) => [tagOf(r), r.seq]), [['a', 0], ['b', 1], ['c', 2]]);
    assert.ok(cc.every((r) => r.cin === cc[0]!.cin));
  });

  it('a restart keeps the sessions and their CINs; CINs are never given again', async () => {
    let c = await open();
    const u = c.task('LIID-USER');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0)]), 's');
    const cin = (await c.records('hi2'))[0]!.cin;
    await c.close();
    c = await open();
    assert.equal(c.handler.counters.openSessions, 1);
    assert.equal(c.handler.tasksFor('p1').sessions[0]!.sessionKey, S1);
    await c.handler.accept('p1', batchOf(2n, [pkt('after restart', [u], S1, T0 + 1n), ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 2n), ev([u], Kind.KIND_SESSION_START, S2, T0 + 3n)]), 's');
    const iri = await c.records('hi2');
    assert.deepEqual(events(iri).slice(0, 2), [['accessAccept', cin, 0], ['accessEnd', cin, 1]]);
    assert.ok(iri[2]!.cin! > cin!, 'a new session after the restart gets a new CIN');
    assert.equal((await c.records('hi3'))[0]!.cin, cin);
  });

  it('a crash after the session table was saved but before the journals: the resent batch makes its BEGIN once, with the same CIN', async () => {
    let c = await open();
    const u = c.task('LIID-USER');
    const ip = c.task('LIID-IP');
    await c.handler.accept('p1', batchOf(1n, [pkt('before', [ip], '', T0)]), 's');
    await c.close();
    const saved = path.join(dir, 'saved');
    for (const hi of ['hi2', 'hi3']) fs.cpSync(path.join(dir, hi), path.join(saved, hi), { recursive: true });
    c = await open();
    const batch2 = batchOf(2n, [ev([u], Kind.KIND_SESSION_START, S1, T0 + 1n), pkt('in session', [u], S1, T0 + 2n)]);
    await c.handler.accept('p1', batch2, 's');
    const cin = (await c.records('hi2'))[0]!.cin;
    await c.close();
    // the journals lose batch 2 (as if the crash came before their appends); sessions.json and cins.json keep it
    for (const hi of ['hi2', 'hi3']) {
      fs.rmSync(path.join(dir, hi), { recursive: true });
      fs.cpSync(path.join(saved, hi), path.join(dir, hi), { recursive: true });
    }
    c = await open();
    assert.equal((await c.records('hi2')).length, 0);
    await c.handler.accept('p1', batch2, 's'); // the probe resends
    await c.handler.accept('p1', batch2, 's'); // and again (a resend of what is now durable)
    const iri = await c.records('hi2');
    assert.deepEqual(events(iri), [['accessAccept', cin, 0]]);
    assert.deepEqual((await c.records('hi3')).map((r) => [tagOf(r), r.cin]), [['before', c.cins.get('lea-1', 'LIID-IP')], ['in session', cin]]);
    assert.equal(c.handler.counters.replayedBatches, 1, 'once durable, the second resend needs no replay');
    assert.equal(c.handler.counters.duplicateIdentity, 0);
  });

  it('a resend of a batch already journaled, after a restart, makes nothing twice and changes no session', async () => {
    let c = await open();
    const u = c.task('LIID-USER');
    const b1 = batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0)]);
    const b2 = batchOf(2n, [ev([u], Kind.KIND_SESSION_STOP, S1, T0 + 5n)]);
    await c.handler.accept('p1', b1, 's');
    await c.handler.accept('p1', b2, 's');
    await c.close();
    c = await open();
    await c.handler.accept('p1', b1, 's'); // the acks were lost: the probe resends both
    await c.handler.accept('p1', b2, 's');
    assert.deepEqual(events(await c.records('hi2')).map((e) => e[0]), ['accessAccept', 'accessEnd']);
    assert.equal(c.handler.counters.openSessions, 0, 'the resent start did not reopen the session');
  });

  it('an end decided but maybe not journaled before a crash is journaled at start, once', async () => {
    let c = await open(INTERCEPTS, { now: () => new Date(1_700_000_100_000) });
    const u = c.task('LIID-USER');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, S1, T0)]), 's');
    const before = JSON.parse(fs.readFileSync(path.join(dir, SESSIONS_FILE), 'utf8'));
    await c.handler.setIntercepts(INTERCEPTS.filter((i) => i.liid !== 'LIID-USER'));
    await c.close();
    // The file as a crash between the END's append and the table's last save leaves it: the end still pending.
    const open1 = before.intercepts.find((i: { liid: string }) => i.liid === 'LIID-USER').open[0];
    const after = JSON.parse(fs.readFileSync(path.join(dir, SESSIONS_FILE), 'utf8'));
    assert.deepEqual([after.pendingEnds, after.nextEndId], [[], '2']);
    after.pendingEnds = [{ id: '1', agency: 'lea-1', liid: 'LIID-USER', cin: open1.cin, step: 'endOfInterception', facts: open1.facts, atUs: '1700000100000000', cause: 0 }];
    fs.writeFileSync(path.join(dir, SESSIONS_FILE), JSON.stringify(after));
    c = await open(INTERCEPTS.filter((i) => i.liid !== 'LIID-USER'));
    const ends = (await c.records('hi2')).filter((r) => r.access?.accessEventType === 'endOfInterceptionWithSessionActive');
    assert.equal(ends.length, 1);
    assert.equal(c.channels.hi2.counters.duplicateBatches, 1);
    assert.deepEqual((await SessionTable.open(dir)).pendingEnds(), []);
  });

  it('bad identity events are counted and dropped; a damaged sessions.json is refused with MEDIATION_STATE', async () => {
    let c = await open();
    const u = c.task('LIID-USER');
    await c.handler.accept('p1', batchOf(1n, [ev([u], Kind.KIND_SESSION_START, '', T0), ev([u], Kind.KIND_UNSPECIFIED, S1, T0), ev([999n], Kind.KIND_SESSION_START, S1, T0)]), 's');
    assert.equal(c.handler.counters.badIdentityEvents, 2);
    assert.equal(c.handler.counters.unknownTasks, 1);
    assert.equal((await c.records('hi2')).length, 0);
    await c.close();
    core = undefined;
    fs.writeFileSync(path.join(dir, SESSIONS_FILE), '{"version":1,"nextEndId":"x"}');
    await assert.rejects(SessionTable.open(dir), (e) => isLigError(e) && e.code === 'LIG_ERR_MEDIATION_STATE');
    fs.writeFileSync(path.join(dir, SESSIONS_FILE), '{"version":1');
    await assert.rejects(SessionTable.open(dir), (e) => isLigError(e) && e.code === 'LIG_ERR_MEDIATION_STATE');
  });
});
