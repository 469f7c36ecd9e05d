/**
 * `lig probe` before it connects anywhere: usage errors exit 2 with a precise message, a
 * certificate that is not a probe's (or a config name that is not the certificate's) exits
 * 1 with its code, and the default spool directory. Certificates are made at test time.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main';
import { defaultSpoolDir } from '../../src/cli/probe';
import { makeTestPki, type TestPki } from '../../src/pki';

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('lig probe: command line', () => {
  let tmp: string;
  let pki: TestPki;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-cli-probe-'));
    pki = await makeTestPki(path.join(tmp, 'pki'), { probes: ['probe-1'] });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const flags = (cert = pki.probe) => ['--mediator', '127.0.0.1:1', '--source', 'tzsp:127.0.0.1:0', '--ca', pki.ca, '--cert', cert.cert, '--key', cert.key];

  it('--help lists the flags and exits 0', async () => {
    const r = await cli(['probe', '--help']);
    assert.equal(r.code, 0);
    for (const f of ['--config', '--mediator', '--source', '--ca', '--cert', '--key', '--servername', '--spool', '--rate']) assert.ok(r.out[0]!.includes(f), f);
    assert.ok(!r.out[0]!.includes('--name'), 'the name comes from the certificate');
  });

  it('exits 2 for a wrong command line, naming what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [[], /give --config, or --mediator and --source/],
      [['--mediator', '127.0.0.1:50051'], /--source is required/],
      [['--mediator', 'nowhere', '--source', 'pcap:x.pcap'], /--mediator: the port is missing/],
      [['--mediator', '127.0.0.1:1', '--source', 'pcapp:x'], /--source: unknown source kind "pcapp".*did you mean "pcap:"/],
      [['--mediator', '127.0.0.1:1', '--source', 'pcap:x', '--ca', 'ca.pem'], /--cert is required/],
      [['--config', 'p.yaml', '--source', 'pcap:x'], /--source cannot be combined with --config/],
      [[...flags(), '--rate', 'fast'], /--rate must be "max" or "capture"/],
      [[...flags(), '--log-level', 'loud'], /--log-level must be one of/],
      [['--name', 'p1'], /unknown flag --name/],
      [['extra'], /unexpected argument "extra"/],
    ];
    for (const [argv, re] of cases) {
      const r = await cli(['probe', ...argv]);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err.join('\n'), re, argv.join(' '));
      assert.match(r.err.join('\n'), /LIG_ERR_USAGE/);
    }
  });

  it('refuses a certificate that is not a probe\'s, a capture file it cannot read, and a config name other than the certificate\'s', async () => {
    const r = await cli(['probe', ...flags(pki.mediator)]);
    assert.equal(r.code, 1);
    assert.match(r.err.join('\n'), /is a mediator certificate, not a probe's \[LIG_ERR_PROBE_IDENTITY\]/);

    const missing = await cli(['probe', '--mediator', '127.0.0.1:1', '--source', `pcap:${path.join(tmp, 'none.pcap')}`, '--ca', pki.ca, '--cert', pki.probe.cert, '--key', pki.probe.key, '--spool', path.join(tmp, 'spool')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err.join('\n'), /cannot open the capture file: ENOENT \[LIG_ERR_SOURCE_OPEN\]/, 'said at once, before waiting for the mediator');

    const config = path.join(tmp, 'probe.yaml');
    fs.writeFileSync(
      config,
      `name: probe-east\nmediator:\n  address: 127.0.0.1:1\n  tls: { ca: ${JSON.stringify(pki.ca)}, cert: ${JSON.stringify(pki.probe.cert)}, key: ${JSON.stringify(pki.probe.key)} }\nsource: pcap:none.pcap\n`,
    );
    const c = await cli(['probe', '--config', config]);
    assert.equal(c.code, 1);
    assert.match(c.err.join('\n'), /name: is "probe-east" but the certificate .* names the probe "probe-1"/);
  });

  it('keeps the spool under the XDG state directory, else under the home directory, else in the working directory', () => {
    assert.equal(defaultSpoolDir('probe-1', { XDG_STATE_HOME: '/var/state' }, '/home/u', '/w'), '/var/state/lig/probe-spool/probe-1');
    assert.equal(defaultSpoolDir('probe-1', { XDG_STATE_HOME: 'relative' }, '/home/u', '/w'), '/home/u/.local/state/lig/probe-spool/probe-1');
    assert.equal(defaultSpoolDir('probe-1', {}, '', '/w'), '/w/lig-probe-spool/probe-1');
  });
});
