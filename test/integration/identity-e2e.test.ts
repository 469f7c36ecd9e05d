/**
 * Issue 5's must-show, run as a user runs lig: `lig certs init`, `lig lemf`, `lig mediator
 * --config` (a content warrant on a username, or on a MAC, delivering over TLS to that LEMF)
 * and `lig probe --source pcap:CAPTURE`, each a real process on 127.0.0.1 with certificates
 * made at test time. The capture (test/fixtures/identity_capture.py, built with scapy): alice
 * logs in, browses, logs off, logs in again at a new address; bob later gets her old address.
 *
 * Everything is read from the LEMF's output directory once the mediator says (`lig agency
 * list`) that the LEMF has confirmed every record: records.jsonl, checked PDU by PDU against
 * the etsi-oracle's decoding of hi2.ber and hi3.ber, and cc/<LIID>.pcap. Every data packet
 * names its owner in its payload, so "exactly alice's packets" is a comparison of markers.
 * Nothing waits on time: only on process output, process exits and the mediator's status.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CcRec, type IdentityCapture, type IriRec, type LemfLine, buildIdentityCapture, captureUs, ccPcap, generalizedUs, interceptRecords, ipHex, ipOf, markerOf, numberedPerCin, oracleAgrees, sorted } from '../helpers/identity-e2e';
import { runAppChain } from '../helpers/app-e2e';
import { type LigProcess, lig, stop } from '../helpers/lig-process';
import { requireScapy } from '../helpers/scapy';

/**
 * RFC 2866 Acct-Terminate-Cause → TS 102 232-3 EndReason: User-Request (1) is the user
 * logging off (regularLogoff); Idle-Timeout (4) is the NAS ending an idle session
 * (connectionTimeout, the timeout class; connectionLoss is for lost carrier or service).
 */
const END_REASON: Record<number, string> = { 1: 'regularLogoff', 4: 'connectionTimeout' };

const hex = (s: string) => Buffer.from(s).toString('hex');

interface Ran {
  out: string;
  lines: LemfLine[];
  /** Everything the four processes printed. */
  printed: string;
}

