/**
 * Probe config: a full valid file, defaults, each source kind parsed to its typed form, every
 * rule broken once, and the annotated examples (examples/lig.yaml, examples/probe.yaml)
 * validated as shipped.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { stringify } from 'yaml';
import {
  ConfigErrors,
  DEFAULT_BATCH_MAX_DELAY,
  DEFAULT_BATCH_MAX_EVENTS,
  DEFAULT_BATCH_WINDOW,
  DEFAULT_SPOOL_BYTES,
  loadMediatorConfig,
  loadProbeConfig,
  parseProbeConfig,
  parseProbeSource,
} from '../../src/config';

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

function base(): any {
  return {
    name: 'probe-1',
    mediator: { address: 'mediator.example:50051', tls: { ca: 'ca.pem', cert: 'p.pem', key: 'p.key' } },
    source: 'pcap:trace.pcap',
  };
}

function expectOne(mutate: (c: any) => void, at: string, re: RegExp): void {
  const c = base();
  mutate(c);
  assert.throws(
    () => parseProbeConfig(stringify(c)),
    (e: unknown) => {
      assert.ok(e instanceof ConfigErrors, String(e));
      assert.deepEqual(
        e.errors.map((x) => x.path),
        [at],
        e.message,
      );
      assert.equal(e.errors[0]!.code, 'LIG_ERR_CONFIG');
      assert.match(e.errors[0]!.message, re);
      return true;
    },
  );
}

describe('config: probe', () => {
  it('reads a full valid file', () => {
    const text = `
name: edge-7
mediator:
  address: "[2001:db8::1]:50051"
  tls: { ca: /c/ca.pem, cert: /c/p.pem, key: /c/p.key, servername: mediator.example }
source: tzsp:0.0.0.0:37008
batch: { maxEvents: 100, maxDelay: 20ms, window: 4 }
spool: { dir: /var/spool/lig, maxBytes: 1GiB }
log: { level: warn }
`;
    assert.deepEqual(parseProbeConfig(text), {
      name: 'edge-7',
      mediator: {
        address: { host: '2001:db8::1', port: 50051 },
        tls: { ca: '/c/ca.pem', cert: '/c/p.pem', key: '/c/p.key', servername: 'mediator.example' },
      },
      source: { kind: 'tzsp', listen: { host: '0.0.0.0', port: 37008 } },
      batch: { maxEvents: 100, maxDelay: 20, window: 4 },
      spool: { dir: '/var/spool/lig', maxBytes: 2 ** 30 },
      log: { level: 'warn' },
    });
  });

  it('applies the exported defaults', () => {
    const c = parseProbeConfig(stringify(base()));
    assert.deepEqual(c.batch, { maxEvents: DEFAULT_BATCH_MAX_EVENTS, maxDelay: DEFAULT_BATCH_MAX_DELAY, window: DEFAULT_BATCH_WINDOW });
    assert.equal(c.spool, undefined);
    const withSpool = base();
    withSpool.spool = { dir: 's' };
    assert.deepEqual(parseProbeConfig(stringify(withSpool)).spool, { dir: 's', maxBytes: DEFAULT_SPOOL_BYTES });
  });

  it('parses each source kind', () => {
    assert.deepEqual(parseProbeSource('pcap:/tmp/x.pcap'), { kind: 'pcap', file: '/tmp/x.pcap' });
    assert.deepEqual(parseProbeSource('pcap:x.pcap', '/base'), { kind: 'pcap', file: path.resolve('/base', 'x.pcap') });
    assert.deepEqual(parseProbeSource('if:eth0'), { kind: 'interface', name: 'eth0' });
    assert.deepEqual(parseProbeSource('tzsp:127.0.0.1:0'), { kind: 'tzsp', listen: { host: '127.0.0.1', port: 0 } });
    assert.deepEqual(parseProbeSource('ccc:[::]:6000'), { kind: 'ccc', listen: { host: '::', port: 6000 } });
    assert.match(String(parseProbeSource('pcpa:x')), /unknown source kind "pcpa".*did you mean "pcap:"\?/);
    assert.match(String(parseProbeSource('eth0')), /unknown source kind "eth0": expected pcap:FILE, if:IFACE/);
    assert.match(String(parseProbeSource('tzsp:0.0.0.0')), /tzsp: expected ADDR:PORT to listen on: the port is missing/);
    assert.match(String(parseProbeSource('if:')), /needs an interface name/);
    assert.match(String(parseProbeSource('if:a b')), /not an interface name/);
  });

  it('resolves relative paths from the config file when loaded', () => {
    const c = loadProbeConfig(path.join(EXAMPLES, 'probe.yaml'));
    assert.equal(c.spool?.dir, path.join(EXAMPLES, 'spool'));
    assert.equal(c.mediator.tls.ca, path.join(EXAMPLES, 'certs', 'ca.pem'));
  });

  describe('each rule, broken once', () => {
    const cases: [string, (c: any) => void, string, RegExp][] = [
      ['name missing', (c) => delete c.name, 'name', /is required: expected a probe name/],
      ['name bad', (c) => (c.name = '-x'), 'name', /starting with a letter or digit/],
      ['mediator address', (c) => (c.mediator.address = 'mediator'), 'mediator.address', /port is missing/],
      ['mediator tls missing', (c) => delete c.mediator.tls, 'mediator.tls', /is required/],
      ['mediator tls off', (c) => (c.mediator.tls = 'off'), 'mediator.tls', /TLS cannot be turned off/],
      ['mediator plaintext', (c) => (c.mediator.plaintext = true), 'mediator.plaintext', /no plaintext or unverified mode/],
      ['mediator tls insecure', (c) => (c.mediator.tls.insecureSkipVerify = true), 'mediator.tls.insecureSkipVerify', /no plaintext or unverified mode/],
      ['tls typo', (c) => (c.mediator.tls.cart = 'x'), 'mediator.tls.cart', /did you mean "cert"\?/],
      ['source missing', (c) => delete c.source, 'source', /is required: expected a source: pcap:FILE/],
      ['source kind', (c) => (c.source = 'pcapng:x'), 'source', /unknown source kind "pcapng"/],
      ['source not a string', (c) => (c.source = { pcap: 'x' }), 'source', /got a mapping/],
      ['batch maxEvents', (c) => (c.batch = { maxEvents: -1 }), 'batch.maxEvents', /integer from 1/],
      ['batch maxDelay unitless', (c) => (c.batch = { maxDelay: '50' }), 'batch.maxDelay', /duration/],
      ['batch maxDelay too long', (c) => (c.batch = { maxDelay: '2m' }), 'batch.maxDelay', /at most 1m, got "2m"/],
      ['batch window', (c) => (c.batch = { window: 0 }), 'batch.window', /from 1 to 1024/],
      ['spool dir missing', (c) => (c.spool = { maxBytes: '1GiB' }), 'spool.dir', /is required/],
      ['spool size too small', (c) => (c.spool = { dir: 's', maxBytes: '512KiB' }), 'spool.maxBytes', /at least 1MiB, got "512KiB"/],
      ['spool size unit', (c) => (c.spool = { dir: 's', maxBytes: '1Gb' }), 'spool.maxBytes', /did you mean "1GB"\?/],
      ['unknown key', (c) => (c.sources = 'x'), 'sources', /did you mean "source"\?/],
    ];
    for (const [title, mutate, at, re] of cases) it(title, () => expectOne(mutate, at, re));
  });

  it('the annotated examples validate', () => {
    const m = loadMediatorConfig(path.join(EXAMPLES, 'lig.yaml'));
    assert.equal(m.agencies.length, 2);
    assert.equal(m.intercepts.length, 2);
    const p = loadProbeConfig(path.join(EXAMPLES, 'probe.yaml'));
    assert.equal(p.source.kind, 'tzsp');
    // The probe named in the example's intercept is the example probe.
    assert.deepEqual(m.intercepts[0]!.probes, [p.name]);
  });
});
