import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { TcpAgency } from '../../src/config';
import { Delivery } from '../../src/delivery';
import { Journal } from '../../src/delivery/journal';
import { DeliveryLink } from '../../src/delivery/link';
import { TlsTransport } from '../../src/delivery/tls-transport';
import { DeliveryError } from '../../src/errors';
import { TestPki, makeForeignPki, makeTestPki } from '../../src/pki';
import { PduPeer, RECORD_LIID, dataSeqs, recordPdus } from '../helpers/pdu-peer';
import { removeDir, tempDir } from '../journal-fixtures';

interface Collector {
  server: tls.Server;
  port: number;
  peers: PduPeer[];
  sockets: tls.TLSSocket[];
  close(): Promise<void>;
}

/** A minimal agency collector: TLS, client certificates required, answers every request. */
async function startCollector(opts: tls.TlsOptions): Promise<Collector> {
  const peers: PduPeer[] = [];
  const sockets: tls.TLSSocket[] = [];
  const server = tls.createServer({ requestCert: true, rejectUnauthorized: true, ...opts }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    peers.push(new PduPeer(socket, { autoAnswer: true }));
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    peers,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const read = (p: string) => fs.readFileSync(p);

describe('delivery over TLS (real sockets on 127.0.0.1)', function () {
  let dir: string;
  let pki: TestPki;
  let foreign: Awaited<ReturnType<typeof makeForeignPki>>;
  let journal: Journal;
  let collector: Collector | undefined;
  let link: DeliveryLink | undefined;
  let delivery: Delivery | undefined;

  before(async () => {
    dir = tempDir('lig-delivery-tls-');
    pki = await makeTestPki(path.join(dir, 'pki'));
    foreign = await makeForeignPki(path.join(dir, 'foreign'), { role: 'lemf', name: 'lemf', commonName: 'Other CA' });
  });
  after(() => removeDir(dir));
  beforeEach(async () => {
    journal = await Journal.open(tempDir('lig-delivery-tls-journal-'));
  });
  afterEach(async () => {
    await delivery?.close();
    await link?.close();
    await collector?.close();
    const jdir = journal.dir;
    await journal.close();
    removeDir(jdir);
    delivery = link = collector = undefined;
  });

  const lemfServer = () => ({ ca: read(pki.ca), cert: read(pki.lemf.cert), key: read(pki.lemf.key) });

  function agency(port: number, tlsOver: Partial<TcpAgency['tls']> = {}): TcpAgency {
    return {
      id: 'lea-it',
      country: 'DE',
      delivery: 'tcp',
      operatorId: 'OPERATOR-1',
      timestampFormat: 'microsecond',
      domainIdVersion: 40,
      hi2: { address: { host: '127.0.0.1', port } },
      tls: { ca: pki.ca, cert: pki.mediator.cert, key: pki.mediator.key, minVersion: 'TLSv1.3', ...tlsOver },
      keepalive: { interval: 30_000, wait: 10_000 },
      pduAck: false,
    };
  }

  function tlsLink(port: number, over: { ca?: string; servername?: string; minVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): DeliveryLink {
    const transport = new TlsTransport({
      address: { host: '127.0.0.1', port },
      ca: read(over.ca ?? pki.ca),
      cert: read(pki.mediator.cert),
      key: read(pki.mediator.key),
      servername: over.servername,
      minVersion: over.minVersion,
    });
    link = new DeliveryLink({ agency: agency(port), hi: 'hi2', journal, transport, tuning: { backoffInitialMs: 60_000, backoffMaxMs: 60_000 } });
    return link;
  }

  /** Starts the link and waits for its first failed connection attempt. */
  async function firstFailure(l: DeliveryLink): Promise<DeliveryError> {
    const failed = once(l, 'connectFailed');
    l.start();
    const [e] = await failed;
    return e as DeliveryError;
  }

  it('delivers to a collector that verifies the mediator\'s certificate (TLS 1.3), built from the agency config', async () => {
    collector = await startCollector(lemfServer());
    await journal.append(recordPdus(1, 200));
    delivery = new Delivery({ agencies: [agency(collector.port)] }, { journalFor: () => journal });
    const l = delivery.link('lea-it', 'hi2')!;
    assert.equal(delivery.link('lea-it', 'hi3'), undefined, 'no hi3 address, no hi3 link');
    delivery.start();
    while (journal.confirmed < 200n) await once(l, 'confirmed');
    const peer = collector.peers[0]!;
    assert.deepEqual(dataSeqs(peer.received), Array.from({ length: 200 }, (_, k) => k + 1));
    const socket = collector.sockets[0]!;
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    assert.equal(socket.getPeerCertificate().subject.CN, 'mediator');
    const s = l.state();
    assert.equal(s.status, 'connected');
    assert.equal(s.lastConfirmed, 200n);
    assert.equal(s.backlogRecords, 0);
    assert.equal(s.lastError, undefined);
    assert.equal(s.remote, `127.0.0.1:${collector.port}`);
  });

  it('checks the certificate against tls.servername when one is given', async () => {
    collector = await startCollector(lemfServer());
    await journal.append(recordPdus(1, 3));
    const l = tlsLink(collector.port, { servername: 'localhost' });
    l.start();
    while (journal.confirmed < 3n) await once(l, 'confirmed');
    assert.equal((collector.sockets[0] as tls.TLSSocket & { servername?: string }).servername, 'localhost', 'sent as SNI');
  });

  it('refuses a collector whose certificate does not name the expected servername: nothing is sent or confirmed', async () => {
    collector = await startCollector(lemfServer());
    await journal.append(recordPdus(1, 3));
    const e = await firstFailure(tlsLink(collector.port, { servername: 'lemf.example.org' }));
    assert.equal(e.code, 'LIG_ERR_DELIVERY_IDENTITY');
    assert.equal(e.peerCode, 'ERR_TLS_CERT_ALTNAME_INVALID');
    const s = link!.state();
    assert.equal(s.lastError?.code, 'LIG_ERR_DELIVERY_IDENTITY');
    assert.notEqual(s.status, 'connected');
    assert.equal(s.recordsSent, 0);
    assert.equal(journal.confirmed, 0n);
    await link!.close();
    assert.ok(collector.peers.every((p) => p.received.length === 0), 'no PDU reached the collector');
  });

  it('refuses a collector whose certificate comes from another CA', async () => {
    collector = await startCollector({ ca: read(pki.ca), cert: read(foreign.leaf.cert), key: read(foreign.leaf.key) });
    await journal.append(recordPdus(1, 3));
    const e = await firstFailure(tlsLink(collector.port));
    assert.equal(e.code, 'LIG_ERR_DELIVERY_UNTRUSTED');
    assert.equal(link!.state().lastError?.code, 'LIG_ERR_DELIVERY_UNTRUSTED');
    assert.equal(link!.state().recordsSent, 0);
    assert.equal(journal.confirmed, 0n);
    await link!.close();
    assert.ok(collector.peers.every((p) => p.received.length === 0));
  });

  it('speaks TLS 1.2 only when configured to', async () => {
    collector = await startCollector({ ...lemfServer(), maxVersion: 'TLSv1.2' });
    await journal.append(recordPdus(1, 3));
    const e = await firstFailure(tlsLink(collector.port));
    assert.equal(e.code, 'LIG_ERR_DELIVERY_TLS');
    await link!.close();
    const l = tlsLink(collector.port, { minVersion: 'TLSv1.2' });
    l.start();
    while (journal.confirmed < 3n) await once(l, 'confirmed');
    assert.equal(collector.sockets[collector.sockets.length - 1]!.getProtocol(), 'TLSv1.2');
  });

  it('sends a plaintext server nothing but a TLS handshake', async () => {
    const received: Buffer[] = [];
    const server = net.createServer((s) => {
      s.on('data', (d) => {
        received.push(d);
        s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      s.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await journal.append(recordPdus(1, 3));
      const e = await firstFailure(tlsLink((server.address() as net.AddressInfo).port));
      assert.ok(['LIG_ERR_DELIVERY_TLS', 'LIG_ERR_DELIVERY_CONNECT'].includes(e.code), e.code);
      const bytes = Buffer.concat(received);
      assert.ok(bytes.length > 0);
      assert.equal(bytes[0], 0x16, 'a TLS handshake record');
      assert.equal(bytes[1], 0x03);
      assert.equal(bytes.indexOf(RECORD_LIID), -1);
      assert.equal(bytes.indexOf(recordPdus(1, 1)[0]!), -1);
      assert.equal(journal.confirmed, 0n);
    } finally {
      await link?.close();
      server.close();
    }
  });

  it('when the collector refuses the mediator\'s certificate, nothing is confirmed and the error shows', async () => {
    collector = await startCollector({ ...lemfServer(), ca: read(foreign.ca) });
    await journal.append(recordPdus(1, 3));
    const l = tlsLink(collector.port);
    const failed = new Promise<DeliveryError>((resolve) => {
      l.once('connectFailed', resolve);
      l.once('disconnected', resolve);
    });
    l.start();
    const e = await failed;
    assert.ok(['LIG_ERR_DELIVERY_TLS', 'LIG_ERR_DELIVERY_CLOSED'].includes(e.code), `${e.code}: ${e.message}`);
    assert.equal(l.state().lastError?.code, e.code);
    assert.equal(journal.confirmed, 0n);
    assert.equal(collector.peers.length, 0, 'the collector never accepted the connection');
  });

  it('puts no key material in errors or state', async () => {
    collector = await startCollector(lemfServer());
    const e = await firstFailure(tlsLink(collector.port, { servername: 'lemf.example.org' }));
    const text = [e.message, String(e.stack), JSON.stringify(link!.state(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))].join('\n');
    for (const file of [pki.mediator.key, pki.lemf.key]) {
      const body = fs.readFileSync(file, 'latin1').split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
      for (const line of body) assert.ok(!text.includes(line), `a line of ${path.basename(file)} shows`);
    }
    assert.ok(!text.includes('PRIVATE KEY'));
  });
});
