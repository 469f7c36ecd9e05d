import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Agency, TcpAgency } from '../../src/config';
import { Delivery, loadAgencyTls, tlsTransportFor } from '../../src/delivery';
import { Journal } from '../../src/delivery/journal';
import { MemoryTransport } from '../../src/delivery/memory-transport';
import { isLigError } from '../../src/errors';
import { TestPki, makeForeignPki, makeTestPki } from '../../src/pki';
import { removeDir, tempDir } from '../journal-fixtures';

const code = (c: string) => (e: unknown) => isLigError(e) && e.code === c;

describe('delivery from the mediator config', () => {
  let dir: string;
  let pki: TestPki;
  let journal: Journal;

  before(async () => {
    dir = tempDir('lig-delivery-config-');
    pki = await makeTestPki(path.join(dir, 'pki'));
    journal = await Journal.open(path.join(dir, 'journal'));
  });
  after(async () => {
    await journal.close();
    removeDir(dir);
  });

  function tcp(id: string, over: Partial<TcpAgency> = {}): TcpAgency {
    return {
      id,
      country: 'DE',
      delivery: 'tcp',
      operatorId: 'OP',
      timestampFormat: 'microsecond',
      domainIdVersion: 40,
      hi2: { address: { host: 'lemf.example.net', port: 6001 } },
      tls: { ca: pki.ca, cert: pki.mediator.cert, key: pki.mediator.key, servername: 'lemf.example.net', minVersion: 'TLSv1.3' },
      keepalive: { interval: 30_000, wait: 10_000 },
      pduAck: false,
      ...over,
    };
  }

  it('builds one link per tcp agency and interface, HI3 only where an address is given, none for file delivery', () => {
    const files: Agency = {
      id: 'fbi-dc',
      country: 'US',
      delivery: 'files',
      operatorId: 'OP',
      timestampFormat: 'microsecond',
      domainIdVersion: 40,
      files: { dir: path.join(dir, 'files'), rotate: { bytes: 1 << 20, interval: 3_600_000 } },
    };
    const asked: string[] = [];
    const d = new Delivery(
      { agencies: [tcp('a', { hi3: { address: { host: 'lemf.example.net', port: 6002 } } }), tcp('b'), files] },
      {
        journalFor: (agency, hi) => {
          asked.push(`${agency}/${hi}`);
          return journal;
        },
        transportFor: (agency, hi) => new MemoryTransport({ remote: `${agency.id}-${hi}` }),
      },
    );
    assert.deepEqual(
      d.links.map((l) => `${l.agency}/${l.hi}`),
      ['a/hi2', 'a/hi3', 'b/hi2'],
    );
    assert.deepEqual(asked, ['a/hi2', 'a/hi3', 'b/hi2']);
    assert.deepEqual(
      d.state().map((s) => [s.status, s.remote]),
      [
        ['closed', 'a-hi2'],
        ['closed', 'a-hi3'],
        ['closed', 'b-hi2'],
      ],
    );
  });

  it('makes TLS transports that expect the configured servername, else the address host', () => {
    const material = loadAgencyTls(tcp('a').tls);
    const t = tlsTransportFor(tcp('a'), 'hi2', material);
    assert.equal(t.remote, 'lemf.example.net:6001');
    assert.equal(t.expectedName, 'lemf.example.net');
    const u = tlsTransportFor(tcp('a', { hi2: { address: { host: '::1', port: 7 } }, tls: { ...tcp('a').tls, servername: undefined } }), 'hi2', material);
    assert.equal(u.remote, '[::1]:7');
    assert.equal(u.expectedName, '::1');
    assert.throws(() => tlsTransportFor(tcp('a'), 'hi3', material), code('LIG_ERR_CONFIG'));
  });

  it('checks the TLS files eagerly, before any link starts', async () => {
    const base = tcp('a').tls;
    const journalFor = () => journal;
    const build = (tls: Partial<TcpAgency['tls']>) => () => new Delivery({ agencies: [tcp('a', { tls: { ...base, ...tls } })] }, { journalFor });
    assert.throws(build({ key: path.join(dir, 'missing.pem') }), code('LIG_ERR_CERT_FILE'));
    assert.throws(build({ key: pki.lemf.key }), code('LIG_ERR_CERT_KEY_MISMATCH'));
    assert.throws(build({ ca: pki.mediator.cert }), code('LIG_ERR_CERT_NOT_CA'));
    assert.throws(build({ cert: pki.mediator.key }), code('LIG_ERR_CERT_NOT_PEM'));
    // the agency's CA need not be the one that issued the mediator's certificate
    const other = await makeForeignPki(path.join(dir, 'agency-ca'), { role: 'lemf', name: 'lemf' });
    assert.equal(build({ ca: other.ca })().links.length, 1);
    // and no message quotes the key
    try {
      build({ cert: pki.lemf.cert })();
      assert.fail('a key that is not the certificate\'s must be refused');
    } catch (e) {
      const key = fs.readFileSync(pki.mediator.key, 'latin1').split('\n')[1]!;
      assert.ok(!String((e as Error).message).includes(key));
    }
  });
});
