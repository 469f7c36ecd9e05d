/**
 * Issue 5's must-show, second part: a warrant activated while its target is already online
 * gives IRI-BEGIN startOfInterceptionWithSessionActive, and one stopped while she is still
 * online gives IRI-END endOfInterceptionWithSessionActive, both in the session's CIN, with
 * her CC in between carried by that CIN.
 *
 * Real parts on 127.0.0.1 with certificates made at test time: a mediator with its admin API
 * (in this process), the reference LEMF (in this process, to see each PDU arrive), `lig
 * probe` as a process on a TZSP source, and the warrant's life through `lig warrant add,
 * activate, stop` as processes. The test feeds the probe, step by step, frames of the scapy
 * capture (test/fixtures/identity_capture.py) as TZSP datagrams: alice's DHCP and RADIUS
 * Start before any warrant, her packets and bob's, her Interim-Update, her Stop after the
 * warrant ended.
 *
 * Every wait is on an event: a line of the probe's log (the task list it took), a packet of
 * a static intercept sent after the frames of a step reaching the LEMF (the probe and the
 * mediator have handled everything before it), then the mediator's backlog towards the LEMF
 * being empty (the LEMF confirmed every record). Nothing is timed.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeTzsp } from '../../src/capture/tzsp';
import { parseMediatorConfig } from '../../src/config';
import type { Lemf } from '../../src/lemf';
import { Mediator } from '../../src/mediation/mediator';
import { type CaptureFrame, type IdentityCapture, buildIdentityCapture, generalizedUs, interceptRecords, ipHex, ipOf, numberedPerCin, oracleAgrees, readLemfLines, sorted } from '../helpers/identity-e2e';
import { type LigProcess, lig, lineMatching, stop } from '../helpers/lig-process';
import { requireScapy } from '../helpers/scapy';
import { type Ran, adminConfigYaml, run } from './admin-helpers';
import { LIID_CC, type Setup, setup, startLemf, stored, taggedPacket } from './mediator-helpers';
import { sendDatagrams } from './probe-helpers';

const LIID = 'LIID-MID-SESSION';
const hex = (s: string) => Buffer.from(s).toString('hex');

/** An Ethernet frame around `ip` (the static intercepts' sentinels). */
const ether = (ip: Buffer): Buffer => Buffer.concat([Buffer.from('020000000002' + '020000000001' + '0800', 'hex'), ip]);

