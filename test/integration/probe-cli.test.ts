/**
 * `lig probe` as a real process (main() from src/ through tsx) against a real mediator
 * (journals, mTLS delivery) and the reference LEMF, with certificates made at test time and
 * the scapy-built capture. A pcap replay with flags exits 0 by itself once everything is
 * acknowledged, and the LEMF holds exactly the targets' packets of each warrant, byte for
 * byte, with their capture times and directions, numbered without gaps. A TZSP probe from a
 * config file prints where it listens, forwards what it is sent, and stops on SIGTERM.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MediatorConfig } from '../../src/config';
import type { Lemf } from '../../src/lemf';
import { directionOf } from '../../src/mediation/encode-batch';
import type { Mediator } from '../../src/mediation/mediator';
import { type LigProcess, lig, lineMatching, stderrIncludes, stop } from '../helpers/lig-process';
import { requireScapy } from '../helpers/scapy';
import { type Setup, checkStream, config, lemfHolds, setup, startLemf, startMediator, stored } from './mediator-helpers';
import { type Capture, buildCapture, expectedPackets, sendDatagrams, tzspDatagrams } from './probe-helpers';

const LIID_V4 = 'LIID-PROBE-V4';
const LIID_V6 = 'LIID-PROBE-V6';

/** A mediator config: one tcp agency (the LEMF), a warrant on the capture's two IPv4 targets and one on its IPv6 prefix. */
function mediatorConfig(s: Setup, lemf: Lemf, dataDir: string): MediatorConfig {
  return config(s, lemf, {
    dataDir,
    intercepts: `
  - { liid: ${LIID_V4}, agency: lea-1, type: content, targets: [{ ip: 10.0.0.7 }, { ip: 10.0.0.8 }] }
  - { liid: ${LIID_V6}, agency: lea-1, type: content, targets: [{ ip: "2001:db8:7::/48" }] }`,
  });
}

/** Resolves once the LEMF holds at least `n` CC records of `liid`. */
const lemfHas = (lemf: Lemf, liid: string, n: number): Promise<void> => lemfHolds(lemf, { [liid]: { cc: n } });

describe('lig probe as a process (real mediator and LEMF)', function () {
  let s: Setup;
  let cap: Capture;
  let lemf: Lemf | undefined;
  let mediator: Mediator | undefined;
  const procs: LigProcess[] = [];

  before(async function () {
    requireScapy(this);
    s = await setup('lig-probe-cli-');
    cap = buildCapture(path.join(s.tmp, 'capture'));
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
    await mediator?.close();
    await lemf?.close().catch(() => undefined);
    mediator = lemf = undefined;
  });
  after(() => s && fs.rmSync(s.tmp, { recursive: true, force: true }));

  async function start(name: string): Promise<{ out: string; port: number }> {
    const out = path.join(s.tmp, `out-${name}`);
    lemf = await startLemf(s, out);
    mediator = await startMediator(mediatorConfig(s, lemf, path.join(s.tmp, `data-${name}`)), []);
    return { out, port: mediator.ingestAddress!.port };
  }

  /** The LEMF's CC records of `liid`, checked for gaps, as [ip hex, direction, seconds, micros]. */
  function ccOf(out: string, liid: string): [string, string | undefined, number | undefined, number | undefined][] {
    return checkStream(stored(out, 'hi3').filter((r) => r.liid === liid)).map((r) => [Buffer.from(r.data!).toString('hex'), r.direction, r.seconds, r.micros]);
  }

  function expectedCc(task: number): [string, string, number, number][] {
    return expectedPackets(cap.mixed, [task]).map((p) => [p.data, directionOf(p.matches[0]![1]), Number(p.timeUs / 1_000_000n), Number(p.timeUs % 1_000_000n)]);
  }

  it('replays a pcap with flags, exits 0 once all is acknowledged; the LEMF holds exactly the targets\' packets', async () => {
    const { out, port } = await start('pcap');
    const leaf = s.pki.probes['probe-1']!;
    const spool = path.join(s.tmp, 'spool-pcap');
    const p = lig(['probe', '--mediator', `127.0.0.1:${port}`, '--source', `pcap:${cap.mixedPcap}`, '--ca', s.pki.ca, '--cert', leaf.cert, '--key', leaf.key, '--servername', 'localhost', '--spool', spool]);
    procs.push(p);
    assert.equal(await p.exit, 0, p.stderr);
    assert.equal(p.stdout[0], `probe probe-1: pcap source, mediator 127.0.0.1:${port}, spool ${spool}`);
    assert.equal(p.stdout.at(-1), 'replay complete: every batch acknowledged');
    assert.match(p.stdout.at(-2)!, new RegExp(`^stopped \\(pcap\\): ${cap.mixed.length} frames .*, 0 dropped, `));

    const v4 = expectedCc(1);
    const v6 = expectedCc(2);
    await lemfHas(lemf!, LIID_V4, v4.length);
    await lemfHas(lemf!, LIID_V6, v6.length);
    await mediator!.close();
    mediator = undefined;
    await lemf!.close();
    lemf = undefined;
    assert.deepEqual(ccOf(out, LIID_V4), v4);
    assert.deepEqual(ccOf(out, LIID_V6), v6);
    assert.equal(stored(out, 'hi3').length, v4.length + v6.length, 'nothing else was delivered');
    assert.ok(!/10\.0\.0\.[78]|2001:db8:7|LIID-PROBE/.test(p.stdout.join('\n') + p.stderr), 'no target or LIID printed or logged');
  });

  it('a TZSP probe from a config file prints where it listens, forwards what it is sent, and stops on SIGTERM', async () => {
    const { out, port } = await start('tzsp');
    const leaf = s.pki.probes['probe-1']!;
    const config = path.join(s.tmp, 'probe.yaml');
    fs.writeFileSync(
      config,
      `name: probe-1
mediator:
  address: 127.0.0.1:${port}
  tls: { ca: ${JSON.stringify(s.pki.ca)}, cert: ${JSON.stringify(leaf.cert)}, key: ${JSON.stringify(leaf.key)}, servername: localhost }
source: tzsp:127.0.0.1:0
batch: { maxEvents: 8, maxDelay: 10ms }
spool: { dir: spool-tzsp }
log: { level: info }
`,
    );
    const p = lig(['probe', '--config', config]);
    procs.push(p);
    const m = await lineMatching(p, /^tzsp listening on 127\.0\.0\.1:(\d+)$/);
    assert.ok(m, `stdout: ${p.stdout.join('\n')}\nstderr: ${p.stderr}`);
    assert.equal(p.stdout[0], `probe probe-1: tzsp source, mediator 127.0.0.1:${port}, spool ${path.join(s.tmp, 'spool-tzsp')}`);
    // The task list arrives after capture starts: send once the mediator has the probe and has told it its tasks.
    await stderrIncludes(p, 'task list version');
    await sendDatagrams(Number(m[1]), tzspDatagrams(cap.mixed));
    const v4 = expectedCc(1).map(([data, d]) => [data, d]);
    await lemfHas(lemf!, LIID_V4, v4.length);
    assert.equal(await stop(p, 'SIGTERM'), 0, p.stderr);
    assert.equal(p.stdout.at(-1), 'probe stopped: every batch acknowledged');
    await mediator!.close();
    mediator = undefined;
    await lemf!.close();
    lemf = undefined;
    assert.deepEqual(ccOf(out, LIID_V4).map(([data, d]) => [data, d]), v4);
    assert.ok(!/10\.0\.0\.[78]|2001:db8:7|LIID-PROBE/.test(p.stdout.join('\n') + p.stderr), 'no target or LIID printed or logged');
  });
});
