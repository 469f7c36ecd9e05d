/**
 * The whole chain, with real components only: the probe agent replays the demo capture
 * (examples/demo.pcap), gRPC over mutual TLS to the mediator, its journal, TLS delivery to
 * the reference LEMF; certificates made at test time, everything on 127.0.0.1 port 0.
 *
 * What the LEMF stored is held against the capture itself, read independently here (lig's
 * pcap reader for the file, Ethernet and IPv4 headers read by hand): every packet of the
 * target delivered exactly once as IPCC, byte for byte, in the right direction, numbered
 * without a gap, and not one packet of anyone else; the application IRI (DNS, HTTP, TLS) is
 * what tshark finds in the target's traffic. The stored streams are decoded by the
 * etsi-oracle. Then `lig demo` itself, probes that must be refused, and two probes with
 * different intercepts that never learn each other's targets. Waits on events only.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Metadata, credentials, status as Status, type StatusObject } from '@grpc/grpc-js';
import { parseCaptureFile } from '../../src/capture/pcap-reader';
import { runCli } from '../../src/cli/main';
import { parseMediatorConfig } from '../../src/config';
import { DEMO_LIID, DEMO_TARGET, bundledCapture } from '../../src/demo';
import { ProbeError } from '../../src/errors';
import { IngestServiceService, ProbeMessage, type TaskList } from '../../src/gen/lig/v1/ingest';
import { Lemf, RAW_FILES, RECORDS_FILE, liidFileName } from '../../src/lemf';
import { Mediator } from '../../src/mediation/mediator';
import { makeForeignPki, makeTestPki, type PemPaths, type TestPki } from '../../src/pki';
import { ProbeAgent } from '../../src/probe/agent';
import { ProbeClient } from '../../src/probe/client';
import { expectedAppReports, requireTshark, storedAppReports } from '../helpers/app-reports';
import { find, oracleDecode, parseXer, xerHex } from '../helpers/oracle';
import { next } from './ingest-helpers';
import { lemfHolds, stored } from './mediator-helpers';

/** One IPv4 packet of the capture, as the test reads it. */
interface CapturePacket {
  ip: Buffer;
  src: string;
  dst: string;
  seconds: number;
  micros: number;
}