describe('identity: a warrant activated and stopped while its target is online (lig probe on TZSP, lig warrant)', function () {
  let s: Setup;
  let cap: IdentityCapture;
  let out: string;
  let lemf: Lemf;
  let mediator: Mediator;
  let probe: LigProcess;
  let tzspPort: number;
  let adminFlags: string[];
  let sentinels = 0;
  const logs: string[] = [];

  before(async function () {
    requireScapy(this);
    s = await setup('lig-identity-mid-');
    cap = buildIdentityCapture(path.join(s.tmp, 'capture'));
    out = path.join(s.tmp, 'lemf');
    lemf = await startLemf(s, out);
    mediator = await Mediator.start(parseMediatorConfig(adminConfigYaml(s, lemf, path.join(s.tmp, 'data')), 'mid-session.yaml'), {
      deliveryTuning: { backoffInitialMs: 20, backoffMaxMs: 200 },
      log: (l, m) => logs.push(`${l}: ${m}`),
    });
    const a = mediator.adminAddress!;
    adminFlags = ['--admin', `${a.host}:${a.port}`, '--certs', s.pki.dir, '--servername', 'localhost', '--name', 'admin'];
    const leaf = s.pki.probes['probe-1']!;
    probe = lig([
      'probe', '--mediator', `127.0.0.1:${mediator.ingestAddress!.port}`, '--source', 'tzsp:127.0.0.1:0', '--ca', s.pki.ca, '--cert', leaf.cert,
      '--key', leaf.key, '--servername', 'localhost', '--spool', path.join(s.tmp, 'spool'), '--log-level', 'info',
    ]);
    const m = await lineMatching(probe, /^tzsp listening on 127\.0\.0\.1:(\d+)$/);
    assert.ok(m, `lig probe: ${probe.stderr}`);
    tzspPort = Number(m[1]);
  });
  after(async () => {
    if (probe && !probe.ended) await stop(probe, 'SIGTERM');
    await mediator?.close();
    await lemf?.close().catch(() => undefined);
    if (s) fs.rmSync(s.tmp, { recursive: true, force: true });
  });

  /** Resolves once the probe has logged a task list of `n` tasks after the first `from` characters of its log. */
  async function taskList(from: number, n: number): Promise<void> {
    const re = new RegExp(`task list version \\d+ in force: ${n} task\\(s\\)`);
    while (!re.test(probe.stderr.slice(from))) {
      assert.ok(!probe.ended, `lig probe ended: ${probe.stderr}`);
      await once(probe.events, 'output');
    }
  }

  /**
   * Sends `frames` as TZSP datagrams, then a packet of the static intercept; resolves once
   * that packet has reached the LEMF (so the probe and the mediator have handled every frame
   * before it) and the mediator's backlog towards the LEMF is empty (the LEMF has confirmed
   * every record, IRI included: keep-alives keep PDUs coming until it is).
   */
  async function feed(frames: CaptureFrame[]): Promise<void> {
    const tag = `sentinel ${++sentinels}`;
    await sendDatagrams(tzspPort, [...frames.map((f) => encodeTzsp(f.bytes)), encodeTzsp(ether(taggedPacket(tag)))]);
    const arrived = () => stored(out, 'hi3').some((r) => r.liid === LIID_CC && Buffer.from(r.data!).subarray(28).toString() === tag);
    const drained = () => mediator.status().agencies.every((a) => a.journals.every((j) => j.backlogRecords === 0));
    while (!(arrived() && drained())) await once(lemf, 'pdu');
  }

  const warrant = async (args: string[]): Promise<Ran> => {
    const r = await run(['warrant', ...args, ...adminFlags]);
    assert.equal(r.code, 0, `lig warrant ${args[0]}: ${r.stdout.join('\n')}\n${r.stderr}`);
    return r;
  };

  const frame = (pred: (f: CaptureFrame) => boolean): CaptureFrame => cap.frames.find(pred)!;
  /** Data frames of `owners` captured in [fromS, toS) seconds from the start. */
  const data = (fromS: number, toS: number, ...owners: string[]) => cap.frames.filter((f) => f.kind === 'data' && owners.includes(f.owner!) && f.t_us >= fromS * 1e6 && f.t_us < toS * 1e6);
  const radius = (status: number, user: string) => frame((f) => f.kind === 'radius' && f.status === status && f.user === user);

  it('activated mid-session: IRI-BEGIN startOfInterceptionWithSessionActive; stopped mid-session: IRI-END endOfInterceptionWithSessionActive; her CC in between in that CIN', async function () {
    const n = cap.network;
    const s1 = cap.sessions[0]!;
    // Alice (and bob) get their leases and log in; no warrant names her yet.
    await taskList(0, 2);
    await feed([]);
    const loginFrom = BigInt(Date.now()) * 1000n;
    await feed([
      frame((f) => f.kind === 'dhcp' && f.mac === n.alice), frame((f) => f.kind === 'dhcp' && f.mac === n.bob),
      radius(1, 'alice'), radius(1, 'bob'), ...data(0, 2.5, 'alice-s1', 'bob', 'stray'),
    ]);
    const loginBy = BigInt(Date.now()) * 1000n;

    // The warrant, through the admin API, while she is online.
    const added = JSON.parse((await warrant([
      'add', '--liid', LIID, '--agency', 'lea-1', '--type', 'content', '--target', 'user:alice', '--end', '+1h', '--country', 'DE',
      '--order', 'ORDER-5', '--authority', 'Judge Five', '--officer', 'Officer Five', '--employee', 'Employee Five', '--json',
    ])).stdout.join('\n')) as { id: number };
    let mark = probe.stderr.length;
    const activated = JSON.parse((await warrant(['activate', String(added.id), '--json'])).stdout.join('\n')) as { activatedAt: string };
    await taskList(mark, 3);
    const during = [...data(2.5, 5, 'alice-s1', 'bob'), radius(3, 'alice'), ...data(5, 7, 'alice-s1', 'bob')];
    await feed(during);

    // Stopped while she is still online; what she does afterwards (packets, her Stop) is not delivered.
    mark = probe.stderr.length;
    await warrant(['stop', String(added.id), '--reason', 'order withdrawn']);
    await taskList(mark, 2);
    const stoppedAt = BigInt(Date.now()) * 1000n;
    await feed([...data(7, 11, 'alice-s1', 'bob'), radius(2, 'alice'), ...data(11, 12, 'stray')]);
    await feed([]);

    const lines = readLemfLines(out);
    await oracleAgrees(this, out, lines);
    const { iri, cc } = interceptRecords(lines, LIID);
    numberedPerCin(iri, 'IRI');
    numberedPerCin(cc, 'CC');
    assert.deepEqual(iri.map((r) => [r.iriType, r.c.accessEventType, r.seq]), [
      ['iRI-Begin', 'startOfInterceptionWithSessionActive', 0],
      ['iRI-Continue', 'interimUpdate', 1],
      ['iRI-End', 'endOfInterceptionWithSessionActive', 2],
    ]);
    const cin = iri[0]!.cin;
    assert.ok(iri.every((r) => r.cin === cin), 'one session, one CIN');
    for (const r of iri) {
      const what = r.c.accessEventType;
      assert.deepEqual([r.c.targetUsername, r.c.targetNetworkID, r.c.targetIPAddress['iP-value'].iPBinaryAddress, r.c.pOPIPAddress['iP-value'].iPBinaryAddress, r.c.authenticationType], [hex('alice'), n.alice, ipHex(s1.address), ipHex(n.nas), 'radiusAAA'], what);
      const start = generalizedUs(r.c.startTime);
      assert.ok(start >= loginFrom && start <= loginBy, `${what}: startTime is when the probe saw her Start, before the warrant`);
      assert.equal(r.c.endTime, undefined, `${what}: the session has not ended`);
    }
    const interim = s1.interim[0]!;
    assert.deepEqual([iri[1]!.c.octetsTransmitted, iri[1]!.c.octetsReceived], [interim.octetsIn, interim.octetsOut]);
    const activatedUs = BigInt(Date.parse(activated.activatedAt)) * 1000n;
    assert.ok(iri[0]!.timeUs >= activatedUs, `IRI-BEGIN at ${iri[0]!.timeUs}, not before the warrant was activated (${activatedUs})`);
    assert.ok(iri[2]!.timeUs >= iri[1]!.timeUs && iri[2]!.timeUs <= stoppedAt, 'IRI-END when the warrant was stopped');

    // Her packets sent while the warrant was in force, each once, in the session's CIN; nothing else.
    const hers = during.filter((f) => f.owner === 'alice-s1');
    assert.deepEqual(sorted(cc.map((x) => x.marker!)), sorted(hers.map((f) => f.marker!)));
    assert.ok(cc.every((x) => x.cin === cin), 'her CC carries the session\'s CIN');
    const ipByMarker = new Map(hers.map((f) => [f.marker!, ipOf(f.bytes).toString('hex')]));
    assert.ok(cc.every((x) => x.ip.toString('hex') === ipByMarker.get(x.marker!)), 'byte for byte');

    const text = logs.join('\n') + probe.stderr + probe.stdout.join('\n');
    for (const secret of [LIID, 'alice', n.alice, s1.address]) assert.ok(!text.includes(secret), `no log holds ${secret}`);
  });
});
