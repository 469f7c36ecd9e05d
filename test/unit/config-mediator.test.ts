/**
 * Mediator config: a full valid file read back field by field, defaults, every rule broken
 * once (code, path and message checked), typo hints, many errors in one report sorted by
 * line, YAML syntax errors with their line, file loading, and that warrant data (LIIDs,
 * targets) never appears in an error message.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import {
  ConfigError,
  ConfigErrors,
  ConfigReadError,
  ConfigSyntaxError,
  DEFAULT_DOMAIN_ID_VERSION,
  DEFAULT_HI1_NOTIFICATIONS,
  DEFAULT_JOURNAL_BYTES,
  DEFAULT_KEEPALIVE_INTERVAL,
  DEFAULT_KEEPALIVE_WAIT,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_BATCH_EVENTS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_PDU_ACK,
  DEFAULT_ROTATE_BYTES,
  DEFAULT_ROTATE_INTERVAL,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_TIMESTAMP_FORMAT,
  DEFAULT_TLS_MIN_VERSION,
  loadMediatorConfig,
  parseMediatorConfig,
} from '../../src/config';

const FULL = `
dataDir: /var/lib/lig
ingest:
  listen: 0.0.0.0:50051
  tls: { ca: /etc/lig/ca.pem, cert: /etc/lig/m.pem, key: /etc/lig/m.key }
admin:
  listen: "[::1]:50052"
  tls: { ca: /etc/lig/ca.pem, cert: /etc/lig/m.pem, key: /etc/lig/m.key }
limits:
  journalBytes: 2GiB
  segmentBytes: 32MiB
  maxBatchEvents: 500
  maxMessageBytes: 1MB
agencies:
  - id: lea-1
    country: FR
    delivery: tcp
    hi2: { address: "10.1.1.1:6001" }
    hi3: { address: "lemf.example:6002" }
    tls:
      ca: /etc/lig/lea-ca.pem
      cert: /etc/lig/m.pem
      key: /etc/lig/m.key
      servername: lemf.example
      minVersion: TLSv1.2
    keepalive: { interval: 1m30s, wait: 2500ms }
    timestampFormat: generalized
    operatorId: OP
    networkElementId: NE-7
    domainIdVersion: 35
    pduAck: true
    hi1Notifications: true
  - id: lea-2
    country: US
    delivery: files
    operatorId: OP
    files:
      dir: /srv/evidence
      rotate: { bytes: 10MiB, interval: 15m }
intercepts:
  - liid: LIID-1
    agency: lea-1
    type: content
    targets:
      - ip: 192.0.2.0/24
      - ip: 2001:DB8:1::/48
      - mac: 00-11-22-AA-BB-CC
    probes: [p1, p2]
  - liid: LIID-2
    agency: lea-2
    type: iri-only
    targets:
      - username: bob
      - email: bob@example.org
log:
  level: debug
`;

/** A small valid config as data, to break one rule at a time. */
function base(): any {
  const tls = { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' };
  return {
    dataDir: 'data',
    ingest: { listen: '127.0.0.1:0', tls: { ...tls } },
    agencies: [
      { id: 'a1', country: 'DE', delivery: 'tcp', hi2: { address: 'h:1' }, hi3: { address: 'h:2' }, tls: { ...tls }, operatorId: 'OP' },
      { id: 'f1', country: 'US', delivery: 'files', operatorId: 'OP', files: { dir: 'ev' } },
    ],
    intercepts: [{ liid: 'L1', agency: 'a1', type: 'content', targets: [{ ip: '192.0.2.1' }] }],
  };
}

/** Parses, expects a ConfigErrors, returns it. */
function failing(text: string): ConfigErrors {
  try {
    parseMediatorConfig(text, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, `expected ConfigErrors, got ${String(e)}`);
    assert.equal(e.code, 'LIG_ERR_CONFIG');
    for (const x of e.errors) {
      assert.ok(x instanceof ConfigError);
      assert.equal(x.code, 'LIG_ERR_CONFIG');
    }
    return e;
  }
  assert.fail('the config was accepted');
}

/** Breaks `base()` with `mutate`; exactly one error, at `at`, whose message matches `re`. */
function expectOne(mutate: (c: any) => void, at: string, re: RegExp): ConfigError {
  const c = base();
  mutate(c);
  const e = failing(stringify(c));
  assert.deepEqual(
    e.errors.map((x) => x.path),
    [at],
    e.message,
  );
  assert.match(e.errors[0]!.message, re);
  return e.errors[0]!;
}

describe('config: mediator', () => {
  it('reads a full valid file, every field', () => {
    const c = parseMediatorConfig(FULL);
    assert.deepEqual(c, {
      dataDir: '/var/lib/lig',
      ingest: { listen: { host: '0.0.0.0', port: 50051 }, tls: { ca: '/etc/lig/ca.pem', cert: '/etc/lig/m.pem', key: '/etc/lig/m.key' } },
      admin: { listen: { host: '::1', port: 50052 }, tls: { ca: '/etc/lig/ca.pem', cert: '/etc/lig/m.pem', key: '/etc/lig/m.key' } },
      limits: { journalBytes: 2 * 1024 ** 3, segmentBytes: 32 * 1024 ** 2, maxBatchEvents: 500, maxMessageBytes: 1_000_000 },
      agencies: [
        {
          id: 'lea-1',
          country: 'FR',
          delivery: 'tcp',
          hi2: { address: { host: '10.1.1.1', port: 6001 } },
          hi3: { address: { host: 'lemf.example', port: 6002 } },
          tls: { ca: '/etc/lig/lea-ca.pem', cert: '/etc/lig/m.pem', key: '/etc/lig/m.key', servername: 'lemf.example', minVersion: 'TLSv1.2' },
          keepalive: { interval: 90_000, wait: 2500 },
          timestampFormat: 'generalized',
          operatorId: 'OP',
          networkElementId: 'NE-7',
          domainIdVersion: 35,
          pduAck: true,
          hi1Notifications: true,
        },
        {
          id: 'lea-2',
          country: 'US',
          delivery: 'files',
          operatorId: 'OP',
          timestampFormat: 'microsecond',
          domainIdVersion: 40,
          files: { dir: '/srv/evidence', rotate: { bytes: 10 * 1024 ** 2, interval: 900_000 } },
        },
      ],
      intercepts: [
        {
          liid: 'LIID-1',
          agency: 'lea-1',
          type: 'content',
          targets: [
            { kind: 'ip', family: 4, address: '192.0.2.0', prefixLength: 24 },
            { kind: 'ip', family: 6, address: '2001:db8:1::', prefixLength: 48 },
            { kind: 'mac', mac: '00:11:22:aa:bb:cc' },
          ],
          probes: ['p1', 'p2'],
        },
        {
          liid: 'LIID-2',
          agency: 'lea-2',
          type: 'iri-only',
          targets: [
            { kind: 'username', username: 'bob' },
            { kind: 'email', email: 'bob@example.org' },
          ],
        },
      ],
      log: { level: 'debug' },
    });
  });

  it('applies the exported defaults', () => {
    const c = parseMediatorConfig(stringify(base()));
    assert.deepEqual(c.limits, {
      journalBytes: DEFAULT_JOURNAL_BYTES,
      segmentBytes: DEFAULT_SEGMENT_BYTES,
      maxBatchEvents: DEFAULT_MAX_BATCH_EVENTS,
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    });
    assert.equal(c.admin, undefined);
    assert.deepEqual(c.log, { level: DEFAULT_LOG_LEVEL });
    const [tcp, files] = c.agencies;
    assert.ok(tcp?.delivery === 'tcp' && files?.delivery === 'files');
    assert.equal(tcp.tls.minVersion, DEFAULT_TLS_MIN_VERSION);
    assert.equal(DEFAULT_TLS_MIN_VERSION, 'TLSv1.3');
    assert.deepEqual(tcp.keepalive, { interval: DEFAULT_KEEPALIVE_INTERVAL, wait: DEFAULT_KEEPALIVE_WAIT });
    assert.equal(DEFAULT_KEEPALIVE_INTERVAL, 30_000);
    assert.equal(DEFAULT_KEEPALIVE_WAIT, 10_000);
    assert.equal(tcp.timestampFormat, DEFAULT_TIMESTAMP_FORMAT);
    assert.equal(DEFAULT_TIMESTAMP_FORMAT, 'microsecond');
    assert.equal(tcp.domainIdVersion, DEFAULT_DOMAIN_ID_VERSION);
    assert.equal(DEFAULT_DOMAIN_ID_VERSION, 40);
    assert.equal(tcp.pduAck, DEFAULT_PDU_ACK);
    assert.equal(DEFAULT_PDU_ACK, false);
    assert.equal(tcp.hi1Notifications, DEFAULT_HI1_NOTIFICATIONS);
    assert.equal(DEFAULT_HI1_NOTIFICATIONS, false);
    assert.equal(tcp.networkElementId, undefined);
    assert.deepEqual(files.files.rotate, { bytes: DEFAULT_ROTATE_BYTES, interval: DEFAULT_ROTATE_INTERVAL });
    assert.equal(c.intercepts[0]!.probes, undefined);
    // No intercepts at all is valid too.
    const noIntercepts = base();
    delete noIntercepts.intercepts;
    assert.deepEqual(parseMediatorConfig(stringify(noIntercepts)).intercepts, []);
  });

  describe('each rule, broken once', () => {
    const cases: [string, (c: any) => void, string, RegExp][] = [
      ['dataDir missing', (c) => delete c.dataDir, 'dataDir', /is required: expected a directory path/],
      ['dataDir not a string', (c) => (c.dataDir = 5), 'dataDir', /expected a directory path, got number 5/],
      ['top-level typo', (c) => (c.dataDri = 'x'), 'dataDri', /unknown key "dataDri": did you mean "dataDir"\?/],
      ['ingest missing', (c) => delete c.ingest, 'ingest', /is required: expected a mapping with keys listen, tls/],
      ['listen without port', (c) => (c.ingest.listen = '0.0.0.0'), 'ingest.listen', /expected HOST:PORT.*the port is missing/],
      ['listen port too big', (c) => (c.ingest.listen = 'h:65536'), 'ingest.listen', /port must be a number from 0 to 65535/],
      ['listen IPv6 unbracketed', (c) => (c.ingest.listen = '::1:80'), 'ingest.listen', /IPv6 address must be in brackets/],
      ['listen bad IPv4', (c) => (c.ingest.listen = '300.1.1.1:80'), 'ingest.listen', /not an IPv4 address or DNS name/],
      ['ingest tls key missing', (c) => delete c.ingest.tls.key, 'ingest.tls.key', /is required: expected the path of a PEM private key/],
      ['ingest tls off', (c) => (c.ingest.tls = false), 'ingest.tls', /TLS cannot be turned off/],
      ['ingest insecure key', (c) => (c.ingest.insecure = true), 'ingest.insecure', /no plaintext or unverified mode/],
      ['admin same as ingest', (c) => (c.admin = { listen: '127.0.0.1:9', tls: c.ingest.tls, ...(c.ingest.listen = '127.0.0.1:9', {}) }), 'admin.listen', /same address as ingest.listen/],
      ['size with a wrong unit case', (c) => (c.limits = { journalBytes: '1gib' }), 'limits.journalBytes', /did you mean "1GiB"\?/],
      ['size unknown unit', (c) => (c.limits = { journalBytes: '1 lots' }), 'limits.journalBytes', /expected a size such as "64MiB"/],
      ['size too small', (c) => (c.limits = { segmentBytes: '1KiB' }), 'limits.segmentBytes', /must be at least 64KiB, got "1KiB"/],
      ['segment above journal', (c) => (c.limits = { journalBytes: '100MiB', segmentBytes: '200MiB' }), 'limits.segmentBytes', /not be larger than limits.journalBytes/],
      ['message above segment', (c) => (c.limits = { segmentBytes: '1MiB', maxMessageBytes: '2MiB' }), 'limits.maxMessageBytes', /not be larger than limits.segmentBytes/],
      ['maxBatchEvents zero', (c) => (c.limits = { maxBatchEvents: 0 }), 'limits.maxBatchEvents', /integer from 1 to 1000000, got number 0/],
      ['maxBatchEvents fraction', (c) => (c.limits = { maxBatchEvents: 1.5 }), 'limits.maxBatchEvents', /integer/],
      ['no agencies', (c) => (c.agencies = []), 'agencies', /needs at least 1 item, got 0/],
      ['agencies not a list', (c) => (c.agencies = { id: 'x' }), 'agencies', /expected a list of .*, got a mapping/],
      ['agency id with a space', (c) => (c.agencies[0].id = 'a b'), 'agencies[0].id', /letters, digits/],
      ['agency ids repeat', (c) => (c.agencies[1].id = 'a1'), 'agencies[1].id', /repeats the id of agencies\[0\]/],
      ['country unknown', (c) => (c.agencies[0].country = 'XX'), 'agencies[0].country', /ISO 3166-1 alpha-2/],
      ['country lower case', (c) => (c.agencies[0].country = 'de'), 'agencies[0].country', /upper case: "DE"/],
      ['country UK', (c) => (c.agencies[0].country = 'UK'), 'agencies[0].country', /did you mean "GB"\?/],
      ['delivery unknown', (c) => (c.agencies[0].delivery = 'udp'), 'agencies[0].delivery', /expected "tcp" or "files", got "udp"/],
      ['delivery missing', (c) => delete c.agencies[1].delivery, 'agencies[1].delivery', /is required/],
      ['hi2 missing', (c) => delete c.agencies[0].hi2, 'agencies[0].hi2', /is required: expected a mapping with keys address/],
      ['hi2 port 0', (c) => (c.agencies[0].hi2.address = 'h:0'), 'agencies[0].hi2.address', /port must be a number from 1 to 65535/],
      ['hi3 address not a string', (c) => (c.agencies[0].hi3.address = 6002), 'agencies[0].hi3.address', /expected HOST:PORT, got number 6002/],
      ['tls missing for tcp', (c) => delete c.agencies[0].tls, 'agencies[0].tls', /is required: expected a mapping with keys ca, cert, key, servername, minVersion/],
      ['tls.plaintext', (c) => (c.agencies[0].tls.plaintext = true), 'agencies[0].tls.plaintext', /"plaintext" is not an option: lig has no plaintext/],
      ['agency insecure', (c) => (c.agencies[0].insecure = true), 'agencies[0].insecure', /"insecure" is not an option/],
      ['agency skip_verify', (c) => (c.agencies[0].tls.skip_verify = true), 'agencies[0].tls.skip_verify', /no plaintext or unverified mode/],
      ['agency tls none', (c) => (c.agencies[0].tls = 'none'), 'agencies[0].tls', /TLS cannot be turned off/],
      ['minVersion TLSv1.1', (c) => (c.agencies[0].tls.minVersion = 'TLSv1.1'), 'agencies[0].tls.minVersion', /expected "TLSv1.3" or "TLSv1.2", got "TLSv1.1"/],
      ['servername empty', (c) => (c.agencies[0].tls.servername = ''), 'agencies[0].tls.servername', /got 0 characters/],
      ['keepalive without unit', (c) => (c.agencies[0].keepalive = { interval: 30 }), 'agencies[0].keepalive.interval', /add a unit, e.g. "30s"/],
      ['keepalive bad unit', (c) => (c.agencies[0].keepalive = { interval: '30sec' }), 'agencies[0].keepalive.interval', /units: ms, s, m, h/],
      ['keepalive too short', (c) => (c.agencies[0].keepalive = { wait: '10ms' }), 'agencies[0].keepalive.wait', /must be at least 100ms, got "10ms"/],
      ['timestampFormat', (c) => (c.agencies[0].timestampFormat = 'generalised'), 'agencies[0].timestampFormat', /did you mean "generalized"\?/],
      ['operatorId 17 bytes', (c) => (c.agencies[0].operatorId = 'é'.repeat(9)), 'agencies[0].operatorId', /1 to 16 bytes, got 18 bytes/],
      ['operatorId missing', (c) => delete c.agencies[0].operatorId, 'agencies[0].operatorId', /is required/],
      ['networkElementId empty', (c) => (c.agencies[0].networkElementId = ''), 'agencies[0].networkElementId', /1 to 16 bytes, got 0 bytes/],
      ['domainIdVersion 16', (c) => (c.agencies[0].domainIdVersion = 16), 'agencies[0].domainIdVersion', /integer from 17 to 40, got number 16/],
      ['domainIdVersion 41', (c) => (c.agencies[0].domainIdVersion = 41), 'agencies[0].domainIdVersion', /from 17 to 40/],
      ['domainIdVersion string', (c) => (c.agencies[0].domainIdVersion = '40'), 'agencies[0].domainIdVersion', /got "40"/],
      ['pduAck not a boolean', (c) => (c.agencies[0].pduAck = 'yes'), 'agencies[0].pduAck', /expected true or false, got "yes"/],
      ['hi1Notifications not a boolean', (c) => (c.agencies[0].hi1Notifications = 1), 'agencies[0].hi1Notifications', /expected true or false, got number 1/],
      ['hi1Notifications for files delivery', (c) => (c.agencies[1].hi1Notifications = true), 'agencies[1].hi1Notifications', /applies only when delivery is "tcp"/],
      ['files section missing', (c) => delete c.agencies[1].files, 'agencies[1].files', /is required/],
      ['files dir missing', (c) => delete c.agencies[1].files.dir, 'agencies[1].files.dir', /is required/],
      ['rotate interval bad', (c) => (c.agencies[1].files.rotate = { interval: 'hourly' }), 'agencies[1].files.rotate.interval', /duration/],
      ['rotate bytes too small', (c) => (c.agencies[1].files.rotate = { bytes: 1000 }), 'agencies[1].files.rotate.bytes', /at least 1MiB, got 1000 bytes/],
      ['hi2 on a files agency', (c) => (c.agencies[1].hi2 = { address: 'h:1' }), 'agencies[1].hi2', /applies only when delivery is "tcp", and here it is "files"/],
      ['files on a tcp agency', (c) => (c.agencies[0].files = { dir: 'x' }), 'agencies[0].files', /applies only when delivery is "files", and here it is "tcp"/],
      ['LIID too long', (c) => (c.intercepts[0].liid = 'L'.repeat(26)), 'intercepts[0].liid', /1 to 25 printable ASCII characters, got 26 characters/],
      ['LIID not ASCII', (c) => (c.intercepts[0].liid = 'LIID-Ω'), 'intercepts[0].liid', /printable ASCII/],
      ['intercept agency unknown', (c) => (c.intercepts[0].agency = 'A1'), 'intercepts[0].agency', /names no agency: did you mean "a1"\?/],
      ['intercept agency far off', (c) => (c.intercepts[0].agency = 'police'), 'intercepts[0].agency', /expected one of: a1, f1/],
      ['intercept type', (c) => (c.intercepts[0].type = 'cc'), 'intercepts[0].type', /expected "content" or "iri-only"/],
      ['content without hi3', (c) => delete c.agencies[0].hi3, 'intercepts[0].type', /agency "a1" has no hi3 address/],
      ['LIID repeated for an agency', (c) => c.intercepts.push({ ...c.intercepts[0] }), 'intercepts[1].liid', /repeats the LIID of intercepts\[0\]/],
      ['no targets', (c) => (c.intercepts[0].targets = []), 'intercepts[0].targets', /needs at least 1 item/],
      ['target not an IP', (c) => (c.intercepts[0].targets = [{ ip: '192.0.2.256' }]), 'intercepts[0].targets[0].ip', /not an IPv4 or IPv6 address/],
      ['target prefix too short', (c) => (c.intercepts[0].targets = [{ ip: '10.0.0.0/8' }]), 'intercepts[0].targets[0].ip', /shorter than \/16/],
      ['target IPv6 prefix /0', (c) => (c.intercepts[0].targets = [{ ip: '::/0' }]), 'intercepts[0].targets[0].ip', /shorter than \/32/],
      ['target host bits', (c) => (c.intercepts[0].targets = [{ ip: '192.0.2.1/24' }]), 'intercepts[0].targets[0].ip', /bits set beyond its \/24 prefix/],
      ['target prefix length', (c) => (c.intercepts[0].targets = [{ ip: '192.0.2.1/33' }]), 'intercepts[0].targets[0].ip', /from 0 to 32/],
      ['target two kinds', (c) => (c.intercepts[0].targets = [{ ip: '192.0.2.1', mac: '00:11:22:33:44:55' }]), 'intercepts[0].targets[0]', /names ip and mac/],
      ['target typo', (c) => (c.intercepts[0].targets = [{ emial: 'x@y.z' }]), 'intercepts[0].targets[0].emial', /did you mean "email"\?/],
      ['target empty mapping', (c) => (c.intercepts[0].targets = [{}]), 'intercepts[0].targets[0]', /exactly one of ip, mac, username, email/],
      ['target mac', (c) => (c.intercepts[0].targets = [{ mac: '00:11:22:33:44' }]), 'intercepts[0].targets[0].mac', /six hex octets/],
      ['target email', (c) => (c.intercepts[0].targets = [{ email: 'nobody' }]), 'intercepts[0].targets[0].email', /e-mail address/],
      ['target username spaces', (c) => (c.intercepts[0].targets = [{ username: ' bob' }]), 'intercepts[0].targets[0].username', /spaces/],
      ['target repeated', (c) => (c.intercepts[0].targets = [{ ip: '192.0.2.1' }, { ip: '192.0.2.1/32' }]), 'intercepts[0].targets[1]', /repeats the one of intercepts\[0\].targets\[0\]/],
      ['probes empty', (c) => (c.intercepts[0].probes = []), 'intercepts[0].probes', /at least 1 item/],
      ['probe name', (c) => (c.intercepts[0].probes = ['ok', 'not ok']), 'intercepts[0].probes[1]', /a probe name of 1 to 63/],
      ['probe repeated', (c) => (c.intercepts[0].probes = ['p', 'p']), 'intercepts[0].probes[1]', /repeats/],
      ['log level', (c) => (c.log = { level: 'verbose' }), 'log.level', /one of "error", "warn", "info", "debug", got "verbose"/],
      ['log typo', (c) => (c.log = { levle: 'info' }), 'log.levle', /did you mean "level"\?/],
    ];
    for (const [title, mutate, at, re] of cases) it(title, () => void expectOne(mutate, at, re));
  });

  it('never quotes an LIID or a target in a message', () => {
    const secrets = ['SECRET-LIID-0123456789-XYZ', '203.0.113.77/33', '00:11:22:33:44:zz', 'target-user ', 'no-at-sign.example'];
    const c = base();
    c.intercepts = [
      { liid: secrets[0], agency: 'a1', type: 'content', targets: [{ ip: secrets[1] }, { mac: secrets[2] }, { username: secrets[3] }, { email: secrets[4] }] },
      { liid: 5, agency: 'a1', type: 'content', targets: [{ ip: 5 }, { username: ['x'] }] },
      { liid: 'L3', agency: 'a1', type: 'content', targets: [{ '198.51.100.99': null }] },
    ];
    secrets.push('198.51.100.99');
    const e = failing(stringify(c));
    assert.equal(e.errors.length, 9, e.message);
    assert.equal(e.errors[8]!.path, 'intercepts[2].targets[0]');
    for (const s of secrets) assert.ok(!e.message.includes(s.trim()), `message quotes "${s}": ${e.message}`);
    assert.match(e.errors[0]!.message, /got 26 characters/);
  });

  it('reports every error of a file at once, in line order, each with its line', () => {
    const text = [
      'dataDir: data', //                   1
      'ingest:', //                         2
      '  listen: nowhere', //               3
      '  tls: { ca: a, cert: b, key: c }',
      'limits:', //                         5
      '  journalBytes: 1GB',
      '  maxBatchEvent: 10', //             7
      'agencies:',
      '  - id: a1', //                      9
      '    country: DE',
      '    delivery: tcp', //              11
      '    hi2: { address: "h:1" }',
      '    tsl: { ca: a, cert: b, key: c }', // 13
      '    operatorId: OP',
      'intercepts:', //                    15
      '  - { liid: L, agency: a2, type: content, targets: [ { ip: 10.0.0.1 } ] }',
    ].join('\n');
    const e = failing(text);
    assert.deepEqual(
      e.errors.map((x) => x.path),
      // A missing key is reported at the line of the mapping that lacks it (line 9 here).
      ['ingest.listen', 'limits.maxBatchEvent', 'agencies[0].tls', 'agencies[0].tsl', 'intercepts[0].agency'],
    );
    assert.match(e.errors[0]!.message, /\(test\.yaml:3\)$/);
    assert.match(e.errors[1]!.message, /did you mean "maxBatchEvents"\?.*\(test\.yaml:7\)$/);
    assert.match(e.errors[2]!.message, /is required.*\(test\.yaml:9\)$/);
    assert.match(e.errors[3]!.message, /unknown key "tsl": did you mean "tls"\? \(test\.yaml:13\)$/);
    assert.match(e.errors[4]!.message, /names no agency: did you mean "a1"\? \(test\.yaml:16\)$/);
    // The aggregate's message lists them all, one per line.
    assert.equal(e.message.split('\n').length, 1 + e.errors.length);
    assert.match(e.message, /^test\.yaml: 5 errors\n/);
    assert.equal(e.source, 'test.yaml');
  });

  it('turns a YAML syntax error into ConfigSyntaxError with its line and column', () => {
    const cases: [string, number][] = [
      // The YAML parser finds a missing quote at the end of the input.
      ['dataDir: data\ningest:\n  listen: "unterminated\n', 4],
      ['dataDir: data\ningest:\n  listen: [a, b\n  tls: {}\nlog: {}\n', 4],
      ['dataDir: data\nagencies:\n  - id: a\n   country: DE\n', 4],
      ['dataDir: a\ndataDir: b\n', 2],
      ['a: [1, 2\nb: 3\n', 2],
    ];
    for (const [text, line] of cases) {
      assert.throws(
        () => parseMediatorConfig(text, 'bad.yaml'),
        (e: unknown) => {
          assert.ok(e instanceof ConfigSyntaxError, String(e));
          assert.equal(e.code, 'LIG_ERR_CONFIG_SYNTAX');
          assert.equal(e.line, line, `${JSON.stringify(text)}: ${e.message}`);
          assert.ok(e.column >= 1);
          assert.match(e.message, new RegExp(`^bad\\.yaml:${line}:\\d+: `));
          return true;
        },
      );
    }
  });

  it('refuses an empty document or one that is not a mapping', () => {
    for (const text of ['', '# only a comment\n', '- a\n- b\n', 'just text']) {
      const e = failing(text);
      assert.equal(e.errors.length, 1);
      assert.equal(e.errors[0]!.path, '(top level)');
      assert.match(e.errors[0]!.message, /expected a mapping with keys dataDir, ingest/);
    }
  });

  it('stops alias bombs with a typed error', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++) lines.push(`${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(',')}]`);
    assert.throws(() => parseMediatorConfig(lines.join('\n')), (e: unknown) => e instanceof ConfigSyntaxError);
  });

  describe('loadMediatorConfig', () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lig-config-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('resolves relative paths from the file directory', () => {
      const file = path.join(dir, 'lig.yaml');
      fs.writeFileSync(file, stringify(base()));
      const c = loadMediatorConfig(file);
      assert.equal(c.dataDir, path.join(dir, 'data'));
      assert.equal(c.ingest.tls.ca, path.join(dir, 'ca.pem'));
      const files = c.agencies[1]!;
      assert.ok(files.delivery === 'files');
      assert.equal(files.files.dir, path.join(dir, 'ev'));
    });

    it('names the file in errors', () => {
      const file = path.join(dir, 'bad.yaml');
      const c = base();
      c.dataDir = '';
      fs.writeFileSync(file, stringify(c));
      assert.throws(
        () => loadMediatorConfig(file),
        (e: unknown) => e instanceof ConfigErrors && e.source === file && e.errors[0]!.message.endsWith(`(${file}:1)`),
      );
    });

    it('gives ConfigReadError for a missing file or a directory', () => {
      for (const f of [path.join(dir, 'missing.yaml'), dir]) {
        assert.throws(
          () => loadMediatorConfig(f),
          (e: unknown) => e instanceof ConfigReadError && e.code === 'LIG_ERR_CONFIG_READ' && e.file === f,
        );
      }
    });
  });
});