const dotted = (b: Buffer, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** The IPv4 packets of an Ethernet capture (other frames, ARP here, left out). */
function capturePackets(file: string): { frames: number; packets: CapturePacket[] } {
  const cap = parseCaptureFile(fs.readFileSync(file));
  const packets: CapturePacket[] = [];
  for (const p of cap.packets) {
    assert.equal(p.linktype, 1, 'the demo capture is Ethernet');
    const f = Buffer.from(p.data);
    if (f.readUInt16BE(12) !== 0x0800) continue;
    const ip = f.subarray(14, 14 + f.readUInt16BE(16));
    packets.push({ ip, src: dotted(ip, 12), dst: dotted(ip, 16), seconds: p.ts!.sec, micros: Math.floor(p.ts!.nsec / 1000) });
  }
  return { frames: cap.packets.length, packets };
}

/** What the LEMF must get for `target`: its packets, in capture order, with their direction. */
function expectedFor(packets: CapturePacket[], target: string): (CapturePacket & { direction: string })[] {
  return packets.filter((p) => p.src === target || p.dst === target).map((p) => ({ ...p, direction: p.src === target ? 'fromTarget' : 'toTarget' }));
}

/** Resolves once the LEMF holds at least `n` CC records of `liid`. */
function lemfHas(lemf: Lemf, liid: string, n: number): Promise<void> {
  return lemfHolds(lemf, { [liid]: { cc: n } });
}

/** Resolves at the LEMF's first answer on `hi` (for HI2: a keep-alive, so hi2.ber is not empty). */
async function answeredOn(lemf: Lemf, hi: 'hi2' | 'hi3'): Promise<void> {
  await next<{ hi: string }>(lemf, 'answered', (a) => a.hi === hi);
}

interface InterceptSpec {
  liid: string;
  target: string;
  probes?: string[];
}

function mediatorConfig(pki: TestPki, lemf: Lemf, dataDir: string, intercepts: InterceptSpec[]) {
  const q = JSON.stringify;
  const a = (x: { host: string; port: number }) => q(`${x.host}:${x.port}`);
  const tls = `{ ca: ${q(pki.ca)}, cert: ${q(pki.mediator.cert)}, key: ${q(pki.mediator.key)} }`;
  const list = intercepts.map((i) => `
  - { liid: ${i.liid}, agency: lea-1, type: content, targets: [{ ip: ${i.target} }]${i.probes ? `, probes: [${i.probes.join(', ')}]` : ''} }`);
  return parseMediatorConfig(`
dataDir: ${q(dataDir)}
ingest: { listen: 127.0.0.1:0, tls: ${tls} }
limits: { journalBytes: 64MiB, segmentBytes: 4MiB }
agencies:
  - id: lea-1
    country: DE
    delivery: tcp
    operatorId: OPERATOR-1
    hi2: { address: ${a(lemf.addresses.hi2)} }
    hi3: { address: ${a(lemf.addresses.hi3)} }
    tls: { ca: ${q(pki.ca)}, cert: ${q(pki.mediator.cert)}, key: ${q(pki.mediator.key)}, servername: localhost }
    keepalive: { interval: 1s, wait: 10s }
intercepts:${list.join('')}
log: { level: debug }
`, 'pipeline.test.yaml');
}

describe('pipeline: the demo capture through probe, gRPC (mTLS), mediator, journal, TLS and the LEMF', function () {
  let tmp: string;
  let pki: TestPki;
  let capture: { frames: number; packets: CapturePacket[] };
  let lemf: Lemf | undefined;
  let mediator: Mediator | undefined;
  const agents: ProbeAgent[] = [];
  const logs: string[] = [];
  const log = (who: string) => (level: string, message: string) => logs.push(`${who} ${level}: ${message}`);

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-pipeline-'));
    pki = await makeTestPki(path.join(tmp, 'pki'), { probes: ['probe-1', 'probe-2'] });
    capture = capturePackets(bundledCapture());
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop({ drainMs: 0 }).catch(() => undefined);
    await mediator?.close().catch(() => undefined);
    await lemf?.close().catch(() => undefined);
    mediator = lemf = undefined;
  });

  async function start(name: string, intercepts: InterceptSpec[]): Promise<{ out: string; lemf: Lemf; mediator: Mediator }> {
    const out = path.join(tmp, `${name}-out`);
    lemf = await Lemf.start({ hi2: '127.0.0.1:0', hi3: '127.0.0.1:0', out, ca: pki.ca, cert: pki.lemf.cert, key: pki.lemf.key, log: (l) => logs.push(`lemf: ${l}`) });
    mediator = await Mediator.start(mediatorConfig(pki, lemf, path.join(tmp, `${name}-data`), intercepts), {
      log: log('mediator'),
      deliveryTuning: { backoffInitialMs: 50, backoffMaxMs: 500 },
    });
    return { out, lemf, mediator };
  }

  async function replay(probe: string, name: string): Promise<ProbeAgent> {
    const agent = await ProbeAgent.start({
      source: { kind: 'pcap', file: bundledCapture() },
      mediator: { address: mediator!.ingestAddress!, tls: { ca: pki.ca, ...pki.probes[probe]!, servername: 'localhost' } },
      spool: { dir: path.join(tmp, `${name}-spool-${probe}`) },
      batch: { maxEvents: 16 },
      statusIntervalMs: 0,
      log: log(probe),
    });
    agents.push(agent);
    return agent;
  }

  it('delivers every packet of the target exactly once as IPCC, byte for byte, in its direction, numbered without a gap; nothing of anyone else', async function () {
    const want = expectedFor(capture.packets, DEMO_TARGET);
    const others = capture.packets.length - want.length;
    assert.ok(want.length > 100 && others > 100, 'the capture holds traffic of the target and of others');
    assert.ok(want.some((p) => p.src.startsWith('10.20.0.') && p.dst.startsWith('10.20.0.') && p.dst !== '10.20.0.1' && p.src !== '10.20.0.1'), 'and a hairpin exchange');
    const liid = 'LIID-PIPE-1';
    const s = await start('main', [{ liid, target: DEMO_TARGET }]);
    const hi2Answered = answeredOn(s.lemf, 'hi2');
    const agent = await replay('probe-1', 'main');
    const end = await agent.done;
    assert.deepEqual([end.reason, end.drained, end.unackedBatches], ['ended', true, 0n]);
    const st = agent.stats();
    assert.equal(st.frames, capture.frames);
    assert.equal(st.matched, want.length);
    assert.equal(st.eventsDropped, 0);
    await lemfHas(s.lemf, liid, want.length);
    await hi2Answered;
    await s.mediator.close();
    const summary = await s.lemf.close();
    mediator = lemf = undefined;

    // the LEMF's own checks; the IRI are the application reports of the target's DNS, HTTP and TLS, as tshark sees them
    requireTshark(this);
    const apps = expectedAppReports(bundledCapture(), DEMO_TARGET);
    assert.ok(apps.length >= 5, 'the capture holds the target\'s DNS, HTTP and TLS');
    assert.deepEqual(storedAppReports(s.out), apps);
    assert.deepEqual(Object.keys(summary.records), [liid]);
    assert.deepEqual(summary.records[liid], { iri: apps.length, cc: want.length, ccPackets: want.length });
    assert.deepEqual([summary.gaps.count, summary.missing, summary.duplicates, summary.decodeErrors, summary.truncated], [0, 0, 0, 0, 0]);

    // hi3.ber as received: record k is the target's k-th packet, numbered k, in one CIN
    const cc = stored(s.out, 'hi3');
    assert.equal(cc.length, want.length, 'every target packet once, nothing else');
    cc.forEach((r, k) => {
      const w = want[k]!;
      assert.equal(r.kind, 'cc');
      assert.equal(r.liid, liid);
      assert.equal(r.seq, k, `record ${k}: sequence number`);
      assert.equal(r.cin, cc[0]!.cin);
      assert.ok(Buffer.from(r.data!).equals(w.ip), `record ${k}: the capture's IP packet, byte for byte`);
      assert.equal(r.direction, w.direction, `record ${k}: direction`);
      assert.deepEqual([r.seconds, r.micros], [w.seconds, w.micros], `record ${k}: time of capture`);
    });
    // every stored packet, from every file, is the target's
    for (const r of cc) {
      const ip = Buffer.from(r.data!);
      assert.ok(dotted(ip, 12) === DEMO_TARGET || dotted(ip, 16) === DEMO_TARGET, 'a packet of another subscriber was delivered');
    }
    const iri = stored(s.out, 'hi2');
    assert.equal(iri.length, apps.length, 'HI2: the application reports (and keep-alives)');
    assert.deepEqual(iri.map((r) => [r.liid, r.cin, r.seq]), apps.map((_, k) => [liid, cc[0]!.cin, k]), 'in the CC\'s communication, numbered without a gap');
    const ccFiles = fs.readdirSync(path.join(s.out, 'cc'));
    assert.deepEqual(ccFiles, [`${liidFileName(Buffer.from(liid))}.pcap`]);
    const pcap = parseCaptureFile(fs.readFileSync(path.join(s.out, 'cc', ccFiles[0]!))).packets;
    assert.deepEqual(pcap.map((p) => Buffer.from(p.data).toString('hex')), want.map((w) => w.ip.toString('hex')));
    assert.equal(fs.readFileSync(path.join(s.out, RECORDS_FILE), 'utf8').trimEnd().split('\n').length, summary.pdus);

    // no LIID and no target address in what the components logged
    assert.ok(logs.length > 0);
    for (const line of logs) assert.ok(!line.includes(liid) && !line.includes(DEMO_TARGET), `logged: ${line}`);

    // the independent decoder reads both streams, and finds the same packets in hi3.ber
    const r3 = await oracleDecode(this, path.join(s.out, RAW_FILES.hi3));
    assert.ok(r3.ok, r3.stderr);
    const packets = parseXer(r3.xer)
      .map((pdu) => find(pdu, 'payload', 'cCPayloadSequence', 'CCPayload', 'cCContents', 'iPCC', 'iPCCContents', 'iPPackets'))
      .filter((n) => n !== undefined)
      .map((n) => xerHex(n));
    assert.deepEqual(packets, want.map((w) => w.ip.toString('hex')));
    const r2 = await oracleDecode(this, path.join(s.out, RAW_FILES.hi2));
    assert.ok(r2.ok, r2.stderr);
    assert.ok(parseXer(r2.xer).length > apps.length, 'hi2.ber holds the reports and the keep-alives');
  });

  it('lig demo --out DIR: prints what the agency received, and leaves the files it names', async function () {
    requireTshark(this);
    const apps = expectedAppReports(bundledCapture(), DEMO_TARGET);
    const want = expectedFor(capture.packets, DEMO_TARGET);
    const bytes = want.reduce((n, w) => n + w.ip.length, 0);
    const out = path.join(tmp, 'demo-out');
    for (let run = 1; run <= 2; run++) {
      // the second run replaces the first's output instead of adding to it
      const lines: string[] = [];
      const errs: string[] = [];
      const code = await runCli(['demo', '--out', out], { out: (l) => lines.push(l), err: (l) => errs.push(l) });
      const text = lines.join('\n');
      assert.equal(code, 0, `${text}\n${errs.join('\n')}`);
      assert.deepEqual(errs, [], 'no warnings');
      assert.match(text, new RegExp(`${capture.frames} frames`));
      assert.match(text, new RegExp(`${want.length} packets of the target ${DEMO_TARGET.replace(/\./g, '\\.')} matched; ${want.length + apps.length} events sent, none dropped`));
      assert.ok(text.includes(`LIID ${DEMO_LIID}: ${apps.length} IRI, ${want.length} CC records (${want.length} packets, ${bytes.toLocaleString('en-US')} bytes of IP packets)`), text);
      assert.ok(text.includes('sequence checks: 0 gaps (0 numbers missing), 0 duplicates, 0 decode errors'), text);
      assert.ok(text.includes(`next: lig decode ${path.join(out, 'hi3.ber')}`), text);
      assert.match(lines[lines.length - 1]!, /^every record the probe sent reached the agency, once and in order/);
      for (const f of ['hi2.ber', 'hi3.ber', 'records.jsonl', 'summary.json', `cc/${DEMO_LIID}.pcap`]) {
        assert.ok(text.includes(path.join(out, f)), `${f} is named`);
        assert.ok(fs.existsSync(path.join(out, f)), `${f} exists`);
      }
      const cc = stored(out, 'hi3');
      assert.deepEqual(cc.map((r) => r.seq), want.map((_, k) => k));
      assert.deepEqual(cc.map((r) => Buffer.from(r.data!).toString('hex')), want.map((w) => w.ip.toString('hex')));
      const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
      assert.deepEqual(summary.records, { [DEMO_LIID]: { iri: apps.length, cc: want.length, ccPackets: want.length } });
      assert.deepEqual(storedAppReports(out), apps);
      assert.equal(summary.duplicates, 0);
    }
  });

  it('refuses a probe without a certificate, with one from another CA, or with a lig certificate of another role', async () => {
    await start('refusals', [{ liid: 'LIID-PIPE-R', target: DEMO_TARGET }]);
    const port = mediator!.ingestAddress!.port;

    // no client certificate at all: the TLS handshake fails, no message comes back
    const raw = await rawHello(port, fs.readFileSync(pki.ca));
    assert.equal(raw.status.code, Status.UNAVAILABLE);
    assert.equal(raw.messages, 0, 'not even a task list');

    // a probe from another CA: it trusts both CAs (so it gets as far as the mediator), the mediator only its own
    const foreign = await makeForeignPki(path.join(tmp, 'foreign'), { name: 'probe-1' });
    const bothCas = path.join(tmp, 'foreign', 'both-cas.pem');
    fs.writeFileSync(bothCas, Buffer.concat([fs.readFileSync(foreign.ca), fs.readFileSync(pki.ca)]));
    const cases: [string, PemPaths, string, string | undefined][] = [
      ['another CA (named like a real probe)', foreign.leaf, bothCas, undefined],
      ['an admin certificate of the same CA', pki.admin, pki.ca, 'LIG_ERR_INGEST_NOT_PROBE'],
    ];
    for (const [what, leaf, ca, remote] of cases) {
      const client = await ProbeClient.open({
        mediator: { address: mediator!.ingestAddress!, tls: { ca, cert: leaf.cert, key: leaf.key, servername: 'localhost' } },
        spool: { dir: path.join(tmp, `refused-spool-${remote ?? 'foreign'}`) },
        sourceKind: 'pcap',
        backoff: { initialMs: 10_000, maxMs: 10_000 },
        log: log('refused'),
      });
      try {
        // refused: the stream fails; admitted: a task list comes (so a wrong outcome fails, never hangs)
        const failed = new Promise<ProbeError | TaskList>((resolve) => {
          client.once('disconnected', resolve);
          client.once('tasks', resolve);
        });
        client.submit({ timeUs: 1n, kind: { $case: 'packet', packet: { matches: [{ taskId: 1n, direction: 1, sessionKey: '' }], data: capture.packets[0]!.ip, originalLength: 0 } } });
        client.flush();
        const e = await failed;
        assert.ok(e instanceof ProbeError, `${what}: admitted, and given a task list`);
        assert.equal(e.code, 'LIG_ERR_PROBE_STREAM', what);
        assert.equal(e.remoteCode, remote, `${what}: ${e.message}`);
        assert.equal(client.tasks, undefined, `${what}: no task list`);
        assert.equal(client.stats().lastAcked, 0n, `${what}: nothing acknowledged`);
      } finally {
        await client.close();
      }
    }
    const status = mediator!.status();
    assert.deepEqual(status.probes.filter((p) => p.connected), [], 'no probe admitted');
    assert.deepEqual([status.counters.batches, status.counters.packets], [0, 0]);
    assert.equal(mediator!.journal('lea-1', 'hi3')!.durable, 0n, 'nothing journaled');
  });

  it('two probes with different intercepts: each is told only its own targets and intercepts only its own packets', async () => {
    const A = { liid: 'LIID-PIPE-A', target: DEMO_TARGET, probes: ['probe-1'] };
    const B = { liid: 'LIID-PIPE-B', target: '10.20.0.42', probes: ['probe-2'] };
    const wantA = expectedFor(capture.packets, A.target);
    const wantB = expectedFor(capture.packets, B.target);
    assert.ok(wantA.length > 0 && wantB.length > 0);
    const s = await start('two', [A, B]);
    const [p1, p2] = [await replay('probe-1', 'two'), await replay('probe-2', 'two')];
    const [e1, e2] = [await p1.done, await p2.done];
    assert.ok(e1.drained && e2.drained);
    const targetsOf = (list: TaskList | undefined) => list!.tasks.flatMap((t) => t.targets.map((x) => (x.kind?.$case === 'ip' ? `${dotted(x.kind.ip.address, 0)}/${x.kind.ip.prefixLength}` : x.kind?.$case)));
    assert.deepEqual(targetsOf(p1.tasks), [`${A.target}/32`]);
    assert.deepEqual(targetsOf(p2.tasks), [`${B.target}/32`]);
    assert.notEqual(p1.tasks!.tasks[0]!.taskId, p2.tasks!.tasks[0]!.taskId);
    assert.deepEqual([p1.stats().frames, p2.stats().frames], [capture.frames, capture.frames], 'both saw the whole capture');
    assert.deepEqual([p1.stats().matched, p2.stats().matched], [wantA.length, wantB.length]);
    await lemfHas(s.lemf, A.liid, wantA.length);
    await lemfHas(s.lemf, B.liid, wantB.length);
    assert.equal(s.mediator.status().counters.unknownTasks, 0);
    await s.mediator.close();
    await s.lemf.close();
    mediator = lemf = undefined;
    const cc = stored(s.out, 'hi3');
    for (const [x, want] of [[A, wantA], [B, wantB]] as const) {
      const mine = cc.filter((r) => r.liid === x.liid);
      assert.deepEqual(mine.map((r) => r.seq), want.map((_, k) => k), x.liid);
      assert.deepEqual(mine.map((r) => Buffer.from(r.data!).toString('hex')), want.map((w) => w.ip.toString('hex')), x.liid);
      assert.deepEqual(mine.map((r) => r.direction), want.map((w) => w.direction), x.liid);
    }
    assert.equal(cc.length, wantA.length + wantB.length);
  });
});

/** A gRPC stream to the ingest service over TLS without a client certificate, sending Hello. */
function rawHello(port: number, ca: Buffer): Promise<{ messages: number; status: StatusObject }> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createSsl(ca), {
    'grpc.enable_retries': 0,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  });
  const call = client.makeBidiStreamRequest(IngestServiceService.stream.path, (b: Buffer) => b, (b: Buffer) => b, new Metadata());
  let messages = 0;
  return new Promise((resolve) => {
    call.on('data', () => messages++);
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) => {
      client.close();
      resolve({ messages, status });
    });
    const hello = ProbeMessage.encode({ body: { $case: 'hello', hello: { softwareVersion: 'test', sourceKind: 'pcap', firstUnackedBatch: 0n, spoolId: 'no-cert' } } }).finish();
    call.write(Buffer.from(hello));
    call.end();
  });
}