describe('identity end to end as a user runs it (lig certs, lemf, mediator, probe on the scapy capture)', function () {
  let tmp: string;
  let certs: string;
  let cap: IdentityCapture;
  const procs: LigProcess[] = [];

  const started = (p: LigProcess): LigProcess => (procs.push(p), p);
  const ok = async (p: LigProcess, what: string): Promise<void> => assert.equal(await p.exit, 0, `${what}: ${p.stdout.join('\n')}\n${p.stderr}`);

  before(async function () {
    requireScapy(this);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-identity-e2e-'));
    cap = buildIdentityCapture(path.join(tmp, 'capture'));
    certs = path.join(tmp, 'certs');
    await ok(started(lig(['certs', 'init', '--dir', certs, '--bits', '2048'])), 'lig certs init');
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).filter((p) => !p.ended).map((p) => stop(p, 'SIGKILL')));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  /**
   * Runs the chain with one intercept (LIID `liid`, type content, `target` as YAML) and
   * returns what the LEMF stored, once the mediator's backlog towards it is empty.
   */
  async function runChain(name: string, liid: string, target: string): Promise<Ran> {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    const ran = await runAppChain({ tmp: dir, certs, pcap: cap.pcap, agencies: ['lea-1'], intercepts: [`{ liid: ${liid}, agency: lea-1, type: content, targets: [${target}] }`], procs });
    const count = (kind: string) => cap.frames.filter((f) => f.kind === kind).length;
    assert.match(ran.probeStatus, new RegExp(`^stopped \\(pcap\\): ${cap.frames.length} frames .*, 0 dropped, .*identity: ${count('radius')} RADIUS, ${count('dhcp')} DHCP, `));
    const lemf = ran.agencies['lea-1']!;
    return { out: lemf.out, lines: lemf.lines, printed: ran.printed };
  }

  const framesOf = (...owners: string[]) => cap.frames.filter((f) => f.kind === 'data' && owners.includes(f.owner!));
  const byMarker = () => new Map(cap.frames.filter((f) => f.marker).map((f) => [f.marker!, f]));

  /** The CC of `liid` holds exactly `markers`' packets, once each, in the pcap and in records.jsonl, byte for byte with their capture times and directions. */
  const markerOfPacket = (ip: Buffer): string => markerOf(ip) ?? '(none)';

  function ccIsExactly(r: Ran, liid: string, cc: CcRec[], markers: string[]): void {
    const frames = byMarker();
    const pcap = ccPcap(r.out, liid);
    assert.deepEqual(sorted(pcap.map((p) => markerOfPacket(p.data))), sorted(markers), `cc/${liid}.pcap`);
    for (const p of pcap) {
      const f = frames.get(markerOfPacket(p.data))!;
      assert.deepEqual([p.data.toString('hex'), p.timeUs], [ipOf(f.bytes).toString('hex'), f.timeUs], `cc/${liid}.pcap: ${f.marker}`);
    }
    assert.deepEqual(sorted(cc.map((x) => x.marker ?? '(none)')), sorted(markers), 'records.jsonl CC');
    for (const x of cc) {
      const f = frames.get(x.marker!)!;
      assert.deepEqual([x.ip.toString('hex'), x.timeUs, x.direction], [ipOf(f.bytes).toString('hex'), f.timeUs, f.outbound ? 'fromTarget' : 'toTarget'], `records.jsonl CC ${f.marker}`);
    }
  }

  /** The records of one RADIUS session of alice: BEGIN accessAccept, CONTINUE interimUpdate, END accessEnd, with what the accounting said. */
  function radiusSessionIri(recs: IriRec[], s: IdentityCapture['sessions'][number]): void {
    const n = cap.network;
    assert.deepEqual(recs.map((r) => [r.iriType, r.c.accessEventType]), [['iRI-Begin', 'accessAccept'], ...s.interim.map(() => ['iRI-Continue', 'interimUpdate']), ['iRI-End', 'accessEnd']], s.owner);
    assert.deepEqual(recs.map((r) => r.timeUs), [captureUs(cap, s.start), ...s.interim.map((i) => captureUs(cap, i.t)), captureUs(cap, s.stop)], `${s.owner}: record times are the capture times of Start, Interim, Stop`);
    for (const r of recs) {
      const c = r.c;
      const what = `${s.owner} ${c.accessEventType}`;
      assert.equal(c.targetUsername, hex('alice'), what);
      assert.deepEqual(c.targetIPAddress, { 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: ipHex(s.address) }, 'iP-assignment': 'dynamic' }, what);
      assert.equal(c.targetNetworkID, n.alice, what);
      assert.deepEqual(c.pOPIPAddress, { 'iP-type': 'iPV4', 'iP-value': { iPBinaryAddress: ipHex(n.nas) } }, what);
      assert.deepEqual(c.pOPIdentifier, { printableIDType: n.nasIdentifier }, what);
      assert.deepEqual([c.internetAccessType, c.iPVersion, c.authenticationType], ['wirelessLAN', 'iPV4', 'radiusAAA'], what);
      assert.equal(generalizedUs(c.startTime), captureUs(cap, s.start), `${what}: startTime`);
    }
    const [begin, ...rest] = recs;
    const end = rest.at(-1)!;
    assert.deepEqual([begin!.c.octetsTransmitted, begin!.c.octetsReceived, begin!.c.endTime], [undefined, undefined, undefined], `${s.owner}: nothing counted at the start`);
    // From the target's view: Acct-Input-Octets (what the NAS received from her) is what she transmitted.
    s.interim.forEach((i, k) => assert.deepEqual([rest[k]!.c.octetsTransmitted, rest[k]!.c.octetsReceived], [i.octetsIn, i.octetsOut], `${s.owner}: interim octets`));
    assert.deepEqual([end.c.octetsTransmitted, end.c.octetsReceived], [s.octetsIn, s.octetsOut], `${s.owner}: octets at the end`);
    assert.equal(generalizedUs(end.c.endTime), captureUs(cap, s.stop), `${s.owner}: endTime`);
    assert.equal(end.c.endReason, END_REASON[s.cause], `${s.owner}: endReason for Acct-Terminate-Cause ${s.cause}`);
  }

  it('a username warrant: exactly alice\'s packets of both sessions, each session its own CIN with BEGIN/CONTINUE/END; the oracle decodes every record', async function () {
    const liid = 'LIID-E2E-USER';
    const r = await runChain('user', liid, '{ username: alice }');
    await oracleAgrees(this, r.out, r.lines);
    const { iri, cc } = interceptRecords(r.lines, liid);
    const others = r.lines.filter((l) => l.pdu.payload.tRIPayload === undefined && l.pdu.pSHeader.lawfulInterceptionIdentifier !== hex(liid));
    assert.deepEqual(others, [], 'nothing but the warrant\'s records and keep-alives');
    numberedPerCin(iri, 'IRI');
    numberedPerCin(cc, 'CC');

    // None of bob's packets, neither stray one (before her login; after her logoff), each of hers once.
    ccIsExactly(r, liid, cc, framesOf('alice-s1', 'alice-s2').map((f) => f.marker!));

    const cins = [...new Set(iri.map((x) => x.cin))];
    assert.equal(cins.length, 2, 'two sessions, two CINs');
    cap.sessions.forEach((s, k) => {
      const cin = cins[k]!;
      radiusSessionIri(iri.filter((x) => x.cin === cin), s);
      assert.deepEqual(sorted(cc.filter((x) => x.cin === cin).map((x) => x.marker!)), sorted(framesOf(s.owner).map((f) => f.marker!)), `the CC of ${s.owner} carries its CIN`);
    });

    for (const secret of [liid, 'alice', cap.network.alice, cap.network.alice.toUpperCase().replace(/:/g, '-'), ...cap.sessions.map((s) => s.address)]) {
      assert.ok(!r.printed.includes(secret), `no process printed or logged ${secret}`);
    }
  });
  /**
   * A MAC warrant follows the device, not the login. What it must deliver, given DHCP and
   * RADIUS: every frame her MAC sent or received, and nothing else. So, beyond both sessions:
   * - 0.5 s, before her RADIUS login: hers. The DHCP ACK at 0.0 bound 10.20.0.50 to her MAC
   *   (a lease: its own communication, dhcpAAA), and the frame comes from her MAC.
   * - 11.2 s, after her RADIUS Stop: hers too. Logging off the hotspot ends the accounting
   *   session, not the DHCP lease granted for an hour at 0.0; the address is still bound to
   *   her MAC until bob's ACK takes it at 12.1 (which ends her lease), and the frame goes to
   *   her MAC. A username warrant must not have it (the user logged off); a MAC warrant must.
   * - the DHCP ACKs sent to her MAC: her device's traffic at layer 2. They are the AAA
   *   exchange, not matched through a session (pipeline.ts), so they travel under the
   *   intercept's own CIN, which no IRI names.
   * - bob at 10.20.0.50 from 12.1 on: his MAC, never hers.
   * IRI: the two leases and the two accounting sessions, each its own CIN; the packets of a
   * RADIUS session carry its CIN (the RADIUS key wins over the lease of the same subscriber),
   * the others the lease's.
   */
  it('a MAC warrant: every frame of her device (both sessions, before login and after logoff under her lease, DHCP to her), none of bob\'s; leases and sessions each their own CIN', async function () {
    const liid = 'LIID-E2E-MAC';
    const n = cap.network;
    const r = await runChain('mac', liid, `{ mac: "${n.alice}" }`);
    await oracleAgrees(this, r.out, r.lines);
    const { iri, cc } = interceptRecords(r.lines, liid);
    numberedPerCin(iri, 'IRI');
    numberedPerCin(cc, 'CC');

    const macAt = (f: { bytes: Buffer }, at: number) => [...f.bytes.subarray(at, at + 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const hers = cap.frames.filter((f) => macAt(f, 0) === n.alice || macAt(f, 6) === n.alice);
    const dhcpToHer = hers.filter((f) => f.kind === 'dhcp');
    assert.deepEqual([hers.filter((f) => f.kind === 'radius').length, dhcpToHer.length], [0, 2], 'the capture as this test reads it');
    const key = (ip: Buffer) => markerOf(ip) ?? ip.toString('hex');
    const wanted = hers.map((f) => key(ipOf(f.bytes)));
    assert.deepEqual(sorted(wanted.filter((m) => m.includes('|')).map((m) => m.split('|')[0]!)), sorted(framesOf('alice-s1', 'alice-s2', 'stray').map((f) => f.owner!)), 'her frames: both sessions and both strays');
    assert.deepEqual(sorted(ccPcap(r.out, liid).map((p) => key(p.data))), sorted(wanted), `cc/${liid}.pcap`);
    assert.deepEqual(sorted(cc.map((x) => key(x.ip))), sorted(wanted), 'records.jsonl CC');

    const cins = [...new Set(iri.map((x) => x.cin))];
    assert.equal(cins.length, 4, 'two leases and two accounting sessions');
    const of = (cin: number) => iri.filter((x) => x.cin === cin);
    const leases = cins.filter((c) => of(c)[0]!.c.authenticationType === 'dhcpAAA');
    const sessions = cins.filter((c) => of(c)[0]!.c.authenticationType === 'radiusAAA');
    assert.equal(leases.length, 2);
    cap.sessions.forEach((s, k) => {
      radiusSessionIri(of(sessions[k]!), s);
      assert.deepEqual(sorted(cc.filter((x) => x.cin === sessions[k]).map((x) => x.marker!)), sorted(framesOf(s.owner).map((f) => f.marker!)), `the CC of ${s.owner} carries its CIN`);
    });

    // The leases: the ACKs that bound them; the first ended by bob's ACK for the same address, the second still open.
    dhcpToHer.forEach((ack, k) => {
      const recs = of(leases[k]!);
      const takenBy = cap.frames.find((f) => f.kind === 'dhcp' && f.address === ack.address && f.mac === n.bob);
      assert.deepEqual(recs.map((x) => [x.iriType, x.c.accessEventType, x.timeUs]), [['iRI-Begin', 'accessAccept', ack.timeUs], ...(takenBy ? [['iRI-End', 'accessEnd', takenBy.timeUs]] : [])], `lease of ${ack.address}`);
      for (const x of recs) {
        assert.deepEqual([x.c.targetUsername, x.c.targetNetworkID, x.c.targetIPAddress['iP-value'].iPBinaryAddress, x.c.pOPIPAddress['iP-value'].iPBinaryAddress], [hex(n.alice), n.alice, ipHex(ack.address!), ipHex(n.nas)]);
        assert.equal(generalizedUs(x.c.startTime), ack.timeUs);
      }
      assert.equal(generalizedUs(recs[0]!.c.expectedEndTime), ack.timeUs + BigInt(ack.lease!) * 1_000_000n, 'expectedEndTime: the lease granted');
      if (takenBy) {
        assert.equal(generalizedUs(recs[1]!.c.endTime), takenBy.timeUs);
        assert.equal(recs[1]!.c.endReason, 'undefined', 'lig saw the lease end (its address given to another MAC), not why');
      }
    });
    const strays = framesOf('stray');
    assert.deepEqual(cc.filter((x) => x.marker?.startsWith('stray|')).map((x) => x.cin), strays.map(() => leases[0]), 'before login and after logoff: her first lease\'s CIN');
    const ackCins = cc.filter((x) => x.marker === undefined).map((x) => x.cin);
    assert.equal(ackCins.length, 2);
    assert.ok(ackCins.every((c) => c === ackCins[0] && !cins.includes(c)), 'the DHCP ACKs to her MAC: the intercept\'s own CIN, no session\'s');

    for (const secret of [liid, n.alice, n.alice.toUpperCase().replace(/:/g, '-'), ...cap.sessions.map((s) => s.address)]) {
      assert.ok(!r.printed.includes(secret), `no process printed or logged ${secret}`);
    }
  });
});
